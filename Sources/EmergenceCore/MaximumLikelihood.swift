import Foundation

/// One local optimum of the likelihood.
struct LocalOptimum: Sendable {
    var theta: [Double]
    /// The objective minimised: Σr² (Gaussian) or −log L (binomial).
    var objective: Double
    /// E* = E_θ(D0) there.
    var prediction: Double
}

/// The maximum-likelihood fit of one model to one data set (docs/method.md §3).
struct MaximumLikelihoodFit: Sendable {
    var theta: [Double]
    var rss: Double
    var logLikelihood: Double
    /// The Gaussian σ̂ = √(RSS/n); nil under the binomial likelihood.
    var sigma: Double?
    /// Quasi-binomial dispersion φ̂ (a ratio of sums, at least 1: `dispersion`); nil under the other likelihoods.
    var dispersion: Double? = nil
    var prediction: Double
    /// Every distinct local optimum the multi-start reached, best first.
    var optima: [LocalOptimum]
}

/// Maximum likelihood by multi-start bounded least squares.
///
/// Gaussian noise (one σ): maximising the likelihood is minimising RSS = Σ (y − μ)², with σ̂² = RSS/n
/// profiled out, log L = −n/2 · (ln(2π σ̂²) + 1).
///
/// Binomial noise (n_questions known): y·n ~ Binomial(n, μ). The likelihood is maximised by Fisher
/// scoring written as iteratively reweighted least squares: with weights w_i = n_i / (μ_i (1 − μ_i))
/// frozen at the current μ, minimise Σ w_i (y_i − μ_i)², update the weights, repeat. At the fixed
/// point Σ w_i (y_i − μ_i) ∂μ_i/∂θ = 0, which is exactly the binomial score equation.
enum MaximumLikelihood {
    /// Probabilities are kept inside [ε, 1 − ε] in the binomial likelihood.
    static let probabilityFloor = 1e-4
    /// Softplus temperature (nats) of the smoothed first pass.
    static let smoothingTemperature = 0.005

    /// nil when no start reached a finite optimum, or when `cancel` fired (the caller checks it).
    static func fit(_ model: EmergenceModel, noise: FitOptions.Noise, starts: [[Double]],
                    cancel: Cancellation = .never) -> MaximumLikelihoodFit? {
        var optima: [LocalOptimum] = []
        // From each start, both a smoothed-then-exact path and a purely exact one: they end in
        // different optima often enough on the ReLU's jagged objective to be worth the second run.
        for start in starts {
            for smooth in [true, false] {
                if cancel.isCancelled { return nil }
                guard let theta = localFit(model, noise: noise, start: start, smooth: smooth, cancel: cancel) else { continue }
                let objective = self.objective(model, noise: noise, theta)
                // A law whose E* overflows (D0^α beyond 1e308 under the power form with a huge D0)
                // predicts nothing.
                let prediction = model.prediction(theta)
                guard objective.isFinite, prediction.isFinite else { continue }
                optima.append(LocalOptimum(theta: theta, objective: objective, prediction: prediction))
            }
        }
        optima.sort { $0.objective < $1.objective }
        // Keep one optimum per distinct prediction (within 0.005 nats).
        var distinct: [LocalOptimum] = []
        for o in optima where !distinct.contains(where: { abs($0.prediction - o.prediction) < 0.005 }) {
            distinct.append(o)
        }
        guard let best = distinct.first else { return nil }
        return summarize(model, noise: noise, theta: best.theta, optima: distinct)
    }

    static func summarize(_ model: EmergenceModel, noise: FitOptions.Noise, theta: [Double], optima: [LocalOptimum] = []) -> MaximumLikelihoodFit {
        let n = model.observationCount
        let r = rss(model, theta)
        switch noise {
        case .gaussian:
            let s2 = max(r / n, 1e-300)
            return MaximumLikelihoodFit(theta: theta, rss: r, logLikelihood: -n / 2 * (log(2 * .pi * s2) + 1),
                                        sigma: sqrt(s2), prediction: model.prediction(theta), optima: optima)
        case .binomial, .quasiBinomial:
            return MaximumLikelihoodFit(theta: theta, rss: r, logLikelihood: binomialLogLikelihood(model, theta),
                                        sigma: nil, dispersion: noise == .quasiBinomial ? dispersion(model, theta) : nil,
                                        prediction: model.prediction(theta), optima: optima)
        }
    }

