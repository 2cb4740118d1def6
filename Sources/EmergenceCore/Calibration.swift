import Foundation

/// Are the intervals honest? Simulate studies with known truth, fit each in the prediction setting,
/// and score the answers as a forecaster would (docs/calibration.md): coverage of the 50/80/90%
/// intervals overall and within strata, the interval score and CRPS, the error against the study's
/// Cramér–Rao SD, and how often a withheld study's one-sided bound holds.
///
/// **Development and held-out studies.** Every rule of the engine was tuned on studies of the
/// development split; the held-out split's studies are for reporting only. A rule judged on the
/// studies it was tuned on looks better than it is (on `wide`, 0.97 on the 40 tuning studies
/// against 0.83 on the other 160).
public enum Calibration {
    /// The study families `emergence calibrate` draws from.
    public static let families = ["jittered", "wide", "weak", "designs"]

    public enum Split: String, Codable, Sendable, CaseIterable {
        /// The studies rules may be tuned on (the generator seed every earlier threshold was set with).
        case development
        /// The studies that are only ever reported.
        case heldOut = "held-out"

        public var seed: UInt64 {
            switch self {
            case .development: return 2024
            case .heldOut: return 91_017
            }
        }
    }

    /// One simulated study with what the scores need to know of its design.
    public struct Study: Sendable {
        public var index: Int
        public var evaluations: [Evaluation]
        public var truth: SimulationTruth
        /// The Cramér–Rao SD of E* at the truth (nil: not estimable from this design).
        public var cramerRaoSD: Double?
        /// The largest true lift of a finetuned row above its floor, in noise SDs of one measurement.
        public var liftSD: Double
        /// The extrapolation from the smallest data amount to D0 is longer (in ln D) than the data's span.
        public var longExtrapolation: Bool
        /// The same design and truth simulated under another noise seed (replicate r = 0, 1, …), for
        /// the replicate yardstick (CalibrationReplicates.swift).
        public var resimulate: (@Sendable (UInt64) -> [Evaluation])? = nil
    }

    /// The family's studies one by one, in a fixed order for a seed.
    public struct Generator: Sendable {
        public let family: String
        public let maxFlops: Double
        var rng: SeededRandom
        var index = 0

        public init(family: String, seed: UInt64, maxFlops: Double = 2e22) {
            self.family = family; self.maxFlops = maxFlops; rng = SeededRandom(seed: seed)
        }

        public mutating func next() -> Study {
            defer { index += 1 }
            let rows: [Evaluation], truth: SimulationTruth, subsetNoise: Double, lossNoise: Double
            let resimulate: @Sendable (UInt64) -> [Evaluation]
            if family == "designs" {
                let design = StudyDesign.random(&rng, index: index, cutoff: maxFlops)
                let seed = rng.next()
                (rows, truth) = design.simulate(seed: seed)
                subsetNoise = design.subsetNoise
                lossNoise = design.lossNoise
                resimulate = { r in design.simulate(seed: Calibration.replicateSeed(seed, r)).evaluations }
            } else {
                let scenario: SimulationScenario
                switch family {
                case "wide": scenario = .wide(&rng, index: index)
                case "weak": scenario = .weak(&rng, index: index)
                default: scenario = .random(&rng, index: index)
                }
                let seed = rng.next()
                (rows, truth) = Simulator.simulate(scenario, seed: seed)
                subsetNoise = scenario.subsetNoise
                lossNoise = scenario.lossNoise
                resimulate = { r in Simulator.simulate(scenario, seed: Calibration.replicateSeed(seed, r)).evaluations }
            }
            let kept = rows.filter { ($0.effectiveFlops ?? .infinity) <= maxFlops }
            return Study(index: index, evaluations: rows, truth: truth,
                         cramerRaoSD: truth.emergenceLoss == nil ? nil
                            : CramerRao.emergenceLossSD(truth: truth, rows: kept, subsetNoise: subsetNoise,
                                                     lossNoise: lossNoise),
                         liftSD: Calibration.liftSD(truth: truth, rows: kept, subsetNoise: subsetNoise),
                         longExtrapolation: Calibration.longExtrapolation(rows: kept, d0: truth.D0),
                         resimulate: resimulate)
        }
    }

    /// Replicate r's noise seed for a study simulated with `seed`: its own stream, never the study's.
    static func replicateSeed(_ seed: UInt64, _ r: UInt64) -> UInt64 {
        var rng = SeededRandom(seed: seed, stream: r &+ 0x5EED)
        return rng.next()
    }

