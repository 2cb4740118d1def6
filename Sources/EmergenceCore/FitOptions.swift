/// How to fit a study: the CLI's flags and the API's `POST /v1/studies/{study}/fits` body.
/// Decoding accepts any subset of the fields; missing ones take the defaults below.
public struct FitOptions: Codable, Sendable, Equatable, Hashable {
    /// The emergence law E_θ(D) (docs/method.md §2).
    public enum Form: String, Codable, Sendable, CaseIterable {
        /// E(D) = k · (ln D)^α + C (default; the paper's choice).
        case logPower = "log_power"
        /// E(D) = k · D^α + C.
        case power = "power"
    }
    /// The likelihood of the accuracies (docs/method.md §3).
    public enum Noise: String, Codable, Sendable, CaseIterable {
        /// y_i ~ N(μ_i, σ²), one σ.
        case gaussian
        /// y_i·n_i ~ Binomial(n_i, μ_i) (needs n_questions).
        case binomial
        /// Over-dispersed binomial by quasi-likelihood: the binomial mean and score, with
        /// Var(y_i) = φ·μ_i(1 − μ_i)/n_i and φ estimated by Pearson's χ²/(m − p) (at least 1).
        /// The MLE is the binomial one; intervals are widened by φ (the MCMC samples exp(log L_binomial / φ)).
        case quasiBinomial = "quasi_binomial"

        /// Binomial mean model (n_questions needed): `binomial` or `quasi_binomial`.
        public var isBinomial: Bool { self != .gaussian }
    }
    public enum Uncertainty: String, Codable, Sendable, CaseIterable {
        case bootstrap, mcmc, both, none
    }
    /// What one bootstrap draw resamples (docs/method.md §5).
    public enum Resample: String, Codable, Sendable, CaseIterable {
        /// Whole checkpoints (all rows of a checkpoint together); honest when a checkpoint's loss is noisy.
        case checkpoints
        /// Rows, stratified by setting.
        case rows
    }

    public var form: Form = .logPower
    /// The low-data extrapolation limit; nil = the shots of the few-shot rows.
    public var d0: Double? = nil
    /// Fit Δ, a separate few-shot floor.
    public var delta: Bool = true
    public var noise: Noise = .gaussian
    public var uncertainty: Uncertainty = .bootstrap
    public var bootstrap: Int = 1000
    public var resample: Resample = .checkpoints
    /// The most MCMC steps kept after burn-in, per walker: the chain stops earlier, at the first
    /// check (every `mcmcCheckEvery` kept steps) where N ≥ 50·τ and split-R̂ ≤ 1.05 (Posterior.swift).
    public var mcmcSteps: Int = FitOptions.defaultMCMCSteps
    public var mcmcWalkers: Int = 32
    public var mcmcBurnIn: Int = 1000
    public var seed: UInt64 = 0
    /// Keep only checkpoints with flops ≤ this (the prediction setting).
    public var maxFlops: Double? = nil
    /// A user-supplied compute scaling law; nil = fit one to the checkpoints.
    public var scalingLaw: ScalingLaw? = nil
    /// A prior on the law's curvature α (AlphaPrior.swift); nil = plain maximum likelihood.
    public var alphaPrior: AlphaPrior? = nil
    /// `alpha_prior: "pooled"`: the prior is to come from the lab's other studies (PooledAlphaPrior.swift).
    /// Whoever runs the fit resolves it into `alphaPrior` (with its provenance) first: the service when
    /// it queues the fit, the CLI from a saved estimate. The engine refuses one left unresolved.
    public var alphaPriorPooled: Bool = false

    public init() {}

    /// Default cap on kept MCMC steps: 32 × (20,000 + 1,000) walker-steps, 1/6 of the work budget.
    public static let defaultMCMCSteps = 20_000

