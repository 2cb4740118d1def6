import Foundation

/// One-way random-effects ANOVA (Searle, Casella & McCulloch 1992, §3.5): values v_i in groups c(i),
///
///     v_i = m + u_c(i) + e_i,   u_c ~ N(0, σ_b²),   e_i ~ N(0, σ_w²),
///
/// estimated by the method of moments, with n values in g non-empty groups of sizes n_c:
///
///     MSW = Σ_i (v_i − v̄_c(i))² / (n − g),   MSB = Σ_c n_c (v̄_c − v̄)² / (g − 1),
///     m₀ = (n − Σ_c n_c² / n) / (g − 1),      σ_w² = MSW,   σ_b² = max((MSB − MSW)/m₀, 0).
///
/// The signal tests' nulls (the fit's and observe's) draw their between-checkpoint offsets from it.
enum VarianceComponents {
    /// (σ_b, σ_w), or nil when fewer than `minimumGroups` groups have a value, or no group has two.
    /// - group: each value's group, in 0..<groupCount.
    static func oneWay(_ values: [Double], group: [Int], groupCount: Int,
                       minimumGroups: Int) -> (between: Double, within: Double)? {
        var sums = [Double](repeating: 0, count: groupCount), sizes = sums
        var total = 0.0, n = 0.0
        for (v, c) in zip(values, group) {
            sums[c] += v; sizes[c] += 1
            total += v; n += 1
        }
        let groups = sizes.filter { $0 > 0 }.count
        guard groups >= max(minimumGroups, 2), n > Double(groups) else { return nil }
        var within = 0.0
        for (v, c) in zip(values, group) {
            let d = v - sums[c] / sizes[c]
            within += d * d
        }
        let msw = within / (n - Double(groups))
        var between = 0.0, m2 = 0.0
        for c in sums.indices where sizes[c] > 0 {
            let d = sums[c] / sizes[c] - total / n
            between += sizes[c] * d * d
            m2 += sizes[c] * sizes[c]
        }
        let msb = between / Double(groups - 1)
        let m0 = (n - m2 / n) / Double(groups - 1)
        guard m0 > 0 else { return nil }
        return (max((msb - msw) / m0, 0).squareRoot(), msw.squareRoot())
    }
}
