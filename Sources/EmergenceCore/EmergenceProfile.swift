import Foundation

/// The profile likelihood of E*: for a fixed value e, the best fit of every other parameter
/// (k, α, A, B, Δ, with C = e − k·g(D0) so that E_θ(D0) = e), and its deviance against the MLE.
///
/// Under Gaussian noise with σ profiled out,
///
///     dev(e) = n · ln(RSS(e) / RSS_mle),
///
/// which is asymptotically χ²₁ where E* is identified (Wilks). It is what the data say about E*
/// with α and everything else free, so a value e the data cannot rule out is one whose deviance
/// stays under the χ² quantile. The binomial likelihoods use the same Gaussian profile: the bound
/// needs the shape of the evidence, and the weighted and unweighted profiles rank e the same way
/// for rows of similar variance.
struct EmergenceProfile {
    let model: EmergenceModel
    /// RSS at the unconstrained optimum.
    let rssMLE: Double
    let mle: [Double]
    /// The smallest slope A the profile may use (0: any).
    var slopeFloor: Double = 0

    init(_ model: EmergenceModel, mle: [Double]) {
        self.model = model
        self.mle = mle
        rssMLE = max(MaximumLikelihood.rss(model, mle), 1e-300)
    }

    /// The parameters without C: (k, α, A, B[, Δ]) and their box.
    private var lower: [Double] {
        var l = model.lower
        l.remove(at: EmergenceModel.c)
        l[2] = max(l[2], slopeFloor)
        return l
    }
    private var upper: [Double] {
        var u = model.upper
        u.remove(at: EmergenceModel.c)
        return u
    }

    /// θ with C put back so that E_θ(D0) = e.
    func full(_ phi: [Double], e: Double) -> [Double] {
        var t = phi
        let g0 = EmergenceLaw.basis(model.form, alpha: phi[1], d: model.data.d0)
        t.insert(e - phi[0] * g0, at: EmergenceModel.c)
        return t
    }

    /// The least-squares problem at E* = e, residuals μ − y with the exact ReLU.
    func problem(e: Double) -> LeastSquaresProblem {
        let data = model.data, form = model.form, withDelta = model.withDelta
        let p = withDelta ? 5 : 4
        return LeastSquaresProblem(parameterCount: p, residualCount: data.count, lower: lower, upper: upper) { phi, r, jac in
            let k = phi[0], alpha = phi[1], a = phi[2], b = phi[3], d = withDelta ? phi[4] : 0
            let g0 = EmergenceLaw.basis(form, alpha: alpha, d: data.d0)
            let s0 = EmergenceLaw.basisSlope(form, alpha: alpha, d: data.d0)
            let c = e - k * g0
            let groups = data.groupD.count
            var gD = [Double](repeating: 0, count: groups), sD = gD
            for g in 0..<groups {
                gD[g] = EmergenceLaw.basis(form, alpha: alpha, d: data.groupD[g])
                sD[g] = EmergenceLaw.basisSlope(form, alpha: alpha, d: data.groupD[g])
            }
            for i in 0..<data.count {
                let g = data.group[i]
                let gap = k * gD[g] + c - data.x[i]
                let fs = data.fewShot[i]
                r[i] = b + d * fs + a * max(gap, 0) - data.y[i]
                guard let jac else { continue }
                let row = jac + i * p
                let on = gap > 0 ? 1.0 : 0.0
                row[0] = on * a * (gD[g] - g0)
                row[1] = on * a * k * (sD[g] - s0)
                row[2] = max(gap, 0)
                row[3] = 1
                if withDelta { row[4] = fs }
            }
        }
    }

    /// The smallest RSS at E* = e from a few starts (the caller's and the MLE's curvature and slope
    /// with several α), and the parameters that reach it.
    func constrainedFit(e: Double, from extra: [[Double]] = []) -> (rss: Double, phi: [Double])? {
        let problem = problem(e: e)
        var base = mle
        base.remove(at: EmergenceModel.c)
        base[2] = max(base[2], slopeFloor)
        var starts = extra + [base]
        // Continuing from a neighbouring e: that solution and the MLE's suffice.
        let alphas: [Double] = model.form == .logPower ? [0.3, 0.8, 1.5, 3] : [0.03, 0.1, 0.3]
        for alpha in extra.isEmpty ? alphas : [] {
            var s = base
            s[1] = alpha
            // k so that the elbow at the largest amount stays where the MLE put it.
            let dMax = model.data.groupD.max() ?? model.data.d0
            let top = model.law(mle).elbow(at: dMax)
            let span = EmergenceLaw.basis(model.form, alpha: alpha, d: dMax) - EmergenceLaw.basis(model.form, alpha: alpha, d: model.data.d0)
            if span > 0 { s[0] = min(max((top - e) / span, 0), model.upper[EmergenceModel.k]) }
            starts.append(s)
        }
        var best: (Double, [Double])? = nil
        var options = LevenbergMarquardt.Options()
        options.maxIterations = 100
        for s in starts {
            let start = LevenbergMarquardt.clamp(s, lower, upper)
            let result = LevenbergMarquardt.solve(problem, start: start, options: options)
            guard result.cost.isFinite else { continue }
            if result.cost < (best?.0 ?? .infinity) { best = (result.cost, result.theta) }
        }
        return best.map { (rss: $0.0, phi: $0.1) }
    }

    /// dev(e) = n·ln(RSS(e)/RSS_mle), at least 0.
    func deviance(rss: Double) -> Double {
        max(Double(model.data.count) * log(max(rss, 1e-300) / rssMLE), 0)
    }

    /// The highest E* the data cannot rule out above `from`: scanning e upward from `from` in steps
    /// of `step`, the last e before the deviance first reaches `cutoff` (2.71: one-sided 95%) and
    /// stays there for `confirm` steps. nil when no e up to `from + span` is ruled out.
    func upperLimit(from: Double, cutoff: Double = 2.71, step: Double = 0.005, span: Double = 0.6,
                    confirm: Int = 3) -> Double? {
        limit(from: from, direction: 1, cutoff: cutoff, step: step, span: span, confirm: confirm)
    }

    /// The lowest E* the data cannot rule out below `from`: the same scan, downward.
    func lowerLimit(from: Double, cutoff: Double = 2.71, step: Double = 0.005, span: Double = 0.6,
                    confirm: Int = 3) -> Double? {
        limit(from: from, direction: -1, cutoff: cutoff, step: step, span: span, confirm: confirm)
    }

    /// The scan: e = from + direction·offset, each constrained fit starting from its neighbour's.
    private func limit(from: Double, direction: Double, cutoff: Double, step: Double, span: Double,
                       confirm: Int) -> Double? {
        var previous: [Double]? = nil
        var lastAllowed = from
        var rejectedRun = 0
        var offset = 0.0
        while offset <= span {
            let e = from + direction * offset
            if let fit = constrainedFit(e: e, from: previous.map { [$0] } ?? []) {
                previous = fit.phi
                if deviance(rss: fit.rss) >= cutoff {
                    rejectedRun += 1
                    if rejectedRun >= confirm { return lastAllowed }
                } else {
                    rejectedRun = 0
                    lastAllowed = e
                }
            }
            offset += step
        }
        return nil
    }
}
