import Foundation

/// An optional prior on the curvature α of the emergence law: ln α ~ N(ln median, log_sd²).
///
/// Why: on simulated studies the error of E* is mostly the error of α. With α known, the median
/// |E*_mle − truth| over 180 studies of the mmlu-, csqa- and cola-like scenarios falls from 0.038 to
/// 0.010 nats; the rest of the law is well pinned by the data. The data alone often cannot tell a
/// gentle curve from a steep one over the amounts finetuned (cola-like: median error 0.095), and
/// the MLE then lands anywhere along that ridge. A lab that has fitted the same law on other tasks
/// of the same model family knows roughly where α lies; this is how it says so. Off by default:
/// without it the fit is the plain maximum likelihood of docs/method.md §3.
///
/// With a prior the point estimate is the posterior mode in (θ with ln α): the fit minimises
///
///     Gaussian:   RSS(θ) + σ̂² · z²           binomial:   −2 log L(θ) + z²,     z = (ln α − ln median) / log_sd
///
/// (σ̂ the plain MLE's, held fixed: RSS/σ̂² is −2 log L up to a constant; under the quasi-binomial
/// likelihood the term is φ̂·z², the deviance being scaled by 1/φ̂). Each bootstrap refit minimises
/// the same, and the MCMC adds log π(α) = −z²/2 − ln α (the log-normal density; α is a coordinate
/// of its walkers).
public struct AlphaPrior: Codable, Sendable, Equatable, Hashable {
    /// The prior median of α (exp of the mean of ln α). With a mixture: the mixture's mean of ln α.
    public var median: Double
    /// The standard deviation of ln α. With a mixture: the mixture's (the moment-matched normal's).
    public var logSD: Double
    /// When set, the prior is this scale mixture of normals in ln α, Σ_k w_k · N(ln median_k, log_sd_k²),
    /// and `median`/`logSD` only summarise it (for the conflict warning and the page). The lab's pooled
    /// prior is one (PooledAlphaPrior.swift): the predictive distribution of a new study's ln α
    /// averaged over the uncertain spread τ is heavy-tailed, and one normal of the same variance
    /// would be too wide in the centre and too thin in the tails.
    public var mixture: [Component]?
    /// Where the prior came from when it was pooled from the lab's studies (nil: given by hand), so a
    /// result says exactly which prior it used and an old one stays reproducible.
    public var pooled: PooledAlphaPrior.Provenance?

    /// One normal of a mixture: weight w_k (the weights sum to 1), ln α ~ N(ln median, log_sd²).
    public struct Component: Codable, Sendable, Equatable, Hashable {
        public var weight: Double
        public var median: Double
        public var logSD: Double

        public init(weight: Double, median: Double, logSD: Double) {
            self.weight = weight; self.median = median; self.logSD = logSD
        }

        enum CodingKeys: String, CodingKey {
            case weight, median
            case logSD = "log_sd"
        }
    }

    /// Most components a mixture may have (the pooled prior uses up to 8).
    public static let maximumComponents = 16

    public init(median: Double, logSD: Double, mixture: [Component]? = nil, pooled: PooledAlphaPrior.Provenance? = nil) {
        self.median = median; self.logSD = logSD; self.mixture = mixture; self.pooled = pooled
    }

    enum CodingKeys: String, CodingKey {
        case median, pooled, mixture
        case logSD = "log_sd"
    }

    /// The prior's p-quantile of ln α: the normal's, or the mixture's by bisection on its CDF
    /// Σ_k w_k Φ((x − ln median_k) / log_sd_k).
    public func logQuantile(_ p: Double) -> Double {
        guard let mixture, mixture.count > 1 else { return log(median) + logSD * Mixture.probit(p) }
        let cdf = { (x: Double) in
            mixture.reduce(0) { $0 + $1.weight * 0.5 * erfc(-(x - log($1.median)) / ($1.logSD * 2.0.squareRoot())) }
        }
        var lo = mixture.map { log($0.median) - 12 * $0.logSD }.min() ?? -50
        var hi = mixture.map { log($0.median) + 12 * $0.logSD }.max() ?? 50
        for _ in 0..<100 where hi - lo > 1e-12 {
            let mid = (lo + hi) / 2
            if cdf(mid) < p { lo = mid } else { hi = mid }
        }
        return (lo + hi) / 2
    }

