import Foundation

/// Fits the compute scaling law L(C) = L∞ + a · C^(−b) (docs/method.md §7) to checkpoints' (flops, loss).
///
/// For a fixed L∞ the law is linear in logs, ln(L − L∞) = ln a − b · ln C, so a grid over L∞ with a
/// linear regression at each point gives a start; Levenberg–Marquardt then minimises the squared
/// error in loss over (L∞, ln a, b) with 0 ≤ L∞ < min L and b > 0.
public enum ScalingLawFit {
    public struct Result: Sendable {
        public var law: ScalingLaw
        public var rmse: Double
        public var points: Int
    }

    public static func fit(compute: [Double], loss: [Double]) -> Result? {
        fit(compute: compute, loss: loss, cancel: .never)
    }

    /// The same, stopping early (and returning nil) once `cancel` fires: the fit polls it throughout.
    static func fit(compute: [Double], loss: [Double], cancel: Cancellation) -> Result? {
        fit(compute: compute, loss: loss, near: nil, cancel: cancel)
    }

    /// The same, with Levenberg–Marquardt started at `near` instead of the grid's best point when a
    /// law close to the answer is known: a bootstrap draw's checkpoints are a resample of those the
    /// full-data law was fitted to, so that law lies in the draw's basin, and the 40-point grid (40
    /// regressions over every point, a tenth of a default fit's time over 1,000 draws) is skipped.
    /// The grid still runs when the solve from `near` does not give a valid law.
    static func fit(compute: [Double], loss: [Double], near: ScalingLaw?, cancel: Cancellation) -> Result? {
        let n = compute.count
        guard n == loss.count else { return nil }
        guard n >= 3, Set(compute).count >= 3, let lMin = loss.min(), lMin > 0 else { return nil }
        let lnC = compute.map(log)
        let lower = [0, -100, 1e-5], upper = [lMin * 0.9999, 500, 3]
        if let near, near.a > 0, near.a.isFinite {
            let problem = problemOf(lnC, loss, lower: lower, upper: upper)
            var options = LevenbergMarquardt.Options()
            options.cancel = cancel
            let solved = LevenbergMarquardt.solve(problem, start: [near.lInf, log(near.a), near.b], options: options)
            if cancel.isCancelled { return nil }
            let law = ScalingLaw(lInf: solved.theta[0], a: exp(solved.theta[1]), b: solved.theta[2])
            if law.lInf.isFinite, law.a.isFinite, law.a > 0, law.b.isFinite, law.b > 0, solved.cost.isFinite {
                return Result(law: law, rmse: sqrt(solved.cost / Double(n)), points: n)
            }
        }
        var best: (theta: [Double], rss: Double)? = nil
        let gridSteps = 40
        for i in 0..<gridSteps {
            let lInf = lMin * Double(i) / Double(gridSteps) * 0.995
            // Regress ln(L − L∞) on ln C.
            let ys = loss.map { log($0 - lInf) }
            let mx = lnC.reduce(0, +) / Double(n), my = ys.reduce(0, +) / Double(n)
            var sxy = 0.0, sxx = 0.0
            for j in 0..<n { sxy += (lnC[j] - mx) * (ys[j] - my); sxx += (lnC[j] - mx) * (lnC[j] - mx) }
            guard sxx > 0 else { continue }
            let b = -sxy / sxx
            guard b > 0 else { continue }
            let lnA = my + b * mx
            let theta = [lInf, lnA, b]
            let r = rss(theta, lnC, loss)
            if r.isFinite && r < (best?.rss ?? .infinity) { best = (theta, r) }
        }
        guard let start = best else { return nil }
        let problem = problemOf(lnC, loss, lower: lower, upper: upper)
        var options = LevenbergMarquardt.Options()
        options.cancel = cancel
        let solved = LevenbergMarquardt.solve(problem, start: start.theta, options: options)
        if cancel.isCancelled { return nil }
        // The better of the two, unless it is no law at all: the grid's start is not held to the box,
        // and on extreme data its ln a can pass 709, where a = e^(ln a) overflows to ∞.
        let candidates = solved.cost <= start.rss
            ? [(solved.theta, solved.cost), (start.theta, start.rss)]
            : [(start.theta, start.rss), (solved.theta, solved.cost)]
        for (theta, cost) in candidates {
            let law = ScalingLaw(lInf: theta[0], a: exp(theta[1]), b: theta[2])
            guard law.lInf.isFinite, law.a.isFinite, law.a > 0, law.b.isFinite, law.b > 0, cost.isFinite else { continue }
            return Result(law: law, rmse: sqrt(cost / Double(n)), points: n)
        }
        return nil
    }

    /// Σ (L_j − (L∞ + e^(ln a − b·ln C_j)))² over (L∞, ln a, b) within the box.
    static func problemOf(_ lnC: [Double], _ loss: [Double], lower: [Double], upper: [Double]) -> LeastSquaresProblem {
        let n = lnC.count
        return LeastSquaresProblem(
            parameterCount: 3, residualCount: n, lower: lower, upper: upper,
            evaluate: { t, r, J in
                for j in 0..<n {
                    let power = exp(t[1] - t[2] * lnC[j])   // a · C^(−b)
                    r[j] = loss[j] - (t[0] + power)
                    if let J {
                        J[j * 3 + 0] = -1
                        J[j * 3 + 1] = -power
                        J[j * 3 + 2] = power * lnC[j]
                    }
                }
            })
    }

    static func rss(_ t: [Double], _ lnC: [Double], _ loss: [Double]) -> Double {
        var s = 0.0
        for j in 0..<lnC.count { let d = loss[j] - (t[0] + exp(t[1] - t[2] * lnC[j])); s += d * d }
        return s
    }
}
