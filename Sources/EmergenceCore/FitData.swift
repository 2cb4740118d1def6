import Foundation

/// The evaluations of one study, laid out as flat arrays for the optimiser and the samplers.
///
/// Rows are grouped by their data amount: every finetuned D is a group, and the few-shot rows form
/// one more group at D0. The law E_θ(D) is evaluated once per group, not once per row.
struct FitData: Sendable {
    /// Pretraining loss (the x-axis) and accuracy of each row.
    var x: [Double]
    var y: [Double]
    /// 1 for a few-shot row (it carries Δ), 0 for a finetuned row.
    var fewShot: [Double]
    /// Index into `groupD` of each row.
    var group: [Int]
    /// Index into the checkpoint list of each row (for resampling whole checkpoints).
    var checkpoint: [Int]
    /// n_questions of each row (0 where unknown).
    var questions: [Double]
    /// The data amount of each group; the few-shot group (if any) is last and holds D0.
    var groupD: [Double]
    /// ln D and ln ln D of each group: the law's basis is exp(α·ln ln D) = (ln D)^α or exp(α·ln D) = D^α,
    /// one exp per group instead of a log and a pow.
    var groupLogD: [Double] = []
    var groupLogLogD: [Double] = []
    /// Index of the few-shot group in `groupD`, nil when there are no few-shot rows.
    var fewShotGroup: Int?
    /// D0, the low-data extrapolation limit.
    var d0: Double
    var checkpointCount: Int

    var count: Int { x.count }

    /// Builds the arrays; rows are put in a canonical order first so the result never depends on the
    /// order in which evaluations arrived.
    init(_ evaluations: [Evaluation], d0: Double) {
        let rows = evaluations.sorted(by: FitData.canonicalOrder)
        self.d0 = d0
        var amounts = Set<Double>()
        for e in rows where e.setting == .finetuned { amounts.insert(e.finetuneExamples ?? 0) }
        var groupD = amounts.sorted()
        let hasFewShot = rows.contains { $0.setting == .fewShot }
        if hasFewShot {
            fewShotGroup = groupD.count
            groupD.append(d0)
        } else {
            fewShotGroup = nil
        }
        self.groupD = groupD
        groupLogD = groupD.map { log($0) }
        groupLogLogD = groupD.map { log(log($0)) }
        var index: [Double: Int] = [:]
        for (i, d) in groupD.enumerated() where i != fewShotGroup { index[d] = i }
        var checkpoints: [String: Int] = [:]
        for e in rows where checkpoints[e.checkpoint] == nil { checkpoints[e.checkpoint] = checkpoints.count }
        checkpointCount = checkpoints.count
        x = rows.map(\.pretrainLoss)
        y = rows.map(\.accuracy)
        fewShot = rows.map { $0.setting == .fewShot ? 1 : 0 }
        // Every key below was inserted above from the same rows; the fallbacks are never taken.
        let fsg = fewShotGroup ?? 0
        group = rows.map { $0.setting == .fewShot ? fsg : index[$0.finetuneExamples ?? 0] ?? 0 }
        checkpoint = rows.map { checkpoints[$0.checkpoint] ?? 0 }
        questions = rows.map { Double($0.nQuestions ?? 0) }
    }

    /// A copy holding the given rows (with repeats), for a bootstrap resample.
    func subset(_ rows: [Int]) -> FitData {
        var out = self
        out.x = rows.map { x[$0] }
        out.y = rows.map { y[$0] }
        out.fewShot = rows.map { fewShot[$0] }
        out.group = rows.map { group[$0] }
        out.checkpoint = rows.map { checkpoint[$0] }
        out.questions = rows.map { questions[$0] }
        return out
    }

    /// Finetuned data amounts (all groups but the few-shot one).
    var dataAmounts: [Double] {
        groupD.enumerated().filter { $0.offset != fewShotGroup }.map(\.element)
    }

    static func canonicalOrder(_ a: Evaluation, _ b: Evaluation) -> Bool {
        if a.checkpoint != b.checkpoint { return a.checkpoint < b.checkpoint }
        if a.setting != b.setting { return a.setting.rawValue < b.setting.rawValue }
        if (a.finetuneExamples ?? -1) != (b.finetuneExamples ?? -1) { return (a.finetuneExamples ?? -1) < (b.finetuneExamples ?? -1) }
        if (a.shots ?? -1) != (b.shots ?? -1) { return (a.shots ?? -1) < (b.shots ?? -1) }
        if (a.subset ?? "") != (b.subset ?? "") { return (a.subset ?? "") < (b.subset ?? "") }
        if a.accuracy != b.accuracy { return a.accuracy < b.accuracy }
        return a.pretrainLoss < b.pretrainLoss
    }
}
