import Foundation

/// Experiment design: which extra finetuning amount or checkpoint would narrow E*'s interval most.
///
/// The fitted model is taken as the truth. For the current design and for each candidate (the
/// current rows plus the candidate's), `simulations` data sets are drawn from it at the rows'
/// measured losses,
///
///     μ_i = B + Δ·[few-shot] + A · max(E_θ(D_i) − x_i, 0)        (D_i = D0 for few-shot rows)
///     y_i = μ_i + σ̂·ε  (Gaussian)   or   Binomial(n_i, μ_i)/n_i (+ N(0, (φ̂−1)·μ_i(1−μ_i)/n_i) when quasi-binomial)
///
/// each is refitted with `refitOptions` (the base options, bootstrap with `refit_bootstrap`
/// resamples), and the 5–95 width of E* is averaged. Simulation r uses the same noise for the current
/// rows under every candidate (common random numbers), so differences between candidates are not
/// swamped by simulation noise. The current design, re-simulated the same way, is the baseline.
public enum Advice {
    /// Fits the study (`options.fit`), then, for the current design and each candidate, simulates
    /// `options.simulations` data sets from the fitted model (its noise model: Gaussian σ̂ or
    /// binomial with each row's n_questions), refits each with `options.refitOptions` and averages the
    /// 5–95 width of E*. Candidates are ranked by that expected width. Throws like `EmergenceFit.run`.
    public static func run(_ evaluations: [Evaluation], options: AdviceOptions, budget: FitBudget = .default,
                           threads: Int = ProcessInfo.processInfo.activeProcessorCount,
                           progress: (@Sendable (Double) -> Void)? = nil,
                           isCancelled: (@Sendable () -> Bool)? = nil) throws -> AdviceResult {
        let problems = options.problems(budget: budget)
        guard problems.isEmpty else { throw FitError.invalidOptions(problems) }
        let cancel = Cancellation(isCancelled)
        let base = try EmergenceFit.run(evaluations, options: options.fit, budget: budget, threads: threads,
                                        progress: progress.map { p in { @Sendable f in p(0.1 * f) } },
                                        isCancelled: isCancelled)
        var result = AdviceResult(status: .ok, base: EmergencePoint(base), currentWidth: width(base), baseline: nil,
                                  candidates: [], refits: 0, resamples: 0, warnings: [])
        guard base.status == .ok || base.status == .alreadyEmerged, let p = base.parameters, let d0 = base.d0 else {
            result.status = .noModel
            result.warnings.append(.init(code: "no_model", message:
                "the fit has no point estimate (\(base.status.rawValue)): there is no fitted model to simulate experiments from"))
            progress?(1)
            return result
        }

        var rows = evaluations
        if let m = options.fit.maxFlops { rows = rows.filter { ($0.effectiveFlops ?? .infinity) <= m } }
        rows.sort(by: FitData.canonicalOrder)
        let model = SimulationModel(parameters: p, form: base.form, d0: d0, noise: options.fit.noise)
        let law = base.scalingLaw.map { ScalingLaw(lInf: $0.lInf, a: $0.a, b: $0.b) }
        var candidates = Design.candidates(rows, options: options, base: base, law: law, warnings: &result.warnings)
        if candidates.isEmpty {
            result.warnings.append(.init(code: "no_candidates", message: "no candidate experiment could be formed"))
        }

        // The baseline (the current design) and each candidate, `simulations` refits each.
        let refit = options.refitOptions
        let designs = [Design.Candidate?.none] + candidates.map { Optional($0) }
        let totalRefits = Double(designs.count * options.simulations)
        var done = 0.0
        var widths: [[Double]] = Array(repeating: [], count: designs.count)
        for (k, design) in designs.enumerated() {
            for r in 0..<options.simulations {
                try cancel.check()
                // Common random numbers: the current rows' noise depends on r only.
                var rng = SeededRandom(seed: options.fit.seed, stream: 0xAD_0000 &+ UInt64(r))
                var simulated = rows.map { model.simulate($0, rng: &rng) }
                if let design {
                    var extraRNG = SeededRandom(seed: options.fit.seed, stream: 0xAE_0000 &+ UInt64(k) << 16 &+ UInt64(r))
                    simulated += design.rows.map { model.simulate($0, rng: &extraRNG) }
                }
                var o = refit
                o.seed = options.fit.seed &+ UInt64(r)
                let offset = done
                let fitted = try EmergenceFit.run(
                    simulated, options: o, budget: .unlimited, threads: threads,
                    progress: progress.map { p in { @Sendable f in p(0.1 + 0.9 * (offset + f) / totalRefits) } },
                    isCancelled: isCancelled)
                done += 1
                result.refits += 1
                result.resamples += o.bootstrap
                if let w = width(fitted) { widths[k].append(w) }
            }
        }
        let baseline = summary(widths[0])
        result.baseline = baseline
        var ranked: [AdviceResult.Candidate] = []
        for (i, c) in candidates.enumerated() {
            guard let w = summary(widths[i + 1]) else { continue }
            ranked.append(.init(rank: 0, kind: c.kind, dataAmount: c.dataAmount, flops: c.flops, pretrainLoss: c.pretrainLoss,
                                rows: c.rows.count, width: w, narrowing: (baseline?.expected ?? .nan) - w.expected))
        }
        ranked.sort { $0.width.expected != $1.width.expected ? $0.width.expected < $1.width.expected
            : ($0.dataAmount ?? $0.flops ?? 0) < ($1.dataAmount ?? $1.flops ?? 0) }
        for i in ranked.indices {
            ranked[i].rank = i + 1
            if !ranked[i].narrowing.isFinite { ranked[i].narrowing = 0 }
        }
        candidates.removeAll()
        result.candidates = ranked
        if widths.contains(where: { $0.count < options.simulations }) {
            result.warnings.append(.init(code: "simulations_without_interval", message:
                "some simulated refits gave no interval (no signal or insufficient data); their designs are averaged over the rest"))
        }
        progress?(1)
        return result
    }

