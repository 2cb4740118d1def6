import Foundation

/// The paper's ablation (form, Δ, D0) on one study.
public enum Ablation {
    /// Runs `options.fitCount` fits (`EmergenceFit.run`): the four form × Δ variants, then the D0
    /// sweep. Throws `FitError.invalidOptions` for bad options, `FitError.noRows` /
    /// `.noFinetunedRows` when nothing can be fitted.
    public static func run(_ evaluations: [Evaluation], options: AblationOptions, budget: FitBudget = .default,
                           threads: Int = ProcessInfo.processInfo.activeProcessorCount,
                           progress: (@Sendable (Double) -> Void)? = nil,
                           isCancelled: (@Sendable () -> Bool)? = nil) throws -> AblationResult {
        throw WorkflowPending.error("ablate")
    }
}
