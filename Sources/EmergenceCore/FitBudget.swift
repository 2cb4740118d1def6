/// The most work one fit may ask for, so that no request can occupy a worker, or its memory, for
/// long (`FitOptions.problems(budget:)` rejects options beyond it, naming the limit).
///
/// Work is counted in units whose cost is roughly constant for a study of a given size:
/// - MCMC: walker-steps, walkers × (steps + burn-in); each is one evaluation of the log posterior,
///   and each kept one also holds E* in memory (8 bytes in the traces, ~32 bytes with the copies the
///   percentiles and FLOPs conversion make).
/// - Bootstrap: resamples; each is one refit (smoothed, then exact, from one or two starts).
///
/// Both scale with the number of rows. Measured by bench/core/budget.sh on the mmlu-like simulated
/// study (release build, one thread, user CPU): a bootstrap refit 0.25–0.43 ms, a walker-step
/// 0.9–1.3 µs. See `default` for the resulting figures.
public struct FitBudget: Sendable, Equatable, Hashable {
    /// Upper bound on mcmc_walkers × (mcmc_steps + mcmc_burn_in) when the MCMC runs.
    public var maxMCMCWalkerSteps: Int
    /// Upper bound on `bootstrap` when the bootstrap runs.
    public var maxBootstrapResamples: Int

    public init(maxMCMCWalkerSteps: Int, maxBootstrapResamples: Int) {
        self.maxMCMCWalkerSteps = maxMCMCWalkerSteps
        self.maxBootstrapResamples = maxBootstrapResamples
    }

    /// 100,000 resamples (the schema's own maximum) cost ~40 s of one thread on mmlu-like, and
    /// 4,000,000 walker-steps ~5 s: the largest accepted fit (`both` at both limits) stays under
    /// a minute there, about two on a study twice its size. The MCMC limit is set by memory rather
    /// than time (~130 MB of samples at the limit). The MCMC's `mcmc_steps` is a cap (the chain stops
    /// once it has converged, Posterior.swift) and the budget counts the cap: the default
    /// 32 walkers × (20,000 + 1,000) is 672,000 walker-steps, a sixth of the limit.
    public static let `default` = FitBudget(maxMCMCWalkerSteps: 4_000_000, maxBootstrapResamples: 100_000)

    /// No limit beyond the options' own ranges (offline tools that own their CPU).
    public static let unlimited = FitBudget(maxMCMCWalkerSteps: .max, maxBootstrapResamples: .max)
}