    /// The 5–95 width of E* of a fit; nil without an interval.
    static func width(_ fit: FitResult) -> Double? {
        guard let p = fit.emergence.loss.percentiles, let lo = p["5"], let hi = p["95"] else { return nil }
        return hi - lo
    }

    static func summary(_ widths: [Double]) -> AdviceResult.Width? {
        guard !widths.isEmpty else { return nil }
        let n = Double(widths.count)
        let mean = widths.reduce(0, +) / n
        let variance = widths.count > 1 ? widths.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / (n - 1) : 0
        return .init(expected: mean, standardError: (variance / n).squareRoot(), simulations: widths.count)
    }
}

/// The fitted model as a simulator of accuracies at given rows.
struct SimulationModel {
    var law: EmergenceLaw
    var a: Double, b: Double, delta: Double
    var sigma: Double?
    var dispersion: Double
    var d0: Double
    var noise: FitOptions.Noise

    init(parameters p: FitResult.Parameters, form: FitOptions.Form, d0: Double, noise: FitOptions.Noise) {
        law = EmergenceLaw(form: form, k: p.k, alpha: p.alpha, C: p.C)
        a = p.A; b = p.B; delta = p.delta
        sigma = p.sigma
        dispersion = max(p.dispersion ?? 1, 1)
        self.d0 = d0
        self.noise = noise
    }

    func mean(_ e: Evaluation) -> Double {
        let fewShot = e.setting == .fewShot
        let elbow = law.elbow(at: fewShot ? d0 : (e.finetuneExamples ?? d0))
        return b + (fewShot ? delta : 0) + a * max(elbow - e.pretrainLoss, 0)
    }

    func simulate(_ e: Evaluation, rng: inout SeededRandom) -> Evaluation {
        let mu = min(max(mean(e), 0), 1)
        var out = e
        switch noise {
        case .gaussian:
            out.accuracy = mu + (sigma ?? 0) * rng.normal()
        case .binomial, .quasiBinomial:
            let n = max(e.nQuestions ?? 1000, 1)
            var y = Double(rng.binomial(n: n, p: mu)) / Double(n)
            if dispersion > 1 { y += ((dispersion - 1) * mu * (1 - mu) / Double(n)).squareRoot() * rng.normal() }
            out.accuracy = y
        }
        out.accuracy = min(max(out.accuracy, 0), 1)
        return out
    }
}

