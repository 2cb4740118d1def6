/// Splits a request-target (RFC 9112 §3.2) into its decoded path and query.
struct RequestTarget {
    var rawPath: String
    var path: String
    var queryItems: [(name: String, value: String)]

    static func parse(_ target: String, method: String) throws(HTTPParseError) -> RequestTarget {
        if target == "*" {
            // asterisk-form is only meaningful for OPTIONS.
            guard method == "OPTIONS" else { throw .badRequest("asterisk-form target is only allowed with OPTIONS") }
            return RequestTarget(rawPath: "*", path: "*", queryItems: [])
        }
        // The common case, an origin-form path with no query, fragment or escape, is its own raw
        // and decoded path: one scan.
        if target.utf8.first == 0x2F, !target.utf8.contains(where: { $0 == 0x3F || $0 == 0x25 || $0 == 0x23 }) {
            return RequestTarget(rawPath: target, path: target, queryItems: [])
        }
        var pathAndQuery = Substring(target)
        if !target.hasPrefix("/") {
            // absolute-form: scheme "://" authority path-abempty [ "?" query ]
            let lower = target.lowercased()
            let schemeLength: Int
            if lower.hasPrefix("http://") { schemeLength = 7 } else if lower.hasPrefix("https://") { schemeLength = 8 } else {
                throw .badRequest("request-target must be origin-form or an http(s) absolute-form")
            }
            let rest = target.dropFirst(schemeLength)
            guard let pathStart = rest.firstIndex(where: { $0 == "/" || $0 == "?" }) else {
                guard !rest.isEmpty else { throw .badRequest("absolute-form target without authority") }
                return RequestTarget(rawPath: "/", path: "/", queryItems: [])
            }
            guard pathStart > rest.startIndex else { throw .badRequest("absolute-form target without authority") }
            pathAndQuery = rest[pathStart...]
            if pathAndQuery.first == "?" { pathAndQuery = "/" + pathAndQuery }
        }
        let rawPath: Substring
        var queryItems: [(name: String, value: String)] = []
        if let question = pathAndQuery.firstIndex(of: "?") {
            rawPath = pathAndQuery[..<question]
            queryItems = try parseQuery(pathAndQuery[pathAndQuery.index(after: question)...])
        } else {
            rawPath = pathAndQuery
        }
        if rawPath.utf8.contains(0x23) { throw .badRequest("fragment in request-target") }
        let path = try percentDecode(rawPath, plusAsSpace: false)
        return RequestTarget(rawPath: String(rawPath), path: path, queryItems: queryItems)
    }

    static func parseQuery(_ query: Substring) throws(HTTPParseError) -> [(name: String, value: String)] {
        var items: [(name: String, value: String)] = []
        for pair in query.split(separator: "&", omittingEmptySubsequences: true) {
            if let equals = pair.firstIndex(of: "=") {
                items.append((name: try percentDecode(pair[..<equals], plusAsSpace: true),
                              value: try percentDecode(pair[pair.index(after: equals)...], plusAsSpace: true)))
            } else {
                items.append((name: try percentDecode(pair, plusAsSpace: true), value: ""))
            }
        }
        return items
    }
}

@inline(__always)
func hexValue(_ byte: UInt8) -> UInt8? {
    switch byte {
    case 0x30...0x39: return byte - 0x30
    case 0x41...0x46: return byte - 0x41 + 10
    case 0x61...0x66: return byte - 0x61 + 10
    default: return nil
    }
}

/// Decodes %XX escapes; a malformed escape, a decoded NUL or invalid UTF-8 is a 400.
func percentDecode<S: StringProtocol>(_ text: S, plusAsSpace: Bool) throws(HTTPParseError) -> String {
    if !text.utf8.contains(0x25) && !(plusAsSpace && text.utf8.contains(0x2B)) { return String(text) }
    let utf8 = Array(text.utf8)
    var out: [UInt8] = []
    out.reserveCapacity(utf8.count)
    var i = 0
    while i < utf8.count {
        let byte = utf8[i]
        if byte == 0x25 {
            guard i + 2 < utf8.count, let high = hexValue(utf8[i + 1]), let low = hexValue(utf8[i + 2]) else {
                throw .badRequest("malformed percent-encoding")
            }
            let decoded = high << 4 | low
            if decoded == 0 { throw .badRequest("percent-encoded NUL") }
            out.append(decoded)
            i += 3
        } else {
            out.append(plusAsSpace && byte == 0x2B ? 0x20 : byte)
            i += 1
        }
    }
    guard let string = String(validating: out, as: UTF8.self) else { throw .badRequest("percent-encoding is not UTF-8") }
    return string
}
