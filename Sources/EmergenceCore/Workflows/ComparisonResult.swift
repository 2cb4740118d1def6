import Foundation

/// Which of two studies (say two pretraining mixes) reaches the capability first.
public struct ComparisonResult: WorkflowResult {
    /// A difference (A − B) with its 5…95 percentiles over independent pairs of samples.
    public struct Difference: Codable, Sendable, Equatable {
        /// From the two MLEs; nil when either is missing or unreachable.
        public var mle: Double?
        public var percentiles: FitResult.Percentiles?
        /// Pairs in which both values were finite (unreachable samples are left out of the difference).
        public var pairs: Int
    }

    /// The two fits, as `emergence fit` prints them.
    public var a: FitResult
    public var b: FitResult
    /// P(C*_A < C*_B) over all pairs of one sample of A and one of B (independent draws; an
    /// unreachable sample counts as +∞ FLOPs; ties count half). nil when either fit has no samples
    /// (no signal, insufficient data) or no FLOPs (no scaling law).
    public var probabilityAFirst: Double?
    /// The same in loss: P(E*_A > E*_B) (the higher elbow is reached first on a common loss axis).
    public var probabilityAFirstByLoss: Double?
    /// log10 C*_A − log10 C*_B: negative when A needs less compute.
    public var log10FlopsDifference: Difference?
    /// E*_A − E*_B in nats.
    public var lossDifference: Difference?
    public var warnings: [FitResult.Warning]

    enum CodingKeys: String, CodingKey {
        case a, b, warnings
        case probabilityAFirst = "probability_a_first"
        case probabilityAFirstByLoss = "probability_a_first_by_loss"
        case log10FlopsDifference = "log10_flops_difference"
        case lossDifference = "loss_difference"
    }
}