    /// Problems with the prior under `form`, as (field, reason); the median must lie inside the
    /// form's range of α (EmergenceModel's bounds), or the fit could never reach it.
    func problems(form: FitOptions.Form) -> [Evaluation.Problem] {
        var out: [Evaluation.Problem] = []
        let range: ClosedRange<Double> = form == .logPower ? 0.05...6 : 0.005...1.5
        if !(median.isFinite && range.contains(median)) {
            out.append(.init(field: "alpha_prior.median",
                             reason: "must be a finite number in \(range.lowerBound)...\(range.upperBound) (the range of α under the \(form.rawValue) form)"))
        }
        if !(logSD.isFinite && logSD >= 0.01 && logSD <= 10) {
            out.append(.init(field: "alpha_prior.log_sd", reason: "must be a finite number in 0.01...10"))
        }
        if let mixture {
            let total = mixture.reduce(0) { $0 + $1.weight }
            if mixture.isEmpty || mixture.count > Self.maximumComponents
                || !mixture.allSatisfy({ $0.weight.isFinite && $0.weight > 0 && $0.median.isFinite && range.contains($0.median)
                                         && $0.logSD.isFinite && $0.logSD >= 0.01 && $0.logSD <= 10 })
                || !(abs(total - 1) <= 1e-6) {
                out.append(.init(field: "alpha_prior.mixture",
                                 reason: "must be 1...\(Self.maximumComponents) components {weight, median, log_sd}: weights > 0 summing to 1, each median in \(range.lowerBound)...\(range.upperBound), each log_sd in 0.01...10"))
            }
        }
        return out
    }
}

/// The prior as the fit uses it: one extra least-squares residual ρ(α) whose square is the prior's
/// −2 log density in the objective's units, up to a constant. w converts z² into those units (σ̂ under
/// Gaussian noise, 1 under the binomial, √φ̂ under the quasi-binomial; see AlphaPrior).
///
/// One normal: ρ = w · (ln α − μ) / s. A mixture (AlphaPrior.mixture), with f(x) = −log Σ_k w_k N(x; μ_k, s_k²)
/// at x = ln α and x* its mode: ρ = w · sign(x − x*) · √(2 (f(x) − f(x*))), which is the one-normal
/// residual when there is one component, and whose square is the exact mixture penalty.
struct AlphaPenalty: Sendable {
    var mu: Double
    var s: Double
    var weight: Double
    /// The mixture, when the prior is one of more than one component (nil: the normal N(mu, s²)).
    var mixture: Mixture?

    /// - evidence: the study's own α profile (its plain likelihood of ln α), when known; a mixture's
    ///   bootstrap draws then pick their component by its posterior share (Mixture.conditioned).
    init(_ prior: AlphaPrior, weight: Double, evidence: AlphaProfile? = nil) {
        mu = log(prior.median); s = prior.logSD; self.weight = weight
        if let components = prior.mixture, components.count > 1 {
            var m = Mixture(components.map { ($0.weight, log($0.median), $0.logSD) })
            if let evidence { m.condition(on: evidence) }
            mixture = m
        }
    }

    /// ρ(α).
    @inline(__always)
    func residual(_ alpha: Double) -> Double {
        guard let mixture else { return weight * (log(alpha) - mu) / s }
        return weight * mixture.residual(log(alpha))
    }

    /// The prior of one bootstrap draw (randomised maximum likelihood, Bootstrap.swift): its centre
    /// moved by `z` standard deviations (ln median + z·log_sd). Under a mixture the posterior is the
    /// mixture over components k of the posteriors under each normal, weighted by p(k | data); so a
    /// draw first picks k with that probability (Mixture.drawWeights), then is the one normal's draw:
    /// u = Φ(z) picks k where the cumulative weights pass u, the rest of u, v = (u − W_{k−1}) / p_k,
    /// gives the component's own z_k = Φ⁻¹(v), and the draw's prior is N(μ_k + z_k·s_k, s_k²). One
    /// normal z carries both choices, so the bootstrap's random stream is the same whichever prior.
    func recentred(by z: Double) -> AlphaPenalty {
        var p = self
        if let mixture {
            let (k, zk) = mixture.component(at: z)
            p.mixture = nil
            p.mu = mixture.mu[k] + zk * mixture.s[k]
            p.s = mixture.s[k]
            return p
        }
        p.mu += z * s
        return p
    }

    /// dρ/dα.
    @inline(__always)
    func slope(_ alpha: Double) -> Double {
        guard let mixture else { return weight / (s * alpha) }
        return weight * mixture.slope(log(alpha)) / alpha
    }

    /// ρ² in the units of the objective the fit minimises: Σr² (Gaussian) or −log L (binomial, whose
    /// least-squares residuals are scaled so that Σr² ≈ −2 log L: so half of ρ²).
    func objective(_ alpha: Double, noise: FitOptions.Noise) -> Double {
        let r = residual(alpha)
        return noise == .gaussian ? r * r : r * r / 2
    }

    /// log π(α) of the prior (log-normal, or the mixture's density in ln α, less ln α for the change to
    /// α), up to a constant, for the MCMC.
    func logDensity(_ alpha: Double) -> Double {
        let x = log(alpha)
        guard let mixture else {
            let z = (x - mu) / s
            return -z * z / 2 - x
        }
        return -mixture.f(x) - x
    }
}