    /// Quasi-likelihood dispersion: Var y_i = φ·p_i(1 − p_i)/n_i (docs/method.md §3.3), estimated by
    /// moments over all rows together:
    ///
    ///     φ̂ = m/(m − p) · Σ_i c_i (y_i − p_i)² / Σ_i c_i p_i(1 − p_i)/n_i
    ///
    /// (c_i a row's count in a resample, m = Σ c_i). Pearson's φ̂ = X²/(m − p) (McCullagh & Nelder
    /// §9.2) averages each row's (y_i − p_i)²/Var_i instead, and a row at a floor near 0 has a tiny
    /// binomial variance, so the run-to-run scatter that every finetuned row carries, whatever its
    /// mean, made floor rows dominate it: 7.75 a floor row against 2.12 a lifted one on gsm8k-like,
    /// φ̂ = 3.0. The ratio of sums weighs each row by its binomial variance, so floor rows count as
    /// little there as their variance says (ours). Floored at 1 (the model is for over-dispersion;
    /// under-dispersion would only narrow the intervals), and 1 when there are no residual degrees of
    /// freedom.
    static func dispersion(_ model: EmergenceModel, _ theta: [Double]) -> Double {
        dispersion(y: model.data.y, mean: model.mean(theta), questions: model.data.questions,
                   multiplicity: model.multiplicity, parameters: model.parameterCount)
    }

    static func dispersion(y: [Double], mean: [Double], questions: [Double], multiplicity: [Double]?,
                           parameters: Int) -> Double {
        var squares = 0.0, binomial = 0.0, m = 0.0
        for i in 0..<mean.count {
            let p = min(max(mean[i], probabilityFloor), 1 - probabilityFloor)
            let c = multiplicity?[i] ?? 1
            let e = y[i] - p
            squares += c * e * e
            binomial += c * p * (1 - p) / max(questions[i], 1)
            m += c
        }
        let dof = m - Double(parameters)
        guard dof > 0, binomial > 0 else { return 1 }
        let phi = squares / binomial * m / dof
        return phi.isFinite ? max(phi, 1) : 1
    }

    /// One bounded local optimisation from `start`.
    static func localFit(_ model: EmergenceModel, noise: FitOptions.Noise, start: [Double], smooth: Bool = true,
                         tolerance: Double = LevenbergMarquardt.Options().relativeTolerance,
                         cancel: Cancellation = .never) -> [Double]? {
        var theta = start
        if smooth {
            // First on the softplus-smoothed objective, then exactly.
            var smoothed = model
            smoothed.temperature = smoothingTemperature
            // The smoothed pass only has to bring θ near a basin; the exact pass finishes it.
            guard let t = localFit(smoothed, noise: noise, start: start, smooth: false, tolerance: 1e-6, cancel: cancel) else { return nil }
            theta = t
        }
        // A row counted c times contributes c·r² to Σr²: its residual is weighted by √c.
        var weights: [Double]? = model.multiplicity.map { $0.map { sqrt($0) } }
        let rounds = noise == .gaussian ? 1 : 8
        for round in 0..<rounds {
            if noise.isBinomial {
                let mu = model.mean(theta)
                let count = model.multiplicity
                weights = (0..<mu.count).map { i in
                    let p = min(max(mu[i], probabilityFloor), 1 - probabilityFloor)
                    guard let count else { return sqrt(model.data.questions[i] / (p * (1 - p))) }
                    return sqrt(count[i] * model.data.questions[i] / (p * (1 - p)))
                }
            }
            let problem = leastSquaresProblem(model, weights: weights)
            var lm = LevenbergMarquardt.Options()
            lm.relativeTolerance = tolerance
            lm.cancel = cancel
            let result = LevenbergMarquardt.solve(problem, start: theta, options: lm)
            guard result.cost.isFinite else { return nil }
            let moved = zip(result.theta, theta).reduce(0.0) { max($0, abs($1.0 - $1.1)) }
            theta = result.theta
            if round > 0 && moved < 1e-9 { break }
        }
        return theta
    }

