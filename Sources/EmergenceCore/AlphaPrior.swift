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
    /// The prior median of α (exp of the mean of ln α).
    public var median: Double
    /// The standard deviation of ln α.
    public var logSD: Double
    /// Where the prior came from when it was pooled from the lab's studies (nil: given by hand), so a
    /// result says exactly which prior it used and an old one stays reproducible.
    public var pooled: PooledAlphaPrior.Provenance?

    public init(median: Double, logSD: Double, pooled: PooledAlphaPrior.Provenance? = nil) {
        self.median = median; self.logSD = logSD; self.pooled = pooled
    }

    enum CodingKeys: String, CodingKey {
        case median, pooled
        case logSD = "log_sd"
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
        return out
    }
}

/// The prior as the fit uses it: one extra least-squares residual ρ(α) = w · (ln α − μ) / s, where w
/// converts z² into the objective's units (σ̂ under Gaussian noise, 1 under the binomial, √φ̂ under
/// the quasi-binomial; see AlphaPrior).
struct AlphaPenalty: Sendable {
    var mu: Double
    var s: Double
    var weight: Double

    init(_ prior: AlphaPrior, weight: Double) {
        mu = log(prior.median); s = prior.logSD; self.weight = weight
    }

    /// ρ(α).
    @inline(__always)
    func residual(_ alpha: Double) -> Double { weight * (log(alpha) - mu) / s }

    /// The same prior with its centre moved by `z` standard deviations (ln median + z·log_sd).
    func recentred(by z: Double) -> AlphaPenalty {
        var p = self
        p.mu += z * s
        return p
    }

    /// dρ/dα.
    @inline(__always)
    func slope(_ alpha: Double) -> Double { weight / (s * alpha) }

    /// ρ² in the units of the objective the fit minimises: Σr² (Gaussian) or −log L (binomial, whose
    /// least-squares residuals are scaled so that Σr² ≈ −2 log L: so half of ρ²).
    func objective(_ alpha: Double, noise: FitOptions.Noise) -> Double {
        let r = residual(alpha)
        return noise == .gaussian ? r * r : r * r / 2
    }

    /// log π(α) of the log-normal prior, for the MCMC.
    func logDensity(_ alpha: Double) -> Double {
        let z = (log(alpha) - mu) / s
        return -z * z / 2 - log(alpha)
    }
}
