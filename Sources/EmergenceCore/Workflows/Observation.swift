import Foundation

/// The observed emergence point (docs/method.md §8): from the few-shot rows alone, the ReLU of accuracy
/// against pretraining loss over every checkpoint, with a checkpoint bootstrap for its interval.
///
///     accuracy_i = floor + slope · max(E − x_i, 0),   slope ≥ 0
///
/// with x the checkpoint's pretraining loss (or −log10 FLOPs on the flops axis, so that the same
/// orientation holds: accuracy rises as x falls). For a fixed elbow E the model is linear in
/// (floor, slope), solved exactly by least squares; E is found by profiling the residual sum of
/// squares over a grid spanning the observed x, then a golden-section search in the best cell.
public enum Observation {
    /// - budget: the most work the options may ask for (`options.problems(budget:)`).
    /// - progress: called now and then with the fraction done in [0, 1].
    /// - isCancelled: polled between resamples; once true, throws `FitError.cancelled`.
    /// Throws `FitError.invalidOptions` for bad options or rows, `FitError.noRows` when no few-shot
    /// rows are left. Deterministic for given rows (in any order), options and seed.
    public static func run(_ evaluations: [Evaluation], options: ObserveOptions, budget: FitBudget = .default,
                           progress: (@Sendable (Double) -> Void)? = nil,
                           isCancelled: (@Sendable () -> Bool)? = nil) throws -> ObservationResult {
        let cancel = Cancellation(isCancelled)
        var problems = options.problems(budget: budget)
        for (i, e) in evaluations.enumerated() {
            // Rows may lack pretrain_loss (leaderboards give only FLOPs): the flops axis needs none.
            for p in e.problems(requiringLoss: false) { problems.append(.init(field: "evaluations[\(i)].\(p.field)", reason: p.reason)) }
        }
        guard problems.isEmpty else { throw FitError.invalidOptions(problems) }
        try cancel.check()

        var warnings: [FitResult.Warning] = []
        let fewShot = evaluations.filter { $0.setting == .fewShot }
        var rows = fewShot
        if let maxFlops = options.maxFlops { rows = rows.filter { ($0.effectiveFlops ?? .infinity) <= maxFlops } }
        if options.axis == .flops {
            let before = rows.count
            rows = rows.filter { $0.effectiveFlops != nil }
            if rows.count < before {
                warnings.append(.init(code: "unknown_flops_excluded",
                                      message: "\(before - rows.count) few-shot rows have no flops (nor parameters and tokens) and were left out of the flops axis"))
            }
        } else {
            let before = rows.count
            rows = rows.filter { $0.pretrainLossIfGiven != nil }
            if rows.isEmpty && before > 0 {
                throw FitError.invalidOptions([.init(field: "axis", reason:
                    "is loss, but no few-shot row has pretrain_loss; use the flops axis for rows with only flops (or parameters and tokens)")])
            }
            if rows.count < before {
                warnings.append(.init(code: "unknown_loss_excluded",
                                      message: "\(before - rows.count) few-shot rows have no pretrain_loss and were left out of the loss axis; the flops axis would use them"))
            }
        }
        guard !rows.isEmpty else { throw FitError.noRows }
        rows.sort(by: FitData.canonicalOrder)
        let data = ReLUData(rows, axis: options.axis)
        let axisValues = data.x.map { options.axis == .loss ? $0 : -$0 }
        var result = ObservationResult(
            status: .ok, warnings: warnings, axis: options.axis, seed: options.seed,
            data: .init(rows: rows.count, checkpoints: data.checkpointCount, excludedRows: fewShot.count - rows.count,
                        axisRange: [axisValues.min() ?? 0, axisValues.max() ?? 0]),
            parameters: nil, statistic: nil, emergence: EmergencePoint(loss: nil, flops: nil),
            firstEmerged: nil, bootstrap: nil, scalingLaw: nil)

        // The scaling law for the loss ↔ FLOPs conversion: given, or fitted to the checkpoints that
        // have both. Without losses (a leaderboard) there is none, and the answer is in FLOPs only.
        let (computes, losses) = EmergenceFit.checkpointCompute(rows.filter { $0.pretrainLossIfGiven != nil })
        var law = options.scalingLaw
        if let given = law {
            result.scalingLaw = .init(source: "given", lInf: given.lInf, a: given.a, b: given.b, points: nil, rmse: nil)
        } else if let fitted = ScalingLawFit.fit(compute: computes, loss: losses, cancel: cancel) {
            law = fitted.law
            result.scalingLaw = .init(source: "fitted", lInf: fitted.law.lInf, a: fitted.law.a, b: fitted.law.b,
                                      points: fitted.points, rmse: fitted.rmse)
        } else if losses.isEmpty {
            result.warnings.append(.init(code: "no_scaling_law", message:
                "no scaling law: no row has pretrain_loss, so the answer is in FLOPs only; give scaling_law (or the rows' losses) for the loss"))
        } else {
            result.warnings.append(.init(code: "no_scaling_law", message:
                "no scaling law: fewer than 3 checkpoints with distinct flops; FLOPs are interpolated between checkpoints where possible"))
        }
        try cancel.check()

        guard data.checkpointCount >= 3, let fit = ReLUFit.fit(data.x, data.y) else {
            result.status = .insufficientData
            result.warnings.append(.init(code: "few_checkpoints", message:
                "\(data.checkpointCount) checkpoint(s) with few-shot rows: the ReLU needs at least 3"))
            return result
        }
        let n = Double(data.x.count)
        let sigma = (fit.rss / n).squareRoot()
        // Likelihood-ratio statistic of the ReLU against the flat floor (Gaussian, σ profiled out).
        let statistic = ObservationSignalTest.statistic(fit, rows: data.x.count)
        result.statistic = statistic
        result.parameters = .init(floor: fit.floor, slope: fit.slope,
                                  elbow: options.axis == .loss ? fit.elbow : -fit.elbow, sigma: sigma)
        // Checkpoints whose fitted lift clears 2σ̂, and whose own mean accuracy is above the floor.
        let lifted = data.liftedCheckpoints(fit, sigma: sigma)
        // The lift must beat this design's own null (ObservationSignalTest) and reach 2 checkpoints.
        let test = ObservationSignalTest.run(data, statistic: statistic, seed: options.seed)
        let emerged = test.signal && lifted.count >= 2
        // From an elbow on the axis to (loss, FLOPs): the loss axis converts through the scaling law
        // (interpolating between checkpoints when none could be fitted); the flops axis through the law
        // or interpolation to a loss, none when the rows have no loss and no law is given.
        let interpolation = LossComputeInterpolation(computes: computes, losses: losses)
        func point(_ elbow: Double, _ l: ScalingLaw?) -> (loss: Double?, flops: Double?) {
            switch options.axis {
            case .loss:
                let c = l.flatMap { $0.compute(atLoss: elbow) } ?? (l == nil ? interpolation.compute(atLoss: elbow) : .infinity)
                return (elbow, c)
            case .flops:
                let c = pow(10, -elbow)
                return (l.map { $0.loss(atCompute: c) } ?? interpolation.loss(atCompute: c), c)
            }
        }
        if !emerged {
            result.status = .notYetEmerged
            result.parameters = nil
            notYetEmerged(&result, data: data, evaluations: evaluations, options: options, test: test,
                          lifted: lifted.count, law: law) { point($0, law) }
            progress?(1)
            return result
        }
        if lifted.count < 3 {
            result.warnings.append(.init(code: "few_checkpoints_past_elbow", message:
                "only \(lifted.count) checkpoints are past the elbow: the observed point is rough"))
        }

        // Checkpoint bootstrap: whole checkpoints with replacement, the elbow refitted on each, and the
        // scaling law refitted on the same checkpoints (as the fit does for C*).
        var elbows: [Double] = []
        var drawLaws: [ScalingLaw?] = []
        var failed = 0
        if options.bootstrap > 0 {
            let checkpointRows = data.rowsOfCheckpoint
            let cn = data.checkpointCount
            for b in 0..<options.bootstrap {
                if b % 16 == 0 { try cancel.check(); progress?(0.05 + 0.9 * Double(b) / Double(options.bootstrap)) }
                var rng = SeededRandom(seed: options.seed, stream: UInt64(b) &+ 1)
                var xs: [Double] = [], ys: [Double] = []
                var drawn: [Int] = []
                for _ in 0..<cn {
                    let c = rng.index(cn)
                    drawn.append(c)
                    for i in checkpointRows[c] { xs.append(data.x[i]); ys.append(data.y[i]) }
                }
                guard Set(drawn).count >= 3, let f = ReLUFit.fit(xs, ys), f.slope > 0 else { failed += 1; continue }
                elbows.append(f.elbow)
                if options.scalingLaw != nil || law == nil {
                    drawLaws.append(law)
                } else {
                    let points = drawn.compactMap { data.checkpointPoint[$0] }
                    drawLaws.append(ScalingLawFit.fit(compute: points.map(\.0), loss: points.map(\.1), cancel: cancel)?.law ?? law)
                }
            }
            result.bootstrap = .init(samples: options.bootstrap, failed: failed)
            if failed > options.bootstrap / 20 {
                result.warnings.append(.init(code: "bootstrap_failures", message:
                    "\(failed) of \(options.bootstrap) resamples found no lift; the interval rests on the rest"))
            }
        }
        try cancel.check()

        let best = point(fit.elbow, law)
        let samplePoints = zip(elbows, drawLaws).map { point($0, $1) }
        let lossSamples = samplePoints.compactMap(\.loss).sorted()
        let flopsSamples = samplePoints.map { $0.flops ?? .nan }.filter { !$0.isNaN }.sorted()
        if best.loss != nil || !lossSamples.isEmpty {
            result.emergence.loss = WorkflowEstimate(mle: best.loss,
                                                     percentiles: lossSamples.isEmpty ? nil : Percentile.table(sorted: lossSamples))
        }
        if best.flops != nil || !flopsSamples.isEmpty {
            result.emergence.flops = WorkflowEstimate(mle: best.flops.flatMap { $0.isFinite ? $0 : nil },
                                                      percentiles: flopsSamples.isEmpty ? nil : Percentile.table(sorted: flopsSamples))
        }
        // The first post-emergence checkpoint: the least compute among those past the elbow.
        let past = data.checkpoints.filter { $0.x < fit.elbow }
        if let first = past.min(by: { ($0.flops ?? .infinity, -($0.loss ?? 0)) < ($1.flops ?? .infinity, -($1.loss ?? 0)) }) {
            result.firstEmerged = .init(checkpoint: first.name, flops: first.flops, pretrainLoss: first.loss)
        }
        progress?(1)
        return result
    }

