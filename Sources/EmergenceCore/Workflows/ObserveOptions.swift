import Foundation

/// How to find the observed emergence point (docs/method.md §8, "ground truth"): the CLI's
/// `emergence observe` flags and the API's observe job body. Missing fields take the defaults below.
public struct ObserveOptions: WorkflowOptions {
    /// The x-axis of the ReLU.
    public enum Axis: String, Codable, Sendable, CaseIterable {
        /// Pretraining loss (default): accuracy = floor + slope · max(E − loss, 0).
        case loss
        /// log10 FLOPs, for families whose loss is not comparable: accuracy = floor + slope ·
        /// max(log10 C − log10 C_E, 0); the loss then comes from the scaling law.
        case flops
    }

    public var axis: Axis = .loss
    /// Bootstrap resamples of whole checkpoints for the interval (default 1,000; 0 = none).
    public var bootstrap: Int = 1000
    public var seed: UInt64 = 0
    /// Keep only checkpoints with flops ≤ this (default: all).
    public var maxFlops: Double? = nil
    /// A given compute scaling law for the FLOPs conversion; nil = fit one to the checkpoints.
    public var scalingLaw: ScalingLaw? = nil

    public init() {}

    enum CodingKeys: String, CodingKey {
        case axis, bootstrap, seed
        case maxFlops = "max_flops"
        case scalingLaw = "scaling_law"
    }

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        let d = ObserveOptions()
        axis = try c.decodeIfPresent(Axis.self, forKey: .axis) ?? d.axis
        bootstrap = try c.decodeIfPresent(Int.self, forKey: .bootstrap) ?? d.bootstrap
        seed = try c.decodeIfPresent(UInt64.self, forKey: .seed) ?? d.seed
        maxFlops = try c.decodeIfPresent(Double.self, forKey: .maxFlops)
        scalingLaw = try c.decodeIfPresent(ScalingLaw.self, forKey: .scalingLaw)
    }

    /// Canonical: every field written, absent ones as null.
    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(axis, forKey: .axis)
        try c.encode(bootstrap, forKey: .bootstrap)
        try c.encode(seed, forKey: .seed)
        try c.encode(maxFlops, forKey: .maxFlops)
        try c.encode(scalingLaw, forKey: .scalingLaw)
    }

    /// Each observe resample is a one-dimensional profile fit (far cheaper than a fit's refit), but it
    /// is counted as one resample of the budget all the same.
    public func problems(budget: FitBudget = .default) -> [Evaluation.Problem] {
        var out: [Evaluation.Problem] = []
        func bad(_ f: String, _ r: String) { out.append(.init(field: f, reason: r)) }
        if bootstrap < 0 || bootstrap > 100_000 {
            bad("bootstrap", "must be in 0...100000")
        } else if bootstrap > budget.maxBootstrapResamples {
            bad("bootstrap", "is too large: \(bootstrap) resamples exceed the work budget of \(budget.maxBootstrapResamples) resamples")
        }
        if let m = maxFlops, !(m.isFinite && m > 0) { bad("max_flops", "must be a finite number > 0") }
        if let s = scalingLaw {
            if !(s.lInf.isFinite && s.lInf >= 0) { bad("scaling_law.l_inf", "must be a finite number >= 0") }
            if !(s.a.isFinite && s.a > 0) { bad("scaling_law.a", "must be a finite number > 0") }
            if !(s.b.isFinite && s.b > 0) { bad("scaling_law.b", "must be a finite number > 0") }
        }
        return out
    }
}
