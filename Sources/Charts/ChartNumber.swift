import Foundation

/// How numbers are printed on charts: deterministic (C-locale `%` formats), short, and never "nan".
public enum ChartNumber {
    /// Fixed decimals: "1.847".
    public static func fixed(_ v: Double, _ decimals: Int) -> String {
        guard v.isFinite else { return v.isNaN ? "?" : (v > 0 ? "∞" : "−∞") }
        let s = String(format: "%.\(max(0, min(10, decimals)))f", v)
        return s.hasPrefix("-") && Double(s) == 0 ? String(s.dropFirst()) : s
    }

    /// Compute in a short style: two significant digits and a plain exponent, "7.4e22".
    public static func flops(_ v: Double) -> String {
        guard v.isFinite, v > 0 else { return v.isNaN ? "?" : (v == .infinity ? "∞" : fixed(v, 0)) }
        let e = Int(floor(log10(v)))
        var mantissa = v / pow(10, Double(e))
        var exponent = e
        // 9.96e22 rounds to "10.0": carry into the exponent.
        if Double(String(format: "%.1f", mantissa)) ?? 0 >= 10 { mantissa /= 10; exponent += 1 }
        return String(format: "%.1f", mantissa) + "e\(exponent)"
    }

    /// A data amount D: a whole number with thousands separators ("12,500"), else 4 significant digits.
    public static func count(_ v: Double) -> String {
        guard v.isFinite else { return fixed(v, 0) }
        if v == v.rounded(), abs(v) < 1e15 {
            let digits = String(Int64(abs(v)))
            var out = ""
            for (i, c) in digits.enumerated() {
                if i > 0 && (digits.count - i) % 3 == 0 { out.append(",") }
                out.append(c)
            }
            return (v < 0 ? "-" : "") + out
        }
        return String(format: "%.4g", v)
    }
}
