import Foundation

/// What a lab's other studies say about the curvature α of a new study's emergence law: an
/// empirical-Bayes prior on ln α, learned from the studies' own profile likelihoods of ln α.
///
/// **Model.** The studies' curvatures are draws from one distribution,
///
///     ln α_i ~ N(μ, τ²),
///
/// and study i's data speak about ln α_i through its profile likelihood L_i(x) = exp(−dev_i(x)/2)
/// (AlphaProfile.swift: every other parameter of its law refitted). The marginal likelihood of (μ, τ)
/// integrates each study's unknown ln α_i out:
///
///     M(μ, τ) = Σ_i ln ∫ L_i(x) · N(x; μ, τ²) dx,
///
/// computed on a grid in x of step 0.025 over α's box (the Gaussian weights normalised on the grid,
/// so that a τ below the step is a point mass rather than nothing). A study whose data do not pin α
/// has a flat L_i, and so adds a constant to M: it weighs nothing, by itself. When the studies
/// disagree beyond what their own uncertainty explains, M prefers a larger τ and the prior widens.
///
/// **Estimates.** (μ̂, τ̂) maximise M over the grid (μ on the x grid, τ on a log grid 0.02–2); each has
/// the interval of its profile, {M_p ≥ max M − 2.71/2} (≈ 90%, χ²₁).
///
/// **The prior handed to a fit** is the predictive distribution of a new study's ln α, not the
/// plug-in N(μ̂, τ̂²): with ten studies or fewer τ̂ is often 0 when the true spread is not, and a plug-in
/// prior would then be confident and wrong. Averaging over (μ, τ) with weights W ∝ exp(M)·π(τ) (flat
/// in μ, and flat in τ on [0.02, 2], chosen on the development labs),
///
///     p(x) = Σ_{μ,τ} W(μ, τ) · N(x; μ, τ²),
///
/// a scale mixture of normals, heavy-tailed. It is handed out as one: τ's grid in `mixtureBins` runs,
/// each run the normal N(E[μ | run], E[τ² | run] + Var[μ | run]) weighted by its share of W
/// (AlphaPrior.mixture). Its mean m = E[μ] and variance v = E[τ²] + Var[μ] are the prior's summary,
/// AlphaPrior(median: e^m, log_sd: √v). The one normal N(m, v) alone would give every study the width
/// of the widest τ its neighbours allow: with nine that agree, τ cannot be told from anything in
/// [0, 0.3], and that normal's 90% held the true α of 99% of coherent development-lab studies.
public enum PooledAlphaPrior {
    /// One study offered to the pool.
    public struct Member: Sendable {
        public var study: String
        /// Its fit's status (FitResult.Status raw value), nil when it has no fit.
        public var status: String?
        public var profile: AlphaProfile?

        public init(study: String, status: String?, profile: AlphaProfile?) {
            self.study = study; self.status = status; self.profile = profile
        }
    }

    /// A study that fed the estimate, with what its own data say of α.
    public struct Used: Codable, Sendable, Equatable {
        public var study: String
        /// α at the least deviance of its profile grid.
        public var alpha: Double
        /// Where its own profile keeps dev < 2.71 (≈ 90%); an end at α's box means open there.
        public var alpha90: [Double]
        enum CodingKeys: String, CodingKey {
            case study, alpha
            case alpha90 = "alpha_90"
        }
    }

    /// A study left out, and why.
    public struct LeftOut: Codable, Sendable, Equatable {
        public var study: String
        /// `no_fit` (no succeeded fit, or one without an α profile), `no_signal` (its data show no
        /// emergence, so nothing of α), `other_form` (a law of another form: its α is another quantity),
        /// `flat_profile` (its data rule out no α even at one SD), `excluded` (the study being fitted).
        public var reason: String
        public init(study: String, reason: String) { self.study = study; self.reason = reason }
    }

    public struct Estimate: Codable, Sendable, Equatable {
        public var form: FitOptions.Form
        /// How many studies fed the estimate.
        public var studies: Int
        /// μ̂ and τ̂, the marginal-likelihood estimates of the mean and SD of ln α across studies.
        public var mu: Double
        public var tau: Double
        /// Their ≈ 90% intervals (profile of the marginal likelihood, cutoff 2.71).
        public var mu90: [Double]
        public var tau90: [Double]
        /// The prior a new study's fit gets: the predictive distribution of its ln α.
        public var prior: AlphaPrior
        public var used: [Used]
        public var leftOut: [LeftOut]

        enum CodingKeys: String, CodingKey {
            case form, studies, mu, tau, prior, used
            case mu90 = "mu_90"
            case tau90 = "tau_90"
            case leftOut = "left_out"
        }

