import Foundation

/// The observed emergence point: the elbow of the ReLU of few-shot accuracy against pretraining loss
/// over every checkpoint (docs/method.md §8). `emergence observe` prints it; the observe job serves it.
public struct ObservationResult: WorkflowResult {
    public enum Status: String, Codable, Sendable {
        /// Few-shot accuracy has left the floor: `emergence` holds the elbow and its interval.
        case ok
        /// No checkpoint is distinguishably above the floor. If emergence has begun, a lift the noise
        /// hides, it began below `emergence.loss.upper_bound` (above `emergence.flops.lower_bound`):
        /// the lowest loss seen plus the largest elbow shift the rows cannot rule out at 95%
        /// (ObservationBound.swift). No bound when nothing says how steep the rise would be.
        case notYetEmerged = "not_yet_emerged"
        /// Fewer than 3 checkpoints with few-shot rows: no ReLU can be fitted.
        case insufficientData = "insufficient_data"
    }

    public struct DataSummary: Codable, Sendable, Equatable {
        /// Few-shot rows used.
        public var rows: Int
        public var checkpoints: Int
        /// Rows dropped by `max_flops` (and, on the flops axis, rows without flops).
        public var excludedRows: Int
        /// [lowest, highest] value of the axis (loss, or log10 FLOPs).
        public var axisRange: [Double]
        enum CodingKeys: String, CodingKey {
            case rows, checkpoints
            case excludedRows = "excluded_rows"
            case axisRange = "axis_range"
        }
    }

    /// The fitted ReLU: accuracy = floor + slope · max(elbow − x, 0) with x the loss, or
    /// floor + slope · max(x − elbow, 0) with x = log10 FLOPs.
    public struct Parameters: Codable, Sendable, Equatable {
        public var floor: Double
        public var slope: Double
        /// In the axis' units (nats, or log10 FLOPs).
        public var elbow: Double
        /// Residual standard deviation σ̂ = √(RSS / n).
        public var sigma: Double
    }

    /// The first checkpoint past the elbow (lowest FLOPs among those with loss below the observed E):
    /// "the first post-emergence checkpoint" of docs/method.md §8's horizon.
    public struct CheckpointRef: Codable, Sendable, Equatable {
        public var checkpoint: String
        public var flops: Double?
        /// Absent when the rows give no pretrain_loss (a leaderboard's FLOPs only).
        public var pretrainLoss: Double?
        enum CodingKeys: String, CodingKey {
            case checkpoint, flops
            case pretrainLoss = "pretrain_loss"
        }
    }

    public struct BootstrapSummary: Codable, Sendable, Equatable {
        public var samples: Int
        /// Resamples whose refit found no lift (slope 0) or too few distinct checkpoints.
        public var failed: Int
    }

    public var status: Status
    public var warnings: [FitResult.Warning]
    public var axis: ObserveOptions.Axis
    public var seed: UInt64
    public var data: DataSummary
    public var parameters: Parameters?
    /// Likelihood-ratio statistic n·ln(RSS_floor / RSS_relu) of the ReLU against a flat floor.
    public var statistic: Double?
    public var emergence: EmergencePoint
    public var firstEmerged: CheckpointRef?
    public var bootstrap: BootstrapSummary?
    public var scalingLaw: FitResult.ScalingLawSummary?

    enum CodingKeys: String, CodingKey {
        case status, warnings, axis, seed, data, parameters, statistic, emergence, bootstrap
        case firstEmerged = "first_emerged"
        case scalingLaw = "scaling_law"
    }
}
