import Foundation
import Synchronization

/// Why a fit could not run at all (as opposed to a result whose status says the data cannot answer).
public enum FitError: Error, Sendable, Equatable, CustomStringConvertible {
    case invalidOptions([Evaluation.Problem])
    case noFinetunedRows
    case noRows
    case cancelled

    public var description: String {
        switch self {
        case .invalidOptions(let p): return "invalid options: " + p.map { "\($0.field) \($0.reason)" }.joined(separator: "; ")
        case .noFinetunedRows: return "no finetuned rows: the emergence law needs finetuned evaluations"
        case .noRows: return "no evaluations to fit (after the max_flops filter)"
        case .cancelled: return "cancelled"
        }
    }
}

/// The fit's front door: evaluations + options → the result document (docs/method.md §2–7).
public enum EmergenceFit {
    /// Runs the whole procedure: MLE, uncertainty, scaling law and FLOPs, status and warnings.
    /// - progress: called now and then with a fraction in [0, 1].
    /// - budget: the most work the options may ask for; options beyond it (or otherwise invalid) throw
    ///   `FitError.invalidOptions` before any math runs, as `options.problems(budget:)` lists them.
    /// - isCancelled: polled throughout (every optimiser iteration, bootstrap draw and MCMC step, at
    ///   most every 10 ms); once it returns true the fit throws `FitError.cancelled` within
    ///   milliseconds.
    /// - threads: how many threads the bootstrap may use (the calling thread is one). A server that
    ///   runs several fits side by side passes 1. The result does not depend on it.
    /// Deterministic: the same evaluations (in any order), options and seed give the same result.
    public static func run(_ evaluations: [Evaluation], options: FitOptions, budget: FitBudget = .default,
                           threads: Int = ProcessInfo.processInfo.activeProcessorCount,
                           progress: (@Sendable (Double) -> Void)? = nil,
                           isCancelled: (@Sendable () -> Bool)? = nil) throws -> FitResult {
        var measures: Identifiability.Measures? = nil
        return try run(evaluations, options: options, budget: budget, threads: threads, progress: progress,
                       isCancelled: isCancelled, measures: &measures)
    }

