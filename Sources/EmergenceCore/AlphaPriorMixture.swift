import Foundation

/// A scale mixture of normals in x = ln α, for AlphaPenalty: f(x) = −log Σ_k w_k N(x; μ_k, s_k²), its
/// mode x* and the curvature f''(x*) there, found once.
struct Mixture: Sendable {
    var w: [Double], mu: [Double], s: [Double]
    /// The chances with which a bootstrap draw picks each component: p(k | data) once conditioned on
    /// the study's α profile, the prior weights w_k before.
    var drawWeights: [Double]
    /// log of w_k / (s_k √2π), the constant of each component's log density.
    var logScale: [Double]
    var mode = 0.0, fMode = 0.0, curvature = 1.0

    /// From (weight, μ_k, s_k); the weights are renormalised to sum to 1.
    init(_ components: [(Double, Double, Double)]) {
        let total = components.reduce(0) { $0 + $1.0 }
        w = components.map { $0.0 / total }; mu = components.map(\.1); s = components.map(\.2)
        drawWeights = w
        logScale = zip(w, s).map { log($0) - log($1) - 0.5 * log(2 * Double.pi) }
        // The mode: the best of a grid over the components' centres ± 4 SD, then Newton on f' = 0. The
        // residual's sign turns there, so it must be f's minimum to round-off (else √ of a negative).
        let lo = zip(mu, s).map { $0 - 4 * $1 }.min() ?? 0, hi = zip(mu, s).map { $0 + 4 * $1 }.max() ?? 0
        var x = (0...400).map { lo + (hi - lo) * Double($0) / 400 }.min { f($0) < f($1) } ?? 0
        for _ in 0..<50 {
            let (_, d1, d2) = derivatives(x)
            guard d2 > 0 else { break }
            let next = x - d1 / d2
            if abs(next - x) < 1e-13 { x = next; break }
            x = f(next) <= f(x) ? next : (x + next) / 2
        }
        mode = x; fMode = f(x)
        curvature = max(derivatives(x).d2, 1e-12)
    }

    /// Sets the draw weights to each component's posterior share given the study's own data,
    ///
    ///     p(k | data) ∝ w_k · ∫ L(x) N(x; μ_k, s_k²) dx,     L(x) = exp(−dev(x)/2), the α profile,
    ///
    /// on a grid of step 0.025 over the profile's range. A study whose data agree with the lab's centre
    /// favours the narrow components (it is evidence that τ is small for it), one whose data sit apart
    /// favours the wide ones; with a flat profile the shares stay the prior weights.
    mutating func condition(on profile: AlphaProfile) {
        guard let lo = profile.lnAlpha.first, let hi = profile.lnAlpha.last, hi > lo else { return }
        let n = Int(((hi - lo) / 0.025).rounded()) + 1
        let xs = (0..<n).map { lo + (hi - lo) * Double($0) / Double(n - 1) }
        let devs = xs.map { profile.deviance(at: $0) }
        let floor = devs.min() ?? 0
        let logs = w.indices.map { k -> Double in
            var sum = 0.0
            for (x, d) in zip(xs, devs) {
                let z = (x - mu[k]) / s[k]
                sum += exp(-(d - floor) / 2 - z * z / 2) / s[k]
            }
            return log(w[k]) + log(max(sum, 1e-300))
        }
        let top = logs.max() ?? 0
        let shares = logs.map { exp($0 - top) }
        let total = shares.reduce(0, +)
        guard total.isFinite && total > 0 else { return }
        drawWeights = shares.map { $0 / total }
    }

    /// f(x) = −log Σ_k w_k N(x; μ_k, s_k²), by log-sum-exp.
    func f(_ x: Double) -> Double {
        var top = -Double.infinity
        for k in w.indices { let z = (x - mu[k]) / s[k]; top = max(top, logScale[k] - z * z / 2) }
        var sum = 0.0
        for k in w.indices { let z = (x - mu[k]) / s[k]; sum += exp(logScale[k] - z * z / 2 - top) }
        return -(top + log(sum))
    }

    /// f, f′ and f″ at x. With responsibilities r_k ∝ w_k N(x; μ_k, s_k²) and g_k = (x − μ_k)/s_k²:
    /// f′ = Σ r_k g_k, f″ = Σ r_k / s_k² − (Σ r_k g_k² − (Σ r_k g_k)²).
    func derivatives(_ x: Double) -> (f: Double, d1: Double, d2: Double) {
        let logs = w.indices.map { k -> Double in let z = (x - mu[k]) / s[k]; return logScale[k] - z * z / 2 }
        let top = logs.max() ?? 0
        let e = logs.map { exp($0 - top) }
        let total = e.reduce(0, +)
        var g1 = 0.0, g2 = 0.0, h = 0.0
        for k in w.indices {
            let r = e[k] / total, g = (x - mu[k]) / (s[k] * s[k])
            g1 += r * g; g2 += r * g * g; h += r / (s[k] * s[k])
        }
        return (-(top + log(total)), g1, h - (g2 - g1 * g1))
    }

    /// ρ/w at x: sign(x − x*) √(2 (f(x) − f(x*))).
    @inline(__always)
    func residual(_ x: Double) -> Double {
        let r = (2 * max(f(x) - fMode, 0)).squareRoot()
        return x < mode ? -r : r
    }

    /// dρ/dx / w = sign(x − x*) · f′(x) / √(2 (f − f*)); near the mode, where both vanish, its limit √f″(x*).
    func slope(_ x: Double) -> Double {
        let (fx, d1, _) = derivatives(x)
        let twice = 2 * (fx - fMode)
        guard twice > 1e-10 else { return curvature.squareRoot() }
        return (x < mode ? -d1 : d1) / twice.squareRoot()
    }

    /// The component and its own standard normal for the draw z (see AlphaPenalty.recentred).
    func component(at z: Double) -> (Int, Double) {
        let u = 0.5 * erfc(-z / 2.0.squareRoot())
        var below = 0.0
        for k in drawWeights.indices {
            if u < below + drawWeights[k] || k == drawWeights.count - 1 {
                let v = min(max((u - below) / max(drawWeights[k], 1e-300), 1e-12), 1 - 1e-12)
                return (k, Self.probit(v))
            }
            below += drawWeights[k]
        }
        return (0, z)
    }

    /// Φ⁻¹(p) for p in (0, 1): Newton on Φ from a logistic start, to ~1e-12 in a few steps.
    static func probit(_ p: Double) -> Double {
        var x = log(p / (1 - p)) / 1.702
        for _ in 0..<40 {
            let cdf = 0.5 * erfc(-x / 2.0.squareRoot())
            let pdf = exp(-x * x / 2) / (2 * Double.pi).squareRoot()
            guard pdf > 1e-300 else { break }
            let step = (cdf - p) / pdf
            x -= max(min(step, 2), -2)
            if abs(step) < 1e-13 { break }
        }
        return x
    }
}
