import Jobs
import EmergenceCore

/// One line of the study list (`GET /`).
struct StudyListEntry: Sendable {
    var study: Study
    /// The newest fit of any status.
    var lastFit: Job?
    /// The result of the newest succeeded fit (what `/prediction` serves), and that fit's id.
    var prediction: (id: Int, result: FitResult)?
    /// The latest of the study's creation and its fits' timestamps (uploads carry no timestamp).
    var updated: String
}

/// A fit in the study page's history.
struct FitHistoryEntry: Sendable {
    var job: Job
    /// E* at the MLE from the stored result, when it has one.
    var lossMLE: Double?
    /// The result's status (`ok`, `no_signal`, …) for succeeded fits.
    var resultStatus: String?
}

/// Everything `GET /studies/{name}` shows.
struct StudyPageModel: Sendable {
    var study: Study
    /// The newest fit of any status (it may be newer than the prediction).
    var lastFit: Job?
    /// The newest succeeded fit and its result.
    var prediction: (job: Job, result: FitResult)?
    /// The largest compute among the checkpoints that fit used (rows with flops, within its
    /// max_flops): what "N× beyond your largest checkpoint" compares with.
    var largestCheckpointFlops: Double?
    var history: [FitHistoryEntry]
    /// The newest succeeded back-test job, whose chart the page shows (`/v1/jobs/{id}/plots/backtest.svg`).
    var latestBacktestID: Int? = nil
}
