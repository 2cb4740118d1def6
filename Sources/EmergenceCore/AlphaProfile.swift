import Foundation

/// What one study's data say about the curvature α of its emergence law, every other parameter
/// refitted: the profile deviance of ln α on a grid over α's box,
///
///     dev(ln α) = −2 · (ℓ_p(α) − max ℓ_p),   ℓ_p(α) = max over (k, C, A, B, Δ) of log L with α held,
///
/// (Gaussian noise: dev = n · ln(RSS_α / RSS_min), σ profiled out too; binomial: 2·(−log L_α + log L_min),
/// divided by φ̂ under the quasi-binomial). It is the study's likelihood for ln α, and what the lab's
/// pooled prior is estimated from (PooledAlphaPrior.swift): a study whose data do not pin α has a flat
/// profile and so weighs little there, by itself. Always of the plain likelihood, never of a prior's
/// posterior (that would count the other studies twice).
public struct AlphaProfile: Codable, Sendable, Equatable {
    /// The law's form: ln α means something else under each, so only profiles of one form pool.
    public var form: FitOptions.Form
    /// ln α of the grid points whose constrained fit succeeded, ascending.
    public var lnAlpha: [Double]
    /// dev(ln α) there, ≥ 0 (0 at the best grid point or the MLE, whichever fits better).
    public var deviance: [Double]

    public init(form: FitOptions.Form, lnAlpha: [Double], deviance: [Double]) {
        self.form = form; self.lnAlpha = lnAlpha; self.deviance = deviance
    }

    enum CodingKeys: String, CodingKey {
        case form, deviance
        case lnAlpha = "ln_alpha"
    }

    /// Grid points over α's box, log-spaced (a step of 0.2 in ln α under the log-power form).
    static let gridSize = 25

    /// dev at `x` (ln α): linear between grid points, the end value held beyond them (a grid point
    /// that failed tells nothing, so it is not made to).
    public func deviance(at x: Double) -> Double {
        guard let first = lnAlpha.first, let last = lnAlpha.last, lnAlpha.count == deviance.count else { return 0 }
        if x <= first { return deviance[0] }
        if x >= last { return deviance[deviance.count - 1] }
        var lo = 0, hi = lnAlpha.count - 1
        while hi - lo > 1 {
            let mid = (lo + hi) / 2
            if lnAlpha[mid] <= x { lo = mid } else { hi = mid }
        }
        let t = (x - lnAlpha[lo]) / max(lnAlpha[hi] - lnAlpha[lo], 1e-12)
        return deviance[lo] + t * (deviance[hi] - deviance[lo])
    }

    /// The grid point of least deviance (ln α̂ to the grid's resolution).
    public var mode: Double? {
        deviance.indices.min { deviance[$0] < deviance[$1] }.map { lnAlpha[$0] }
    }

    /// The largest deviance on the grid: under 1, the data rule out no α even at one SD.
    public var range: Double { deviance.max() ?? 0 }

    /// The profile of `model`'s likelihood (its α penalty, if any, dropped) around the plain MLE;
    /// nil when fewer than two grid points fit.
    static func measure(_ model: EmergenceModel, noise: FitOptions.Noise, mle: MaximumLikelihoodFit,
                        cancel: Cancellation) -> AlphaProfile? {
        var plain = model
        plain.alphaPenalty = nil
        let range = EmergenceModel.alphaRange(model.form)
        let lo = log(range.lowerBound), hi = log(range.upperBound)
        let alphas = (0..<gridSize).map { exp(lo + (hi - lo) * Double($0) / Double(gridSize - 1)) }
        let fits = constrainedFits(plain, noise: noise, mle: mle, alphas: alphas, cancel: cancel)
        let deviances = deviances(plain, noise: noise, mle: mle, objectives: fits.map(\.objective))
        guard fits.count >= 2, let deviances else { return nil }
        return AlphaProfile(form: model.form, lnAlpha: fits.map { log($0.alpha) }, deviance: deviances)
    }

    /// The best fit with α held at each of `alphas` (ascending), every other parameter refitted; the
    /// points whose fit fails are left out. Starts: the MLE and the neighbour's solution, each moved
    /// to this α with its elbows at the smallest and largest data amounts kept.
    static func constrainedFits(_ model: EmergenceModel, noise: FitOptions.Noise, mle: MaximumLikelihoodFit,
                                alphas: [Double], cancel: Cancellation) -> [(alpha: Double, theta: [Double], objective: Double)] {
        var fits: [(alpha: Double, theta: [Double], objective: Double)] = []
        var previous: [Double]? = nil
        for alpha in alphas {
            if cancel.isCancelled { return fits }
            var fixed = model
            fixed.fixedAlpha = alpha
            let starts = ([mle.theta] + (previous.map { [$0] } ?? [])).compactMap { model.retarget($0, alpha: alpha) }
            var best: (objective: Double, theta: [Double])? = nil
            for start in starts {
                guard let theta = MaximumLikelihood.localFit(fixed, noise: noise, start: start, smooth: true, cancel: cancel)
                else { continue }
                let objective = MaximumLikelihood.objective(fixed, noise: noise, theta)
                if objective.isFinite && objective < (best?.objective ?? .infinity) { best = (objective, theta) }
            }
            guard let best else { continue }
            previous = best.theta
            fits.append((alpha, best.theta, best.objective))
        }
        return fits
    }

    /// The deviances of constrained fits' objectives against the better of their best and the MLE's;
    /// nil when nothing finite is there to compare with.
    static func deviances(_ model: EmergenceModel, noise: FitOptions.Noise, mle: MaximumLikelihoodFit,
                          objectives: [Double]) -> [Double]? {
        let floor = min(objectives.min() ?? .infinity, mle.optima.first?.objective ?? .infinity)
        guard floor.isFinite else { return nil }
        let n = model.observationCount
        let phi = noise == .quasiBinomial ? max(mle.dispersion ?? 1, 1) : 1
        return objectives.map { objective in
            let deviance = noise == .gaussian ? n * log(max(objective, 1e-300) / max(floor, 1e-300))
                                              : 2 * (objective - floor) / phi
            return max(deviance, 0)
        }
    }
}
