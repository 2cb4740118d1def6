/// JSON text written by hand: the escaping of log lines and problem bodies, and a parsed value
/// written back as text.
public enum JSONText {
    /// Appends `s` as a JSON string literal (quotes included). Control characters, DEL and the two
    /// line separators JavaScript treats as line ends are escaped.
    public static func appendString(_ s: String, to out: inout String) {
        out += "\""
        for c in s.unicodeScalars {
            switch c {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            default:
                if c.value < 0x20 || c.value == 0x7F || c.value == 0x2028 || c.value == 0x2029 {
                    let hex = String(c.value, radix: 16)
                    out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
                } else {
                    out.unicodeScalars.append(c)
                }
            }
        }
        out += "\""
    }

    /// `s` as a JSON string literal (quotes included).
    public static func string(_ s: String) -> String {
        var out = ""
        out.reserveCapacity(s.utf8.count + 2)
        appendString(s, to: &out)
        return out
    }
}

extension JSONValue {
    /// The value as JSON text again, so a part of a parsed body (a study's `auto_fit` object, a
    /// comparison's options beside `a` and `b`) can go through the decoder that reads a whole body.
    /// Whole numbers up to 2^53 are written without a fraction, so an integer field still reads as one.
    package var jsonText: String {
        switch self {
        case .null: return "null"
        case .bool(let b): return b ? "true" : "false"
        case .number(let d):
            if d.isFinite, d.rounded() == d, abs(d) <= 9_007_199_254_740_991 { return String(Int64(d)) }
            return d.isFinite ? "\(d)" : "null"
        case .string(let s): return JSONText.string(s)
        case .array(let items): return "[" + items.map(\.jsonText).joined(separator: ",") + "]"
        case .object(let members):
            return "{" + members.map { JSONText.string($0.0) + ":" + $0.1.jsonText }.joined(separator: ",") + "}"
        }
    }
}