    static func liftSD(truth: SimulationTruth, rows: [Evaluation], subsetNoise: Double) -> Double {
        let law = EmergenceLaw(form: truth.form, k: truth.k, alpha: truth.alpha, C: truth.C)
        var best = 0.0
        for r in rows where r.setting == .finetuned {
            guard let d = r.finetuneExamples else { continue }
            let lift = truth.A * max(law.elbow(at: d) - r.pretrainLoss, 0)
            let q = min(max(truth.B + lift, 0.005), 0.995)
            let sd = sqrt(q * (1 - q) / Double(r.nQuestions ?? 1000) + subsetNoise * subsetNoise)
            best = max(best, lift / sd)
        }
        return best
    }

    static func longExtrapolation(rows: [Evaluation], d0: Double) -> Bool {
        let amounts = rows.compactMap(\.finetuneExamples)
        guard let lo = amounts.min(), let hi = amounts.max(), lo > 0 else { return false }
        return log(lo) - log(d0) > log(hi) - log(lo)
    }

    /// What one answer said about one study: enough to score it, from this engine or any other's
    /// result document.
    public struct Record: Sendable {
        public var truth: Double?
        public var status: String
        public var percentiles: [String: Double]?
        public var mle: Double?
        public var upperBound: Double?
        public var alphaHat: Double?
        public var alphaNearBound: Bool
        public var cramerRaoSD: Double?
        public var liftSD: Double
        public var longExtrapolation: Bool
        public var reasons: [String]
        /// The answer warned that its interval is wide (`wide_interval`): a miss then is not a confident one.
        public var wide: Bool
        /// The plain MLE's error over re-simulations of the design (nil: not measured).
        public var replicates: ReplicateSpread? = nil

        public init(study: Study, result: FitResult?, reasons: [String] = []) {
            truth = study.truth.emergenceLoss
            status = result?.status.rawValue ?? "error"
            percentiles = result?.emergence.loss.percentiles
            mle = result?.emergence.loss.mle
            upperBound = result?.emergence.loss.upperBound
            alphaHat = result?.parameters?.alpha
            // α̂ within a factor 4 of the lower bound or 5/6 of the upper (log-power 0.05–6, power 0.005–1.5).
            if let a = alphaHat, let form = result?.form {
                let range = EmergenceModel.alphaRange(form)
                alphaNearBound = a <= 4 * range.lowerBound || a >= range.upperBound * 5 / 6
            } else {
                alphaNearBound = false
            }
            cramerRaoSD = study.cramerRaoSD
            liftSD = study.liftSD
            longExtrapolation = study.longExtrapolation
            self.reasons = reasons
            wide = result?.warnings.contains { $0.code == "wide_interval" } ?? false
        }

        var isInterval: Bool { percentiles?["5"] != nil && percentiles?["95"] != nil && (status == "ok" || status == "already_emerged") }
        var isBound: Bool { status == "not_identified" || status == "no_signal" }
    }

    public struct Stratum: Codable, Sendable, Equatable {
        public var intervalAnswers: Int
        public var coverage90: Double?
        enum CodingKeys: String, CodingKey {
            case intervalAnswers = "interval_answers"
            case coverage90 = "coverage_90"
        }
    }

    public struct Report: Codable, Sendable {
        public var family: String
        public var split: String
        public var studySeed: UInt64
        public var studies: Int
        public var statuses: [String: Int]
        /// Answers with an interval (status ok or already_emerged).
        public var intervalAnswers: Int
        /// Nominal level ("50", "80", "90") → fraction of interval answers whose interval covered the truth.
        public var coverage: [String: Double]
        /// Coverage of the 90% interval within strata: the true lift in noise SDs (terciles of this
        /// run's studies), α̂ near a bound or not, extrapolation short or long.
        public var strata: [String: Stratum]
        /// Mean interval score of the 5–95 interval (Gneiting & Raftery 2007, α = 0.1), nats.
        public var intervalScore90: Double?
        /// Mean CRPS, from the seven reported percentiles (quantile decomposition), nats.
        public var crps: Double?
        /// |E*_mle − E*_true|: median and 90th percentile, nats.
        public var medianAbsoluteError: Double?
        public var absoluteError90: Double?
        /// Median of |E*_mle − E*_true| / SD_CR(E*) over interval answers with a finite Cramér–Rao SD.
        public var medianErrorOverCramerRao: Double?
        public var meanIntervalWidth90: Double?
        /// Withheld answers (not_identified, no_signal): how many, their share, and how many bounds held.
        public var withheld: Int
        public var withheldShare: Double
        public var boundsHeld: Int
        public var boundsHeldShare: Double?
        /// Interval answers whose 5–95 interval misses the truth without a `wide_interval` warning.
        public var confidentMisses: Int
        /// Studies whose Cramér–Rao SD of E* is under 0.05 nats, and the share answered with an interval.
        public var wellPinned: Int
        public var wellPinnedAnswered: Double?
        /// With replicates: studies the plain MLE pins over fresh noise (ReplicateSpread.pinned), the
        /// share answered with an interval, and how many replicates each study had.
        public var pinnedByReplicates: Int? = nil
        public var pinnedByReplicatesAnswered: Double? = nil
        public var replicates: Int? = nil
        /// Over every study with a truth: an interval that covers it or a bound that holds counts.
        public var combinedCoverage90: Double
        /// Which identifiability rules fired, over withheld studies (in-process runs only).
        public var reasons: [String: Int]
        public var options: FitOptions