    /// The same, also handing back what the identifiability rules measured (nil when the fit stopped
    /// before them), for calibration reports.
    static func run(_ evaluations: [Evaluation], options: FitOptions, budget: FitBudget = .default,
                    threads: Int = ProcessInfo.processInfo.activeProcessorCount,
                    progress: (@Sendable (Double) -> Void)? = nil,
                    isCancelled: (@Sendable () -> Bool)? = nil,
                    measures: inout Identifiability.Measures?, samples captured: inout FitSamples) throws -> FitResult {
        let cancel = Cancellation(isCancelled)
        // Defence in depth: whatever the caller checked, nothing invalid reaches the math.
        var problems = options.problems(budget: budget)
        for (i, e) in evaluations.enumerated() {
            for p in e.problems() { problems.append(.init(field: "evaluations[\(i)].\(p.field)", reason: p.reason)) }
        }
        if options.noise.isBinomial, let i = evaluations.firstIndex(where: { $0.nQuestions == nil }) {
            problems.append(.init(field: "noise", reason: "\(options.noise.rawValue) needs n_questions on every row (row \(i) has none)"))
        }
        if options.alphaPriorPooled && options.alphaPrior == nil {
            problems.append(.init(field: "alpha_prior", reason: "\"pooled\" must be resolved from the lab's studies before the fit runs (the service does so when it queues the fit; the CLI takes pooled:FILE from `emergence pool-alpha`)"))
        }
        guard problems.isEmpty else { throw FitError.invalidOptions(problems) }
        try cancel.check()

        var warnings: [FitResult.Warning] = []
        // The prediction setting: keep only checkpoints with flops ≤ max_flops.
        var rows = evaluations
        var excluded = 0
        if let maxFlops = options.maxFlops {
            rows = evaluations.filter { ($0.effectiveFlops ?? .infinity) <= maxFlops }
            excluded = evaluations.count - rows.count
            let unknown = evaluations.filter { $0.effectiveFlops == nil }.count
            if unknown > 0 {
                warnings.append(.init(code: "unknown_flops_excluded",
                                      message: "\(unknown) rows have no flops (nor parameters and tokens) and were left out by max_flops"))
            }
        }
        guard !rows.isEmpty else { throw FitError.noRows }
        guard rows.contains(where: { $0.setting == .finetuned }) else { throw FitError.noFinetunedRows }

        let d0 = try lowLimit(rows, options: options, warnings: &warnings)
        let data = FitData(rows, d0: d0)
        let summary = FitResult.DataSummary(
            rows: data.count, fewShotRows: Int(data.fewShot.reduce(0, +)),
            finetunedRows: data.count - Int(data.fewShot.reduce(0, +)),
            checkpoints: data.checkpointCount, dataAmounts: data.dataAmounts, excludedRows: excluded,
            lossRange: [data.x.min() ?? 0, data.x.max() ?? 0])
        var result = FitResult(
            status: .ok, warnings: warnings, form: options.form, d0: d0, delta: options.delta,
            noise: options.noise, seed: options.seed, data: summary, parameters: nil, fit: nil,
            emergence: .init(loss: .init(), flops: nil, probabilityEmerged: []),
            uncertainty: .init(bootstrap: nil, mcmc: nil), scalingLaw: nil)

        // The scaling law, fitted to the kept checkpoints or given.
        let lawFit = scalingLaw(rows, options: options, cancel: cancel, result: &result)
        try cancel.check()

        // Too little data to fit the law at all (docs/method.md §6).
        if data.dataAmounts.count < 3 {
            result.status = .insufficientData
            result.warnings.append(.init(code: "few_data_amounts",
                message: "the emergence law has three parameters; \(data.dataAmounts.count) finetuning data amount(s) cannot determine it (need at least 3). Finetune with \(3 - data.dataAmounts.count) or more further amounts, spread over a factor of 10 or more (e.g. 1,000, 3,000 and 10,000 examples)"))
            return result
        }

        var plainModel = EmergenceModel(data: data, form: options.form, withDelta: options.delta)
        let starts = MaximumLikelihood.startingPoints(plainModel, cancel: cancel)
        var fitted = MaximumLikelihood.fit(plainModel, noise: options.noise, starts: starts, cancel: cancel)
        try cancel.check()
        var priorWarning: FitResult.Warning? = nil
        // What the data alone say of α, for the lab's pooled prior (always the plain likelihood's).
        if let plain = fitted {
            result.alphaProfile = AlphaProfile.measure(plainModel, noise: options.noise, mle: plain, cancel: cancel)
            try cancel.check()
        }
        if let prior = options.alphaPrior, let plain = fitted {
            result.alphaPrior = prior
            result.withoutPrior = .init(alpha: plain.theta[EmergenceModel.alpha], emergenceLoss: plain.prediction)
            // The posterior mode under the α prior (AlphaPrior.swift): the same multi-start, plus the
            // plain optima as starts, on the penalised objective. σ̂ (or φ̂) is the plain MLE's.
            let weight: Double
            switch options.noise {
            case .gaussian: weight = plain.sigma ?? 0
            case .binomial: weight = 1
            case .quasiBinomial: weight = sqrt(max(MaximumLikelihood.dispersion(plainModel, plain.theta), 1))
            }
            // The data disagree with the prior: the plain α̂ outside its central 95% (the mixture's own
            // 2.5% and 97.5% quantiles when it is one: its tails are heavier than its summary normal's).
            // Said, because then the answer is the prior's more than the data's (a prior at 0.7 on
            // studies whose true α is 1–2.4 covered 66% of truths: calibrate, jittered).
            let alphaHat = plain.theta[EmergenceModel.alpha]
            let lo = exp(prior.logQuantile(0.025)), hi = exp(prior.logQuantile(0.975))
            if !(lo...hi).contains(alphaHat) {
                let components = prior.mixture?.count ?? 0
                let shape = components > 1 ? "a mixture of \(components) normals" : "a normal"
                priorWarning = .init(code: "alpha_prior_conflict", message: String(
                    format: "the data alone put the law's curvature at α = %.3g (plain maximum likelihood, E* = %.4f), outside the central 95%% of alpha_prior (%@, median %.3g, log_sd %.3g: %.3g–%.3g); the answer leans on the prior here. Check the prior against fits of other tasks on this model family, or fit without it; finetuning amounts nearer the few-shot limit would let the data decide",
                    alphaHat, plain.prediction, shape, prior.median, prior.logSD, lo, hi))
            }
            // A perfect fit (σ̂ = 0) leaves nothing for the prior to weigh against: the plain MLE stands.
            if weight > 0 && weight.isFinite {
                plainModel.alphaPenalty = AlphaPenalty(prior, weight: weight, evidence: result.alphaProfile)
                fitted = MaximumLikelihood.fit(plainModel, noise: options.noise, starts: plain.optima.map(\.theta) + starts,
                                               cancel: cancel) ?? plain
                try cancel.check()
            }
        }
        let model = plainModel
        guard let mle = fitted else {
            result.status = .insufficientData
            result.warnings.append(.init(code: "fit_failed", message: "the optimiser found no finite optimum"))
            return result
        }
        progress?(0.05)
        fillMaximumLikelihood(model, mle: mle, options: options, cancel: cancel, result: &result)
        try cancel.check()
        if let priorWarning { result.warnings.append(priorWarning) }

        let assessment = Diagnostics.assess(model, mle: mle, noise: options.noise, seed: options.seed)
        result.warnings.append(contentsOf: assessment.warnings)
        result.fit?.signalTest = assessment.signalTest.map(FitResult.SignalTestSummary.init)
        if assessment.noSignal {
            // Only a bound exists (docs/method.md §6): if emergence has begun, it began below the lowest
            // loss plus what the noise could hide. No point estimate, and none of the warnings that
            // describe one.
            result.status = .noSignal
            result.parameters = nil
            result.warnings.removeAll { ["competing_optima", "form_misfit"].contains($0.code) }
            let lowest = data.x.min() ?? 0
            // No row has left the floor, so the data say nothing of the slope A, and any elbow hides
            // behind a slope near 0: the bound holds for slopes of at least `noSignalSlopeFloor`.
            let bound = detectionLimit(model, mle: mle, from: lowest, slopeFloor: noSignalSlopeFloor)
            result.warnings.append(Diagnostics.noSignalWarning(assessment, data: data, lowest: lowest, bound: bound,
                                                               slopeFloor: noSignalSlopeFloor))
            result.emergence.loss = .init(mle: nil, upperBound: bound, intervalMethod: nil, percentiles: nil)
            if let law = lawFit?.law ?? options.scalingLaw, let c = law.compute(atLoss: bound), c.isFinite {
                result.emergence.flops = .init(mle: nil, reachable: true, reachableFraction: nil, percentiles: nil, lowerBound: c)
            }
            return result
        }
        if assessment.alreadyEmerged { result.status = .alreadyEmerged }

        // Identified, or only bounded? (Identifiability.swift). An emergence already seen is its own
        // answer; otherwise a study that fails a rule gets a one-sided bound, and no bootstrap runs.
        var identifiability = Identifiability.measure(model, mle: mle, liftedGroups: assessment.liftedGroups,
                                                      maxLiftSD: assessment.maxLiftSD, liftSNR: assessment.liftSNR)
        // The profile's upper end from the MLE, once scanned (the detection limit walks the same path).
        var profileUpper: Double?? = nil
        if !assessment.alreadyEmerged {
            // Is E* pinned at all? The profile likelihood of E*, every other parameter (α included)
            // refitted, must rule out some value within 0.6 nats on each side of the MLE.
            let profile = EmergenceProfile(model, mle: mle.theta)
            let lower = profile.lowerLimit(from: mle.prediction), upper = profile.upperLimit(from: mle.prediction)
            Identifiability.applyProfile(&identifiability, lower: lower, upper: upper)
            profileUpper = .some(upper)
        }
        measures = identifiability
        if !assessment.alreadyEmerged && !identifiability.identified {
            identifiability.detectionBound = identifiability.fewShotBoundary.map { detectionLimit(model, mle: mle, from: $0, upperFromMLE: profileUpper) }
            measures = identifiability
            withhold(identifiability, options: options, law: lawFit?.law ?? options.scalingLaw, result: &result)
            return result
        }

        // Uncertainty.
        let wantBootstrap = options.uncertainty == .bootstrap || options.uncertainty == .both
        let wantMCMC = options.uncertainty == .mcmc || options.uncertainty == .both
        let bootstrapWork = wantBootstrap ? Double(options.bootstrap) : 0
        let mcmcWork = wantMCMC ? Double(options.mcmcSteps + options.mcmcBurnIn) * 0.3 : 0
        let total = max(bootstrapWork + mcmcWork, 1)
        var samples: [Double] = []
        var sampleCheckpoints: [[Int]]? = nil
        // With both, the chain runs on a thread of its own beside the bootstrap's (the two are
        // independent), when more than one thread is allowed.
        let mcmcOffset = 0.05 + 0.9 * bootstrapWork / total
        // The checkpoints' loss measurement noise (LossNoise.swift): the bootstrap jitters each
        // resample's losses by it, and the MCMC's Gaussian likelihood carries it.
        let lossSD = LossNoise.estimate(rows)
        // The finetuning runs' own scatter (RunNoise.swift), which the MCMC's Gaussian likelihood carries too.
        let runSD = result.fit?.runNoiseSD ?? 0
        let runMCMC: @Sendable () throws -> Posterior.Outcome = {
            try Posterior.sample(
                model, noise: options.noise, mle: mle, walkers: options.mcmcWalkers, steps: options.mcmcSteps,
                burnIn: options.mcmcBurnIn, seed: options.seed, lossSD: lossSD ?? 0,
                runSD: runSD,
                progress: progress.map { p in { @Sendable step in
                    if step % 100 == 0 { p(mcmcOffset + 0.9 * 0.3 * Double(step) / total) } } },
                cancel: cancel)
        }
        let concurrentChain: BackgroundTask<Posterior.Outcome>? =
            wantMCMC && wantBootstrap && options.bootstrap > 0 && threads > 1 ? BackgroundTask(runMCMC) : nil
        // The bootstrap: asked for, or the fallback of a chain that did not earn its interval.
        // The curvature is not pinned (α̂ collapsed onto its bound): no E* is headlined; the band of α the
        // data allow gives the interval instead (AlphaBand.swift), or, if it cannot be profiled, nothing.
        var band: AlphaBand? = nil
        if identifiability.alphaCollapsed && !assessment.alreadyEmerged {
            let ceiling = identifiability.fewShotBoundary.map { detectionLimit(model, mle: mle, from: $0, upperFromMLE: profileUpper) }
            identifiability.detectionBound = ceiling
            band = AlphaBand.profile(model, noise: options.noise, mle: mle, ceiling: ceiling, cancel: cancel)
            try cancel.check()
            if band == nil {
                // Not "E* not pinned" (the profile of E* may well close): the curvature could not be
                // bounded at all, which the alpha_at_bound warning says.
                measures = identifiability
                withhold(identifiability, options: options, law: lawFit?.law ?? options.scalingLaw, result: &result)
                result.warnings.append(Identifiability.collapseWarning(identifiability, band: nil, form: options.form,
                                                                       d0: result.d0 ?? 2))
                return result
            }
        }
        func runBootstrap(_ count: Int, progress: (@Sendable (Int) -> Void)?) throws {
            let outcome = try Bootstrap.run(
                model, noise: options.noise, mle: mle, samples: count, resample: options.resample,
                lossSD: lossSD ?? 0, alphaBand: band, seed: options.seed, threads: threads, progress: progress, cancel: cancel)
            result.uncertainty.bootstrap = .init(samples: count, failed: outcome.failed,
                                                 resample: options.resample.rawValue, lossNoise: lossSD,
                                                 percentiles: Percentile.table(outcome.predictions))
            if outcome.failed > count / 20 {
                result.warnings.append(.init(code: "bootstrap_failures",
                    message: "\(outcome.failed) of \(count) bootstrap refits failed; the interval rests on the rest"))
            }
            samples = outcome.predictions
            sampleCheckpoints = outcome.draws.compactMap { $0?.checkpoints }
            result.emergence.loss.intervalMethod = band == nil ? "bootstrap" : "bootstrap_alpha_band"
        }
        if wantBootstrap && options.bootstrap > 0 {
            try runBootstrap(options.bootstrap, progress: progress.map { p in { @Sendable n in p(0.05 + 0.9 * Double(n) / total) } })
        }
        if wantMCMC {
            let outcome = try concurrentChain?.wait() ?? runMCMC()
            let sortedPredictions = outcome.predictions.sorted()
            result.uncertainty.mcmc = .init(
                walkers: outcome.walkers, steps: outcome.steps, burnIn: outcome.burnIn,
                acceptance: outcome.acceptance, ess: finite(outcome.ess), autocorrelationTime: finite(outcome.autocorrelationTime),
                rhat: finite(outcome.rhat), percentiles: Percentile.table(sorted: sortedPredictions))
            // Earned: N ≥ 50·τ and split-R̂ ≤ 1.05 on every coordinate, ESS ≥ 100, acceptance ≥ 5%.
            let lengthRatio = Double(outcome.steps) / outcome.autocorrelationTime
            let earned = Posterior.earned(outcome)
            if !earned {
                result.warnings.append(.init(code: "mcmc_not_converged",
                    message: String(format: "the MCMC has not converged (worst coordinate: split-R̂ %.3f, N/τ %.1f; effective sample size %.0f, acceptance %.2f; needs R̂ ≤ 1.05, N/τ ≥ 50, ESS ≥ 100 and acceptance ≥ %.2f), so its percentiles give no interval%@: raise mcmc_steps or mcmc_burn_in",
                        outcome.rhat, lengthRatio, outcome.ess, outcome.acceptance, Posterior.minimumAcceptance,
                        samples.isEmpty ? "; the interval is the bootstrap's" : "")))
            }
            if samples.isEmpty && earned {
                samples = sortedPredictions
                sampleCheckpoints = nil
                result.emergence.loss.intervalMethod = "mcmc"
            }
        }
        if samples.isEmpty && wantMCMC && !wantBootstrap {
            // The chain did not earn its interval: the bootstrap's, with the same seed and resampling.
            try runBootstrap(options.bootstrap > 0 ? options.bootstrap : FitOptions().bootstrap, progress: nil)
        }
        if !samples.isEmpty {
            let sorted = samples.sorted()
            if let band {
                // No single best E*: the band, and the interval its bootstrap gives (or the MCMC's,
                // whose posterior spans α by itself).
                result.emergence.loss.mle = nil
                result.emergence.loss.alphaBand = band.summary
                result.warnings.append(Identifiability.collapseWarning(identifiability, band: band, form: options.form, d0: result.d0 ?? 2))
            }
            // An interval squeezed under the few-shot boundary, or reaching a loss ≤ 0 (impossible),
            // says the law is not pinned down.
            Identifiability.checkInterval(&identifiability, sorted: sorted)
            if !assessment.alreadyEmerged && !identifiability.identified {
                // The α band's ceiling, when it was computed, is this same limit.
                identifiability.detectionBound = identifiability.detectionBound ?? identifiability.fewShotBoundary.map { detectionLimit(model, mle: mle, from: $0, upperFromMLE: profileUpper) }
                measures = identifiability
                withhold(identifiability, options: options, law: lawFit?.law ?? options.scalingLaw, result: &result)
                return result
            }
            measures = identifiability
            result.emergence.loss.percentiles = Percentile.table(sorted: sorted)
            Diagnostics.intervalWarnings(sorted: sorted, result: &result)
        }
        captured.loss = samples   // workflows (Comparison) read the samples

        // From loss to compute (docs/method.md §7).
        if let law = lawFit?.law ?? options.scalingLaw {
            let laws = try lawSamples(rows: rows, data: data, options: options, fitted: lawFit,
                                      sampleCheckpoints: sampleCheckpoints, count: samples.count, cancel: cancel)
            captured.record(law: law, laws: laws)
            // With the α band the compute is judged at the samples' median, and no C* is headlined.
            let headline = band == nil || samples.isEmpty ? mle.prediction : Percentile.of(sorted: samples.sorted(), 50)
            fillCompute(prediction: headline, samples: samples, law: law, laws: laws, rows: rows, result: &result)
            if band != nil { result.emergence.flops?.mle = nil }
        }
        try cancel.check()
        progress?(1)
        return result
    }

