import Foundation

/// Builds one SVG document as text. Every number goes through `SVGWriter.number` and every piece of
/// text through `XMLText.escape`, so the same calls give the same bytes (the service's ETag is a hash
/// of them) and no user-supplied name can break out of an attribute or element.
struct SVGWriter {
    let width: Int
    var height: Int
    private(set) var body = ""
    private var clipCount = 0

    init(width: Int, height: Int) {
        self.width = width
        self.height = height
    }

    /// A coordinate or length with at most two decimals, trailing zeros dropped ("12.5", "-3", "0").
    /// Non-finite values become 0: a NaN must never reach the document (it would not parse).
    static func number(_ v: Double) -> String {
        guard v.isFinite else { return "0" }
        let clamped = max(-1e7, min(1e7, v))
        var s = String(format: "%.2f", clamped)
        while s.hasSuffix("0") { s.removeLast() }
        if s.hasSuffix(".") { s.removeLast() }
        return s == "-0" ? "0" : s
    }

    private func n(_ v: Double) -> String { Self.number(v) }

    mutating func raw(_ text: String) { body += text; body += "\n" }

    /// Starts a group; `attributes` are written as given (callers pass constants or escaped text).
    mutating func open(_ tag: String, _ attributes: String = "") {
        body += attributes.isEmpty ? "<\(tag)>\n" : "<\(tag) \(attributes)>\n"
    }

    mutating func close(_ tag: String) { body += "</\(tag)>\n" }

    mutating func line(_ x1: Double, _ y1: Double, _ x2: Double, _ y2: Double, style: String) {
        body += "<line x1=\"\(n(x1))\" y1=\"\(n(y1))\" x2=\"\(n(x2))\" y2=\"\(n(y2))\" \(style)/>\n"
    }

    mutating func rect(_ x: Double, _ y: Double, _ w: Double, _ h: Double, style: String) {
        body += "<rect x=\"\(n(x))\" y=\"\(n(y))\" width=\"\(n(max(0, w)))\" height=\"\(n(max(0, h)))\" \(style)/>\n"
    }

    /// A circle, with an optional tooltip (`<title>` child: shown on hover, read by screen readers).
    mutating func circle(_ cx: Double, _ cy: Double, r: Double, style: String, tooltip: String? = nil) {
        let head = "<circle cx=\"\(n(cx))\" cy=\"\(n(cy))\" r=\"\(n(r))\" \(style)"
        if let tooltip { body += head + "><title>\(XMLText.escape(tooltip))</title></circle>\n" } else { body += head + "/>\n" }
    }

    /// A polygon or polyline through `points`, with an optional tooltip.
    mutating func poly(_ tag: String, _ points: [(Double, Double)], style: String, tooltip: String? = nil) {
        guard !points.isEmpty else { return }
        let p = points.map { "\(n($0.0)),\(n($0.1))" }.joined(separator: " ")
        let head = "<\(tag) points=\"\(p)\" \(style)"
        if let tooltip { body += head + "><title>\(XMLText.escape(tooltip))</title></\(tag)>\n" } else { body += head + "/>\n" }
    }

    /// Text; `content` is escaped here.
    mutating func text(_ x: Double, _ y: Double, _ content: String, size: Double = 12, anchor: String = "start",
                       style: String = "fill=\"#222\"", rotate: Double? = nil) {
        let transform = rotate.map { " transform=\"rotate(\(n($0)) \(n(x)) \(n(y)))\"" } ?? ""
        body += "<text x=\"\(n(x))\" y=\"\(n(y))\" font-size=\"\(n(size))\" text-anchor=\"\(anchor)\" \(style)\(transform)>\(XMLText.escape(content))</text>\n"
    }

    /// Declares a clip rectangle and returns its id (`url(#id)`); ids are numbered, so deterministic.
    mutating func clip(_ x: Double, _ y: Double, _ w: Double, _ h: Double) -> String {
        clipCount += 1
        let id = "clip\(clipCount)"
        body += "<clipPath id=\"\(id)\"><rect x=\"\(n(x))\" y=\"\(n(y))\" width=\"\(n(w))\" height=\"\(n(h))\"/></clipPath>\n"
        return id
    }

    /// The whole document: title and description for assistive technology, a white background.
    func document(title: String, description: String) -> String {
        var s = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
        s += "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"\(width)\" height=\"\(height)\" viewBox=\"0 0 \(width) \(height)\" role=\"img\" aria-labelledby=\"chart-title chart-desc\" font-family=\"DejaVu Sans, Helvetica, Arial, sans-serif\">\n"
        s += "<title id=\"chart-title\">\(XMLText.escape(title))</title>\n"
        s += "<desc id=\"chart-desc\">\(XMLText.escape(description))</desc>\n"
        s += "<rect x=\"0\" y=\"0\" width=\"\(width)\" height=\"\(height)\" fill=\"#ffffff\"/>\n"
        s += body
        s += "</svg>\n"
        return s
    }
}

/// Text as XML character data or attribute value.
public enum XMLText {
    /// Escapes the five XML specials and replaces what XML 1.0 cannot hold at all (C0 controls other
    /// than tab/newline/return, lone surrogates cannot occur in a Swift String, U+FFFE/U+FFFF) with
    /// U+FFFD, so a checkpoint or study name of any bytes still gives a well-formed document.
    public static func escape(_ s: String) -> String {
        var out = ""
        out.reserveCapacity(s.utf8.count)
        for u in BidiText.isolated(s).unicodeScalars {
            switch u {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "'": out += "&apos;"
            default:
                let v = u.value
                if (v < 0x20 && v != 0x09 && v != 0x0A && v != 0x0D) || v == 0xFFFE || v == 0xFFFF {
                    out.unicodeScalars.append("\u{FFFD}")
                } else {
                    out.unicodeScalars.append(u)
                }
            }
        }
        return out
    }
}

/// User text that carries bidirectional controls (U+202E RIGHT-TO-LEFT OVERRIDE and the like), made
/// unable to reorder anything around it: wrapped in FIRST STRONG ISOLATE … POP DIRECTIONAL ISOLATE
/// (UAX #9 closes every embedding, override and isolate opened inside at that PDI). A PDI inside
/// the text could close the wrapper early, so it becomes U+FFFD, and each isolate the text opens
/// gets its own PDI. Text without bidi controls is returned as it is.
public enum BidiText {
    public static func isControl(_ v: UInt32) -> Bool {
        v == 0x061C || v == 0x200E || v == 0x200F || (0x202A...0x202E).contains(v) || (0x2066...0x2069).contains(v)
    }

    public static func isolated(_ s: String) -> String {
        guard s.unicodeScalars.contains(where: { isControl($0.value) }) else { return s }
        var out = String.UnicodeScalarView()
        out.append("\u{2068}")
        var opened = 0
        for u in s.unicodeScalars {
            switch u.value {
            case 0x2069: out.append("\u{FFFD}")
            case 0x2066, 0x2067, 0x2068: opened += 1; out.append(u)
            default: out.append(u)
            }
        }
        for _ in 0...opened { out.append("\u{2069}") }
        return String(out)
    }
}
