/// A fit's x-axis is the pretraining loss (docs/method.md §2), so every row a fit reads must have one.
/// Uploads and `observe` accept rows without it (leaderboards give only FLOPs); the paths that fit
/// (fits, back-tests, comparisons, ablations, advice) check first and name the rows, 1-based in the
/// order given (a service study's upload order; the CLI names CSV lines through the reader instead).
public struct MissingPretrainLoss: Error, Sendable, Equatable, CustomStringConvertible {
    /// 1-based positions of the rows without a loss, with their checkpoints and settings.
    public var rows: [(index: Int, checkpoint: String, setting: Evaluation.Setting)]
    /// "study b" for a comparison's second study; nil for the only (or first) one.
    public var study: String?

    public static func == (a: Self, b: Self) -> Bool {
        a.study == b.study && a.rows.map(\.index) == b.rows.map(\.index)
            && a.rows.map(\.checkpoint) == b.rows.map(\.checkpoint) && a.rows.map(\.setting) == b.rows.map(\.setting)
    }

    /// Throws when any row lacks `pretrain_loss`.
    public static func check(_ rows: [Evaluation], study: String? = nil) throws {
        let missing = rows.enumerated().filter { $0.element.pretrainLossIfGiven == nil }
            .map { (index: $0.offset + 1, checkpoint: $0.element.checkpoint, setting: $0.element.setting) }
        if !missing.isEmpty { throw MissingPretrainLoss(rows: missing, study: study) }
    }

    public var description: String {
        guard let first = rows.first else { return "pretrain_loss is missing" }
        let more = rows.count > 1 ? " and \(rows.count - 1) more row(s)" : ""
        let whose = study.map { " of \($0)" } ?? ""
        return "pretrain_loss is required for a fit (the emergence law's x-axis) and is missing on row \(first.index)\(whose) (checkpoint \"\(first.checkpoint)\", \(first.setting.rawValue))\(more); upload the loss for these rows, or use an observation with axis flops, which works without it"
    }
}
