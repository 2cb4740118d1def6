import Foundation

/// The emergence model's Levenberg–Marquardt passes split so that no row's activation is computed
/// twice, and a trial point that is going to be rejected is abandoned early.
///
/// LM evaluates a trial point θ' (its residuals and Σr²) and, when the step is accepted, the normal
/// equations at that same θ'. Computed separately (EmergenceLaw.residuals, then
/// EmergenceModel.normalEquations) the second pass recomputed every row's softplus (an exp and a
/// log1p within 35τ of the kink) and residual. Here the trial pass leaves behind, per row, the
/// activation h_i and its slope s_i (and per group the basis g_G), and the normal equations are
/// summed from those and the trial's residuals.
///
/// The arithmetic is operation for operation that of the two separate passes (same expressions, same
/// order of summation), so the answers are bit-identical (`FastFitEquivalenceTests`).
///
/// Early exit: the terms of Σr² are ≥ 0 and rounding is monotone, so the partial sum never
/// decreases; once it reaches the current cost the step would be rejected whatever the other rows
/// hold, and the pass stops there (a rejected trial's residuals and cache are never read).
extension EmergenceModel {
    /// The cache a trial leaves behind: h_i for each of `rows` rows, then their s_i, then g_G for each group.
    static func trialCacheCount(rows: Int, groups: Int) -> Int { 2 * rows + groups }

    /// Residuals r_i = w_i (y_i − μ_i) at θ into `r`, the rows' activations and slopes and the groups'
    /// bases into `cache`, and Σ r_i², summed in row order. Stops as soon as the partial sum is
    /// ≥ `bound` and returns it (then `r` and `cache` are partly written).
    func trialPass(_ theta: [Double], wp: UnsafePointer<Double>?, r: UnsafeMutablePointer<Double>,
                   cache: UnsafeMutablePointer<Double>, bound: Double) -> Double {
        let groups = data.groupD.count
        let k = theta[Self.k], alpha = theta[Self.alpha], c = theta[Self.c]
        let a = theta[Self.a], b = theta[Self.b], d = withDelta ? theta[Self.delta] : 0
        let tau = temperature
        let m = data.count
        // Separate runs for h and s: plain strides, no index arithmetic per row.
        let hOut = cache, slopeOut = cache + m, basisOut = cache + 2 * m
        return withUnsafeTemporaryAllocation(of: Double.self, capacity: groups) { scratch -> Double in
            // No groups means no rows (FitData puts every row in a group): Σr² of nothing.
            guard let e = scratch.baseAddress else { return 0 }
            let logBasis = form == .logPower ? data.groupLogLogD : data.groupLogD
            for g in 0..<groups {
                // g(D) = exp(α·L), L = ln ln D (log power) or ln D (power); E = k·g + C.
                let basis = exp(alpha * logBasis[g])
                e[g] = k * basis + c
                basisOut[g] = basis
            }
            var s = 0.0
            data.x.withUnsafeBufferPointer { x in
            data.y.withUnsafeBufferPointer { y in
            data.group.withUnsafeBufferPointer { grp in
            data.fewShot.withUnsafeBufferPointer { fs in
                @inline(__always) func row(_ i: Int, _ h: Double, _ slope: Double) -> Bool {
                    let mu = b + d * fs[i] + a * h
                    let w = wp.map { $0[i] } ?? 1
                    let ri = w * (y[i] - mu)
                    r[i] = ri
                    hOut[i] = h
                    slopeOut[i] = slope
                    s += ri * ri
                    return s >= bound
                }
                // Two loops: the exact ReLU's calls no exp.
                if tau > 0 {
                    for i in 0..<x.count {
                        let (h, slope) = Self.activation(e[grp[i]] - x[i], tau)
                        if row(i, h, slope) { return }
                    }
                } else {
                    for i in 0..<x.count {
                        let z = e[grp[i]] - x[i]
                        if row(i, z > 0 ? z : 0, z > 0 ? 1 : 0) { return }
                    }
                }
            }}}}
            return s
        }
    }

    /// JᵀJ and Jᵀr at the θ of the last complete `trialPass`, from its residuals and cache: the sums
    /// of EmergenceNormalEquations.swift (see there for the algebra), without recomputing a row.
    func cachedNormalEquations(_ theta: [Double], wp: UnsafePointer<Double>?, r: UnsafePointer<Double>,
                               cache: UnsafePointer<Double>,
                               jtj: UnsafeMutablePointer<Double>, jtr: UnsafeMutablePointer<Double>) {
        let groups = data.groupD.count
        let p = parameterCount
        let k = theta[Self.k]
        let a = theta[Self.a]
        let m = data.count
        let hIn = cache, slopeIn = cache + m, basisIn = cache + 2 * m
        for i in 0..<(p * p) { jtj[i] = 0 }
        for j in 0..<p { jtr[j] = 0 }
        withUnsafeTemporaryAllocation(of: Double.self, capacity: 7 * groups) { scratch in
        guard let dk = scratch.baseAddress else { return }
        let dAlpha = dk + groups
        let uu = dk + 2 * groups, uh = dk + 3 * groups, uw = dk + 4 * groups, uf = dk + 5 * groups, ur = dk + 6 * groups
        let logBasis = form == .logPower ? data.groupLogLogD : data.groupLogD
        for g in 0..<groups {
            let basis = basisIn[g]
            dk[g] = basis
            dAlpha[g] = basis > 0 ? k * basis * logBasis[g] : 0
            uu[g] = 0; uh[g] = 0; uw[g] = 0; uf[g] = 0; ur[g] = 0
        }
        var hh = 0.0, hw = 0.0, hf = 0.0, ww = 0.0, wf = 0.0, ff = 0.0, hr = 0.0, wr = 0.0, fr = 0.0
        data.group.withUnsafeBufferPointer { grp in
        data.fewShot.withUnsafeBufferPointer { fs in
            for i in 0..<m {
                let g = grp[i]
                let h = hIn[i], slope = slopeIn[i]
                let f = fs[i]
                let w = wp.map { $0[i] } ?? 1
                let ri = r[i]
                let wh = w * h, wfi = w * f
                hh += wh * wh; hw += wh * w; hf += wh * wfi
                ww += w * w; wf += w * wfi; ff += wfi * wfi
                hr += wh * ri; wr += w * ri; fr += wfi * ri
                if slope > 0 {
                    let u = w * a * slope
                    uu[g] += u * u; uh[g] += u * wh; uw[g] += u * w; uf[g] += u * wfi; ur[g] += u * ri
                }
            }
        }}
        Self.assembleNormalEquations(p: p, groups: groups, dk: dk, dAlpha: dAlpha,
                                     uu: uu, uh: uh, uw: uw, uf: uf, ur: ur,
                                     global: (hh, hw, hf, ww, wf, ff, hr, wr, fr), jtj: jtj, jtr: jtr)
        }
    }
}
