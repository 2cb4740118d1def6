import Foundation

extension EmergenceModel {
    /// The Gaussian log-likelihood with the checkpoints' loss measurement noise and the finetuning
    /// runs' own scatter in it (docs/method.md §5.3), up to a constant. Row i of checkpoint c has
    /// residual r_i, its own variance d_i = σ² + τ²·1{finetuned} and, past its elbow, a slope
    /// u_i = A·1{E_θ(D_i) > x_i}: a loss measured ε_c off moves the row by u_i·ε_c, and every row of
    /// the checkpoint shares ε_c ~ N(0, σ_x²). So each checkpoint's rows are jointly normal with
    /// covariance Σ_c = diag(d) + σ_x²·u uᵀ, and by the matrix determinant lemma and Sherman–Morrison
    ///
    ///     ln det Σ_c = Σ ln d_i + ln(1 + σ_x² S_uu),        S_uu = Σ u_i²/d_i,
    ///     rᵀ Σ_c⁻¹ r = Σ r_i²/d_i − σ_x² S_ur² / (1 + σ_x² S_uu),   S_ur = Σ u_i r_i/d_i,
    ///
    ///     log L = −½ Σ_c [ ln det Σ_c + rᵀ Σ_c⁻¹ r ].
    ///
    /// This is the first-order errors-in-variables likelihood with the shared error kept: treating
    /// the rows as independent, each with variance d_i + u_i²σ_x², counted a checkpoint's one loss
    /// error once per row, and the MCMC's intervals came out narrower than the bootstrap's (0.84 of
    /// its width at the median on held-out `wide`) and covered 0.84 against its 0.94. τ² is the
    /// run-to-run variance of finetuned rows (RunNoise), which few-shot rows do not have. With
    /// σ_x = τ = 0 it is −n·ln σ − RSS/(2σ²). A resample's repeated rows (multiplicity) count as
    /// that many independent rows, as in the plain likelihood.
    ///
    /// `binomialVariance`, when given, is each row's known sampling variance b_i = μ̂_i(1 − μ̂_i)/n_i
    /// (`EmergenceModel.binomialVariance`), added to d_i: σ² is then only what the binomial does not
    /// explain. A homoscedastic σ² is one number for every row, and where the floor is near 0 the
    /// floor rows have almost no scatter (μ(1 − μ) ≈ 0) while the lifted rows, which place the elbow,
    /// have the most: pooled, σ̂ came out at the floor's and the MCMC's 5–95% intervals were half the
    /// bootstrap's width (median ratio 0.48) on held-out `wide` studies with floor 0, covering 14 of
    /// 21 against the bootstrap's 20 (floors 0.25 and 0.5: ratio 0.97–0.98, 45 of 48 against 46).
    func gaussianLogLikelihood(_ theta: UnsafeBufferPointer<Double>, sigma: Double, lossSD: Double,
                               runSD: Double = 0, binomialVariance: UnsafeBufferPointer<Double>? = nil) -> Double {
        let k = theta[Self.k], alpha = theta[Self.alpha], c = theta[Self.c]
        let a = theta[Self.a], b = theta[Self.b], d = withDelta ? theta[Self.delta] : 0
        let groups = data.groupD.count, checkpoints = data.checkpointCount
        let s2 = sigma * sigma, run = runSD * runSD, lossVar = lossSD * lossSD
        // The two row variances and their logs, once a call: this runs for every walker at every
        // step, so nothing is allocated on the heap here.
        let vFine = s2 + run, vFew = s2
        let lFine = log(vFine), lFew = log(vFew)
        return withUnsafeTemporaryAllocation(of: Double.self, capacity: groups + 2 * checkpoints) { scratch in
            let logBasis = form == .logPower ? data.groupLogLogD : data.groupLogD
            for g in 0..<groups { scratch[g] = k * exp(alpha * logBasis[g]) + c }
            // Per checkpoint: S_uu and S_ur.
            for j in groups..<(groups + 2 * checkpoints) { scratch[j] = 0 }
            var s = 0.0
            for i in 0..<data.count {
                let z = scratch[data.group[i]] - data.x[i]
                let r = data.y[i] - (b + d * data.fewShot[i] + (z > 0 ? a * z : 0))
                let count = multiplicity?[i] ?? 1
                var (v, logV) = data.fewShot[i] == 1 ? (vFew, lFew) : (vFine, lFine)
                if let b = binomialVariance?[i], b > 0 {
                    v += b
                    logV = log(v)
                }
                s += count * (logV + r * r / v)
                let cp = data.checkpoint[i]
                if z > 0 && lossVar > 0 && cp >= 0 && cp < checkpoints {
                    scratch[groups + 2 * cp] += count * a * a / v
                    scratch[groups + 2 * cp + 1] += count * a * r / v
                }
            }
            if lossVar > 0 {
                for cp in 0..<checkpoints {
                    let suu = scratch[groups + 2 * cp], sur = scratch[groups + 2 * cp + 1]
                    guard suu > 0 else { continue }
                    let q = 1 + lossVar * suu
                    s += log(q) - lossVar * sur * sur / q
                }
            }
            return -s / 2
        }
    }
}

extension EmergenceModel {
    /// Each row's binomial sampling variance at the fitted means, μ̂_i(1 − μ̂_i)/n_i with μ̂_i clamped
    /// to [0, 1]; 0 where n_questions is unknown. A plug-in (working) variance, held fixed while the
    /// MCMC moves θ, as iteratively reweighted least squares holds its weights within a step.
    func binomialVariance(at theta: [Double]) -> [Double] {
        let mean = self.mean(theta)
        return (0..<data.count).map { i in
            let n = data.questions[i]
            guard n > 0 else { return 0 }
            let m = min(max(mean[i], 0), 1)
            return m * (1 - m) / n
        }
    }
}