        enum CodingKeys: String, CodingKey {
            case family, split, studies, statuses, coverage, strata, crps, withheld, reasons, options
            case studySeed = "study_seed"
            case intervalAnswers = "interval_answers"
            case intervalScore90 = "interval_score_90"
            case medianAbsoluteError = "median_absolute_error"
            case absoluteError90 = "absolute_error_90"
            case medianErrorOverCramerRao = "median_error_over_cramer_rao_sd"
            case meanIntervalWidth90 = "mean_interval_width_90"
            case withheldShare = "withheld_share"
            case boundsHeld = "bounds_held"
            case boundsHeldShare = "bounds_held_share"
            case confidentMisses = "confident_misses"
            case wellPinned = "well_pinned"
            case wellPinnedAnswered = "well_pinned_answered"
            case pinnedByReplicates = "pinned_by_replicates"
            case pinnedByReplicatesAnswered = "pinned_by_replicates_answered"
            case replicates
            case combinedCoverage90 = "combined_coverage_90"
        }
    }

    /// Fits `studies` studies of the family in-process and scores them.
    /// - onStudy: after each study (index, the study, its result, what the identifiability rules measured).
    /// - replicates: with R > 0, each study's design is also re-simulated R times and refitted by the
    ///   plain MLE, for the replicate yardstick (CalibrationReplicates.swift); R times the fits.
    public static func run(studies: Int, seed: UInt64, options: FitOptions, maxFlops: Double = 2e22, family: String = "jittered",
                           split: String = "custom", threads: Int = ProcessInfo.processInfo.activeProcessorCount,
                           replicates: Int = 0,
                           onStudy: ((Study, FitResult?, Identifiability.Measures?, ReplicateSpread?) -> Void)? = nil) -> Report {
        var options = options
        options.maxFlops = maxFlops
        var generator = Generator(family: family, seed: seed, maxFlops: maxFlops)
        var records: [Record] = []
        for i in 0..<max(studies, 0) {
            let study = generator.next()
            options.seed = UInt64(i)
            var measures: Identifiability.Measures? = nil
            let result = try? EmergenceFit.run(study.evaluations, options: options, threads: threads, measures: &measures)
            let spread = replicateSpread(study, replicates: replicates, options: options, threads: threads)
            onStudy?(study, result, measures, spread)
            let reasons = result?.status == .notIdentified ? (measures?.reasons.map(\.rawValue) ?? []) : []
            var record = Record(study: study, result: result, reasons: reasons)
            record.replicates = spread
            records.append(record)
        }
        return score(records, family: family, split: split, seed: seed, options: options)
    }