    /// What the fit minimises at θ: Σr² (Gaussian) or −log L (binomial), plus the α prior's term
    /// when there is one (AlphaPrior.swift).
    static func objective(_ model: EmergenceModel, noise: FitOptions.Noise, _ theta: [Double]) -> Double {
        let data = noise == .gaussian ? rss(model, theta) : -binomialLogLikelihood(model, theta)
        guard let penalty = model.alphaPenalty else { return data }
        return data + penalty.objective(theta[EmergenceModel.alpha], noise: noise)
    }

    /// The weighted least-squares problem Σ (w_i (y_i − μ_i))² of `model` for the solver. `cached`
    /// (the default) gives it the trial pass that leaves each row's activation behind for the normal
    /// equations (EmergenceTrialPass.swift); without it the solver takes the two separate passes,
    /// which give the same answer bit for bit (kept for `FastFitEquivalenceTests`).
    static func leastSquaresProblem(_ model: EmergenceModel, weights w: [Double]?, cached: Bool = true) -> LeastSquaresProblem {
        var problem = LeastSquaresProblem(
            parameterCount: model.parameterCount, residualCount: model.data.count,
            lower: model.lower, upper: model.upper,
            evaluate: { t, r, J in model.residuals(t, weights: w, r: &r, jacobian: J) },
            normalEquations: { t, r, jtj, jtr in model.normalEquations(t, weights: w, r: &r, jtj: jtj, jtr: jtr) })
        guard cached else {
            if let penalty = model.alphaPenalty { problem.addPrior(penalty) }
            return problem
        }
        problem.trial = { t, r, cache, bound in
            w?.withUnsafeBufferPointer { model.trialPass(t, wp: $0.baseAddress, r: r, cache: cache, bound: bound) }
                ?? model.trialPass(t, wp: nil, r: r, cache: cache, bound: bound)
        }
        problem.cachedNormalEquations = { t, r, cache, jtj, jtr in
            if let w {
                w.withUnsafeBufferPointer { model.cachedNormalEquations(t, wp: $0.baseAddress, r: r, cache: cache, jtj: jtj, jtr: jtr) }
            } else {
                model.cachedNormalEquations(t, wp: nil, r: r, cache: cache, jtj: jtj, jtr: jtr)
            }
        }
        problem.cacheCount = EmergenceModel.trialCacheCount(rows: model.data.count, groups: model.data.groupD.count)
        // The α prior's row (LeastSquaresPrior.swift) goes after the model's, in every pass, the
        // cached ones included.
        if let penalty = model.alphaPenalty { problem.addPrior(penalty) }
        return problem
    }

    static func rss(_ model: EmergenceModel, _ theta: [Double]) -> Double {
        theta.withUnsafeBufferPointer { model.rss($0) }
    }

    /// Σ log Binomial(s_i | n_i, μ_i) with s_i = y_i n_i (lgamma makes non-integer counts harmless).
    static func binomialLogLikelihood(_ model: EmergenceModel, _ theta: [Double]) -> Double {
        let mu = model.mean(theta)
        var ll = 0.0
        for i in 0..<mu.count {
            let n = model.data.questions[i]
            let s = model.data.y[i] * n
            let p = min(max(mu[i], probabilityFloor), 1 - probabilityFloor)
            let term = lgamma(n + 1) - lgamma(s + 1) - lgamma(n - s + 1) + s * log(p) + (n - s) * log(1 - p)
            // A row counted c times in a resample adds c times its term.
            ll += model.multiplicity.map { $0[i] * term } ?? term
        }
        return ll
    }