/// Candidate experiments and the rows each adds.
enum Design {
    struct Candidate {
        var kind: AdviceResult.Candidate.Kind
        var dataAmount: Double?
        var flops: Double?
        var pretrainLoss: Double?
        var rows: [Evaluation]
    }

    static func candidates(_ rows: [Evaluation], options: AdviceOptions, base: FitResult, law: ScalingLaw?,
                           warnings: inout [FitResult.Warning]) -> [Candidate] {
        let finetuned = rows.filter { $0.setting == .finetuned }
        let amounts = Array(Set(finetuned.compactMap(\.finetuneExamples))).sorted()
        let d0 = base.d0 ?? 2
        var out: [Candidate] = []

        // Extra data amounts: one more finetuned row at D for every finetuned checkpoint.
        let dGrid: [Double] = options.dataAmounts ?? {
            guard let lo = amounts.first, let hi = amounts.last else { return [] }
            var g = [lo / 4, lo / 2, 2 * hi]
            if amounts.count >= 2 { g.insert((amounts[0] * amounts[1]).squareRoot(), at: 2) }
            return g.map { $0.rounded() }.filter { $0 > max(d0, 1) && !amounts.contains($0) }
        }()
        var ftCheckpoints: [String: Evaluation] = [:]
        for e in finetuned where ftCheckpoints[e.checkpoint] == nil { ftCheckpoints[e.checkpoint] = e }
        for d in dGrid {
            let added = ftCheckpoints.keys.sorted().compactMap { name -> Evaluation? in
                guard var e = ftCheckpoints[name] else { return nil }
                e.finetuneExamples = d
                e.subset = "advice"
                return e
            }
            if !added.isEmpty { out.append(.init(kind: .dataAmount, dataAmount: d, flops: nil, pretrainLoss: nil, rows: added)) }
        }

        // Extra checkpoints: few-shot and finetuned at every data amount, at the scaling law's loss.
        let maxSeen = rows.compactMap(\.effectiveFlops).max() ?? 0
        let cGrid: [Double] = options.checkpointFlops ?? {
            guard maxSeen > 0 else { return [] }
            if let c = base.emergence.flops?.mle, c > 1.5 * maxSeen {
                let r = c / maxSeen
                return [0.25, 0.5, 0.75].map { maxSeen * pow(r, $0) }
            }
            return [2, 4, 8].map { maxSeen * $0 }
        }()
        if !cGrid.isEmpty && law == nil {
            warnings.append(.init(code: "no_scaling_law", message:
                "no scaling law: an extra checkpoint's loss cannot be known, so checkpoint candidates are left out"))
        } else if let law {
            let template = rows.first { $0.setting == .finetuned } ?? rows.first
            let fewShotTemplate = rows.first { $0.setting == .fewShot }
            for c in cGrid {
                let x = law.loss(atCompute: c)
                guard x.isFinite, x > 0, let template else { continue }
                let name = String(format: "advice-%.3g", c)
                var added: [Evaluation] = []
                var fs = fewShotTemplate ?? template
                fs.checkpoint = name; fs.flops = c; fs.parameters = nil; fs.tokens = nil; fs.pretrainLoss = x
                fs.setting = .fewShot; fs.shots = fewShotTemplate?.shots ?? Int(d0); fs.finetuneExamples = nil; fs.subset = nil
                added.append(fs)
                for d in amounts {
                    var e = template
                    e.checkpoint = name; e.flops = c; e.parameters = nil; e.tokens = nil; e.pretrainLoss = x
                    e.setting = .finetuned; e.shots = 0; e.finetuneExamples = d; e.subset = "advice"
                    added.append(e)
                }
                out.append(.init(kind: .checkpoint, dataAmount: nil, flops: c, pretrainLoss: x, rows: added))
            }
        }
        return Array(out.prefix(WorkflowLimits.maxCandidates))
    }
}
