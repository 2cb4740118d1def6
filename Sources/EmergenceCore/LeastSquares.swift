import Foundation

/// A bounded nonlinear least-squares problem: minimise Σ r_i(θ)² subject to lower ≤ θ ≤ upper.
/// Kept apart from the solver and its result, as scipy's `least_squares` does.
struct LeastSquaresProblem {
    var parameterCount: Int
    var residualCount: Int
    var lower: [Double]
    var upper: [Double]
    /// Writes the residuals into r and, when the pointer is non-nil, the Jacobian ∂r/∂θ row-major (m × p).
    var evaluate: (_ theta: [Double], _ r: inout [Double], _ jacobian: UnsafeMutablePointer<Double>?) -> Void
    /// Optionally, the residuals and the normal equations JᵀJ (p × p, row-major) and Jᵀr in one pass,
    /// for a problem whose Jacobian has structure that makes them cheaper than summing J's rows (the
    /// emergence model: EmergenceNormalEquations.swift). When set, the solver never asks `evaluate` for J.
    var normalEquations: ((_ theta: [Double], _ r: inout [Double], _ jtj: UnsafeMutablePointer<Double>,
                           _ jtr: UnsafeMutablePointer<Double>) -> Void)? = nil
    /// Optionally, a trial pass that leaves behind what the normal equations need, so that an accepted
    /// point is never evaluated twice (the emergence model: EmergenceTrialPass.swift). It writes the
    /// residuals and `cacheCount` doubles at θ and returns Σr², or stops once the partial sum reaches
    /// `bound` (the step is then rejected whatever the rest holds) and returns that partial sum.
    /// When set, with `cachedNormalEquations`, the solver uses these two and neither closure above.
    var trial: ((_ theta: [Double], _ r: UnsafeMutablePointer<Double>, _ cache: UnsafeMutablePointer<Double>,
                 _ bound: Double) -> Double)? = nil
    /// JᵀJ and Jᵀr at the θ of the last complete `trial`, from its residuals and cache.
    var cachedNormalEquations: ((_ theta: [Double], _ r: UnsafePointer<Double>, _ cache: UnsafePointer<Double>,
                                 _ jtj: UnsafeMutablePointer<Double>, _ jtr: UnsafeMutablePointer<Double>) -> Void)? = nil
    var cacheCount = 0
}

struct LeastSquaresResult {
    var theta: [Double]
    /// Σ r², at theta.
    var cost: Double
    var iterations: Int
    var converged: Bool
    /// Trial points evaluated, and normal equations formed (for tests and measurements).
    var evaluations = 0
    var linearizations = 0
}

/// Levenberg–Marquardt with box bounds by projection.
///
/// Each iteration solves (JᵀJ + λ·diag(JᵀJ)) δ = −Jᵀr over the free parameters (a parameter sitting
/// on a bound whose descent direction points out of the box is held fixed), clamps θ + δ into the box,
/// and accepts the step only if Σr² falls; λ shrinks on success and grows on failure.
enum LevenbergMarquardt {
    struct Options {
        var maxIterations = 200
        /// Stop when an accepted step lowers the cost by less than this fraction.
        var relativeTolerance = 1e-9
        var stepTolerance = 1e-12
        /// Polled once per iteration; when it fires the solve stops where it is (the caller, which
        /// polls the same flag, throws the result away).
        var cancel: Cancellation? = nil
    }

