import Foundation

/// The Levenberg–Marquardt normal equations of the emergence model, summed straight from the rows
/// by data-amount group, without forming the m × p Jacobian.
///
/// With weights w_i, slope s_i = h'(z_i) of the ReLU (or softplus), u_i = w_i·A·s_i and h_i the
/// activation, the Jacobian's row i is (EmergenceLaw.swift)
///
///     ∂r_i/∂θ = −( u_i·g_G, u_i·k·∂g_G/∂α, u_i, w_i·h_i, w_i, w_i·f_i )     (θ = k, α, C, A, B, Δ)
///
/// where G is the row's group (its data amount): the first three entries share the factor u_i and
/// differ only by per-group constants. So the sums over rows collapse to five per-group sums
/// (Σu², Σu·wh, Σu·w, Σu·wf, Σu·r) and nine global ones (Σ(wh)², Σwh·w, …, Σwf·r), about 14
/// products a row instead of the 27 of JᵀJ and Jᵀr, and no stores of J:
///
///     (JᵀJ)_kk = Σ_G g_G² Σ_{i∈G} u_i²,   (JᵀJ)_kA = Σ_G g_G Σ_{i∈G} u_i w_i h_i,   (Jᵀr)_k = −Σ_G g_G Σ_{i∈G} u_i r_i, …
///
/// The sums are the same as JᵀJ's up to rounding (they are associated differently).
extension EmergenceModel {
    func normalEquations(_ theta: [Double], weights: [Double]?, r: inout [Double],
                         jtj: UnsafeMutablePointer<Double>, jtr: UnsafeMutablePointer<Double>) {
        if let weights {
            weights.withUnsafeBufferPointer { normalEquations(theta, wp: $0.baseAddress, r: &r, jtj: jtj, jtr: jtr) }
        } else {
            normalEquations(theta, wp: nil, r: &r, jtj: jtj, jtr: jtr)
        }
    }

    private func normalEquations(_ theta: [Double], wp: UnsafePointer<Double>?, r: inout [Double],
                                 jtj: UnsafeMutablePointer<Double>, jtr: UnsafeMutablePointer<Double>) {
        let groups = data.groupD.count
        let p = parameterCount
        let k = theta[Self.k], alpha = theta[Self.alpha], c = theta[Self.c]
        let a = theta[Self.a], b = theta[Self.b], d = withDelta ? theta[Self.delta] : 0
        let tau = temperature
        for i in 0..<(p * p) { jtj[i] = 0 }
        for j in 0..<p { jtr[j] = 0 }
        // Per group: E, ∂E/∂k, ∂E/∂α, then the five sums over the group's rows.
        withUnsafeTemporaryAllocation(of: Double.self, capacity: 8 * groups) { scratch in
        guard let e = scratch.baseAddress else { return }
        let dk = e + groups, dAlpha = e + 2 * groups
        let uu = e + 3 * groups, uh = e + 4 * groups, uw = e + 5 * groups, uf = e + 6 * groups, ur = e + 7 * groups
        let logBasis = form == .logPower ? data.groupLogLogD : data.groupLogD
        for g in 0..<groups {
            let basis = exp(alpha * logBasis[g])
            e[g] = k * basis + c
            dk[g] = basis
            dAlpha[g] = basis > 0 ? k * basis * logBasis[g] : 0
            uu[g] = 0; uh[g] = 0; uw[g] = 0; uf[g] = 0; ur[g] = 0
        }
        var hh = 0.0, hw = 0.0, hf = 0.0, ww = 0.0, wf = 0.0, ff = 0.0, hr = 0.0, wr = 0.0, fr = 0.0
        r.withUnsafeMutableBufferPointer { r in
        data.x.withUnsafeBufferPointer { x in
        data.y.withUnsafeBufferPointer { y in
        data.group.withUnsafeBufferPointer { grp in
        data.fewShot.withUnsafeBufferPointer { fs in
            @inline(__always) func add(_ i: Int, _ g: Int, _ h: Double, _ slope: Double) {
                let f = fs[i]
                let w = wp.map { $0[i] } ?? 1
                let ri = w * (y[i] - (b + d * f + a * h))
                r[i] = ri
                let wh = w * h, wfi = w * f
                hh += wh * wh; hw += wh * w; hf += wh * wfi
                ww += w * w; wf += w * wfi; ff += wfi * wfi
                hr += wh * ri; wr += w * ri; fr += wfi * ri
                if slope > 0 {
                    let u = w * a * slope
                    uu[g] += u * u; uh[g] += u * wh; uw[g] += u * w; uf[g] += u * wfi; ur[g] += u * ri
                }
            }
            // Two loops: the exact ReLU's calls no exp, so its sums can stay in registers.
            if tau > 0 {
                for i in 0..<x.count {
                    let g = grp[i]
                    let (h, slope) = Self.activation(e[g] - x[i], tau)
                    add(i, g, h, slope)
                }
            } else {
                for i in 0..<x.count {
                    let g = grp[i]
                    let z = e[g] - x[i]
                    add(i, g, z > 0 ? z : 0, z > 0 ? 1 : 0)
                }
            }
        }}}}}
        Self.assembleNormalEquations(p: p, groups: groups, dk: dk, dAlpha: dAlpha,
                                     uu: uu, uh: uh, uw: uw, uf: uf, ur: ur,
                                     global: (hh, hw, hf, ww, wf, ff, hr, wr, fr), jtj: jtj, jtr: jtr)
        }
    }

