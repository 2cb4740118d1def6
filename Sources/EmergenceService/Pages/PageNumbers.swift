import Foundation

/// How pages write numbers. The text is for people; the exact value goes beside it in a
/// `<data value="…">` element (Swift's shortest round-trip form, as the JSON writes it), so a check
/// compares the page with the JSON exactly. Tests/Scripts/check_pages.py formats the same way.
enum PageNumbers {
    /// Two significant digits in e-notation without '+' or leading exponent zeros: 7.4e22, 3.0e23,
    /// 1.2e-3. C's `%.1e`, so Python's `f"{x:.1e}"` gives the same digits.
    static func flops(_ x: Double) -> String {
        guard x.isFinite else { return x > 0 ? "∞" : "—" }
        let s = String(format: "%.1e", x)
        guard let e = s.firstIndex(of: "e") else { return s }
        let mantissa = s[..<e]
        var exponent = s[s.index(after: e)...]
        var negative = false
        if exponent.first == "+" { exponent = exponent.dropFirst() } else if exponent.first == "-" { negative = true; exponent = exponent.dropFirst() }
        while exponent.count > 1 && exponent.first == "0" { exponent = exponent.dropFirst() }
        return "\(mantissa)e\(negative ? "-" : "")\(exponent)"
    }

    /// A loss in nats: three decimals (the fit's own messages use %.3f).
    static func loss(_ x: Double) -> String {
        x.isFinite ? String(format: "%.3f", x) : "—"
    }

    /// A ratio such as "3.7×": one decimal below 10, none above.
    static func ratio(_ x: Double) -> String {
        guard x.isFinite else { return "∞×" }
        return x < 10 ? String(format: "%.1f×", x) : String(format: "%.0f×", x)
    }

    /// The exact value for a `data` element or attribute.
    static func exact(_ x: Double) -> String { "\(x)" }

    /// `<data value="exact" data-field="name">text</data>`: the number as people read it, with the
    /// JSON's value for machines.
    static func data(_ x: Double, field: String, text: String) -> String {
        "<data value=\"\(HTMLText.escape(exact(x)))\" data-field=\"\(HTMLText.escape(field))\">\(HTMLText.escape(text))</data>"
    }

    /// "2026-11-30T00:54:54.913Z" → "2026-11-30 00:54 UTC" (the stored timestamps are UTC).
    static func time(_ iso: String) -> String {
        let parts = iso.split(separator: "T", maxSplits: 1)
        guard parts.count == 2, parts[1].count >= 5 else { return iso }
        return "\(parts[0]) \(parts[1].prefix(5)) UTC"
    }
}
