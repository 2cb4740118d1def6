import Foundation

/// When the data cannot answer (docs/method.md §6): signal, emergence already seen, extrapolation length.
enum Diagnostics {
    struct Assessment {
        var noSignal = false
        var alreadyEmerged = false
        /// Groups (data amounts) with at least one finetuned row lifted above the floor by > 2 noise SDs.
        var liftedGroups = Set<Int>()
        /// The largest lift of a finetuned row above the floor under the MLE, in noise SDs of one
        /// measurement (the weak-signal rule reads it: a small slope A lifts little).
        var maxLiftSD = 0.0
        /// The finetuned rows' lift above the floor as one signal-to-noise ratio, √(Σ (lift_i/SD_i)²):
        /// how far, in noise SDs, the lifted rows jointly stand from the floor-only model.
        var liftSNR = 0.0
        /// The likelihood-ratio statistic of the lift against the floor-only model.
        var signalStatistic = 0.0
        /// Its test against this study's own null distribution (SignalTest.swift); nil when no
        /// finetuned row is lifted at all (nothing to test).
        var signalTest: SignalTest.Outcome? = nil
        var warnings: [FitResult.Warning] = []
    }

    /// seed: the null simulations' (SignalTest), so a fit stays deterministic given its seed.
    static func assess(_ model: EmergenceModel, mle: MaximumLikelihoodFit, noise: FitOptions.Noise, seed: UInt64) -> Assessment {
        var out = Assessment()
        let data = model.data
        let theta = mle.theta
        // Under the quasi-binomial likelihood the deviance is scaled by 1/φ̂.
        let phi = mle.dispersion ?? 1
        let statistic = 2 * (mle.logLikelihood - floorLogLikelihood(model, noise: noise)) / phi

        // Lift of each row above the floor under the MLE, against the noise of one measurement.
        var elbows = [Double](repeating: 0, count: data.groupD.count)
        model.elbows(theta, into: &elbows)
        let a = theta[EmergenceModel.a], b = theta[EmergenceModel.b]
        let d = model.withDelta ? theta[EmergenceModel.delta] : 0
        var liftedFinetuned = Set<Int>(), liftedFewShot = Set<Int>()
        for i in 0..<data.count {
            let lift = a * max(elbows[data.group[i]] - data.x[i], 0)
            let floor = b + d * data.fewShot[i]
            let noiseSD: Double
            if let s = mle.sigma { noiseSD = s } else {
                let p = min(max(floor + lift, 0.01), 0.99)
                noiseSD = sqrt(phi * p * (1 - p) / max(data.questions[i], 1))
            }
            if data.fewShot[i] == 0 && noiseSD > 0 {
                out.maxLiftSD = max(out.maxLiftSD, lift / noiseSD)
                out.liftSNR += (lift / noiseSD) * (lift / noiseSD)
            }
            guard lift > 2 * noiseSD else { continue }
            if data.fewShot[i] == 0 {
                liftedFinetuned.insert(data.checkpoint[i])
                out.liftedGroups.insert(data.group[i])
            } else if data.y[i] - floor > noiseSD {
                liftedFewShot.insert(data.checkpoint[i])
            }
        }

        out.liftSNR = out.liftSNR.squareRoot()
        out.signalStatistic = statistic
        // The likelihood-ratio test against this study's own null (SignalTest.swift), run only when
        // some finetuned row stands above the floor at all.
        if !liftedFinetuned.isEmpty {
            out.signalTest = SignalTest.run(model, noise: noise, statistic: statistic, seed: seed)
        }
        if liftedFinetuned.isEmpty || out.signalTest?.signal != true {
            // The warning itself needs the bound (EmergenceFit.detectionLimit): `noSignalWarning`.
            out.noSignal = true
            return out
        }
        if liftedFinetuned.count < 4 {
            out.warnings.append(.init(code: "few_checkpoints_above_floor", message:
                "only \(liftedFinetuned.count) finetuned checkpoint(s) are above the floor (about 4 are needed to pin the elbow); treat the prediction as rough. Finetune \(4 - liftedFinetuned.count) or more further checkpoints with lower pretraining loss (below \(String(format: "%.3f", data.x.min() ?? 0)) if you have them), or between the lifted ones"))
        }
        if liftedFewShot.count >= 2 {
            out.alreadyEmerged = true
            out.warnings.append(.init(code: "already_emerged", message: String(format:
                "few-shot accuracy is already above the floor for %d checkpoints: emergence has been observed; the elbow E* = %.3f is where it happened",
                liftedFewShot.count, mle.prediction)))
        }
        let amounts = data.dataAmounts
        if amounts.count == 3 {
            out.warnings.append(.init(code: "few_data_amounts", message:
                "only 3 finetuning data amounts: the law's three parameters are barely determined. Finetune with at least one more amount, ideally below \(Identifiability.count(amounts.first ?? 0)) examples (towards D0) or between the ones used"))
        }
        if let lo = amounts.first, let hi = amounts.last {
            let dataSpan = log(hi) - log(lo)
            let extrapolation = log(lo) - log(data.d0)
            if extrapolation > dataSpan {
                out.warnings.append(.init(code: "long_extrapolation", message: String(format:
                    "the extrapolation from the smallest data amount (%.0f) to D0 = %g spans %.1f in ln D, more than the data's own span (%.1f): intervals will be wide. Finetune with smaller amounts, down to about %@ examples, to shorten it",
                    lo, data.d0, extrapolation, dataSpan, Identifiability.count(max(sqrt(lo * data.d0).rounded(), data.d0 + 1)))))
            }
        }
        return out
    }

