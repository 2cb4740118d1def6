import Foundation

extension LevenbergMarquardt {
    /// `solve` for a problem with a caching trial pass (LeastSquaresProblem.trial): the same iteration,
    /// step for step and operation for operation (so the same answer, bit for bit), with two passes
    /// over the rows fewer per accepted step and a rejected trial cut short.
    ///
    /// `solve` evaluates a trial's residuals, then, once it is accepted, evaluates that point again for
    /// JᵀJ and Jᵀr. Here the trial leaves its residuals and cache in buffers that are swapped in on
    /// acceptance, and the normal equations are summed from them. A trial is stopped once its partial
    /// Σr² reaches the current cost: `solve` would reject it (its test is newCost < cost).
    static func solveCached(_ problem: LeastSquaresProblem,
                            trial: (_ theta: [Double], _ r: UnsafeMutablePointer<Double>,
                                    _ cache: UnsafeMutablePointer<Double>, _ bound: Double) -> Double,
                            normalEquations: (_ theta: [Double], _ r: UnsafePointer<Double>, _ cache: UnsafePointer<Double>,
                                              _ jtj: UnsafeMutablePointer<Double>, _ jtr: UnsafeMutablePointer<Double>) -> Void,
                            start: [Double], options: Options) -> LeastSquaresResult {
        let m = problem.residualCount, p = problem.parameterCount, n = problem.cacheCount
        var theta = clamp(start, problem.lower, problem.upper)
        // One block for everything: residuals and cache at θ and at the trial point (swapped on
        // acceptance), JᵀJ, Jᵀr, and the damped system and its solution.
        let block = UnsafeMutablePointer<Double>.allocate(capacity: 2 * (m + n) + 2 * (p * p + p))
        let free = UnsafeMutablePointer<Int>.allocate(capacity: max(p, 1))
        defer { block.deallocate(); free.deallocate() }
        var r = block, trialR = block + m
        var cache = block + 2 * m, trialCache = block + 2 * m + n
        let jtj = block + 2 * (m + n), jtr = jtj + p * p
        let a = jtr + p, g = a + p * p
        var nEval = 0, nLin = 0

        var cost = trial(theta, r, cache, .infinity)
        guard cost.isFinite else { return LeastSquaresResult(theta: theta, cost: .infinity, iterations: 0, converged: false) }
        normalEquations(theta, r, cache, jtj, jtr)
        nLin += 1
        var lambda = 1e-3
        var candidate = theta
        var iterations = 0
        var converged = false
        var needJacobian = false

        outer: while iterations < options.maxIterations {
            if let cancel = options.cancel, cancel.isCancelled { break }
            iterations += 1
            if needJacobian {
                normalEquations(theta, r, cache, jtj, jtr)
                nLin += 1
                needJacobian = false
            }
            // Free parameters: not pinned at a bound by a descent direction pointing outward.
            var q = 0
            for j in 0..<p {
                let descent = -jtr[j]
                let atLower = theta[j] <= problem.lower[j] && descent < 0
                let atUpper = theta[j] >= problem.upper[j] && descent > 0
                if !(atLower || atUpper) { free[q] = j; q += 1 }
            }
            if q == 0 { converged = true; break }
            var gradientNorm = 0.0
            for u in 0..<q { gradientNorm = max(gradientNorm, abs(jtr[free[u]])) }
            if gradientNorm < 1e-14 * max(cost, 1e-300) || gradientNorm == 0 { converged = true; break }

            var inner = 0
            while true {
                inner += 1
                var maxDiag = 0.0
                for u in 0..<q { let j = free[u]; maxDiag = max(maxDiag, jtj[j * p + j]) }
                for u in 0..<q {
                    let j = free[u]
                    for v in 0..<q { a[u * q + v] = jtj[j * p + free[v]] }
                    a[u * q + u] += lambda * max(jtj[j * p + j], 1e-9 * maxDiag + 1e-300)
                    g[u] = -jtr[j]
                }
                if choleskySolve(a, g, n: q) {
                    for j in 0..<p { candidate[j] = theta[j] }
                    for u in 0..<q { candidate[free[u]] += g[u] }
                    for j in 0..<p { candidate[j] = min(max(candidate[j], problem.lower[j]), problem.upper[j]) }
                    let newCost = trial(candidate, trialR, trialCache, cost)
                    nEval += 1
                    if newCost.isFinite && newCost < cost {
                        var stepSize = 0.0
                        for j in 0..<p { stepSize = max(stepSize, abs(candidate[j] - theta[j]) / (abs(theta[j]) + 1e-8)) }
                        let improvement = (cost - newCost) / max(cost, 1e-300)
                        swap(&theta, &candidate)
                        cost = newCost
                        swap(&r, &trialR)
                        swap(&cache, &trialCache)
                        needJacobian = true
                        lambda = max(lambda / 3, 1e-12)
                        if improvement < options.relativeTolerance || stepSize < options.stepTolerance {
                            converged = true
                            break outer
                        }
                        continue outer
                    }
                }
                lambda *= 4
                if lambda > 1e12 || inner > 30 { converged = true; break outer }
            }
        }
        return LeastSquaresResult(theta: theta, cost: cost, iterations: iterations, converged: converged,
                                  evaluations: nEval, linearizations: nLin)
    }
}