        /// The prior for a fit, carrying where it came from.
        public func resolved(pool: String? = nil, excluded: String? = nil, estimatedAt: String? = nil) -> AlphaPrior {
            AlphaPrior(median: prior.median, logSD: prior.logSD, mixture: prior.mixture,
                       pooled: .init(mu: mu, tau: tau, studies: studies, pool: pool, excluded: excluded, estimatedAt: estimatedAt))
        }
    }

    /// What a resolved pooled prior records of the estimate it came from.
    public struct Provenance: Codable, Sendable, Equatable, Hashable {
        public var mu: Double
        public var tau: Double
        public var studies: Int
        /// The pool tag (nil: every study of the service, or the files given to the CLI).
        public var pool: String?
        /// The study left out of its own prior (the one fitted), if any.
        public var excluded: String?
        /// When the estimate was made (ISO 8601, UTC); nil when made outside the service without one.
        public var estimatedAt: String?

        public init(mu: Double, tau: Double, studies: Int, pool: String? = nil, excluded: String? = nil, estimatedAt: String? = nil) {
            self.mu = mu; self.tau = tau; self.studies = studies; self.pool = pool; self.excluded = excluded
            self.estimatedAt = estimatedAt
        }

        enum CodingKeys: String, CodingKey {
            case mu, tau, studies, pool, excluded
            case estimatedAt = "estimated_at"
        }
    }

    /// Fewer studies than this and there is no estimate: with two, τ is anyone's guess.
    public static let minimumStudies = 3
    /// Grid step in ln α.
    static let step = 0.025
    /// τ's grid: log-spaced over [tauFloor, tauCeiling].
    static let tauFloor = 0.02, tauCeiling = 2.0, tauCount = 40
    /// Components of the predictive mixture: τ's 40 grid points in runs of 5 (each run spans a factor
    /// 1.8 in τ, within which one normal describes the predictive well).
    static let mixtureBins = 8
    /// χ²₁'s 90% point.
    static let cutoff = 2.71
    /// The scale of τ's half-normal prior in the predictive average (nil: flat on [0, 2]). Flat, chosen
    /// on the development labs (docs/method.md §5.6): with the bootstrap counting the loss noise once
    /// under a prior, it kept every kind of lab inside 0.85–0.95, and it is one constant fewer.
    public static let tauPriorScale: Double? = nil

    static func tauPrior(_ tau: Double, scale: Double?) -> Double {
        guard let s = scale else { return 1 }
        return exp(-0.5 * tau * tau / (s * s))
    }

    /// Why a member cannot feed a pool of laws of `form`; nil when it can.
    public static func exclusion(_ m: Member, form: FitOptions.Form) -> String? {
        guard let p = m.profile, p.lnAlpha.count >= 2, p.lnAlpha.count == p.deviance.count,
              p.lnAlpha.allSatisfy(\.isFinite), p.deviance.allSatisfy({ $0.isFinite && $0 >= 0 }),
              zip(p.lnAlpha, p.lnAlpha.dropFirst()).allSatisfy({ $0 < $1 }), let status = m.status
        else { return "no_fit" }
        if status == "no_signal" || status == "insufficient_data" { return "no_signal" }
        if p.form != form { return "other_form" }
        if p.range < 1 { return "flat_profile" }
        return nil
    }

