import Foundation

/// Experiment design: which extra finetuning amount or checkpoint would narrow E*'s interval most.
public enum Advice {
    /// Fits the study (`options.fit`), then, for the current design and each candidate, simulates
    /// `options.simulations` data sets from the fitted model (its noise model: Gaussian σ̂ or
    /// binomial with each row's n_questions), refits each with `options.refitOptions` and averages the
    /// 5–95 width of E*. Candidates are ranked by that expected width. Throws like `EmergenceFit.run`.
    public static func run(_ evaluations: [Evaluation], options: AdviceOptions, budget: FitBudget = .default,
                           threads: Int = ProcessInfo.processInfo.activeProcessorCount,
                           progress: (@Sendable (Double) -> Void)? = nil,
                           isCancelled: (@Sendable () -> Bool)? = nil) throws -> AdviceResult {
        throw WorkflowPending.error("advise")
    }
}