    /// JᵀJ (upper triangle, row-major p × p, then mirrored) and Jᵀr from the per-group sums and the
    /// nine global ones; `jtj` and `jtr` must be zero on entry.
    static func assembleNormalEquations(p: Int, groups: Int, dk: UnsafePointer<Double>, dAlpha: UnsafePointer<Double>,
                                        uu: UnsafePointer<Double>, uh: UnsafePointer<Double>, uw: UnsafePointer<Double>,
                                        uf: UnsafePointer<Double>, ur: UnsafePointer<Double>,
                                        global: (hh: Double, hw: Double, hf: Double, ww: Double, wf: Double, ff: Double,
                                                 hr: Double, wr: Double, fr: Double),
                                        jtj: UnsafeMutablePointer<Double>, jtr: UnsafeMutablePointer<Double>) {
        let (hh, hw, hf, ww, wf, ff, hr, wr, fr) = global
        let K = Self.k, L = Self.alpha, C = Self.c, A = Self.a, B = Self.b, D = Self.delta
        for g in 0..<groups where uu[g] != 0 || uh[g] != 0 || uw[g] != 0 || uf[g] != 0 || ur[g] != 0 {
            let gk = dk[g], ga = dAlpha[g]
            jtj[K * p + K] += gk * gk * uu[g]
            jtj[K * p + L] += gk * ga * uu[g]
            jtj[K * p + C] += gk * uu[g]
            jtj[L * p + L] += ga * ga * uu[g]
            jtj[L * p + C] += ga * uu[g]
            jtj[C * p + C] += uu[g]
            jtj[K * p + A] += gk * uh[g]
            jtj[L * p + A] += ga * uh[g]
            jtj[C * p + A] += uh[g]
            jtj[K * p + B] += gk * uw[g]
            jtj[L * p + B] += ga * uw[g]
            jtj[C * p + B] += uw[g]
            jtr[K] -= gk * ur[g]
            jtr[L] -= ga * ur[g]
            jtr[C] -= ur[g]
            if p == 6 {
                jtj[K * p + D] += gk * uf[g]
                jtj[L * p + D] += ga * uf[g]
                jtj[C * p + D] += uf[g]
            }
        }
        jtj[A * p + A] = hh; jtj[A * p + B] = hw; jtj[B * p + B] = ww
        jtr[A] = -hr; jtr[B] = -wr
        if p == 6 {
            jtj[A * p + D] = hf; jtj[B * p + D] = wf; jtj[D * p + D] = ff
            jtr[D] = -fr
        }
        for j in 0..<p { for l in 0..<j { jtj[j * p + l] = jtj[l * p + j] } }
    }
}
