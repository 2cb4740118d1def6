import Foundation

/// The paper's ablation (form, Δ, D0) on one study.
///
/// Four fits vary the law's form (log-power, power) and Δ (on, off) with every other option the
/// base's; they are compared by AIC = 2p − 2 log L and BIC = p ln n − 2 log L (the fit's own figures,
/// p counting σ under Gaussian noise) and by Akaike weights
///
///     w_i = exp(−ΔAIC_i / 2) / Σ_j exp(−ΔAIC_j / 2),   ΔAIC_i = AIC_i − min_j AIC_j
///
/// (BIC weights likewise). The chosen variant has the largest Akaike weight; `form_weights` sums each
/// form's two weights. The D0 sweep refits the base's form and Δ at D0 = factor × N (N = the
/// few-shot rows' shots): D0 enters the few-shot rows' elbow E_θ(D0), so each D0 is a fit of its own.
public enum Ablation {
    /// Runs `options.fitCount` fits (`EmergenceFit.run`): the four form × Δ variants, then the D0
    /// sweep. Throws `FitError.invalidOptions` for bad options, `FitError.noRows` /
    /// `.noFinetunedRows` when nothing can be fitted.
    public static func run(_ evaluations: [Evaluation], options: AblationOptions, budget: FitBudget = .default,
                           threads: Int = ProcessInfo.processInfo.activeProcessorCount,
                           progress: (@Sendable (Double) -> Void)? = nil,
                           isCancelled: (@Sendable () -> Bool)? = nil) throws -> AblationResult {
        let problems = options.problems(budget: budget)
        guard problems.isEmpty else { throw FitError.invalidOptions(problems) }
        let cancel = Cancellation(isCancelled)
        let total = Double(options.fitCount)
        var done = 0.0
        func fit(_ o: FitOptions) throws -> FitResult {
            let offset = done
            defer { done += 1 }
            try cancel.check()
            return try EmergenceFit.run(evaluations, options: o, budget: budget, threads: threads,
                                        progress: progress.map { p in { @Sendable f in p((offset + f) / total) } },
                                        isCancelled: isCancelled)
        }

        var variants: [AblationResult.Variant] = []
        for form in [FitOptions.Form.logPower, .power] {
            for delta in [true, false] {
                var o = options.fit
                o.form = form
                o.delta = delta
                let r = try fit(o)
                variants.append(.init(form: form, delta: delta, status: r.status, parameters: r.parameters,
                                      logLikelihood: r.fit?.logLikelihood, aic: r.fit?.aic, bic: r.fit?.bic,
                                      akaikeWeight: nil, bicWeight: nil, emergence: EmergencePoint(r),
                                      warnings: r.warnings.map(\.code)))
            }
        }
        let akaike = weights(variants.map(\.aic))
        let schwarz = weights(variants.map(\.bic))
        for i in variants.indices {
            variants[i].akaikeWeight = akaike[i]
            variants[i].bicWeight = schwarz[i]
        }
        var formWeights: [String: Double] = [:]
        for v in variants { if let w = v.akaikeWeight { formWeights[v.form.rawValue, default: 0] += w } }
        let chosen = variants.filter { $0.akaikeWeight != nil }
            .max { ($0.akaikeWeight ?? 0) < ($1.akaikeWeight ?? 0) }
            .map { AblationResult.Choice(form: $0.form, delta: $0.delta) }

        // The D0 sweep, in units of the few-shot rows' shots.
        var warnings: [FitResult.Warning] = []
        let shots = fewShotShots(evaluations, maxFlops: options.fit.maxFlops)
        var sweep: [AblationResult.D0Point] = []
        if !options.d0Factors.isEmpty {
            if let n = shots {
                for factor in options.d0Factors {
                    let d0 = factor * n
                    guard d0 > 1 else {
                        done += 1
                        warnings.append(.init(code: "d0_skipped", message: String(format:
                            "D0 = %g × %g = %g is not above 1 (ln D0 must be positive): skipped", factor, n, d0)))
                        continue
                    }
                    var o = options.fit
                    o.d0 = d0
                    let r = try fit(o)
                    sweep.append(.init(factor: factor, d0: d0, status: r.status, emergence: EmergencePoint(r)))
                }
            } else {
                warnings.append(.init(code: "no_few_shot_rows", message: "no few-shot rows: no shots N to sweep D0 around"))
            }
        }
        progress?(1)
        return AblationResult(variants: variants, chosen: chosen, formWeights: formWeights, shots: shots,
                              d0Sweep: sweep, warnings: warnings)
    }

    /// exp(−(v_i − min v)/2), normalised over the finite values; nil where a value is missing.
    static func weights(_ values: [Double?]) -> [Double?] {
        let finite = values.compactMap { $0 }.filter(\.isFinite)
        guard let best = finite.min() else { return values.map { _ in nil } }
        let raw = values.map { v in v.flatMap { $0.isFinite ? exp(-($0 - best) / 2) : nil } }
        let sum = raw.compactMap { $0 }.reduce(0, +)
        return raw.map { $0.map { $0 / sum } }
    }

    /// N: the most common shots among the few-shot rows the fit keeps (EmergenceFit's D0 rule).
    static func fewShotShots(_ rows: [Evaluation], maxFlops: Double?) -> Double? {
        var counts: [Int: Int] = [:]
        for e in rows where e.setting == .fewShot && (e.effectiveFlops ?? .infinity) <= (maxFlops ?? .infinity) {
            counts[e.shots ?? 0, default: 0] += 1
        }
        return counts.max { $0.value != $1.value ? $0.value < $1.value : $0.key > $1.key }.map { Double($0.key) }
    }
}