    /// n·ln(RSS_floor / RSS_relu) at which one data amount's finetuned rows count as clearly lifted,
    /// so that their slope may bound the few-shot rows' (FinetunedSlope). Not the signal test (that is
    /// ObservationSignalTest's null): a stricter bar on purpose, since a slope from barely lifted rows
    /// would be a shallow, loose one anyway. Measured on the shared simulated studies: 0–1.7 on rows at
    /// the floor, 27 (cola-like) to 236 (gsm8k-like) where emergence is in the data.
    static let clearLift = 20.0
}

/// Few-shot rows as the ReLU sees them: x oriented so that accuracy rises as x falls.
struct ReLUData {
    struct Checkpoint { var name: String; var x: Double; var loss: Double?; var flops: Double? }
    var x: [Double] = []
    var y: [Double] = []
    var checkpointIndex: [Int] = []
    var checkpoints: [Checkpoint] = []
    var rowsOfCheckpoint: [[Int]] = []
    /// (flops, loss) of each checkpoint that has flops, for refitting the scaling law on a resample.
    var checkpointPoint: [(Double, Double)?] = []
    var checkpointCount: Int { checkpoints.count }

    init(_ rows: [Evaluation], axis: ObserveOptions.Axis) {
        var index: [String: Int] = [:]
        for e in rows {
            // Observation.run keeps only rows that have the axis' value.
            let xv = axis == .loss ? e.pretrainLoss : -log10(e.effectiveFlops ?? 1)
            let c: Int
            if let known = index[e.checkpoint] { c = known } else {
                c = checkpoints.count
                index[e.checkpoint] = c
                checkpoints.append(.init(name: e.checkpoint, x: xv, loss: e.pretrainLossIfGiven, flops: e.effectiveFlops))
                rowsOfCheckpoint.append([])
                if let c = e.effectiveFlops, let l = e.pretrainLossIfGiven { checkpointPoint.append((c, l)) } else { checkpointPoint.append(nil) }
            }
            rowsOfCheckpoint[c].append(x.count)
            x.append(xv)
            y.append(e.accuracy)
            checkpointIndex.append(c)
        }
    }

