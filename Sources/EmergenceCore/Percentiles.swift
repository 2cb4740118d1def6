import Foundation

/// The percentiles every interval reports (docs/method.md §5); the headline interval is 5–95.
public enum Percentile {
    public static let levels: [Double] = [5, 10, 25, 50, 75, 90, 95]

    /// The q-th percentile (0–100) of sorted values by linear interpolation between order statistics
    /// (numpy's default, "type 7"), so the numbers can be checked against a scipy reference.
    /// NaN for no values or a q outside [0, 100] (there is no such percentile).
    public static func of(sorted v: [Double], _ q: Double) -> Double {
        guard !v.isEmpty, q >= 0, q <= 100 else { return .nan }
        let h = (Double(v.count) - 1) * q / 100
        let lo = min(Int(h.rounded(.down)), v.count - 1)
        let hi = min(lo + 1, v.count - 1)
        let lower = v[lo], upper = v[hi]
        if lower == upper { return lower }   // also keeps +∞ samples from producing NaN
        return lower + (h - Double(lo)) * (upper - lower)
    }

    /// The standard percentiles keyed by "5", "10", …; non-finite percentiles are omitted.
    public static func table(_ values: [Double]) -> [String: Double] {
        table(sorted: values.sorted())
    }

    /// The same for values already in ascending order (sorting 160,000 MCMC samples is not free).
    public static func table(sorted v: [Double]) -> [String: Double] {
        guard !v.isEmpty else { return [:] }
        var out: [String: Double] = [:]
        for q in levels {
            let p = of(sorted: v, q)
            if p.isFinite { out[String(Int(q))] = p }
        }
        return out
    }
}