    /// The `not_identified` answer: the warnings that say what data would pin E*, and only the bound
    /// the data support, E* < the lowest few-shot loss (FLOPs: more than that loss's compute). The
    /// MLE's parameters stay in the result (they are what was fitted); E*'s estimate and interval do not.
    static func withhold(_ m: Identifiability.Measures, options: FitOptions, law: ScalingLaw?, result: inout FitResult) {
        result.status = .notIdentified
        result.warnings.append(contentsOf: Identifiability.warnings(m, form: options.form, d0: result.d0 ?? 2))
        result.warnings.removeAll { $0.code == "wide_interval" }
        let bound = m.detectionBound ?? m.fewShotBoundary
        if let bound, let b = m.fewShotBoundary {
            result.warnings.append(.init(code: "detection_limit", message: String(format:
                "if emergence has begun, it began below loss %.3f: the lowest few-shot loss %.3f plus %.3f nats, the largest shift of the elbow these data cannot rule out at 95%% (a lift that began just past the lowest checkpoint is too small to see)",
                bound, b, bound - b)))
        }
        result.emergence = .init(loss: .init(mle: nil, upperBound: bound, intervalMethod: nil, percentiles: nil),
                                 flops: nil, probabilityEmerged: [])
        if let bound, let law, let c = law.compute(atLoss: bound), c.isFinite {
            result.emergence.flops = .init(mle: nil, reachable: true, reachableFraction: nil, percentiles: nil, lowerBound: c)
        }
    }

