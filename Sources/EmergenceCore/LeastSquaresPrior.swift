import Foundation

extension LeastSquaresProblem {
    /// Appends the α prior's residual ρ(α) (AlphaPrior.swift) as row m of the problem: r_m = ρ(α),
    /// whose Jacobian row is zero but for ∂ρ/∂α, so JᵀJ gains (∂ρ/∂α)² at (α, α) and Jᵀr gains
    /// ρ·∂ρ/∂α at α. The model's own rows are evaluated as before, into the first m entries; call it
    /// after the problem's passes are set, since it wraps each one the problem has.
    mutating func addPrior(_ penalty: AlphaPenalty) {
        let m = residualCount, p = parameterCount
        let a = EmergenceModel.alpha
        let evaluateRows = evaluate
        residualCount = m + 1
        evaluate = { theta, r, J in
            evaluateRows(theta, &r, J)
            r[m] = penalty.residual(theta[a])
            if let J {
                for j in 0..<p { J[m * p + j] = 0 }
                J[m * p + a] = penalty.slope(theta[a])
            }
        }
        if let rowsTrial = trial {
            // The rows' trial pass may stop once its partial sum reaches `bound`; ρ² is added after
            // it, as the separate passes add row m last, so Σr² and every step's accept or reject are
            // theirs bit for bit (the bound is not lowered by ρ², which would round differently).
            trial = { theta, r, cache, bound in
                let rows = rowsTrial(theta, r, cache, bound)
                let rho = penalty.residual(theta[a])
                r[m] = rho
                return rows + rho * rho
            }
        }
        if let rowsNormal = cachedNormalEquations {
            // r[m] is ρ at the last complete trial's θ, the θ these normal equations are formed at.
            cachedNormalEquations = { theta, r, cache, jtj, jtr in
                rowsNormal(theta, r, cache, jtj, jtr)
                let slope = penalty.slope(theta[a])
                jtj[a * p + a] += slope * slope
                jtr[a] += r[m] * slope
            }
        }
        if let fused = normalEquations {
            normalEquations = { theta, r, jtj, jtr in
                fused(theta, &r, jtj, jtr)
                let rho = penalty.residual(theta[a]), slope = penalty.slope(theta[a])
                r[m] = rho
                jtj[a * p + a] += slope * slope
                jtr[a] += rho * slope
            }
        }
    }
}
