import Foundation

extension EmergenceModel {
    /// The Gaussian log-likelihood with the checkpoints' loss measurement noise in it (docs/method.md
    /// §5.3), up to a constant:
    ///
    ///     log L = −½ Σ_i [ ln v_i + r_i²/v_i ],   v_i = σ² + (A·1{E_θ(D_i) > x_i})²·σ_x²
    ///
    /// A row past its elbow has mean B + A·(E − x): a loss measured ε off moves it by A·ε, so its
    /// variance gains A²σ_x²; a row at the floor does not move. This is the first-order
    /// errors-in-variables likelihood, rows taken as independent (the rows of one checkpoint share
    /// their ε; that correlation is left out). With σ_x = 0 it is −n·ln σ − RSS/(2σ²).
    func gaussianLogLikelihood(_ theta: UnsafeBufferPointer<Double>, sigma: Double, lossSD: Double) -> Double {
        let k = theta[Self.k], alpha = theta[Self.alpha], c = theta[Self.c]
        let a = theta[Self.a], b = theta[Self.b], d = withDelta ? theta[Self.delta] : 0
        let groups = data.groupD.count
        let floorVariance = sigma * sigma, liftedVariance = sigma * sigma + a * a * lossSD * lossSD
        let logFloor = log(floorVariance), logLifted = log(liftedVariance)
        return withUnsafeTemporaryAllocation(of: Double.self, capacity: groups) { e in
            let logBasis = form == .logPower ? data.groupLogLogD : data.groupLogD
            for g in 0..<groups { e[g] = k * exp(alpha * logBasis[g]) + c }
            var s = 0.0
            for i in 0..<data.count {
                let z = e[data.group[i]] - data.x[i]
                let r = data.y[i] - (b + d * data.fewShot[i] + (z > 0 ? a * z : 0))
                let count = multiplicity?[i] ?? 1
                s += z > 0 ? count * (logLifted + r * r / liftedVariance) : count * (logFloor + r * r / floorVariance)
            }
            return -s / 2
        }
    }
}