    /// The smallest slope A (accuracy per nat of loss) a no-signal bound allows for: a capability
    /// whose accuracy climbs more slowly than 0.1 per nat past its elbow is not one this method can
    /// forecast (the weakest slopes of the simulated families are 0.05–0.2, `weak`).
    static let noSignalSlopeFloor = 0.1

    /// The highest E* the data cannot rule out at 95% above `from` (the lowest loss seen, or the
    /// lowest few-shot loss): a lift that began just past the lowest checkpoint is too small to see,
    /// so the bound is that loss plus the largest elbow shift the profile likelihood of E* allows
    /// (EmergenceProfile.upperLimit). When nothing up to 0.6 nats above is ruled out, that is the bound.
    /// - upperFromMLE: the profile's upper scan from the MLE when the fit already ran it (its limit,
    ///   or nil where it stayed open), so it is not walked twice.
    static func detectionLimit(_ model: EmergenceModel, mle: MaximumLikelihoodFit, from: Double, slopeFloor: Double = 0,
                               upperFromMLE: Double?? = nil) -> Double {
        // Two scans, and the higher limit: one begun at `from` with several curvatures as starts, and
        // one begun at the MLE (within 0.6 nats of `from`) whose constrained fits each start from
        // their neighbour's. Each can miss a constrained optimum the other finds, and a missed optimum
        // rejects a value the data allow. Where the data prefer an E* above `from` (emergence has
        // begun in the few-shot rows), the limit is the upper end of that region.
        var profile = EmergenceProfile(model, mle: mle.theta)
        profile.slopeFloor = slopeFloor
        let fromMLE = min(max(mle.prediction, from - 0.6), from + 0.6)
        let cold = profile.upperLimit(from: max(from, fromMLE)) ?? max(from, fromMLE) + 0.6
        let walked: Double
        if let known = upperFromMLE, fromMLE == mle.prediction, slopeFloor == 0 {
            walked = known ?? fromMLE + 0.6
        } else {
            walked = profile.upperLimit(from: fromMLE) ?? fromMLE + 0.6
        }
        return max(cold, walked, from)
    }

