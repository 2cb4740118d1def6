import Foundation

/// The Cramér–Rao standard deviation of E* for one study: the smallest SD any unbiased estimator of
/// E* can have from that study's design, at its true parameters. Calibration divides each study's
/// error by it, so a design that cannot pin E* is not held against the engine (and one that can, is).
///
/// Each row i has mean μ_i(θ, x) = B + Δ·fewShot_i + A·max(E_θ(D_i) − x_{c(i)}, 0) with
/// θ = (k, α, C, A, B, Δ) and variance v_i = μ_i(1 − μ_i)/n_i (+ σ_s² for finetuned rows, the
/// run-to-run variance). The pretraining loss x_c of checkpoint c is itself only measured,
/// x̃_c = x_c + ε_c with ε_c ~ N(0, σ_L²), and every row of the checkpoint shares it. So the true
/// losses are nuisance parameters beside θ (errors in variables), and with independent,
/// approximately normal observations the Fisher information of (θ, x) is
///
///     I_θθ = Σ_i ∇_θμ_i ∇_θμ_iᵀ / v_i
///     I_θc = Σ_{i∈c} ∇_θμ_i · ∂μ_i/∂x_c / v_i,       ∂μ_i/∂x_c = −A when E_θ(D_i) > x_c, else 0
///     I_cc = 1/σ_L² + Σ_{i∈c} (∂μ_i/∂x_c)² / v_i       (diagonal: a row sees one checkpoint's loss)
///
/// Eliminating the losses (the Schur complement) leaves θ's efficient information
///
///     I*(θ) = I_θθ − Σ_c I_θc I_θcᵀ / I_cc,
///
/// and for E* = k·g(D0) + C, with ∇E* = (g(D0), k·∂g/∂α(D0), 1, 0, 0, 0),
///
///     SD_CR(E*) = sqrt(∇E*ᵀ I*(θ)⁻¹ ∇E*).
///
/// With σ_L = 0 the losses are known and I* = I_θθ. The bound is evaluated at the measured losses (the
/// true ones are not in the rows). nil when I*(θ) is (near) singular (e.g. no row above the floor: E*
/// is then not estimable at all).
public enum CramerRao {
    public static func emergenceLossSD(truth: SimulationTruth, rows: [Evaluation], subsetNoise: Double,
                                       lossNoise: Double) -> Double? {
        let form = truth.form
        let d0 = truth.D0
        let p = 6
        var info = [Double](repeating: 0, count: p * p)
        // Per checkpoint, in the order first seen (a dictionary's order changes from run to run, and
        // with it the last bits of the sums below): I_cc without the measurement's own 1/σ_L², and
        // the column I_θc.
        var losses: [(cc: Double, column: [Double])] = []
        var slot: [String: Int] = [:]
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
            guard lossNoise > 0, gap > 0 else { continue }
            let dx = -truth.A
            let key = (r.model ?? "") + "\u{1F}" + r.checkpoint
            let j: Int
            if let known = slot[key] { j = known } else {
                j = losses.count
                slot[key] = j
                losses.append((0, [Double](repeating: 0, count: p)))
            }
            losses[j].cc += dx * dx / v
            for a in 0..<p { losses[j].column[a] += grad[a] * dx / v }
        }
        for entry in losses {
            let cc = entry.cc + 1 / (lossNoise * lossNoise)
            for a in 0..<p { for b in 0..<p { info[a * p + b] -= entry.column[a] * entry.column[b] / cc } }
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