    /// The `no_signal` warning: the statistic, and the bound (the lowest loss plus what the noise could hide).
    static func noSignalWarning(_ a: Assessment, data: FitData, lowest: Double, bound: Double, slopeFloor: Double) -> FitResult.Warning {
        .init(code: "no_signal", message: String(format:
            "no finetuned run has left the floor distinguishably (%@): emergence has not shown yet; if it has begun, it began below loss %.3f (the lowest loss seen, %.3f, plus %.3f nats: the largest shift of the elbow these data cannot rule out at 95%% for a slope of at least %.2f accuracy per nat), so only that bound is given. Finetune lower-loss checkpoints (below %.3f) or with larger data amounts (above %@ examples), where the lift shows",
            signalEvidence(a), bound, lowest, bound - lowest, slopeFloor, lowest,
            Identifiability.count(data.dataAmounts.last ?? 0)))
    }

    /// The test's figures in words, for the `no_signal` warning.
    static func signalEvidence(_ a: Assessment) -> String {
        guard let test = a.signalTest, let exceeding = test.exceeding else {
            return "no finetuned row stands more than 2 noise SDs above the floor"
        }
        let p95 = test.nullP95.map { String(format: ", 95th percentile %.1f", $0) } ?? ""
        return String(format: "likelihood-ratio statistic %.1f against the floor-only model; %d of %d studies simulated from that model with this design reached it%@, and the test calls a lift a signal only when none does (a 1%% test)",
                      test.statistic, exceeding, SignalTest.replicates, p95)
    }

    /// log L of the floor-only model μ = B + Δ·fewShot (A = 0), at its own MLE.
    static func floorLogLikelihood(_ model: EmergenceModel, noise: FitOptions.Noise) -> Double {
        let data = model.data
        let n = Double(data.count)
        let zero = [Double](repeating: 0, count: data.count)
        guard let (b, d, _, rss) = MaximumLikelihood.linearFloorAndSlope(data, z: zero, withDelta: model.withDelta) else { return -.infinity }
        switch noise {
        case .gaussian:
            return -n / 2 * (log(2 * .pi * max(rss / n, 1e-300)) + 1)
        case .binomial, .quasiBinomial:
            var theta = [0, model.lower[EmergenceModel.alpha], 0, 0, b]
            if model.withDelta { theta.append(d) }
            // Under the binomial likelihood the floors' MLE are pooled proportions.
            var sF = 0.0, nF = 0.0, sS = 0.0, nS = 0.0
            for i in 0..<data.count {
                let q = data.questions[i]
                if data.fewShot[i] == 1 { sS += data.y[i] * q; nS += q } else { sF += data.y[i] * q; nF += q }
            }
            if model.withDelta {
                theta[EmergenceModel.b] = nF > 0 ? sF / nF : b
                theta[EmergenceModel.delta] = nS > 0 ? sS / nS - theta[EmergenceModel.b] : 0
            } else {
                theta[EmergenceModel.b] = (sF + sS) / max(nF + nS, 1)
            }
            return MaximumLikelihood.binomialLogLikelihood(model, theta)
        }
    }

    static func intervalWarnings(sorted: [Double], result: inout FitResult) {
        let width = Percentile.of(sorted: sorted, 95) - Percentile.of(sorted: sorted, 5)
        if width > 0.15 {
            result.warnings.append(.init(code: "wide_interval", message: String(format:
                "the 5–95%% interval of E* is %.2f nats wide: the data do not pin the emergence point down. Finetune more checkpoints near the lowest losses, and at smaller data amounts, to narrow it", width)))
        }
    }
}
