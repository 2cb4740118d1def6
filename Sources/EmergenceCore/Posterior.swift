import Foundation

/// The Bayesian posterior over (θ, log σ) sampled by the ensemble MCMC (METHOD.md §5).
///
///     Gaussian:  log p = −n·log σ − RSS(θ) / (2σ²)         (flat priors on θ within bounds, and on log σ)
///     binomial:  log p = Σ log Binomial(y_i n_i | n_i, μ_i(θ))
///
/// The bounds are EmergenceModel's, and log σ ∈ [ln 1e-5, 0].
enum Posterior {
    struct Outcome: Sendable {
        var predictions: [Double]
        var walkers: Int
        var steps: Int
        var burnIn: Int
        var acceptance: Double
        var autocorrelationTime: Double
        var ess: Double
        var rhat: Double
    }

    static func sample(_ model: EmergenceModel, noise: FitOptions.Noise, mle: MaximumLikelihoodFit,
                       walkers: Int, steps: Int, burnIn: Int, seed: UInt64,
                       progress: (@Sendable (Int) -> Void)?, isCancelled: (@Sendable () -> Bool)?) throws -> Outcome {
        let p = model.parameterCount
        let gaussian = noise == .gaussian
        let dim = gaussian ? p + 1 : p
        var lower = model.lower, upper = model.upper
        if gaussian { lower.append(log(1e-5)); upper.append(0) }
        let n = Double(model.data.count)
        let logProbability: ([Double]) -> Double = { t in
            for i in 0..<dim where !(t[i] >= lower[i] && t[i] <= upper[i]) { return -.infinity }
            if gaussian {
                let theta = Array(t[0..<p])
                let logSigma = t[p]
                let rss = MaximumLikelihood.rss(model, theta)
                return -n * logSigma - rss / (2 * exp(2 * logSigma))
            }
            return MaximumLikelihood.binomialLogLikelihood(model, t)
        }
        var center = mle.theta
        if gaussian { center.append(log(max(mle.sigma ?? 1e-3, 1e-5))) }
        let scale = initialScale(model, noise: noise, mle: mle, dimension: dim)
        var rng = SeededRandom(seed: seed, stream: 0xC0FFEE)
        // Walkers start in a small ball around the MLE, scaled by the Gauss–Newton standard errors,
        // reflected into the support.
        var initial: [[Double]] = []
        for _ in 0..<walkers {
            var w = center
            for _ in 0..<100 {
                for i in 0..<dim {
                    var v = center[i] + 0.1 * scale[i] * rng.normal()
                    if v < lower[i] { v = lower[i] + (lower[i] - v) }
                    if v > upper[i] { v = upper[i] - (v - upper[i]) }
                    w[i] = min(max(v, lower[i]), upper[i])
                }
                if logProbability(w).isFinite { break }
            }
            initial.append(w)
        }
        let sampler = EnsembleSampler(dimension: dim, walkers: walkers, logProbability: logProbability)
        guard let chain = sampler.run(initial: initial, steps: steps, burnIn: burnIn, rng: &rng,
                                      onStep: { progress?($0) }, shouldStop: isCancelled) else {
            throw FitError.cancelled
        }
        // E* per walker per kept step.
        var traces = [[Double]](repeating: [], count: walkers)
        var predictions: [Double] = []
        predictions.reserveCapacity(walkers * steps)
        for stepPositions in chain.samples {
            for (w, t) in stepPositions.enumerated() {
                let e = model.prediction(Array(t[0..<p]))
                traces[w].append(e)
                predictions.append(e)
            }
        }
        let tau = ChainDiagnostics.autocorrelationTime(traces)
        return Outcome(predictions: predictions, walkers: walkers, steps: steps, burnIn: burnIn,
                       acceptance: chain.acceptance, autocorrelationTime: tau,
                       ess: Double(walkers * steps) / tau, rhat: ChainDiagnostics.splitRHat(traces))
    }

    /// Per-parameter standard errors from the Gauss–Newton approximation σ²(JᵀJ)⁻¹, with a fallback
    /// for directions the data do not constrain.
    static func initialScale(_ model: EmergenceModel, noise: FitOptions.Noise, mle: MaximumLikelihoodFit, dimension: Int) -> [Double] {
        let p = model.parameterCount, m = model.data.count
        var r = [Double](repeating: 0, count: m)
        var J = [Double](repeating: 0, count: m * p)
        J.withUnsafeMutableBufferPointer { model.residuals(mle.theta, weights: nil, r: &r, jacobian: $0.baseAddress) }
        var jtj = [Double](repeating: 0, count: p * p), jtr = [Double](repeating: 0, count: p)
        LevenbergMarquardt.normalEquations(J, r, m: m, p: p, jtj: &jtj, jtr: &jtr)
        let s2 = mle.sigma.map { $0 * $0 } ?? (mle.rss / Double(m))
        var scale = [Double](repeating: 0, count: dimension)
        for j in 0..<p {
            // Column j of the inverse, by solving with the j-th unit vector (ridge-regularised).
            var a = jtj
            for i in 0..<p { a[i * p + i] += 1e-9 * max(jtj[i * p + i], 1e-12) }
            var e = [Double](repeating: 0, count: p); e[j] = 1
            if let col = LevenbergMarquardt.choleskySolve(&a, e, n: p), col[j] > 0, (col[j] * s2).isFinite {
                scale[j] = min(sqrt(col[j] * s2), 1e3 * (abs(mle.theta[j]) + 1e-3))
            } else {
                scale[j] = 1e-3 * (abs(mle.theta[j]) + 1e-3)
            }
        }
        if dimension > p { scale[p] = 1 / sqrt(2 * Double(m)) }   // sd of log σ̂
        return scale
    }
}