    /// Checkpoints whose fitted lift slope·(E − x) exceeds 2σ̂ and whose mean accuracy exceeds the
    /// floor by σ̂: the same spirit as the fit's no-signal test.
    func liftedCheckpoints(_ f: ReLUFit, sigma: Double) -> [Int] {
        (0..<checkpointCount).filter { c in
            let lift = f.slope * max(f.elbow - checkpoints[c].x, 0)
            let ys = rowsOfCheckpoint[c].map { y[$0] }
            let mean = ys.reduce(0, +) / Double(max(ys.count, 1))
            return lift > 2 * sigma && mean - f.floor > sigma
        }
    }
}

/// The least-squares ReLU y = floor + slope·max(E − x, 0), slope ≥ 0, profiled over E.
struct ReLUFit {
    var floor: Double
    var slope: Double
    var elbow: Double
    var rss: Double
    /// RSS of the flat floor (y = mean).
    var floorRSS: Double

    /// (floor, slope, rss) at a fixed elbow: ordinary least squares of y on z = max(E − x, 0), the
    /// slope held at 0 when the unconstrained one is negative.
    static func profile(_ e: Double, _ x: [Double], _ y: [Double], meanY: Double, syy: Double) -> (Double, Double, Double) {
        let n = Double(x.count)
        var sz = 0.0, szz = 0.0, szy = 0.0
        for i in 0..<x.count {
            let z = max(e - x[i], 0)
            sz += z; szz += z * z; szy += z * y[i]
        }
        let mz = sz / n
        let vzz = szz - n * mz * mz
        let vzy = szy - n * mz * meanY
        guard vzz > 1e-300, vzy > 0 else { return (meanY, 0, syy) }
        let slope = vzy / vzz
        return (meanY - slope * mz, slope, max(syy - slope * vzy, 0))
    }

