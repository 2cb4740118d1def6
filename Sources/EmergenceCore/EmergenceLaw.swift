import Foundation

/// The emergence law (docs/method.md §2): where the ReLU's elbow sits after finetuning on D examples.
///
///     log power:  E_θ(D) = k · (ln D)^α + C
///     power:      E_θ(D) = k · D^α + C
public struct EmergenceLaw: Sendable, Equatable {
    public var form: FitOptions.Form
    public var k: Double
    public var alpha: Double
    public var C: Double

    public init(form: FitOptions.Form, k: Double, alpha: Double, C: Double) {
        self.form = form; self.k = k; self.alpha = alpha; self.C = C
    }

    /// E_θ(D).
    public func elbow(at d: Double) -> Double {
        k * EmergenceLaw.basis(form, alpha: alpha, d: d) + C
    }

    /// g(D) = (ln D)^α or D^α: the law is E = k·g + C.
    @inline(__always)
    static func basis(_ form: FitOptions.Form, alpha: Double, d: Double) -> Double {
        switch form {
        case .logPower: return pow(log(d), alpha)
        case .power: return pow(d, alpha)
        }
    }

    /// ∂g/∂α = g · ln(ln D) or g · ln D.
    @inline(__always)
    static func basisSlope(_ form: FitOptions.Form, alpha: Double, d: Double) -> Double {
        switch form {
        case .logPower: return pow(log(d), alpha) * log(log(d))
        case .power: return pow(d, alpha) * log(d)
        }
    }
}

/// The full model of every observation (docs/method.md §2), with A and B shared by all data amounts:
///
///     finetuned with D examples:  μ = B     + A · max(E_θ(D)  − x, 0)
///     few-shot:                   μ = B + Δ + A · max(E_θ(D0) − x, 0)
///
/// Parameters are kept in one vector θ = (k, α, C, A, B, Δ); without Δ the vector has five entries.
struct EmergenceModel: Sendable {
    static let k = 0, alpha = 1, c = 2, a = 3, b = 4, delta = 5

    var data: FitData
    var form: FitOptions.Form
    var withDelta: Bool
    /// When > 0, max(z, 0) is replaced by the softplus τ·ln(1 + e^(z/τ)) (docs/method.md §3): the
    /// optimiser first walks a smoothed objective, whose kinks do not trap it, then polishes with the
    /// exact ReLU (τ = 0), which is what every reported number uses.
    var temperature: Double = 0
    /// How many times each row counts (nil: once). A bootstrap resample draws rows with replacement;
    /// it is fitted as its distinct rows, each counted as often as it was drawn (BootstrapResample.swift),
    /// which is the same objective with about a third fewer rows to evaluate.
    var multiplicity: [Double]? = nil
    /// A prior on α, as one extra residual of the fit (AlphaPrior.swift); nil = plain likelihood.
    var alphaPenalty: AlphaPenalty? = nil
    /// α held at this value (its box shrinks to the point): the α-sensitivity band's constrained fits
    /// (AlphaBand.swift); nil = free.
    var fixedAlpha: Double? = nil

    /// The number of observations: Σ counts on a resample (data.count is its distinct rows), else the rows.
    var observationCount: Double {
        multiplicity.map { $0.reduce(0, +) } ?? Double(data.count)
    }

    var parameterCount: Int { withDelta ? 6 : 5 }

    /// α's box: a power law in raw D needs much smaller exponents than one in ln D.
    static func alphaRange(_ form: FitOptions.Form) -> ClosedRange<Double> {
        form == .logPower ? 0.05...6 : 0.005...1.5
    }

    /// Box bounds of θ: they keep the optimiser and the sampler's flat priors in a sane region.
    /// α's range depends on the form (a power law in raw D needs much smaller exponents).
    var lower: [Double] {
        let xmin = data.x.min() ?? 0
        var l = [0, fixedAlpha ?? Self.alphaRange(form).lowerBound, xmin - 5, 0, -0.5]
        if withDelta { l.append(-0.5) }
        return l
    }
    var upper: [Double] {
        let xmax = data.x.max() ?? 0
        var u = [50, fixedAlpha ?? Self.alphaRange(form).upperBound, xmax + 5, 100, 1.5]
        if withDelta { u.append(0.5) }
        return u
    }

    func law(_ theta: [Double]) -> EmergenceLaw {
        EmergenceLaw(form: form, k: theta[Self.k], alpha: theta[Self.alpha], C: theta[Self.c])
    }

    /// E* = E_θ(D0), the prediction.
    func prediction(_ theta: [Double]) -> Double {
        law(theta).elbow(at: data.d0)
    }

    /// Elbows per group, written into `elbows` (count = groups).
    @inline(__always)
    func elbows(_ theta: [Double], into elbows: inout [Double]) {
        let k = theta[Self.k], alpha = theta[Self.alpha], c = theta[Self.c]
        for g in 0..<data.groupD.count {
            elbows[g] = k * EmergenceLaw.basis(form, alpha: alpha, d: data.groupD[g]) + c
        }
    }

    /// The mean μ_i of every row.
    func mean(_ theta: [Double]) -> [Double] {
        var e = [Double](repeating: 0, count: data.groupD.count)
        elbows(theta, into: &e)
        let a = theta[Self.a], b = theta[Self.b], d = withDelta ? theta[Self.delta] : 0
        return (0..<data.count).map { i in
            b + d * data.fewShot[i] + a * max(e[data.group[i]] - data.x[i], 0)
        }
    }