    /// D0: the option, else the shots of the few-shot rows (the most common value if they differ).
    static func finite(_ v: Double) -> Double? { v.isFinite ? v : nil }

    static func lowLimit(_ rows: [Evaluation], options: FitOptions, warnings: inout [FitResult.Warning]) throws -> Double {
        if let d0 = options.d0 { return d0 }
        var counts: [Int: Int] = [:]
        for e in rows where e.setting == .fewShot { counts[e.shots ?? 0, default: 0] += 1 }
        guard let shots = counts.max(by: { $0.value != $1.value ? $0.value < $1.value : $0.key > $1.key })?.key else {
            throw FitError.invalidOptions([.init(field: "d0", reason: "is required when there are no few-shot rows to take the shots from")])
        }
        if counts.count > 1 {
            warnings.append(.init(code: "mixed_shots",
                message: "few-shot rows use different numbers of shots (\(counts.keys.sorted())); D0 = \(shots), the most common"))
        }
        if shots < 2 {
            // ln D must be positive for the log-power law: a zero- or one-shot study extrapolates to D0 = 2.
            warnings.append(.init(code: "d0_adjusted",
                message: "few-shot rows use \(shots) shots; D0 must exceed 1, so D0 = 2 is used (set d0 to choose)"))
            return 2
        }
        return Double(shots)
    }

