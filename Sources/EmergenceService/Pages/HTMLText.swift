import Charts

/// Text for HTML pages. Every string that came from a user (study names, descriptions, warning
/// messages, which quote checkpoint names) goes through `escape` before it reaches a page, so a
/// study named `<script>` is shown, never run.
enum HTMLText {
    /// Escapes the five characters that can end a text run or an attribute value (`&`, `<`, `>`,
    /// `"`, `'`); safe in element content and in double- or single-quoted attributes.
    static func escape(_ s: String) -> String {
        var out = ""
        out.reserveCapacity(s.utf8.count)
        // Bidi controls (a name with U+202E) are isolated, so they cannot reorder the page around them.
        for ch in BidiText.isolated(s).unicodeScalars {
            switch ch {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "'": out += "&#39;"
            // Control characters other than tab/newline are not allowed in HTML text (names refuse
            // them, descriptions may not): shown as the replacement character.
            case _ where (ch.value < 0x20 && ch != "\t" && ch != "\n" && ch != "\r") || (0x7F...0x9F).contains(ch.value):
                out += "\u{FFFD}"
            default: out.unicodeScalars.append(ch)
            }
        }
        return out
    }

    /// User text in element content: escaped, and inside `<bdi>` when it carries bidi controls (the
    /// controls themselves are isolated by `escape` too, for attributes, where `<bdi>` cannot go).
    static func user(_ s: String) -> String {
        s.unicodeScalars.contains(where: { BidiText.isControl($0.value) }) ? "<bdi>" + escape(s) + "</bdi>" : escape(s)
    }

    /// One URL path segment: everything but unreserved characters (RFC 3986 §2.3) percent-encoded,
    /// so a name with spaces, `?`, `#` or non-ASCII letters links to itself.
    static func pathSegment(_ s: String) -> String {
        var out = ""
        for byte in s.utf8 {
            switch byte {
            case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
                 UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "_"), UInt8(ascii: "~"):
                out.unicodeScalars.append(Unicode.Scalar(byte))
            default:
                let hex = Array("0123456789ABCDEF")
                out += "%" + String(hex[Int(byte >> 4)]) + String(hex[Int(byte & 0xF)])
            }
        }
        return out
    }
}
