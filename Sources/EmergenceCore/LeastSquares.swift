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

    /// One iteration scheme for every problem: `solveCached` (LevenbergMarquardtCached.swift). A
    /// problem without a caching trial pass is adapted to it: its trial evaluates the residuals in full
    /// (no early stop: the full Σr² is rejected exactly when a partial one would be), and its normal
    /// equations evaluate θ again, through `normalEquations` when the problem has the fused pass, else
    /// through `evaluate`'s Jacobian summed by `normalEquations(J, r, …)`.
    static func solve(_ problem: LeastSquaresProblem, start: [Double], options: Options = Options()) -> LeastSquaresResult {
        if let trial = problem.trial, let cached = problem.cachedNormalEquations {
            return solveCached(problem, trial: trial, normalEquations: cached, start: start, options: options)
        }
        let m = problem.residualCount, p = problem.parameterCount
        var adapted = problem
        adapted.cacheCount = 0
        var residuals = [Double](repeating: 0, count: m)
        let fused = problem.normalEquations
        var J = [Double](repeating: 0, count: fused == nil ? m * p : 0)
        return solveCached(adapted, trial: { theta, r, _, _ in
            problem.evaluate(theta, &residuals, nil)
            var s = 0.0
            for i in 0..<m { r[i] = residuals[i]; s += residuals[i] * residuals[i] }
            return s
        }, normalEquations: { theta, _, _, jtj, jtr in
            if let fused {
                fused(theta, &residuals, jtj, jtr)
                return
            }
            J.withUnsafeMutableBufferPointer { problem.evaluate(theta, &residuals, $0.baseAddress) }
            var a = [Double](repeating: 0, count: p * p), g = [Double](repeating: 0, count: p)
            normalEquations(J, residuals, m: m, p: p, jtj: &a, jtr: &g)
            for i in 0..<(p * p) { jtj[i] = a[i] }
            for j in 0..<p { jtr[j] = g[j] }
        }, start: start, options: options)
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
