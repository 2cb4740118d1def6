import Foundation

/// Are the intervals honest? Simulate studies from random truths, fit each in the prediction setting,
/// and count how often the 50/80/90% intervals contain the truth (METHOD.md §5: a 90% interval
/// should contain the truth about 90% of the time), and how often a withheld study's bound holds.
public enum Calibration {
    /// The study families `emergence calibrate` draws from.
    public static let families = ["jittered", "wide", "weak"]

    public struct Report: Codable, Sendable {
        public var studies: Int
        /// Fits that gave an interval (status ok or already_emerged).
        public var withInterval: Int
        public var statuses: [String: Int]
        /// Nominal level ("50", "80", "90") → fraction of studies whose interval covered the truth.
        public var coverage: [String: Double]
        /// |E*_mle − E*_true| in nats: percentiles 50, 90 and the maximum.
        public var absoluteError: [String: Double]
        public var meanIntervalWidth90: Double
        /// Status `ok` only: how many, the fraction whose 5–95 interval covered the truth, and the
        /// median |E*_mle − E*_true|.
        public var okStudies: Int
        public var okCoverage90: Double
        public var okMedianAbsoluteError: Double
        /// `ok` studies whose 5–95 interval missed the truth.
        public var okMissed: Int
        /// Studies withheld as `not_identified`, how many of their bounds held, and which rules fired.
        public var notIdentified: Int
        public var notIdentifiedBoundsHeld: Int
        public var notIdentifiedReasons: [String: Int]
        /// `no_signal` studies whose bound held.
        public var noSignalBoundsHeld: Int
        /// Over every study with a truth: an interval that covers it, or a bound (`not_identified`,
        /// `no_signal`) that holds, counts as covered; anything else (a miss, insufficient data, an
        /// error) does not.
        public var combinedCoverage90: Double
        public var options: FitOptions
        public var family: String
    }

    public static func run(studies: Int, seed: UInt64, options: FitOptions, maxFlops: Double = 2e22, family: String = "jittered",
                           onStudy: ((Int, SimulationTruth, FitResult?, Identifiability.Measures?) -> Void)? = nil) -> Report {
        var options = options
        options.maxFlops = maxFlops
        var rng = SeededRandom(seed: seed)
        var covered: [String: Int] = ["50": 0, "80": 0, "90": 0]
        var errors: [Double] = []
        var okErrors: [Double] = []
        var widths: [Double] = []
        var statuses: [String: Int] = [:]
        var reasons: [String: Int] = [:]
        var withInterval = 0, okStudies = 0, okCovered = 0
        var withheld = 0, withheldHeld = 0, noSignalHeld = 0, withTruth = 0, combined = 0
        for i in 0..<max(studies, 0) {
            let scenario: SimulationScenario
            switch family {
            case "wide": scenario = .wide(&rng, index: i)
            case "weak": scenario = .weak(&rng, index: i)
            default: scenario = .random(&rng, index: i)
            }
            let (rows, truth) = Simulator.simulate(scenario, seed: rng.next())
            options.seed = UInt64(i)
            var measures: Identifiability.Measures? = nil
            let result = try? EmergenceFit.run(rows, options: options, measures: &measures)
            onStudy?(i, truth, result, measures)
            if truth.emergenceLoss != nil { withTruth += 1 }
            guard let result else { statuses["error", default: 0] += 1; continue }
            statuses[result.status.rawValue, default: 0] += 1
            guard let t = truth.emergenceLoss else { continue }
            if result.status == .notIdentified || result.status == .noSignal {
                // The bound holds when the truth lies below it (no bound given: nothing holds).
                let held = result.emergence.loss.upperBound.map { t < $0 } ?? false
                if result.status == .notIdentified {
                    withheld += 1
                    if held { withheldHeld += 1 }
                    for r in measures?.reasons ?? [] { reasons[r.rawValue, default: 0] += 1 }
                } else if held {
                    noSignalHeld += 1
                }
                if held { combined += 1 }
                continue
            }
            guard let p = result.emergence.loss.percentiles, let mle = result.emergence.loss.mle else { continue }
            withInterval += 1
            errors.append(abs(mle - t))
            for (level, lo, hi) in [("50", "25", "75"), ("80", "10", "90"), ("90", "5", "95")] {
                if let a = p[lo], let b = p[hi], a <= t && t <= b { covered[level]! += 1 }
            }
            let hit = p["5"].map { $0 <= t } == true && p["95"].map { t <= $0 } == true
            if hit { combined += 1 }
            if result.status == .ok {
                okStudies += 1
                okErrors.append(abs(mle - t))
                if hit { okCovered += 1 }
            }
            if let a = p["5"], let b = p["95"] { widths.append(b - a) }
        }
        let n = Double(max(withInterval, 1))
        let sortedErrors = errors.sorted()
        return Report(
            studies: studies, withInterval: withInterval, statuses: statuses,
            coverage: covered.mapValues { Double($0) / n },
            absoluteError: sortedErrors.isEmpty ? [:] : [
                "50": Percentile.of(sorted: sortedErrors, 50), "90": Percentile.of(sorted: sortedErrors, 90),
                "max": sortedErrors.last ?? 0],
            meanIntervalWidth90: widths.isEmpty ? 0 : widths.reduce(0, +) / Double(widths.count),
            okStudies: okStudies, okCoverage90: Double(okCovered) / Double(max(okStudies, 1)),
            okMedianAbsoluteError: okErrors.isEmpty ? 0 : Percentile.of(sorted: okErrors.sorted(), 50),
            okMissed: okStudies - okCovered,
            notIdentified: withheld, notIdentifiedBoundsHeld: withheldHeld, notIdentifiedReasons: reasons,
            noSignalBoundsHeld: noSignalHeld,
            combinedCoverage90: Double(combined) / Double(max(withTruth, 1)),
            options: options, family: family)
    }
}