    /// The estimate from `members` whose laws are of `form`, leaving out `excluding` (the study being
    /// fitted: its own data must not count twice); nil when fewer than `minimumStudies` can feed it.
    /// - tauPriorScale: τ's prior in the predictive average; other than the default only to measure
    ///   how much the answer depends on it (`emergence calibrate --lab … --tau-prior-scale`).
    /// - mixture: false hands out the one moment-matched normal instead of the mixture, only to measure
    ///   what the mixture changes (`emergence calibrate --lab … --pooled-prior normal`).
    public static func estimate(_ members: [Member], form: FitOptions.Form = .logPower,
                                excluding: String? = nil, tauPriorScale: Double? = Self.tauPriorScale,
                                mixture: Bool = true) -> Estimate? {
        var used: [(Member, AlphaProfile)] = [], leftOut: [LeftOut] = []
        for m in members {
            if m.study == excluding { leftOut.append(.init(study: m.study, reason: "excluded")); continue }
            if let reason = exclusion(m, form: form) { leftOut.append(.init(study: m.study, reason: reason)); continue }
            if let p = m.profile { used.append((m, p)) }
        }
        guard used.count >= minimumStudies else { return nil }

        let box = EmergenceModel.alphaRange(form)
        let lo = log(box.lowerBound), hi = log(box.upperBound)
        let n = Int(((hi - lo) / step).rounded()) + 1
        let xs = (0..<n).map { lo + Double($0) * (hi - lo) / Double(n - 1) }
        let h = xs.count > 1 ? xs[1] - xs[0] : step
        let likelihoods = used.map { _, p in xs.map { exp(-p.deviance(at: $0) / 2) } }
        let taus = (0..<tauCount).map { tauFloor * pow(tauCeiling / tauFloor, Double($0) / Double(tauCount - 1)) }

        // M[k][j] = Σ_i ln Σ_l L_i(x_l) w_k(x_l − μ_j), w_k the Gaussian of SD τ_k normalised on the lattice.
        var marginal = [[Double]](repeating: [Double](repeating: 0, count: n), count: tauCount)
        for (k, tau) in taus.enumerated() {
            let width = min(Int((6 * tau / h).rounded(.up)), n - 1)
            var kernel = (0...width).map { exp(-0.5 * pow(Double($0) * h / tau, 2)) }
            let total = kernel[0] + 2 * kernel.dropFirst().reduce(0, +)
            for d in kernel.indices { kernel[d] /= total }
            for L in likelihoods {
                for j in 0..<n {
                    var s = L[j] * kernel[0]
                    if width >= 1 {
                        for d in 1...width {
                            if j - d >= 0 { s += L[j - d] * kernel[d] }
                            if j + d < n { s += L[j + d] * kernel[d] }
                        }
                    }
                    marginal[k][j] += log(max(s, 1e-300))
                }
            }
        }

        var best = (k: 0, j: 0, value: -Double.infinity)
        for k in 0..<tauCount { for j in 0..<n where marginal[k][j] > best.value { best = (k, j, marginal[k][j]) } }
        let floor = best.value - cutoff / 2
        // Profiles: μ over τ, τ over μ.
        let muProfile = (0..<n).map { j in (0..<tauCount).map { marginal[$0][j] }.max() ?? -.infinity }
        let tauProfile = (0..<tauCount).map { k in marginal[k].max() ?? -.infinity }
        let muInside = (0..<n).filter { muProfile[$0] >= floor }
        let tauInside = (0..<tauCount).filter { tauProfile[$0] >= floor }

        // The predictive prior: weights ∝ exp(M) · π(τ) · Δτ (Δτ: the log grid's spacing), flat in μ,
        // summed within each of `mixtureBins` runs of adjacent τ; each run is one normal component,
        // N(E[μ | run], E[τ² | run] + Var[μ | run]), weighted by its share.
        var weight = 0.0, sumMu = 0.0, sumMu2 = 0.0, sumTau2 = 0.0
        var bins = [(w: Double, mu: Double, mu2: Double, tau2: Double)](repeating: (0, 0, 0, 0), count: mixtureBins)
        for k in 0..<tauCount {
            let dTau = (taus[min(k + 1, tauCount - 1)] - taus[max(k - 1, 0)]) / 2 * tauPrior(taus[k], scale: tauPriorScale)
            let b = k * mixtureBins / tauCount
            for j in 0..<n {
                let w = exp(marginal[k][j] - best.value) * dTau
                weight += w; sumMu += w * xs[j]; sumMu2 += w * xs[j] * xs[j]; sumTau2 += w * taus[k] * taus[k]
                bins[b].w += w; bins[b].mu += w * xs[j]; bins[b].mu2 += w * xs[j] * xs[j]; bins[b].tau2 += w * taus[k] * taus[k]
            }
        }
        let m = sumMu / weight
        let v = max(sumMu2 / weight - m * m, 0) + sumTau2 / weight
        // Components below 1e-4 of the weight change no interval: dropped, the rest renormalised.
        let kept = bins.filter { $0.w > 1e-4 * weight && $0.w.isFinite }
        let keptWeight = kept.reduce(0) { $0 + $1.w }
        let components = kept.map { bin -> AlphaPrior.Component in
            let mean = bin.mu / bin.w
            let variance = max(bin.mu2 / bin.w - mean * mean, 0) + bin.tau2 / bin.w
            return .init(weight: bin.w / keptWeight, median: min(max(exp(mean), box.lowerBound), box.upperBound),
                         logSD: min(max(sqrt(variance), 0.01), 10))
        }
        let prior = AlphaPrior(median: min(max(exp(m), box.lowerBound), box.upperBound), logSD: min(max(sqrt(v), 0.01), 10),
                               mixture: mixture && components.count > 1 ? components : nil)

        let summaries = used.map { member, p -> Used in
            let inside = p.lnAlpha.indices.filter { p.deviance[$0] < cutoff }.map { p.lnAlpha[$0] }
            return Used(study: member.study, alpha: exp(p.mode ?? 0),
                        alpha90: [exp(inside.first ?? lo), exp(inside.last ?? hi)])
        }
        return Estimate(form: form, studies: used.count, mu: xs[best.j], tau: taus[best.k] <= tauFloor * 1.0001 ? 0 : taus[best.k],
                        mu90: [xs[muInside.first ?? best.j], xs[muInside.last ?? best.j]],
                        tau90: [(tauInside.first.map { $0 == 0 ? 0 : taus[$0] }) ?? 0, taus[tauInside.last ?? best.k]],
                        prior: prior, used: summaries, leftOut: leftOut)
    }
}