    /// The θ-dependent part of the binomial log-likelihood, Σ s_i log μ_i + (n_i − s_i) log(1 − μ_i):
    /// it differs from `binomialLogLikelihood` by Σ log C(n_i, s_i), a constant the MCMC need not pay
    /// three lgamma calls per row for.
    static func binomialLogKernel(_ model: EmergenceModel, _ theta: [Double]) -> Double {
        let mu = model.mean(theta)
        var ll = 0.0
        for i in 0..<mu.count {
            let n = model.data.questions[i]
            let s = model.data.y[i] * n
            let p = min(max(mu[i], probabilityFloor), 1 - probabilityFloor)
            let term = s * log(p) + (n - s) * log(1 - p)
            ll += model.multiplicity.map { $0[i] * term } ?? term
        }
        return ll
    }

    /// Starting points from a grid over α and the elbows at the smallest and largest data amounts.
    ///
    /// For fixed (α, E(D_min), E(D_max)) the law is fixed (k = ΔE/Δg, C = E(D_min) − k·g(D_min)) and the
    /// model is linear in (B, Δ, A), so those are solved exactly by least squares (A ≥ 0). The grid's
    /// best points, kept diverse in E*, seed the local optimiser: the ReLU makes the objective
    /// multi-modal, and one start is not enough.
    /// Empty when `cancel` fired (the caller checks it).
    static func startingPoints(_ model: EmergenceModel, count: Int = 10, perAlpha: Bool = true,
                               cancel: Cancellation = .never) -> [[Double]] {
        let data = model.data
        let amounts = data.dataAmounts
        guard let dMin = amounts.first, let dMax = amounts.last,
              let xMin = data.x.min(), let xMax = data.x.max() else { return [] }
        let span = max(xMax - xMin, 0.05)
        // Elbows up to 0.3 nats above the highest loss: a law whose elbow at D_max lies above every
        // checkpoint (all of them lifted) is a real candidate.
        let lo = xMin - 0.6 * span - 0.05, hi = xMax + 0.3
        let steps = 28
        let grid = (0..<steps).map { lo + (hi - lo) * Double($0) / Double(steps - 1) }
        // Curvatures from near α's lower bound to its upper one: an optimum at α̂ = 0.1 or 6 is reached
        // far more reliably from a start there than across the ridge from α = 1.
        let alphas: [Double] = model.form == .logPower ? [0.1, 0.3, 0.6, 1, 1.5, 2, 3, 4.5, 6] : [0.01, 0.02, 0.05, 0.1, 0.2, 0.35, 0.5, 0.8, 1.2]
        struct Candidate { var theta: [Double]; var rss: Double; var prediction: Double }
        var candidates: [Candidate] = []
        var elbows = [Double](repeating: 0, count: data.groupD.count)
        var z = [Double](repeating: 0, count: data.count)
        let lower = model.lower, upper = model.upper
        for alpha in alphas {
            let gMin = EmergenceLaw.basis(model.form, alpha: alpha, d: dMin)
            let gMax = EmergenceLaw.basis(model.form, alpha: alpha, d: dMax)
            let basis = data.groupD.map { EmergenceLaw.basis(model.form, alpha: alpha, d: $0) }
            for iLo in 0..<steps {
                // One row of the grid is 28 linear solves over every row of the study.
                if cancel.isCancelled { return [] }
                for iHi in iLo..<steps {
                    if gMax - gMin < 1e-12 && iHi != iLo { break }
                    let k = gMax - gMin < 1e-12 ? 0 : (grid[iHi] - grid[iLo]) / (gMax - gMin)
                    let c = grid[iLo] - k * gMin
                    if k > upper[EmergenceModel.k] || c < lower[EmergenceModel.c] || c > upper[EmergenceModel.c] { continue }
                    for g in 0..<elbows.count { elbows[g] = k * basis[g] + c }
                    for i in 0..<data.count { z[i] = max(elbows[data.group[i]] - data.x[i], 0) }
                    guard let (b, d, a, r) = linearFloorAndSlope(data, z: z, withDelta: model.withDelta,
                                                                 multiplicity: model.multiplicity) else { continue }
                    var theta = [k, alpha, c, a, b]
                    if model.withDelta { theta.append(d) }
                    candidates.append(Candidate(theta: theta, rss: r, prediction: elbows[data.fewShotGroup ?? 0]))
                }
            }
        }
        candidates.sort { $0.rss < $1.rss }
        var chosen: [Candidate] = []
        for c in candidates where chosen.count < count {
            if !chosen.contains(where: { abs($0.prediction - c.prediction) < 0.03 }) { chosen.append(c) }
        }
        // Also the best point of each α, so every curvature of the law is tried.
        for alpha in alphas where perAlpha {
            if let c = candidates.first(where: { $0.theta[EmergenceModel.alpha] == alpha }),
               !chosen.contains(where: { $0.theta == c.theta }) { chosen.append(c) }
        }
        return chosen.map { LevenbergMarquardt.clamp($0.theta, lower, upper) }
    }

