import Foundation

/// The samples behind a fit's intervals, for workflows that need more than the result's percentiles
/// (the comparison's P(A first) pairs the two fits' samples). Not part of the JSON document:
/// `EmergenceFit.runWithSamples` returns them beside the result.
struct FitSamples: Sendable, Equatable {
    /// E* samples (bootstrap, else MCMC), in the fit's order.
    var loss: [Double] = []
    /// C* = law_i⁻¹(E*_i) for each loss sample, with the same pairing of samples and scaling laws
    /// as the fit's `emergence.flops` (+∞ where unreachable); empty without a scaling law.
    var flops: [Double] = []

    /// The C* of each loss sample under the scaling laws the fit pairs with them
    /// (EmergenceFit.fillCompute's rule).
    mutating func record(law: ScalingLaw, laws: [ScalingLaw]) {
        flops = loss.enumerated().map { i, e in
            let l = laws.isEmpty ? law : laws[i % laws.count]
            return l.compute(atLoss: e) ?? .infinity
        }
    }
}

extension EmergenceFit {
    /// The fit, also handing back what the identifiability rules measured (nil when the fit stopped
    /// before them), for calibration reports.
    static func run(_ evaluations: [Evaluation], options: FitOptions, budget: FitBudget = .default,
                    threads: Int = ProcessInfo.processInfo.activeProcessorCount,
                    progress: (@Sendable (Double) -> Void)? = nil,
                    isCancelled: (@Sendable () -> Bool)? = nil,
                    measures: inout Identifiability.Measures?) throws -> FitResult {
        var samples = FitSamples()
        return try run(evaluations, options: options, budget: budget, threads: threads, progress: progress,
                       isCancelled: isCancelled, measures: &measures, samples: &samples)
    }

    /// The fit and the samples behind its intervals (empty when it gave none).
    static func runWithSamples(_ evaluations: [Evaluation], options: FitOptions, budget: FitBudget = .default,
                               threads: Int = ProcessInfo.processInfo.activeProcessorCount,
                               progress: (@Sendable (Double) -> Void)? = nil,
                               isCancelled: (@Sendable () -> Bool)? = nil) throws -> (FitResult, FitSamples) {
        var measures: Identifiability.Measures? = nil
        var samples = FitSamples()
        let result = try run(evaluations, options: options, budget: budget, threads: threads, progress: progress,
                             isCancelled: isCancelled, measures: &measures, samples: &samples)
        return (result, samples)
    }
}
