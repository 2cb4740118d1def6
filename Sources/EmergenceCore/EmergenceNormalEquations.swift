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

    /// One pass over the rows in the two halves the cached solver uses (EmergenceTrialPass.swift): the
    /// trial pass writes r and each row's activation and slope, and the normal equations are summed
    /// from them. The same arithmetic, so the same bits, as the cached path; this entry point serves
    /// the solver's path without a cache (a fit with an α prior, and the equivalence tests).
    private func normalEquations(_ theta: [Double], wp: UnsafePointer<Double>?, r: inout [Double],
                                 jtj: UnsafeMutablePointer<Double>, jtr: UnsafeMutablePointer<Double>) {
        let count = Self.trialCacheCount(rows: data.count, groups: data.groupD.count)
        withUnsafeTemporaryAllocation(of: Double.self, capacity: max(count, 1)) { cache in
            guard let c = cache.baseAddress else { return }
            r.withUnsafeMutableBufferPointer { rb in
                guard let rp = rb.baseAddress else {
                    // No rows: JᵀJ and Jᵀr are zero.
                    for i in 0..<(parameterCount * parameterCount) { jtj[i] = 0 }
                    for j in 0..<parameterCount { jtr[j] = 0 }
                    return
                }
                _ = trialPass(theta, wp: wp, r: rp, cache: c, bound: .infinity)
                cachedNormalEquations(theta, wp: wp, r: UnsafePointer(rp), cache: UnsafePointer(c), jtj: jtj, jtr: jtr)
            }
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
