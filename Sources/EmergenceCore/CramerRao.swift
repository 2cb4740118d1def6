import Foundation

/// The Cramér–Rao standard deviation of E* for one study: the smallest SD any unbiased estimator of
/// E* can have from that study's design, at its true parameters. Calibration divides each study's
/// error by it, so a design that cannot pin E* is not held against the engine (and one that can, is).
///
/// Each row i has mean μ_i(θ) = B + Δ·fewShot_i + A·max(E_θ(D_i) − x_i, 0) with θ = (k, α, C, A, B, Δ)
/// and variance v_i = μ_i(1 − μ_i)/n_i (+ σ_s² for finetuned rows, the run-to-run variance). With
/// independent, approximately normal rows the Fisher information is
///
///     I(θ) = Σ_i ∇μ_i ∇μ_iᵀ / v_i,
///
/// and for E* = k·g(D0) + C, with ∇E* = (g(D0), k·∂g/∂α(D0), 1, 0, 0, 0),
///
///     SD_CR(E*) = sqrt(∇E*ᵀ I(θ)⁻¹ ∇E*).
///
/// The measured losses x_i are treated as known (the bound is conditional on them). nil when I(θ)
/// is (near) singular (e.g. no row above the floor: E* is then not estimable at all).
public enum CramerRao {
    public static func emergenceLossSD(truth: SimulationTruth, rows: [Evaluation], subsetNoise: Double) -> Double? {
        let form = truth.form
        let d0 = truth.D0
        let p = 6
        var info = [Double](repeating: 0, count: p * p)
        for r in rows {
            let fewShot = r.setting == .fewShot
            let d = fewShot ? d0 : (r.finetuneExamples ?? d0)
            guard d > 1 else { continue }
            let g = EmergenceLaw.basis(form, alpha: truth.alpha, d: d)
            let elbow = truth.k * g + truth.C
            let gap = elbow - r.pretrainLoss
            let mu = truth.B + (fewShot ? truth.delta : 0) + truth.A * max(gap, 0)
            let q = min(max(mu, 0.005), 0.995)
            let n = Double(r.nQuestions ?? 1000)
            let v = q * (1 - q) / n + (fewShot ? 0 : subsetNoise * subsetNoise)
            var grad = [Double](repeating: 0, count: p)
            if gap > 0 {
                grad[0] = truth.A * g
                grad[1] = truth.A * truth.k * EmergenceLaw.basisSlope(form, alpha: truth.alpha, d: d)
                grad[2] = truth.A
                grad[3] = gap
            }
            grad[4] = 1
            grad[5] = fewShot ? 1 : 0
            for a in 0..<p { for b in 0..<p { info[a * p + b] += grad[a] * grad[b] / v } }
        }
        let e = [EmergenceLaw.basis(form, alpha: truth.alpha, d: d0),
                 truth.k * EmergenceLaw.basisSlope(form, alpha: truth.alpha, d: d0), 1, 0, 0, 0]
        var factor = info
        guard let x = LevenbergMarquardt.choleskySolve(&factor, e, n: p) else { return nil }
        let variance = zip(e, x).map(*).reduce(0, +)
        // A (near) singular I(θ) factors with a vanishing pivot and a variance beyond any loss scale:
        // E* is then not estimable from this design.
        guard variance > 0, variance.isFinite, variance < 1e6 else { return nil }
        return sqrt(variance)
    }
}
