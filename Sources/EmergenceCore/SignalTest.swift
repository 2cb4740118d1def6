import Foundation

/// Has any finetuned run left the floor? A parametric-bootstrap test of the lift against the
/// floor-only model, with the null distribution drawn for this study (docs/method.md §6.2).
///
/// The statistic is Λ = 2·(log L_full − log L_floor) (÷ φ̂ under quasi-binomial noise). Its null
/// distribution is not χ²: the elbow k, α, C is not identified when the slope A is 0 (Davies 1987),
/// and how far Λ strays under pure noise depends on the design (how many rows, amounts and
/// checkpoints the elbow can pick out). So the floor-only model is fitted to the study, `replicates`
/// studies are simulated from it with the same design and noise, each is fitted with the full law
/// by the same multi-start, and the lift counts as seen when none of them reaches Λ: a Monte Carlo
/// p-value (1 + #{Λ*_r ≥ Λ})/(1 + R) = 0.01 (Davison & Hinkley 1997, §4.2). At 5% (39 draws), 4 of
/// 140 pure-noise studies of the `no-signal` scenario were called a signal; at 1%, see §6.2.
///
/// A statistic at or above `certain` skips the simulation: on the development split no study's null
/// 95th percentile came near it (the largest is in docs/method.md §6.2), so no draw could change the
/// verdict, and studies with a clear lift pay nothing for the test.
enum SignalTest {
    static let replicates = 99
    /// Λ above which no simulation runs (see above).
    static let certain = 30.0

    struct Outcome: Equatable {
        var statistic: Double
        /// Simulated studies whose Λ* reached Λ (nil: not simulated, Λ ≥ `certain`).
        var exceeding: Int?
        /// The null's 95th percentile (nil: not simulated).
        var nullP95: Double?
        var signal: Bool { exceeding.map { $0 == 0 } ?? true }
    }

    static func run(_ model: EmergenceModel, noise: FitOptions.Noise, statistic: Double, seed: UInt64) -> Outcome {
        guard statistic < certain else { return Outcome(statistic: statistic, exceeding: nil, nullP95: nil) }
        guard statistic.isFinite, statistic > 0, let null = floorMeans(model) else {
            return Outcome(statistic: statistic, exceeding: replicates, nullP95: nil)
        }
        let data = model.data
        var rng = SeededRandom(seed: seed, stream: 0x5167_4E41)
        var draws: [Double] = []
        draws.reserveCapacity(replicates)
        for _ in 0..<replicates {
            var simulated = model
            // Each checkpoint's finetuning shares one offset (the floor's between-checkpoint component).
            let offsets = (0..<data.checkpointCount).map { _ in null.checkpointSD * rng.normal() }
            for i in 0..<data.count {
                let p = null.mean[i]
                switch noise {
                case .gaussian:
                    let offset = data.fewShot[i] == 1 ? 0 : offsets[min(max(data.checkpoint[i], 0), offsets.count - 1)]
                    simulated.data.y[i] = p + offset + null.sigma[data.fewShot[i] == 1 ? 1 : 0] * rng.normal()
                case .binomial, .quasiBinomial:
                    // Quasi-binomial: the binomial draw's spread scaled by √φ̂ of the floor fit.
                    // n_questions as given, kept inside Int (an absurd count must not trap; past
                    // 1e9 questions the binomial's spread is nil anyway).
                    let q = data.questions[i]
                    let n = q.isFinite && q >= 1 ? Int(min(q.rounded(), 1e9)) : 1
                    let binomial = Double(rng.binomial(n: n, p: p)) / Double(n)
                    let offset = data.fewShot[i] == 1 ? 0 : offsets[min(max(data.checkpoint[i], 0), offsets.count - 1)]
                    simulated.data.y[i] = min(max(p + offset + (binomial - p) * null.phiRoot, 0), 1)
                }
            }
            let starts = MaximumLikelihood.startingPoints(simulated)
            guard let fit = MaximumLikelihood.fit(simulated, noise: noise, starts: starts) else { continue }
            let phi = fit.dispersion ?? 1
            draws.append(2 * (fit.logLikelihood - Diagnostics.floorLogLikelihood(simulated, noise: noise)) / phi)
        }
        guard !draws.isEmpty else { return Outcome(statistic: statistic, exceeding: replicates, nullP95: nil) }
        draws.sort()
        // Draws that failed to fit count as reaching Λ: a failure never manufactures a signal.
        let exceeding = draws.filter { $0 >= statistic }.count + (replicates - draws.count)
        return Outcome(statistic: statistic, exceeding: exceeding, nullP95: Percentile.of(sorted: draws, 95))
    }

    /// The floor-only fit: each row's mean B + Δ·fewShot, the Gaussian σ of finetuned and of few-shot
    /// rows apart (finetuned rows carry the runs' scatter too, and a null with one σ for both would be
    /// too quiet on the finetuned rows, where a lift is looked for), and the quasi-binomial √φ̂.
    static func floorMeans(_ model: EmergenceModel) -> (mean: [Double], sigma: [Double], checkpointSD: Double, phiRoot: Double)? {
        let data = model.data
        let zero = [Double](repeating: 0, count: data.count)
        guard let (b, d, _, rss) = MaximumLikelihood.linearFloorAndSlope(data, z: zero, withDelta: model.withDelta) else { return nil }
        // Each row's floor and its residual from it.
        let floor = (0..<data.count).map { b + (model.withDelta ? d : 0) * data.fewShot[$0] }
        let residual = (0..<data.count).map { data.y[$0] - floor[$0] }
        let mean = floor.map { min(max($0, 0.001), 0.999) }
        var squares = [0.0, 0.0], counts = [0.0, 0.0]
        for i in 0..<data.count {
            let s = data.fewShot[i] == 1 ? 1 : 0
            squares[s] += residual[i] * residual[i]
            counts[s] += 1
        }
        let pooled = (rss / Double(max(data.count, 1))).squareRoot()
        // A setting with fewer than 3 rows borrows the pooled σ.
        var sigma = (0..<2).map { counts[$0] >= 3 ? (squares[$0] / counts[$0]).squareRoot() : pooled }
        // The finetuned rows' residuals by checkpoint (VarianceComponents): one offset per checkpoint,
        // and the rows' own σ the within-checkpoint one wherever that offset is not 0.
        let finetuned = (0..<data.count).filter { data.fewShot[$0] == 0 && data.checkpoint[$0] >= 0 && data.checkpoint[$0] < data.checkpointCount }
        var checkpointSD = 0.0
        if let components = VarianceComponents.oneWay(finetuned.map { residual[$0] }, group: finetuned.map { data.checkpoint[$0] },
                                                      groupCount: data.checkpointCount, minimumGroups: 3) {
            checkpointSD = components.between
            if checkpointSD > 0 { sigma[0] = components.within }
        }
        let phi = MaximumLikelihood.dispersion(y: data.y, mean: mean, questions: data.questions, multiplicity: nil,
                                               parameters: model.withDelta ? 2 : 1)
        return (mean, sigma, checkpointSD, phi.squareRoot())
    }
}

extension FitResult.SignalTestSummary {
    /// The test as the result reports it (replicates only where they were drawn).
    init(_ test: SignalTest.Outcome) {
        self.init(statistic: test.statistic, exceeding: test.exceeding,
                  replicates: test.exceeding == nil ? nil : SignalTest.replicates, nullP95: test.nullP95, signal: test.signal)
    }
}