    static func fillMaximumLikelihood(_ model: EmergenceModel, mle: MaximumLikelihoodFit, options: FitOptions,
                                      cancel: Cancellation = .never, result: inout FitResult) {
        let t = mle.theta
        let n = Double(model.data.count)
        result.parameters = .init(k: t[EmergenceModel.k], alpha: t[EmergenceModel.alpha], C: t[EmergenceModel.c],
                                  A: t[EmergenceModel.a], B: t[EmergenceModel.b],
                                  delta: model.withDelta ? t[EmergenceModel.delta] : 0, sigma: mle.sigma,
                                  dispersion: mle.dispersion)
        // Free parameters: θ plus σ under Gaussian noise.
        let free = Double(model.parameterCount + (options.noise == .gaussian ? 1 : 0))
        result.fit = .init(points: model.data.count, rss: mle.rss, rmse: sqrt(mle.rss / n),
                           logLikelihood: mle.logLikelihood, aic: 2 * free - 2 * mle.logLikelihood,
                           bic: free * log(n) - 2 * mle.logLikelihood, runNoiseSD: RunNoise.estimate(model.data))
        result.emergence.loss.mle = mle.prediction
        // Competing optima: another mode nearly as likely but predicting something else.
        let ll: (LocalOptimum) -> Double = { o in
            // Quasi-likelihood: log L_binomial / φ̂.
            options.noise == .gaussian ? -n / 2 * log(max(o.objective, 1e-300) / n) : -o.objective / (mle.dispersion ?? 1)
        }
        if let best = mle.optima.first {
            for o in mle.optima.dropFirst() where abs(o.prediction - best.prediction) > 0.05 && ll(best) - ll(o) < 2 {
                result.warnings.append(.init(code: "competing_optima", message: String(format:
                    "another local optimum is nearly as likely (Δlog L = %.2f) but predicts E* = %.3f instead of %.3f. Finetune at more data amounts below %@ examples, or more checkpoints near the lowest losses, to tell them apart",
                    ll(best) - ll(o), o.prediction, best.prediction, Identifiability.count(model.data.dataAmounts.first ?? 0))))
                break
            }
        }
        // Form check: does the other form of the law fit clearly better?
        var other = model
        other.form = options.form == .logPower ? .power : .logPower
        if let alt = MaximumLikelihood.fit(other, noise: options.noise,
                                           starts: MaximumLikelihood.startingPoints(other, count: 4, cancel: cancel), cancel: cancel),
           alt.logLikelihood - mle.logLikelihood > 3 {
            result.warnings.append(.init(code: "form_misfit", message: String(format:
                "the %@ form fits these data better (log L higher by %.1f; it predicts E* = %.3f): refit with form %@, or finetune at smaller data amounts, where the two forms differ most",
                other.form.rawValue, alt.logLikelihood - mle.logLikelihood, alt.prediction, other.form.rawValue)))
        }
    }