    enum CodingKeys: String, CodingKey {
        case form, d0, delta, noise, uncertainty, bootstrap, resample
        case mcmcSteps = "mcmc_steps"
        case mcmcWalkers = "mcmc_walkers"
        case mcmcBurnIn = "mcmc_burn_in"
        case seed
        case maxFlops = "max_flops"
        case scalingLaw = "scaling_law"
        case alphaPrior = "alpha_prior"
    }

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        let d = FitOptions()
        form = try c.decodeIfPresent(Form.self, forKey: .form) ?? d.form
        d0 = try c.decodeIfPresent(Double.self, forKey: .d0)
        delta = try c.decodeIfPresent(Bool.self, forKey: .delta) ?? d.delta
        noise = try c.decodeIfPresent(Noise.self, forKey: .noise) ?? d.noise
        uncertainty = try c.decodeIfPresent(Uncertainty.self, forKey: .uncertainty) ?? d.uncertainty
        bootstrap = try c.decodeIfPresent(Int.self, forKey: .bootstrap) ?? d.bootstrap
        resample = try c.decodeIfPresent(Resample.self, forKey: .resample) ?? d.resample
        mcmcSteps = try c.decodeIfPresent(Int.self, forKey: .mcmcSteps) ?? d.mcmcSteps
        mcmcWalkers = try c.decodeIfPresent(Int.self, forKey: .mcmcWalkers) ?? d.mcmcWalkers
        mcmcBurnIn = try c.decodeIfPresent(Int.self, forKey: .mcmcBurnIn) ?? d.mcmcBurnIn
        seed = try c.decodeIfPresent(UInt64.self, forKey: .seed) ?? d.seed
        maxFlops = try c.decodeIfPresent(Double.self, forKey: .maxFlops)
        scalingLaw = try c.decodeIfPresent(ScalingLaw.self, forKey: .scalingLaw)
        // alpha_prior: an object {median, log_sd} (with `pooled` when resolved from the lab's studies),
        // or the string "pooled".
        if let text = try? c.decodeIfPresent(String.self, forKey: .alphaPrior) {
            guard text == "pooled" else {
                throw DecodingError.dataCorruptedError(forKey: .alphaPrior, in: c, debugDescription:
                    "alpha_prior must be an object {median, log_sd} or the string \"pooled\", not \"\(text)\"")
            }
            alphaPriorPooled = true
        } else {
            alphaPrior = try c.decodeIfPresent(AlphaPrior.self, forKey: .alphaPrior)
            alphaPriorPooled = alphaPrior?.pooled != nil
        }
    }

    /// Every field is written, absent ones as null: the encoding is canonical (with sorted keys, equal
    /// options give equal text), which is how the service finds a fit it already made.
    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(form, forKey: .form)
        try c.encode(d0, forKey: .d0)
        try c.encode(delta, forKey: .delta)
        try c.encode(noise, forKey: .noise)
        try c.encode(uncertainty, forKey: .uncertainty)
        try c.encode(bootstrap, forKey: .bootstrap)
        try c.encode(resample, forKey: .resample)
        try c.encode(mcmcSteps, forKey: .mcmcSteps)
        try c.encode(mcmcWalkers, forKey: .mcmcWalkers)
        try c.encode(mcmcBurnIn, forKey: .mcmcBurnIn)
        try c.encode(seed, forKey: .seed)
        try c.encode(maxFlops, forKey: .maxFlops)
        try c.encode(scalingLaw, forKey: .scalingLaw)
        if alphaPrior == nil && alphaPriorPooled {
            try c.encode("pooled", forKey: .alphaPrior)
        } else {
            try c.encode(alphaPrior, forKey: .alphaPrior)
        }
    }

    /// The number of coordinates the MCMC samples: θ = (k, α, C, A, B) plus Δ when fitted, plus log σ
    /// under Gaussian noise (Posterior.swift). The ensemble sampler needs at least twice as many walkers.
    public var mcmcDimension: Int {
        5 + (delta ? 1 : 0) + (noise == .gaussian ? 1 : 0)
    }

    var runsBootstrap: Bool { uncertainty == .bootstrap || uncertainty == .both }
    var runsMCMC: Bool { uncertainty == .mcmc || uncertainty == .both }

    /// Problems with the options themselves, as (field, reason). Empty when valid.
    ///
    /// The ranges are the published schema's (openapi.json); on top of them come what the engine
    /// needs for the work actually requested: an MCMC needs an even number of walkers ≥ 2 × the
    /// sampled dimension (Goodman–Weare's stretch move moves each half of the ensemble against the
    /// other, and fewer walkers than that cannot span the space), and the work must fit `budget`.
    /// Options for a phase that does not run (MCMC settings under `uncertainty: bootstrap`) are held
    /// to their ranges only.
    public func problems(budget: FitBudget = .default) -> [Evaluation.Problem] {
        var out: [Evaluation.Problem] = []
        func bad(_ f: String, _ r: String) { out.append(.init(field: f, reason: r)) }
        if let d0, !(d0.isFinite && d0 > 1) { bad("d0", "must be a finite number > 1 (ln D0 must be positive)") }
        if bootstrap < 0 || bootstrap > 100_000 {
            bad("bootstrap", "must be in 0...100000")
        } else if runsBootstrap && bootstrap > budget.maxBootstrapResamples {
            bad("bootstrap", "is too large: \(bootstrap) resamples exceed the work budget of \(budget.maxBootstrapResamples) resamples")
        }
        let stepsOK = mcmcSteps >= 100 && mcmcSteps <= 1_000_000
        let burnInOK = mcmcBurnIn >= 0 && mcmcBurnIn <= 1_000_000
        let walkersOK = mcmcWalkers >= 8 && mcmcWalkers <= 1024 && mcmcWalkers % 2 == 0
        if !stepsOK { bad("mcmc_steps", "must be in 100...1000000") }
        if !walkersOK { bad("mcmc_walkers", "must be an even number in 8...1024") }
        if !burnInOK { bad("mcmc_burn_in", "must be in 0...1000000") }
        if runsMCMC && walkersOK && mcmcWalkers < 2 * mcmcDimension {
            bad("mcmc_walkers", "must be at least \(2 * mcmcDimension) for this model: the MCMC samples \(mcmcDimension) "
                + "coordinates (k, α, C, A, B\(delta ? ", Δ" : "")\(noise == .gaussian ? ", log σ" : "")) and needs an even "
                + "number of walkers ≥ 2 × that")
        }
        if runsMCMC && stepsOK && burnInOK && walkersOK {
            // Within the ranges above the product is at most 1024 × 2,000,000: no overflow.
            let work = mcmcWalkers * (mcmcSteps + mcmcBurnIn)
            if work > budget.maxMCMCWalkerSteps {
                bad("mcmc_steps", "is too large: mcmc_walkers × (mcmc_steps + mcmc_burn_in) = \(work) exceeds the work budget of "
                    + "\(budget.maxMCMCWalkerSteps) walker-steps")
            }
        }
        if let m = maxFlops, !(m.isFinite && m > 0) { bad("max_flops", "must be a finite number > 0") }
        if let s = scalingLaw {
            if !(s.lInf.isFinite && s.lInf >= 0) { bad("scaling_law.l_inf", "must be a finite number >= 0") }
            if !(s.a.isFinite && s.a > 0) { bad("scaling_law.a", "must be a finite number > 0") }
            if !(s.b.isFinite && s.b > 0) { bad("scaling_law.b", "must be a finite number > 0") }
        }
        if let prior = alphaPrior { out.append(contentsOf: prior.problems(form: form)) }
        return out
    }
}
