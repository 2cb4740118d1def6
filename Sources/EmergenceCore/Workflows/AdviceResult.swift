import Foundation

/// Candidate experiments ranked by the expected 5–95 width of E* after running them.
public struct AdviceResult: WorkflowResult {
    public enum Status: String, Codable, Sendable {
        case ok
        /// The base fit gave no point estimate (no signal, insufficient data): there is no model to
        /// simulate from; `base` says why.
        case noModel = "no_model"
    }

    public struct Width: Codable, Sendable, Equatable {
        /// Mean 5–95 width of E* (nats) over the simulated refits.
        public var expected: Double
        /// Standard error of that mean.
        public var standardError: Double
        /// Simulated refits that gave an interval.
        public var simulations: Int
        enum CodingKeys: String, CodingKey {
            case expected, simulations
            case standardError = "standard_error"
        }
    }

    public struct Candidate: Codable, Sendable, Equatable {
        public enum Kind: String, Codable, Sendable {
            /// Finetune every finetuned checkpoint on one more data amount D.
            case dataAmount = "data_amount"
            /// Add a checkpoint at compute C (few-shot, and finetuned at every data amount).
            case checkpoint
        }
        /// 1 = narrows the interval most.
        public var rank: Int
        public var kind: Kind
        /// D (kind data_amount).
        public var dataAmount: Double?
        /// C in FLOPs and its loss under the fitted scaling law (kind checkpoint).
        public var flops: Double?
        public var pretrainLoss: Double?
        /// Rows the experiment adds (evaluations to run).
        public var rows: Int
        public var width: Width
        /// baseline.expected − width.expected: the narrowing expected from this experiment (nats).
        public var narrowing: Double

        enum CodingKeys: String, CodingKey {
            case rank, kind, flops, rows, width, narrowing
            case dataAmount = "data_amount"
            case pretrainLoss = "pretrain_loss"
        }
    }

    public var status: Status
    /// The base fit's E* and interval.
    public var base: EmergencePoint
    /// The base fit's own 5–95 width of E*.
    public var currentWidth: Double?
    /// The current design re-simulated and refitted the same way as the candidates: the fair
    /// baseline for `narrowing` (same simulations, same resamples).
    public var baseline: Width?
    /// Ranked, narrowest expected interval first.
    public var candidates: [Candidate]
    /// Refits run (base excluded) and their bootstrap resamples.
    public var refits: Int
    public var resamples: Int
    public var warnings: [FitResult.Warning]

    enum CodingKeys: String, CodingKey {
        case status, base, baseline, candidates, refits, resamples, warnings
        case currentWidth = "current_width"
    }
}
