import Foundation

/// The measurement noise of the checkpoints' pretraining losses, estimated from the data themselves
/// (docs/method.md §5.2).
///
/// Within one model, loss falls smoothly as training goes on, so a checkpoint's loss is predicted
/// well by straight-line interpolation (in ln compute) between its two neighbours; what is left is
/// measurement noise. This is the difference-based estimator of Gasser, Sroka & Jennen-Steinmetz
/// (1986, "Residual variance and residual pattern in nonlinear regression", Biometrika 73): for
/// neighbours at t₋ < t < t₊ with w = (t₊ − t)/(t₊ − t₋),
///
///     r = x − (w·x₋ + (1 − w)·x₊),     Var r = σ²·(1 + w² + (1 − w)²)
///
/// so r/√(1 + w² + (1 − w)²) has SD σ. The pseudo-residuals of every model are pooled and σ is taken
/// robustly, as 1.4826 × their median absolute value (a few checkpoints early in training, where
/// the curve bends, should not set it). The curvature of a real loss curve adds to r; at the
/// checkpoint spacings of the shipped studies (×1.3–2 in compute) that is a few thousandths of a nat.
public enum LossNoise {
    /// σ̂ in nats, or nil with fewer than `minimumResiduals` pseudo-residuals (no model with three
    /// checkpoints of known compute or tokens).
    public static func estimate(_ rows: [Evaluation]) -> Double? {
        // One (model, ln t, loss) per checkpoint; t is the compute, or the tokens where compute is unknown.
        var seen = Set<String>()
        var byModel: [String: [(t: Double, x: Double)]] = [:]
        for e in rows where seen.insert(e.checkpoint).inserted {
            guard let x = e.pretrainLossIfGiven, x.isFinite,
                  let t = e.effectiveFlops ?? e.tokens, t > 0, t.isFinite else { continue }
            let model = e.model ?? e.parameters.map { "\($0)" } ?? ""
            byModel[model, default: []].append((log(t), x))
        }
        var residuals: [Double] = []
        for points in byModel.values {
            let sorted = points.sorted { $0.t < $1.t }
            guard sorted.count >= 3 else { continue }
            for i in 1..<(sorted.count - 1) {
                let lo = sorted[i - 1], mid = sorted[i], hi = sorted[i + 1]
                let span = hi.t - lo.t
                guard span > 0, mid.t > lo.t, mid.t < hi.t else { continue }
                let w = (hi.t - mid.t) / span
                let r = mid.x - (w * lo.x + (1 - w) * hi.x)
                residuals.append(abs(r) / (1 + w * w + (1 - w) * (1 - w)).squareRoot())
            }
        }
        guard residuals.count >= minimumResiduals else { return nil }
        residuals.sort()
        let n = residuals.count
        let median = n % 2 == 1 ? residuals[n / 2] : (residuals[n / 2 - 1] + residuals[n / 2]) / 2
        let sigma = 1.4826 * median
        return sigma.isFinite ? sigma : nil
    }

    /// Fewer pseudo-residuals than this say too little about σ to act on.
    public static let minimumResiduals = 3
}