    /// The scores of a set of answers.
    public static func score(_ records: [Record], family: String, split: String, seed: UInt64, options: FitOptions) -> Report {
        var statuses: [String: Int] = [:]
        var reasons: [String: Int] = [:]
        for r in records {
            statuses[r.status, default: 0] += 1
            for reason in r.reasons { reasons[reason, default: 0] += 1 }
        }
        let withTruth = records.filter { $0.truth != nil }
        let intervals = withTruth.filter(\.isInterval)
        func covers(_ r: Record, _ lo: String, _ hi: String) -> Bool {
            guard let t = r.truth, let a = r.percentiles?[lo], let b = r.percentiles?[hi] else { return false }
            return a <= t && t <= b
        }
        func share(_ part: Int, _ whole: Int) -> Double? { whole > 0 ? Double(part) / Double(whole) : nil }
        var coverage: [String: Double] = [:]
        for (level, lo, hi) in [("50", "25", "75"), ("80", "10", "90"), ("90", "5", "95")] {
            if let s = share(intervals.filter { covers($0, lo, hi) }.count, intervals.count) { coverage[level] = s }
        }
        // Strata: terciles of the true lift over every study of the run (engine-independent).
        let lifts = records.map(\.liftSD).sorted()
        let t1 = Percentile.of(sorted: lifts, 100.0 / 3), t2 = Percentile.of(sorted: lifts, 200.0 / 3)
        let groups: [(String, (Record) -> Bool)] = [
            ("lift_sd_low", { $0.liftSD < t1 }), ("lift_sd_mid", { $0.liftSD >= t1 && $0.liftSD < t2 }),
            ("lift_sd_high", { $0.liftSD >= t2 }),
            ("alpha_near_bound", { $0.alphaNearBound }), ("alpha_interior", { !$0.alphaNearBound }),
            ("extrapolation_short", { !$0.longExtrapolation }), ("extrapolation_long", { $0.longExtrapolation }),
        ]
        var strata: [String: Stratum] = [:]
        for (name, member) in groups {
            let inside = intervals.filter(member)
            strata[name] = Stratum(intervalAnswers: inside.count, coverage90: share(inside.filter { covers($0, "5", "95") }.count, inside.count))
        }
        // Interval score (α = 0.1) and CRPS from the quantiles.
        var scores: [Double] = [], crps: [Double] = [], errors: [Double] = [], ratios: [Double] = [], widths: [Double] = []
        for r in intervals {
            guard let t = r.truth, let p = r.percentiles, let l = p["5"], let u = p["95"] else { continue }
            scores.append((u - l) + 20 * max(l - t, 0) + 20 * max(t - u, 0))
            widths.append(u - l)
            if let c = quantileCRPS(p, truth: t) { crps.append(c) }
            if let m = r.mle {
                errors.append(abs(m - t))
                if let sd = r.cramerRaoSD, sd > 0 { ratios.append(abs(m - t) / sd) }
            }
        }
        let bounds = withTruth.filter(\.isBound)
        let held = bounds.filter { r in r.truth.flatMap { t in r.upperBound.map { t < $0 } } ?? false }.count
        let covered = intervals.filter { covers($0, "5", "95") }.count + held
        let pinned = withTruth.filter { ($0.cramerRaoSD ?? .infinity) < 0.05 }
        func mean(_ v: [Double]) -> Double? { v.isEmpty ? nil : v.reduce(0, +) / Double(v.count) }
        func median(_ v: [Double]) -> Double? { v.isEmpty ? nil : Percentile.of(sorted: v.sorted(), 50) }
        let replicated = withTruth.compactMap { r in r.replicates.map { (r, $0) } }
        let replicatePinned = replicated.filter { $0.1.pinned }.map(\.0)
        var report = Report(
            family: family, split: split, studySeed: seed, studies: records.count, statuses: statuses,
            intervalAnswers: intervals.count, coverage: coverage, strata: strata,
            intervalScore90: mean(scores), crps: mean(crps), medianAbsoluteError: median(errors),
            absoluteError90: errors.isEmpty ? nil : Percentile.of(sorted: errors.sorted(), 90),
            medianErrorOverCramerRao: median(ratios), meanIntervalWidth90: mean(widths),
            withheld: bounds.count, withheldShare: share(bounds.count, withTruth.count) ?? 0,
            boundsHeld: held, boundsHeldShare: share(held, bounds.count),
            confidentMisses: intervals.filter { !$0.wide && !covers($0, "5", "95") }.count,
            wellPinned: pinned.count, wellPinnedAnswered: share(pinned.filter(\.isInterval).count, pinned.count),
            combinedCoverage90: share(covered, withTruth.count) ?? 0, reasons: reasons, options: options)
        if let r = replicated.first?.1.replicates {
            report.replicates = r
            report.pinnedByReplicates = replicatePinned.count
            report.pinnedByReplicatesAnswered = share(replicatePinned.filter(\.isInterval).count, replicatePinned.count)
        }
        return report
    }

    /// CRPS(F, y) = 2 ∫₀¹ QS_τ(F⁻¹(τ), y) dτ, with the pinball loss QS_τ(q, y) = (1{y < q} − τ)(q − y),
    /// integrated by the trapezoid rule over the reported levels τ = 0.05 … 0.95 (the tails beyond are
    /// left out, the same for every engine scored). nil without all seven percentiles.
    static func quantileCRPS(_ p: [String: Double], truth y: Double) -> Double? {
        var points: [(Double, Double)] = []
        for level in Percentile.levels {
            guard let q = p[String(Int(level))] else { return nil }
            let tau = level / 100
            points.append((tau, ((y < q ? 1 : 0) - tau) * (q - y)))
        }
        var integral = 0.0
        for i in 1..<points.count {
            integral += (points[i].0 - points[i - 1].0) * (points[i].1 + points[i - 1].1) / 2
        }
        return 2 * integral
    }
}
