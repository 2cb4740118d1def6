/// The normal equations of Levenberg–Marquardt, JᵀJ and Jᵀr, from a row-major Jacobian (m × p):
///
///     (JᵀJ)_jl = Σ_i J_ij J_il,    (Jᵀr)_j = Σ_i J_ij r_i.
///
/// Both kernels add the rows up in order and skip a row's products with an entry J_ij = 0 (zeros in
/// J are structural: rows below the ReLU's kink have no slope in k, α, C, A), so each sum is formed
/// by the same additions in the same order in either kernel and the results are bit-identical.
enum NormalEquationsKernel {
    /// Any p: loops. For p this small a compiler vectorises the inner loop poorly (runtime alias
    /// checks and remainder loops around a handful of products), which made this the fit's hot spot.
    static func general(_ J: UnsafePointer<Double>, _ r: UnsafePointer<Double>, m: Int, p: Int,
                        jtj a: UnsafeMutablePointer<Double>, jtr g: UnsafeMutablePointer<Double>) {
        for i in 0..<(p * p) { a[i] = 0 }
        for j in 0..<p { g[j] = 0 }
        for i in 0..<m {
            let row = J + i * p
            let ri = r[i]
            for j in 0..<p {
                let v = row[j]
                if v == 0 { continue }
                g[j] += v * ri
                let aj = a + j * p
                for l in j..<p { aj[l] += v * row[l] }
            }
        }
        for j in 0..<p { for l in 0..<j { a[j * p + l] = a[l * p + j] } }
    }

    /// p = 6, the emergence model with Δ: the 21 sums of the upper triangle and the 6 of Jᵀr are held
    /// in locals for the whole pass (the loop above keeps them in memory and reloads them per row).
    static func six(_ J: UnsafePointer<Double>, _ r: UnsafePointer<Double>, m: Int,
                    jtj a: UnsafeMutablePointer<Double>, jtr g: UnsafeMutablePointer<Double>) {
        var a00 = 0.0, a01 = 0.0, a02 = 0.0, a03 = 0.0, a04 = 0.0, a05 = 0.0
        var a11 = 0.0, a12 = 0.0, a13 = 0.0, a14 = 0.0, a15 = 0.0
        var a22 = 0.0, a23 = 0.0, a24 = 0.0, a25 = 0.0
        var a33 = 0.0, a34 = 0.0, a35 = 0.0
        var a44 = 0.0, a45 = 0.0
        var a55 = 0.0
        var g0 = 0.0, g1 = 0.0, g2 = 0.0, g3 = 0.0, g4 = 0.0, g5 = 0.0
        for i in 0..<m {
            let row = J + i * 6
            let ri = r[i]
            let v0 = row[0], v1 = row[1], v2 = row[2], v3 = row[3], v4 = row[4], v5 = row[5]
            if v0 != 0 {
                g0 += v0 * ri
                a00 += v0 * v0; a01 += v0 * v1; a02 += v0 * v2; a03 += v0 * v3; a04 += v0 * v4; a05 += v0 * v5
            }
            if v1 != 0 {
                g1 += v1 * ri
                a11 += v1 * v1; a12 += v1 * v2; a13 += v1 * v3; a14 += v1 * v4; a15 += v1 * v5
            }
            if v2 != 0 {
                g2 += v2 * ri
                a22 += v2 * v2; a23 += v2 * v3; a24 += v2 * v4; a25 += v2 * v5
            }
            if v3 != 0 {
                g3 += v3 * ri
                a33 += v3 * v3; a34 += v3 * v4; a35 += v3 * v5
            }
            if v4 != 0 {
                g4 += v4 * ri
                a44 += v4 * v4; a45 += v4 * v5
            }
            if v5 != 0 {
                g5 += v5 * ri
                a55 += v5 * v5
            }
        }
        a[0] = a00; a[1] = a01; a[2] = a02; a[3] = a03; a[4] = a04; a[5] = a05
        a[7] = a11; a[8] = a12; a[9] = a13; a[10] = a14; a[11] = a15
        a[14] = a22; a[15] = a23; a[16] = a24; a[17] = a25
        a[21] = a33; a[22] = a34; a[23] = a35
        a[28] = a44; a[29] = a45
        a[35] = a55
        for j in 0..<6 { for l in 0..<j { a[j * 6 + l] = a[l * 6 + j] } }
        g[0] = g0; g[1] = g1; g[2] = g2; g[3] = g3; g[4] = g4; g[5] = g5
    }
}