    static func scalingLaw(_ rows: [Evaluation], options: FitOptions, cancel: Cancellation = .never,
                           result: inout FitResult) -> ScalingLawFit.Result? {
        if let given = options.scalingLaw {
            result.scalingLaw = .init(source: "given", lInf: given.lInf, a: given.a, b: given.b, points: nil, rmse: nil)
            return nil
        }
        let (compute, loss) = checkpointCompute(rows)
        guard let fit = ScalingLawFit.fit(compute: compute, loss: loss, cancel: cancel) else {
            result.warnings.append(.init(code: "no_scaling_law",
                message: "no scaling law: fewer than 3 checkpoints with distinct flops; give scaling_law to convert loss to FLOPs"))
            return nil
        }
        result.scalingLaw = .init(source: "fitted", lInf: fit.law.lInf, a: fit.law.a, b: fit.law.b,
                                  points: fit.points, rmse: fit.rmse)
        return fit
    }

    /// One (flops, loss) point per checkpoint that has flops.
    static func checkpointCompute(_ rows: [Evaluation], only: Set<String>? = nil) -> ([Double], [Double]) {
        var seen: [String: (Double, Double)] = [:]
        for e in rows.sorted(by: FitData.canonicalOrder) {
            if let only, !only.contains(e.checkpoint) { continue }
            if seen[e.checkpoint] == nil, let c = e.effectiveFlops { seen[e.checkpoint] = (c, e.pretrainLoss) }
        }
        let points = seen.sorted { $0.key < $1.key }.map(\.value)
        return (points.map(\.0), points.map(\.1))
    }

