import Foundation

/// The Bayesian posterior sampled by the ensemble MCMC (docs/method.md §5).
///
///     Gaussian:        log p = −n·log σ − RSS(θ) / (2σ²) + log π(θ), or with the loss noise σ_x,
///                      the run noise τ or the rows' binomial variance (n_questions known) the
///                      likelihood of LossNoiseLikelihood.swift in place of the first two terms
///     binomial:        log p = Σ log Binomial(y_i n_i | n_i, μ_i(θ)) + log π(θ)
///     quasi-binomial:  log p = (1/φ̂) · Σ log Binomial(…) + log π(θ)   (φ̂ from the MLE, fixed)
///
/// The walkers move in u = (E*, E_max, α, A, B, Δ, log σ), where E* = E_θ(D0) and E_max = E_θ(D_max),
/// the elbow at the largest data amount; (k, C) follow as k = (E_max − E*) / Δg, C = E* − k·g(D0), with
/// Δg(α) = g(D_max; α) − g(D0; α). In (k, α, C) the posterior is a narrow curved ridge (k and α trade
/// off), which the stretch move crosses slowly; in u the quantity we report is a coordinate and the
/// ridge is nearly straight.
///
/// The prior π is flat and bounded in u: constant wherever θ(u) lies within EmergenceModel's bounds
/// and E_max ≥ E* (k ≥ 0), with log σ ∈ [ln 1e-5, 0] (p(σ) ∝ 1/σ). In the model's
/// parameters this is π(k, α, C) ∝ Δg(α), since at fixed α the map (E*, E_max) → (k, C) is linear
/// with |det ∂(k, C)/∂(E*, E_max)| = 1/Δg(α). It leans towards large α. The alternative, flat in θ
/// (`Prior.flatInParameters`: log p_u = log p_θ − log Δg(α)), leans the other way much harder:
/// flat in the slope k puts mass ∝ 1/Δg on small α, where the same rise of the elbow needs a huge k,
/// and drags E* down with it. Measured (`emergence calibrate`, 24 jittered studies, Gaussian,
/// converged chains): 90% intervals covered the truth 88% of the time flat in u, 54% flat in θ;
/// on the shared mmlu-like study (truth 1.85) the median of E* was 1.841 flat in u, 1.802 flat in θ.
/// So the default is flat in u: flat in the two elbows, which are losses the data bracket.
///
/// Stopping rule: `steps` is a maximum; every `checkEvery` kept steps the chain is checked and the
/// run ends once N ≥ 50·τ (emcee's rule; N kept steps per walker, τ the integrated autocorrelation
/// time) and split-R̂ ≤ 1.05 on every coordinate, α included. Walkers start over-dispersed around
/// each distinct optimum. A chain that has not earned its interval (`earned`) gives none: the fit
/// falls back to the bootstrap.
enum Posterior {
    /// Where the prior is flat (see above).
    enum Prior: Sendable { case flatInSamplerCoordinates, flatInParameters }

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
                       walkers: Int, steps: Int, burnIn: Int, seed: UInt64, prior: Prior = .flatInSamplerCoordinates,
                       lossSD: Double = 0, runSD: Double = 0, progress: (@Sendable (Int) -> Void)?, cancel: Cancellation) throws -> Outcome {
        let p = model.parameterCount
        let gaussian = noise == .gaussian
        let dim = gaussian ? p + 1 : p
        let lowerTheta = model.lower, upperTheta = model.upper
        let d0 = model.data.d0
        let dMax = model.data.dataAmounts.last ?? d0
        let form = model.form
        let n = Double(model.data.count)
        let dispersion = noise == .quasiBinomial ? max(mle.dispersion ?? 1, 1) : 1
        // The rows' binomial variance at the MLE's means (LossNoiseLikelihood.swift): the Gaussian
        // likelihood's σ² is then what the binomial leaves over.
        let binomialVariance = gaussian ? model.binomialVariance(at: mle.theta) : []
        let heteroscedastic = binomialVariance.contains { $0 > 0 }
        // u → θ; nil outside the support.
        let toTheta: ([Double], UnsafeMutableBufferPointer<Double>) -> Bool = { u, theta in
            let alpha = u[2]
            let g0 = EmergenceLaw.basis(form, alpha: alpha, d: d0)
            let gMax = EmergenceLaw.basis(form, alpha: alpha, d: dMax)
            guard gMax > g0, u[1] >= u[0] else { return false }
            let k = (u[1] - u[0]) / (gMax - g0)
            theta[EmergenceModel.k] = k
            theta[EmergenceModel.alpha] = alpha
            theta[EmergenceModel.c] = u[0] - k * g0
            for j in 3..<p { theta[j] = u[j] }
            for j in 0..<p where !(theta[j] >= lowerTheta[j] && theta[j] <= upperTheta[j]) { return false }
            return true
        }
        let logProbability: ([Double]) -> Double = { u in
            withUnsafeTemporaryAllocation(of: Double.self, capacity: p) { theta in
                guard toTheta(u, theta) else { return -.infinity }
                let alpha = u[2]
                // Flat in θ means the density 1/Δg(α) in u (the Jacobian of u → θ, see above).
                let logJacobian = (prior == .flatInParameters
                    ? -log(EmergenceLaw.basis(form, alpha: alpha, d: dMax) - EmergenceLaw.basis(form, alpha: alpha, d: d0)) : 0)
                    + (model.alphaPenalty?.logDensity(alpha) ?? 0)   // the α prior, when given (AlphaPrior.swift)
                if gaussian {
                    let logSigma = u[p]
                    guard logSigma >= log(1e-5) && logSigma <= 0 else { return -.infinity }
                    if lossSD > 0 || runSD > 0 || heteroscedastic {
                        // The loss measurement noise the bootstrap jitters by, the runs' own scatter and
                        // the binomial's, in the likelihood too (LossNoiseLikelihood.swift).
                        return binomialVariance.withUnsafeBufferPointer { b in
                            model.gaussianLogLikelihood(UnsafeBufferPointer(theta), sigma: exp(logSigma), lossSD: lossSD,
                                                        runSD: runSD, binomialVariance: heteroscedastic ? b : nil)
                        } + logJacobian
                    }
                    return -n * logSigma - model.rss(UnsafeBufferPointer(theta)) / (2 * exp(2 * logSigma)) + logJacobian
                }
                // Up to the constant Σ log C(n_i, s_i).
                return MaximumLikelihood.binomialLogKernel(model, Array(theta)) / dispersion + logJacobian
            }
        }
        let fromTheta: ([Double]) -> [Double] = { t in
            var u = t
            u[0] = model.prediction(t)
            u[1] = model.law(t).elbow(at: dMax)
            u[2] = t[EmergenceModel.alpha]
            return u
        }
        var center = fromTheta(mle.theta)
        if gaussian { center.append(log(max(mle.sigma ?? 1e-3, 1e-5))) }
        let thetaScale = initialScale(model, noise: noise, mle: mle, dimension: dim)
        // Scales of E* and E_max: propagate θ's standard errors through the law (a rough guide).
        var scale = thetaScale
        let spread = max(thetaScale[EmergenceModel.c], 1e-3)
        scale[0] = spread; scale[1] = spread
        scale[2] = thetaScale[EmergenceModel.alpha]
        var rng = SeededRandom(seed: seed, stream: 0xC0FFEE)
        // Over-dispersed starts: the walkers are shared out among the distinct optima the multi-start
        // found (a competing optimum gets walkers of its own, so R̂ can see it), each spread by its
        // Gauss–Newton standard errors, not a tenth of them. A chain that has not forgotten where it
        // started then shows up as R̂ > 1.05 instead of passing unnoticed.
        var centers = [center]
        for o in mle.optima.dropFirst() where centers.count < 3 {
            var c = fromTheta(o.theta)
            if gaussian { c.append(center[p]) }
            if logProbability(c).isFinite && !centers.contains(where: { abs($0[0] - c[0]) < 0.01 && abs($0[2] - c[2]) < 0.05 }) {
                centers.append(c)
            }
        }
        var initial: [[Double]] = []
        for walker in 0..<walkers {
            try cancel.check()
            let origin = centers[walker % centers.count]
            var w = origin
            for attempt in 0..<1000 {
                // Shrink the spread if the support keeps refusing the draw.
                let factor = attempt < 100 ? 1.0 : 0.1
                for i in 0..<dim { w[i] = origin[i] + factor * scale[i] * rng.normal() }
                if logProbability(w).isFinite { break }
                w = origin
            }
            initial.append(w)
        }
        let sampler = try EnsembleSampler(dimension: dim, walkers: walkers, logProbability: logProbability)
        let stopping = StoppingRule()
        // Every coordinate per walker per kept step; the stopping rule looks at all of them.
        guard let chain = try sampler.runTracingAll(initial: initial, steps: steps, burnIn: burnIn, rng: &rng,
                                                    onStep: { progress?($0) }, shouldStop: { cancel.isCancelled },
                                                    checkEvery: checkEvery, converged: { stopping.check($0) }) else {
            throw FitError.cancelled
        }
        let traces = chain.traces[0]
        let kept = traces.first?.count ?? 0
        // Step-major, as the chain produced them (callers sort them anyway).
        var predictions: [Double] = []
        predictions.reserveCapacity(walkers * kept)
        for step in 0..<kept { for w in 0..<walkers { predictions.append(traces[w][step]) } }
        // The worst coordinate: the longest autocorrelation time and the largest split-R̂.
        let tau = chain.traces.map(ChainDiagnostics.autocorrelationTime).max() ?? .nan
        let rhat = chain.traces.map(ChainDiagnostics.splitRHat).max() ?? .nan
        return Outcome(predictions: predictions, walkers: walkers, steps: kept, burnIn: burnIn,
                       acceptance: chain.acceptance, autocorrelationTime: tau,
                       ess: Double(walkers * kept) / tau, rhat: rhat)
    }

    /// The chain earned its interval: N ≥ 50·τ and split-R̂ ≤ 1.05 on every coordinate (as reported
    /// in the outcome: the worst of them), an effective sample size of at least 100, and an acceptance
    /// rate of at least `minimumAcceptance` (a chain that almost never moves has τ and R̂ estimated
    /// from a handful of distinct points).
    static func earned(_ o: Outcome) -> Bool {
        let lengthRatio = Double(o.steps) / o.autocorrelationTime
        return o.rhat <= rHatLimit && o.ess >= 100 && lengthRatio >= lengthPerAutocorrelationTime
            && o.acceptance >= minimumAcceptance
    }

    /// The acceptance rate below which a chain is not trusted (the stretch move's usual rate is 0.2–0.5).
    static let minimumAcceptance = 0.05

    /// N/τ needed (emcee's rule of thumb: τ is then estimated to within a few per cent).
    static let lengthPerAutocorrelationTime = 50.0
    /// Split-R̂ at or below which the walkers are taken to agree.
    static let rHatLimit = 1.05
    /// Kept steps between convergence checks (each costs an FFT of every walker's trace).
    static let checkEvery = 500

    /// The stopping rule: N ≥ 50·τ and split-R̂ ≤ 1.05 on E*'s traces (`traces[walker][step]`).
    static func converged(_ traces: [[Double]]) -> Bool {
        let kept = Double(traces.first?.count ?? 0)
        let tau = ChainDiagnostics.autocorrelationTime(traces)
        let rhat = ChainDiagnostics.splitRHat(traces)
        return tau.isFinite && kept >= lengthPerAutocorrelationTime * tau && rhat <= rHatLimit
    }

    /// `converged`, asked at every check but computing τ (an FFT of every walker's whole trace,
    /// O(W·N log N)) only once the chain has reached 50·τ of the last estimate: τ changes slowly, so
    /// most checks are skipped for the price of an O(1) comparison. The skips depend only on the
    /// chain, so the stop stays deterministic; it may come one or more checks later than `converged`
    /// alone would allow, never earlier.
    final class StoppingRule {
        private var notBefore = 0.0
        /// `traces[coordinate][walker][step]`: every coordinate must pass.
        func check(_ traces: [[[Double]]]) -> Bool {
            let kept = Double(traces.first?.first?.count ?? 0)
            guard kept >= notBefore else { return false }
            let tau = traces.map(ChainDiagnostics.autocorrelationTime).max() ?? .nan
            guard tau.isFinite else { return false }
            if kept >= lengthPerAutocorrelationTime * tau
                && traces.allSatisfy({ ChainDiagnostics.splitRHat($0) <= rHatLimit }) { return true }
            notBefore = lengthPerAutocorrelationTime * tau
            return false
        }
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