    static func fit(_ x: [Double], _ y: [Double]) -> ReLUFit? {
        let n = x.count
        guard n >= 3, let lo = x.min(), let hi = x.max(), hi > lo else { return nil }
        let meanY = y.reduce(0, +) / Double(n)
        var syy = 0.0
        for v in y { syy += (v - meanY) * (v - meanY) }
        // Grid over [lo, hi]: the RSS is continuous in E and smooth between data points.
        let steps = 400
        let h = (hi - lo) / Double(steps)
        var bestJ = 0
        var bestRSS = Double.infinity
        for j in 0...steps {
            let r = profile(lo + h * Double(j), x, y, meanY: meanY, syy: syy).2
            if r < bestRSS { bestRSS = r; bestJ = j }
        }
        // Golden-section search in the cells either side of the best grid point.
        var a = lo + h * Double(max(bestJ - 1, 0)), b = lo + h * Double(min(bestJ + 1, steps))
        let g = (5.0.squareRoot() - 1) / 2
        var c = b - g * (b - a), d = a + g * (b - a)
        var fc = profile(c, x, y, meanY: meanY, syy: syy).2, fd = profile(d, x, y, meanY: meanY, syy: syy).2
        for _ in 0..<40 {
            if fc < fd { b = d; d = c; fd = fc; c = b - g * (b - a); fc = profile(c, x, y, meanY: meanY, syy: syy).2 }
            else { a = c; c = d; fc = fd; d = a + g * (b - a); fd = profile(d, x, y, meanY: meanY, syy: syy).2 }
        }
        var e = (a + b) / 2
        var (floor, slope, rss) = profile(e, x, y, meanY: meanY, syy: syy)
        if bestRSS < rss {
            e = lo + h * Double(bestJ)
            (floor, slope, rss) = profile(e, x, y, meanY: meanY, syy: syy)
        }
        return ReLUFit(floor: floor, slope: slope, elbow: e, rss: rss, floorRSS: syy)
    }
}

/// log10 FLOPs against loss, linearly interpolated between checkpoints sorted by loss: the FLOPs of
/// an observed elbow when no scaling law can be fitted. nil outside the checkpoints' range.
struct LossComputeInterpolation {
    private var points: [(loss: Double, log10C: Double)]

    init(computes: [Double], losses: [Double]) {
        points = zip(losses, computes).filter { $1 > 0 }.map { ($0, log10($1)) }.sorted { $0.loss < $1.loss }
    }

    func compute(atLoss e: Double) -> Double? {
        guard let j = points.firstIndex(where: { $0.loss >= e }) else { return nil }
        if points[j].loss == e { return pow(10, points[j].log10C) }
        guard j > 0 else { return nil }
        let p = points[j - 1], q = points[j]
        let t = (e - p.loss) / (q.loss - p.loss)
        return pow(10, p.log10C + t * (q.log10C - p.log10C))
    }

    func loss(atCompute c: Double) -> Double? {
        let lc = log10(c)
        let byC = points.sorted { $0.log10C < $1.log10C }
        guard let j = byC.firstIndex(where: { $0.log10C >= lc }) else { return nil }
        if byC[j].log10C == lc { return byC[j].loss }
        guard j > 0 else { return nil }
        let p = byC[j - 1], q = byC[j]
        let t = (lc - p.log10C) / (q.log10C - p.log10C)
        return p.loss + t * (q.loss - p.loss)
    }
}
