import Foundation

/// Are the intervals honest? Simulate studies from random truths, fit each in the prediction setting,
/// and count how often the 50/80/90% intervals contain the truth (METHOD.md §5: a 90% interval
/// should contain the truth about 90% of the time).
public enum Calibration {
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
        public var options: FitOptions
        public var family: String
    }

    public static func run(studies: Int, seed: UInt64, options: FitOptions, maxFlops: Double = 2e22, family: String = "jittered",
                           onStudy: ((Int, SimulationTruth, FitResult?) -> Void)? = nil) -> Report {
        var options = options
        options.maxFlops = maxFlops
        var rng = SeededRandom(seed: seed)
        var covered: [String: Int] = ["50": 0, "80": 0, "90": 0]
        var errors: [Double] = []
        var widths: [Double] = []
        var statuses: [String: Int] = [:]
        var withInterval = 0
        for i in 0..<max(studies, 0) {
            let scenario = family == "wide" ? SimulationScenario.wide(&rng, index: i) : SimulationScenario.random(&rng, index: i)
            let (rows, truth) = Simulator.simulate(scenario, seed: rng.next())
            options.seed = UInt64(i)
            let result = try? EmergenceFit.run(rows, options: options)
            onStudy?(i, truth, result)
            guard let result else { statuses["error", default: 0] += 1; continue }
            statuses[result.status.rawValue, default: 0] += 1
            guard let t = truth.emergenceLoss, let p = result.emergence.loss.percentiles,
                  let mle = result.emergence.loss.mle else { continue }
            withInterval += 1
            errors.append(abs(mle - t))
            for (level, lo, hi) in [("50", "25", "75"), ("80", "10", "90"), ("90", "5", "95")] {
                if let a = p[lo], let b = p[hi], a <= t && t <= b { covered[level]! += 1 }
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
                "max": sortedErrors.last!],
            meanIntervalWidth90: widths.isEmpty ? 0 : widths.reduce(0, +) / Double(widths.count),
            options: options, family: family)
    }
}