    /// Scaling laws to pair with the E* samples: given → that law; fitted with a checkpoint bootstrap →
    /// the law refitted on each draw's checkpoints; otherwise a checkpoint bootstrap of the law alone.
    static func lawSamples(rows: [Evaluation], data: FitData, options: FitOptions, fitted: ScalingLawFit.Result?,
                           sampleCheckpoints: [[Int]]?, count: Int, cancel: Cancellation = .never) throws -> [ScalingLaw] {
        if let given = options.scalingLaw { return [given] }
        guard let fitted else { return [] }
        // Checkpoint names in FitData's order.
        var names = [String](repeating: "", count: data.checkpointCount)
        let sortedRows = rows.sorted(by: FitData.canonicalOrder)
        var order: [String: Int] = [:]
        for e in sortedRows where order[e.checkpoint] == nil { order[e.checkpoint] = order.count }
        for (name, i) in order { names[i] = name }
        var byName: [String: (Double, Double)] = [:]
        for e in sortedRows where byName[e.checkpoint] == nil {
            if let c = e.effectiveFlops { byName[e.checkpoint] = (c, e.pretrainLoss) }
        }
        let draws: [[Int]]
        if let sampleCheckpoints, options.resample == .checkpoints {
            draws = sampleCheckpoints
        } else {
            var rng = SeededRandom(seed: options.seed, stream: 0x5CA1E)
            let n = data.checkpointCount
            draws = (0..<min(max(count, 1), 500)).map { _ in (0..<n).map { _ in rng.index(n) } }
        }
        return try draws.map { draw in
            try cancel.check()
            let points = draw.compactMap { byName[names[$0]] }
            return ScalingLawFit.fit(compute: points.map(\.0), loss: points.map(\.1), near: fitted.law, cancel: cancel)?.law ?? fitted.law
        }
    }

    static func fillCompute(prediction: Double, samples: [Double], law: ScalingLaw, laws: [ScalingLaw],
                            rows: [Evaluation], result: inout FitResult) {
        // A compute beyond ~1e308 FLOPs is as unreachable as E* ≤ L∞, and JSON has no infinity.
        let mleCompute = law.compute(atLoss: prediction).flatMap { $0.isFinite ? $0 : nil }
        var flops = FitResult.FlopsEstimate(mle: mleCompute, reachable: mleCompute != nil,
                                            reachableFraction: nil, percentiles: nil, lowerBound: nil)
        if mleCompute == nil {
            result.warnings.append(.init(code: "unreachable", message: String(format:
                "E* = %.3f is at or below the scaling law's irreducible loss L∞ = %.3f: no amount of compute reaches it under this law",
                prediction, law.lInf)))
        }
        if !samples.isEmpty {
            let computes: [Double] = samples.enumerated().map { i, e in
                let l = laws.isEmpty ? law : laws[i % laws.count]
                return l.compute(atLoss: e) ?? .infinity
            }
            let reachable = computes.filter(\.isFinite)
            flops.reachableFraction = Double(reachable.count) / Double(computes.count)
            let sorted = computes.sorted()
            flops.percentiles = Percentile.table(sorted: sorted)
            result.emergence.probabilityEmerged = cdf(sorted: sorted)
        }
        let maxSeen = rows.compactMap(\.effectiveFlops).max() ?? 0
        if let c = mleCompute, maxSeen > 0, c > 1000 * maxSeen {
            result.warnings.append(.init(code: "long_compute_extrapolation", message: String(format:
                "the predicted compute %.3g FLOPs is over 1000× the largest checkpoint (%.3g): the scaling law is extrapolated far", c, maxSeen)))
        }
        result.emergence.flops = flops
    }

    /// P(emerged by C) on a log-spaced grid spanning the samples' 1st to 99th percentiles.
    static func cdf(sorted: [Double]) -> [FitResult.ProbabilityPoint] {
        let finite = sorted.filter(\.isFinite)
        guard let first = finite.first, first > 0 else { return [] }
        let lo = log10(max(Percentile.of(sorted: finite, 1), first))
        let hi = log10(max(Percentile.of(sorted: finite, 99), first))
        let points = 25
        let n = Double(sorted.count)
        return (0..<points).map { i in
            let c = hi > lo ? pow(10, lo + (hi - lo) * Double(i) / Double(points - 1)) : pow(10, lo)
            // Count of samples ≤ c by binary search.
            var a = 0, b = sorted.count
            while a < b { let m = (a + b) / 2; if sorted[m] <= c { a = m + 1 } else { b = m } }
            return .init(flops: c, p: Double(a) / n)
        }
    }
}

/// A computation on a thread of its own whose result (or error) is collected with `wait()`.
final class BackgroundTask<T: Sendable>: Sendable {
    private let finished = DispatchSemaphore(value: 0)
    private let outcome = Mutex<Result<T, any Error>?>(nil)

    init(_ work: @escaping @Sendable () throws -> T) {
        let thread = Thread { [self] in
            let result = Result { try work() }
            outcome.withLock { $0 = result }
            finished.signal()
        }
        thread.stackSize = 1 << 22
        thread.start()
    }

    func wait() throws -> T {
        finished.wait()
        // The semaphore is signalled only after the outcome is stored.
        guard let result = outcome.withLock({ $0 }) else { throw FitError.cancelled }
        return try result.get()
    }
}