    /// Σ (y_i − μ_i)² under the exact ReLU, without allocating: the MCMC's and the bootstrap's hot path.
    func rss(_ theta: UnsafeBufferPointer<Double>) -> Double {
        let k = theta[Self.k], alpha = theta[Self.alpha], c = theta[Self.c]
        let a = theta[Self.a], b = theta[Self.b], d = withDelta ? theta[Self.delta] : 0
        let groups = data.groupD.count
        return withUnsafeTemporaryAllocation(of: Double.self, capacity: groups) { e in
            let logBasis = form == .logPower ? data.groupLogLogD : data.groupLogD
            for g in 0..<groups { e[g] = k * exp(alpha * logBasis[g]) + c }
            var s = 0.0
            data.x.withUnsafeBufferPointer { x in
            data.y.withUnsafeBufferPointer { y in
            data.group.withUnsafeBufferPointer { grp in
            data.fewShot.withUnsafeBufferPointer { fs in
                if let multiplicity {
                    // Σ c_i (y_i − μ_i)², c_i the row's count in a resample.
                    for i in 0..<x.count {
                        let z = e[grp[i]] - x[i]
                        let r = y[i] - (b + d * fs[i] + (z > 0 ? a * z : 0))
                        s += multiplicity[i] * (r * r)
                    }
                    return
                }
                for i in 0..<x.count {
                    let z = e[grp[i]] - x[i]
                    let r = y[i] - (b + d * fs[i] + (z > 0 ? a * z : 0))
                    s += r * r
                }
            }}}}
            return s
        }
    }

    /// Weighted residuals r_i = w_i (y_i − μ_i) and, if asked, their Jacobian ∂r/∂θ (row-major, m × p).
    /// `weights` nil means all ones. The ReLU's derivative is taken as 0 at the kink.
    func residuals(_ theta: [Double], weights: [Double]?, r: inout [Double], jacobian: UnsafeMutablePointer<Double>?) {
        if let weights {
            weights.withUnsafeBufferPointer { residuals(theta, wp: $0.baseAddress, r: &r, jacobian: jacobian) }
        } else {
            residuals(theta, wp: nil, r: &r, jacobian: jacobian)
        }
    }

    /// h = ReLU(z) (or, when τ > 0, its softplus) and h' its slope.
    @inline(__always)
    static func activation(_ z: Double, _ tau: Double) -> (h: Double, slope: Double) {
        if tau > 0 && abs(z) < 35 * tau {
            // softplus = max(z, 0) + τ·ln(1 + e^(−|z|/τ)); slope = logistic(z/τ).
            // Beyond 35τ both equal the ReLU's to double precision, so most rows skip exp.
            let e = exp(-abs(z) / tau)
            return (max(z, 0) + tau * log1p(e), z >= 0 ? 1 / (1 + e) : e / (1 + e))
        }
        return z > 0 ? (z, 1) : (0, 0)
    }

    private func residuals(_ theta: [Double], wp: UnsafePointer<Double>?, r: inout [Double], jacobian: UnsafeMutablePointer<Double>?) {
        let groups = data.groupD.count
        let p = parameterCount
        let k = theta[Self.k], alpha = theta[Self.alpha], c = theta[Self.c]
        let a = theta[Self.a], b = theta[Self.b], d = withDelta ? theta[Self.delta] : 0
        let tau = temperature
        // Per group: E, ∂E/∂k = g, ∂E/∂α = k·∂g/∂α.
        withUnsafeTemporaryAllocation(of: Double.self, capacity: 3 * groups) { scratch in
        // No groups means no rows (FitData puts every row in a group): nothing to compute.
        guard let e = scratch.baseAddress else { return }
        let dk = e + groups, dAlpha = e + 2 * groups
        let logBasis = form == .logPower ? data.groupLogLogD : data.groupLogD
        for g in 0..<groups {
            // g(D) = exp(α·L), ∂g/∂α = g·L with L = ln ln D (log power) or ln D (power).
            let basis = exp(alpha * logBasis[g])
            e[g] = k * basis + c
            dk[g] = basis
            dAlpha[g] = basis > 0 ? k * basis * logBasis[g] : 0
        }
        r.withUnsafeMutableBufferPointer { r in
        data.x.withUnsafeBufferPointer { x in
        data.y.withUnsafeBufferPointer { y in
        data.group.withUnsafeBufferPointer { grp in
        data.fewShot.withUnsafeBufferPointer { fs in
            // Two loops, so that the trial points of LM (residuals only, most evaluations) skip the
            // Jacobian's branches and stores; the arithmetic of r is the same in both.
            guard let J = jacobian else {
                for i in 0..<x.count {
                    let h = Self.activation(e[grp[i]] - x[i], tau).h
                    let mu = b + d * fs[i] + a * h
                    let w = wp.map { $0[i] } ?? 1
                    r[i] = w * (y[i] - mu)
                }
                return
            }
            for i in 0..<x.count {
                let g = grp[i]
                let (h, slope) = Self.activation(e[g] - x[i], tau)
                let mu = b + d * fs[i] + a * h
                let w = wp.map { $0[i] } ?? 1
                r[i] = w * (y[i] - mu)
                let row = J + i * p
                // r = w (y − μ) ⇒ ∂r/∂θ = −w ∂μ/∂θ.
                if slope > 0 {
                    let s = w * a * slope
                    row[Self.k] = -s * dk[g]
                    row[Self.alpha] = -s * dAlpha[g]
                    row[Self.c] = -s
                    row[Self.a] = -w * h
                } else {
                    row[Self.k] = 0; row[Self.alpha] = 0; row[Self.c] = 0; row[Self.a] = 0
                }
                row[Self.b] = -w
                if p == 6 { row[Self.delta] = -w * fs[i] }
            }
        }}}}}
        }
    }
}
