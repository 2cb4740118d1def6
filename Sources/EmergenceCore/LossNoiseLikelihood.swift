import Foundation

extension EmergenceModel {
    /// The Gaussian log-likelihood with the checkpoints' loss measurement noise and the finetuning
    /// runs' own scatter in it (docs/method.md §5.3), up to a constant:
    ///
    ///     log L = −½ Σ_i [ ln v_i + r_i²/v_i ],
    ///     v_i = σ² + τ²·1{finetuned} + (A·1{E_θ(D_i) > x_i})²·σ_x²
    ///
    /// A row past its elbow has mean B + A·(E − x): a loss measured ε off moves it by A·ε, so its
    /// variance gains A²σ_x²; a row at the floor does not move. This is the first-order
    /// errors-in-variables likelihood, rows taken as independent (the rows of one checkpoint share
    /// their ε; that correlation is left out). τ² is the run-to-run variance of finetuned rows
    /// (RunNoise), which few-shot rows do not have. With σ_x = τ = 0 it is −n·ln σ − RSS/(2σ²).
    func gaussianLogLikelihood(_ theta: UnsafeBufferPointer<Double>, sigma: Double, lossSD: Double,
                               runSD: Double = 0) -> Double {
        let k = theta[Self.k], alpha = theta[Self.alpha], c = theta[Self.c]
        let a = theta[Self.a], b = theta[Self.b], d = withDelta ? theta[Self.delta] : 0
        let groups = data.groupD.count
        let s2 = sigma * sigma, run = runSD * runSD, shift = a * a * lossSD * lossSD
        // The four variances (finetuned or few-shot, at the floor or lifted) and their logs, once a
        // call: this runs for every walker at every step, so no array is allocated here.
        let vFloor = s2 + run, vLifted = s2 + run + shift, vFewFloor = s2, vFewLifted = s2 + shift
        let lFloor = log(vFloor), lLifted = log(vLifted), lFewFloor = log(vFewFloor), lFewLifted = log(vFewLifted)
        return withUnsafeTemporaryAllocation(of: Double.self, capacity: groups) { e in
            let logBasis = form == .logPower ? data.groupLogLogD : data.groupLogD
            for g in 0..<groups { e[g] = k * exp(alpha * logBasis[g]) + c }
            var s = 0.0
            for i in 0..<data.count {
                let z = e[data.group[i]] - data.x[i]
                let r = data.y[i] - (b + d * data.fewShot[i] + (z > 0 ? a * z : 0))
                let count = multiplicity?[i] ?? 1
                let (v, logV) = data.fewShot[i] == 1 ? (z > 0 ? (vFewLifted, lFewLifted) : (vFewFloor, lFewFloor))
                                                     : (z > 0 ? (vLifted, lLifted) : (vFloor, lFloor))
                s += count * (logV + r * r / v)
            }
            return -s / 2
        }
    }
}
