import Foundation

/// Has the few-shot accuracy left the floor? observe's test of the ReLU against a flat floor, with
/// the null distribution drawn for this study's own checkpoints (docs/method.md §8.1), as the fit's
/// `SignalTest` does for the emergence law.
///
/// The statistic is Λ = n·ln(RSS_floor / RSS_ReLU), the Gaussian likelihood ratio with σ profiled
/// out. The elbow is not identified when the slope is 0 (Davies 1987), so Λ is a supremum over
/// elbows and not χ²; how far it strays under pure noise depends on where the checkpoints sit and how
/// many rows each has. Λ is invariant to the floor's level and the noise's scale, so the null is the
/// flat floor with the residuals' own structure:
///
///     y*_i = ȳ + u_c(i) + e_i,   u_c ~ N(0, σ_b²),   e_i ~ N(0, σ_w²)
///
/// with σ_b and σ_w from a one-way random-effects ANOVA of the residuals by checkpoint
/// (VarianceComponents); with one row per checkpoint, σ_b = 0 and σ_w² the residual variance. 99 such studies are fitted by the same ReLU,
/// and the lift is a signal when none of them reaches Λ: a Monte Carlo p-value
/// (1 + #{Λ* ≥ Λ})/100 = 0.01 (Davison & Hinkley 1997, §4.2). A draw that cannot be fitted counts as
/// reaching Λ: a failure never manufactures a signal.
struct ObservationSignalTest {
    static let replicates = 99

    struct Outcome: Equatable {
        var statistic: Double
        /// Simulated studies whose Λ* reached Λ.
        var exceeding: Int
        /// The null's 95th percentile (nil when nothing could be simulated).
        var nullP95: Double?
        var signal: Bool { exceeding == 0 }
    }

    /// Λ of a ReLU fit, 0 when there is no spread to explain.
    static func statistic(_ fit: ReLUFit, rows: Int) -> Double {
        fit.floorRSS > 0 ? Double(rows) * log(fit.floorRSS / max(fit.rss, fit.floorRSS * 1e-12)) : 0
    }

    static func run(_ data: ReLUData, statistic: Double, seed: UInt64) -> Outcome {
        let n = data.y.count
        guard statistic.isFinite, statistic > 0, n >= 3, let (sigmaB, sigmaW) = components(data), sigmaB + sigmaW > 0 else {
            return Outcome(statistic: statistic, exceeding: replicates, nullP95: nil)
        }
        let mean = data.y.reduce(0, +) / Double(n)
        var rng = SeededRandom(seed: seed, stream: 0x0B5E_4E41)
        var draws: [Double] = []
        draws.reserveCapacity(replicates)
        var y = [Double](repeating: 0, count: n)
        for _ in 0..<replicates {
            let offsets = (0..<data.checkpointCount).map { _ in sigmaB * rng.normal() }
            for i in 0..<n { y[i] = mean + offsets[data.checkpointIndex[i]] + sigmaW * rng.normal() }
            guard let fit = ReLUFit.fit(data.x, y) else { continue }
            draws.append(Self.statistic(fit, rows: n))
        }
        guard !draws.isEmpty else { return Outcome(statistic: statistic, exceeding: replicates, nullP95: nil) }
        draws.sort()
        let exceeding = draws.filter { $0 >= statistic }.count + (replicates - draws.count)
        return Outcome(statistic: statistic, exceeding: exceeding, nullP95: Percentile.of(sorted: draws, 95))
    }

    /// (σ_b, σ_w) of the residuals from the flat floor, by checkpoint (VarianceComponents); with one row
    /// per checkpoint, (0, the residual SD).
    static func components(_ data: ReLUData) -> (Double, Double)? {
        let n = data.y.count
        guard n >= 2, data.checkpointCount >= 1 else { return nil }
        if let c = VarianceComponents.oneWay(data.y, group: data.checkpointIndex, groupCount: data.checkpointCount,
                                             minimumGroups: 2) {
            return (c.between, c.within)
        }
        let mean = data.y.reduce(0, +) / Double(n)
        return (0, (data.y.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Double(n - 1)).squareRoot())
    }
}