    /// Least squares for y ≈ B + Δ·fewShot + A·z with A ≥ 0; returns (B, Δ, A, RSS).
    /// `multiplicity`: how many times each row counts (a resample's distinct rows), nil for once.
    static func linearFloorAndSlope(_ data: FitData, z: [Double], withDelta: Bool,
                                    multiplicity: [Double]? = nil) -> (Double, Double, Double, Double)? {
        // Normal equations over features (1, f, z), each row weighted by its count c (1·x = x exactly).
        var s11 = 0.0, s1f = 0.0, s1z = 0.0, sff = 0.0, sfz = 0.0, szz = 0.0
        var sy = 0.0, sfy = 0.0, szy = 0.0, syy = 0.0
        for i in 0..<data.count {
            let f = data.fewShot[i], zi = z[i], y = data.y[i]
            let c = multiplicity?[i] ?? 1
            s11 += c; s1f += c * f; s1z += c * zi; sff += c * (f * f); sfz += c * (f * zi); szz += c * (zi * zi)
            sy += c * y; sfy += c * (f * y); szy += c * (zi * y); syy += c * (y * y)
        }
        // Without arrays: this runs twice per grid point of `startingPoints`, thousands of times a
        // fit, and the small arrays it used to build were a measurable share of the grid's time. The
        // arithmetic is the same, operation for operation.
        func solve(_ useDelta: Bool, _ useSlope: Bool) -> (Double, Double, Double, Double)? {
            withUnsafeTemporaryAllocation(of: Double.self, capacity: 27) { buffer -> (Double, Double, Double, Double)? in
            withUnsafeTemporaryAllocation(of: Int.self, capacity: 3) { indices -> (Double, Double, Double, Double)? in
                guard let full = buffer.baseAddress, let idx = indices.baseAddress else { return nil }
                let rhs = full + 9, a = full + 12, y = full + 21, beta = full + 24
                // XᵀX (3 × 3, row-major) and Xᵀy over the features (1, f, z).
                full[0] = s11; full[1] = s1f; full[2] = s1z
                full[3] = s1f; full[4] = sff; full[5] = sfz
                full[6] = s1z; full[7] = sfz; full[8] = szz
                rhs[0] = sy; rhs[1] = sfy; rhs[2] = szy
                var n = 0
                idx[n] = 0; n += 1
                if useDelta { idx[n] = 1; n += 1 }
                if useSlope { idx[n] = 2; n += 1 }
                for u in 0..<n {
                    let i = idx[u]
                    for v in 0..<n { a[u * n + v] = full[i * 3 + idx[v]] }
                    a[u * n + u] += 1e-12
                    y[u] = rhs[i]
                }
                guard LevenbergMarquardt.choleskySolve(a, y, n: n) else { return nil }
                beta[0] = 0; beta[1] = 0; beta[2] = 0
                for u in 0..<n { beta[idx[u]] = y[u] }
                // RSS = yᵀy − 2βᵀXᵀy + βᵀXᵀXβ.
                var r = syy
                for i in 0..<3 {
                    r -= 2 * beta[i] * rhs[i]
                    for j in 0..<3 { r += beta[i] * full[i * 3 + j] * beta[j] }
                }
                return (beta[0], beta[1], beta[2], max(r, 0))
            }
            }
        }
        let hasFewShot = s1f > 0 && s1f < s11
        let useDelta = withDelta && hasFewShot
        if szz > 0, let fit = solve(useDelta, true), fit.2 >= 0 { return fit }
        return solve(useDelta, false)
    }
}