    static func solve(_ problem: LeastSquaresProblem, start: [Double], options: Options = Options()) -> LeastSquaresResult {
        if let trial = problem.trial, let cached = problem.cachedNormalEquations {
            return solveCached(problem, trial: trial, normalEquations: cached, start: start, options: options)
        }
        let m = problem.residualCount, p = problem.parameterCount
        var theta = clamp(start, problem.lower, problem.upper)
        var r = [Double](repeating: 0, count: m)
        var trial = [Double](repeating: 0, count: m)
        var jtj = [Double](repeating: 0, count: p * p)
        var jtr = [Double](repeating: 0, count: p)
        let fused = problem.normalEquations
        var J = [Double](repeating: 0, count: fused == nil ? m * p : 0)
        var nEval = 0, nLin = 0
        /// r, and JᵀJ and Jᵀr (or J, from which they are summed at the top of each iteration), at theta.
        func linearize() {
            nLin += 1
            if let fused {
                jtj.withUnsafeMutableBufferPointer { A in
                    jtr.withUnsafeMutableBufferPointer { g in
                        guard let ap = A.baseAddress, let gp = g.baseAddress else { return }
                        fused(theta, &r, ap, gp)
                    }
                }
            } else {
                J.withUnsafeMutableBufferPointer { problem.evaluate(theta, &r, $0.baseAddress) }
            }
        }
        linearize()
        var cost = sumOfSquares(r)
        guard cost.isFinite else { return LeastSquaresResult(theta: theta, cost: .infinity, iterations: 0, converged: false) }
        var lambda = 1e-3
        // Every buffer an iteration needs is made once here: the damped system and its solution, the
        // free set and the candidate point. An iteration of a small refit costs a few microseconds,
        // and a fresh array per iteration was a measurable share of it. The arithmetic is the same,
        // operation for operation, as when each iteration allocated its own (results are bit-identical).
        var candidate = theta
        let scratch = UnsafeMutablePointer<Double>.allocate(capacity: p * p + p)
        let free = UnsafeMutablePointer<Int>.allocate(capacity: max(p, 1))
        defer { scratch.deallocate(); free.deallocate() }
        let a = scratch, g = scratch + p * p
        var iterations = 0
        var converged = false
        var needJacobian = false

        outer: while iterations < options.maxIterations {
            if let cancel = options.cancel, cancel.isCancelled { break }
            iterations += 1
            if needJacobian {
                linearize()
                needJacobian = false
            }
            if fused == nil { normalEquations(J, r, m: m, p: p, jtj: &jtj, jtr: &jtr) }
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
                    problem.evaluate(candidate, &trial, nil)
                    nEval += 1
                    let newCost = sumOfSquares(trial)
                    if newCost.isFinite && newCost < cost {
                        var stepSize = 0.0
                        for j in 0..<p { stepSize = max(stepSize, abs(candidate[j] - theta[j]) / (abs(theta[j]) + 1e-8)) }
                        let improvement = (cost - newCost) / max(cost, 1e-300)
                        swap(&theta, &candidate)
                        cost = newCost
                        swap(&r, &trial)
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

    @inline(__always)
    static func sumOfSquares(_ r: [Double]) -> Double {
        r.withUnsafeBufferPointer { b in
            var s = 0.0
            for v in b { s += v * v }
            return s
        }
    }

    static func clamp(_ theta: [Double], _ lower: [Double], _ upper: [Double]) -> [Double] {
        var t = theta
        for j in 0..<t.count { t[j] = min(max(t[j], lower[j]), upper[j]) }
        return t
    }

    /// JᵀJ (p × p) and Jᵀr (p). The hot loop of every LM iteration, so it runs on raw pointers
    /// (array subscripts in the inner loop cost a uniqueness check per write), and the emergence
    /// model's six parameters get an unrolled kernel (NormalEquationsKernel.swift).
    static func normalEquations(_ J: [Double], _ r: [Double], m: Int, p: Int, jtj: inout [Double], jtr: inout [Double]) {
        J.withUnsafeBufferPointer { Jb in
        r.withUnsafeBufferPointer { rb in
        jtj.withUnsafeMutableBufferPointer { A in
        jtr.withUnsafeMutableBufferPointer { g in
            // Empty buffers have no base address (no rows or no parameters: nothing to add up).
            guard let a = A.baseAddress, let gp = g.baseAddress else { return }
            guard let jp = Jb.baseAddress, let rp = rb.baseAddress, m > 0 else {
                for i in 0..<(p * p) { a[i] = 0 }
                for j in 0..<p { gp[j] = 0 }
                return
            }
            if p == 6 {
                NormalEquationsKernel.six(jp, rp, m: m, jtj: a, jtr: gp)
            } else {
                NormalEquationsKernel.general(jp, rp, m: m, p: p, jtj: a, jtr: gp)
            }
        }}}}
    }

    /// Solves A x = b for symmetric positive definite A (n × n, overwritten); nil if not PD.
    static func choleskySolve(_ a: inout [Double], _ b: [Double], n: Int) -> [Double]? {
        var y = b
        let ok = a.withUnsafeMutableBufferPointer { ab in
            y.withUnsafeMutableBufferPointer { yb in
                guard let ap = ab.baseAddress, let yp = yb.baseAddress else { return n == 0 }
                return choleskySolve(ap, yp, n: n)
            }
        }
        return ok ? y : nil
    }

    /// The same in place: A = LLᵀ (L overwrites A's lower triangle), then L z = b and Lᵀ x = z, x
    /// overwriting b. False (b partly overwritten) if A is not positive definite.
    static func choleskySolve(_ a: UnsafeMutablePointer<Double>, _ y: UnsafeMutablePointer<Double>, n: Int) -> Bool {
        for j in 0..<n {
            var s = a[j * n + j]
            for k in 0..<j { s -= a[j * n + k] * a[j * n + k] }
            guard s > 0, s.isFinite else { return false }
            let d = sqrt(s)
            a[j * n + j] = d
            for i in (j + 1)..<max(n, j + 1) {
                var t = a[i * n + j]
                for k in 0..<j { t -= a[i * n + k] * a[j * n + k] }
                a[i * n + j] = t / d
            }
        }
        for i in 0..<n {
            var t = y[i]
            for k in 0..<i { t -= a[i * n + k] * y[k] }
            y[i] = t / a[i * n + i]
        }
        for i in stride(from: n - 1, through: 0, by: -1) {
            var t = y[i]
            for k in (i + 1)..<max(n, i + 1) { t -= a[k * n + i] * y[k] }
            y[i] = t / a[i * n + i]
        }
        return true
    }
}
