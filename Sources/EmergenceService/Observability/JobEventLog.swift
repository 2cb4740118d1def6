import Jobs
import Storage
import Logging

/// Every change of a job's status, counted for `/metrics` and written as one log line
/// (`"event":"fit"`, the job and study ids, `from` and `to` statuses, the kind when it is not a fit,
/// and for finished jobs the seconds it ran; the names are from when every job was a fit, and
/// dashboards read them). Called after the change is committed to the database. A fit's success is
/// also written through the prediction index (`committing`), which must never answer the study's
/// previous fit once the new one is committed.
final class JobEventLog: JobEvents {
    let metrics: ServiceMetrics
    let logger: Logger
    /// Told of each fit that succeeded (the study's id): the pooled α prior's auto refits listen here.
    /// Set once the service is built (the log exists before the API that listens).
    let fitSucceeded = Lock<(@Sendable (Int) -> Void)?>(nil)
    let predictions: PredictionIndex

    init(metrics: ServiceMetrics, logger: Logger, predictions: PredictionIndex) {
        self.metrics = metrics
        self.logger = logger
        self.predictions = predictions
    }

    func committing(_ job: Job, to: Job.Status, _ write: () throws -> Void) throws {
        // Only a fit's success changes a prediction (comparisons and backtests are not served there).
        guard job.kind == .fit, to == .succeeded else { return try write() }
        try predictions.changing(studyID: job.studyID, write)
    }

    func transition(_ job: Job, from: Job.Status?, to: Job.Status, seconds: Double? = nil, error: String? = nil) {
        metrics.recordFitTransition(to: to.rawValue, finishedAfter: seconds)
        if to == .succeeded && job.kind == .fit, let hook = fitSucceeded.withLock({ $0 }) { hook(job.studyID) }
        var metadata: Logger.Metadata = [
            "event": "fit",
            "fit_id": .stringConvertible(job.id),
            "study_id": .stringConvertible(job.studyID),
            "to": .string(to.rawValue),
        ]
        // Every job kind shares the fit's events; a line for another kind says which.
        if job.kind != .fit { metadata["kind"] = .string(job.kind.rawValue) }
        if let from { metadata["from"] = .string(from.rawValue) }
        if to == .running { metadata["attempt"] = .stringConvertible(job.attempts) }
        if let seconds { metadata["duration_s"] = .stringConvertible((seconds * 1000).rounded() / 1000) }
        // A fit's error is the service's own message (never a request body), bounded in length.
        if let error { metadata["error"] = .string(String(error.prefix(1000))) }
        let level: Logger.Level = to == .failed || to == .timedOut ? .warning : .info
        logger.log(level: level, "\(job.kind == .fit ? "fit" : job.kind.rawValue) \(job.id) \(from.map { "\($0.rawValue) → " } ?? "")\(to.rawValue)", metadata: metadata)
    }

    /// What a start-up recovery did to fits the previous process left running: counted, and one line.
    func recovered(requeued: Int, failed: Int) {
        guard requeued > 0 || failed > 0 else { return }
        metrics.recordFitTransition(to: Job.Status.queued.rawValue, count: requeued)
        metrics.recordFitTransition(to: Job.Status.failed.rawValue, count: failed)
        logger.info("fits recovered at start", metadata: [
            "event": "fit_recovery", "from": "running",
            "requeued": .stringConvertible(requeued), "failed": .stringConvertible(failed),
        ])
    }
}
