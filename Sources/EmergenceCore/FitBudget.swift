/// The most work one fit may ask for, so that no request can occupy a worker for long
/// (`FitOptions.problems(budget:)` rejects options beyond it, naming the limit).
///
/// Work is counted in the units whose cost is roughly constant for a study of a given size:
/// - MCMC: walker-steps, walkers × (steps + burn-in); each is one evaluation of the log posterior.
/// - Bootstrap: resamples; each is one refit (smoothed, then exact, from one or two starts).
///
/// Both scale with the number of rows; the defaults were measured on the `mmlu-like` simulated study
/// (bench/core/budget.sh), where one walker-step cost ~W µs and one bootstrap refit ~R ms on one
/// thread of the development machine. See `default` for the resulting figures.
public struct FitBudget: Sendable, Equatable, Hashable {
    /// Upper bound on mcmc_walkers × (mcmc_steps + mcmc_burn_in) when the MCMC runs.
    public var maxMCMCWalkerSteps: Int
    /// Upper bound on `bootstrap` when the bootstrap runs.
    public var maxBootstrapResamples: Int

    public init(maxMCMCWalkerSteps: Int, maxBootstrapResamples: Int) {
        self.maxMCMCWalkerSteps = maxMCMCWalkerSteps
        self.maxBootstrapResamples = maxBootstrapResamples
    }

    /// PLACEHOLDER: set from measurement.
    public static let `default` = FitBudget(maxMCMCWalkerSteps: 1_000_000, maxBootstrapResamples: 10_000)

    /// No limit beyond the options' own ranges (offline tools that own their CPU).
    public static let unlimited = FitBudget(maxMCMCWalkerSteps: .max, maxBootstrapResamples: .max)
}
