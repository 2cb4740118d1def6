import Foundation

/// One estimated quantity of a workflow: a point (`mle`) with its bootstrap percentiles, or only a
/// bound when the data cannot place it.
public struct WorkflowEstimate: Codable, Sendable, Equatable {
    public var mle: Double?
    /// Percentiles 5…95 keyed "5", "10", …; non-finite ones omitted (as in FitResult).
    public var percentiles: FitResult.Percentiles?
    /// The quantity lies below this (a loss: emergence needs a lower loss than any seen).
    public var upperBound: Double?
    /// The quantity lies above this (FLOPs: emergence needs more compute than any seen).
    public var lowerBound: Double?

    public init(mle: Double? = nil, percentiles: FitResult.Percentiles? = nil,
                upperBound: Double? = nil, lowerBound: Double? = nil) {
        self.mle = mle; self.percentiles = percentiles; self.upperBound = upperBound; self.lowerBound = lowerBound
    }

    enum CodingKeys: String, CodingKey {
        case mle, percentiles
        case upperBound = "upper_bound"
        case lowerBound = "lower_bound"
    }
}

/// An emergence point in loss (nats) and, when a scaling law (or the checkpoints) allows, in FLOPs.
/// `loss` is absent only for an observation of rows without pretrain_loss (a leaderboard's FLOPs) or
/// when the data bound neither; every fit gives it.
public struct EmergencePoint: Codable, Sendable, Equatable {
    public var loss: WorkflowEstimate?
    public var flops: WorkflowEstimate?

    public init(loss: WorkflowEstimate?, flops: WorkflowEstimate?) {
        self.loss = loss; self.flops = flops
    }

    /// The prediction of a fit result, in the same shape (mle and percentiles of E* and C*).
    public init(_ fit: FitResult) {
        let l = fit.emergence.loss
        loss = WorkflowEstimate(mle: l.mle, percentiles: l.percentiles, upperBound: l.upperBound)
        flops = fit.emergence.flops.map { WorkflowEstimate(mle: $0.mle, percentiles: $0.percentiles, lowerBound: $0.lowerBound) }
    }
}

/// Shared JSON output of the workflow results: sorted keys, like FitResult, so equal inputs and seeds
/// give byte-identical documents.
public protocol WorkflowResult: Codable, Sendable, Equatable {}

extension WorkflowResult {
    public func jsonData(pretty: Bool = true) throws -> Data {
        try FitResult.makeEncoder(pretty: pretty).encode(self)
    }
}
