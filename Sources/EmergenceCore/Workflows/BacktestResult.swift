import Foundation

/// A back-test's result: for each cutoff the prediction from checkpoints at or under it against the
/// emergence observed in all checkpoints (docs/method.md §8).
public struct BacktestResult: WorkflowResult {
    public struct Cutoff: Codable, Sendable, Equatable {
        public enum Status: String, Codable, Sendable {
            case ok
            case noSignal = "no_signal"
            case alreadyEmerged = "already_emerged"
            case insufficientData = "insufficient_data"
            /// No rows, or no finetuned rows, at or under the cutoff: nothing to fit.
            case noData = "no_data"
        }
        public var maxFlops: Double
        /// The fit's status at this cutoff (`no_data` when there was nothing to fit).
        public var status: Status
        /// Checkpoints at or under the cutoff.
        public var checkpoints: Int
        /// The fit's E* and C* with their intervals; nil under `no_data`.
        public var predicted: EmergencePoint?
        /// The emergence observed from all checkpoints (the same for every cutoff).
        public var observed: EmergencePoint
        /// Predicted E* − observed E, in nats (positive: predicted at a higher loss, i.e. earlier).
        public var errorNats: Double?
        /// log10 predicted C* − log10 observed C.
        public var errorLog10Flops: Double?
        /// |error_nats| < 0.1 (the paper's threshold).
        public var success: Bool
        /// FLOPs of the first post-emergence checkpoint / this cutoff: how many times the cutoff's
        /// compute this prediction looked ahead. nil when emergence has not been observed.
        public var horizon: Double?
        /// The whole fit document at this cutoff (the same as `emergence fit --max-flops CUTOFF`).
        public var fit: FitResult?

        enum CodingKeys: String, CodingKey {
            case status, checkpoints, predicted, observed, success, horizon, fit
            case maxFlops = "max_flops"
            case errorNats = "error_nats"
            case errorLog10Flops = "error_log10_flops"
        }
    }

    /// Cutoffs in ascending order.
    public var cutoffs: [Cutoff]
    /// docs/method.md §8's horizon: the largest `horizon` among successful cutoffs; nil when none succeeded
    /// or emergence has not been observed.
    public var horizon: Double?
    /// The error (nats) under which a cutoff counts as a success: 0.1.
    public var successThresholdNats: Double
    /// The observation from all checkpoints.
    public var observation: ObservationResult
    public var warnings: [FitResult.Warning]

    enum CodingKeys: String, CodingKey {
        case cutoffs, horizon, observation, warnings
        case successThresholdNats = "success_threshold_nats"
    }

    /// The paper's success threshold (docs/method.md §8).
    public static let successThreshold = 0.1
}
