#if canImport(Glibc)
import Glibc
#endif

/// A parsed JSON value. Objects keep their members in order as pairs: uploads have a dozen keys, so a
/// linear lookup beats hashing, and no dictionary is built per row.
package indirect enum JSONValue: Equatable, Sendable {
    case null
    case bool(Bool)
    case number(Double)
    case string(String)
    case array([JSONValue])
    case object([(String, JSONValue)])

    package static func == (a: JSONValue, b: JSONValue) -> Bool {
        switch (a, b) {
        case (.null, .null): return true
        case let (.bool(x), .bool(y)): return x == y
        case let (.number(x), .number(y)): return x == y || (x.isNaN && y.isNaN)
        case let (.string(x), .string(y)): return x == y
        case let (.array(x), .array(y)): return x == y
        case let (.object(x), .object(y)): return x.count == y.count && zip(x, y).allSatisfy { $0.0 == $1.0 && $0.1 == $1.1 }
        default: return false
        }
    }

    package subscript(key: String) -> JSONValue? {
        guard case .object(let members) = self else { return nil }
        for (k, v) in members where k == key { return v }
        return nil
    }

    /// What a client sent, for error messages ("got a string").
    package var kindName: String {
        switch self {
        case .null: return "null"
        case .bool: return "a boolean"
        case .number: return "a number"
        case .string: return "a string"
        case .array: return "an array"
        case .object: return "an object"
        }
    }
}

/// Where and why JSON text failed to parse.
package struct JSONSyntaxError: Error, Equatable {
    /// 1-based line and column (in bytes) of the offending character.
    package var line: Int
    package var column: Int
    package var reason: String
}

/// A strict RFC 8259 parser over bytes, plus the bare `NaN`/`Infinity` tokens that Python's `json`
/// writes by default, so such a file gets a field-level "must be finite" instead of a syntax error.
package struct JSONParser {
    private let bytes: UnsafeBufferPointer<UInt8>
    private var pos: Int
    private let end: Int
    /// Where the range began: line and column in errors count from here.
    private let origin: Int
    private var depth = 0
    private static let maxDepth = 256

    init(_ bytes: UnsafeBufferPointer<UInt8>, start: Int = 0, end: Int? = nil) {
        self.bytes = bytes
        pos = start
        origin = start
        self.end = end ?? bytes.count
    }

    /// Parses exactly one value spanning the range (whitespace around it allowed).
    package static func parse(_ bytes: UnsafeBufferPointer<UInt8>, start: Int = 0, end: Int? = nil) throws -> JSONValue {
        var p = JSONParser(bytes, start: start, end: end)
        if p.pos + 3 <= p.end, bytes[p.pos] == 0xEF, bytes[p.pos + 1] == 0xBB, bytes[p.pos + 2] == 0xBF { p.pos += 3 }
        p.skipSpace()
        guard p.pos < p.end else { throw p.fail("expected a JSON value, found nothing") }
        let v = try p.value()
        p.skipSpace()
        guard p.pos == p.end else { throw p.fail("unexpected text after the JSON value") }
        return v
    }

    package static func parse(_ bytes: [UInt8]) throws -> JSONValue {
        try bytes.withUnsafeBufferPointer { try parse($0) }
    }

    private func fail(_ reason: String) -> JSONSyntaxError {
        // Line and column are computed only on failure.
        var line = 1, col = 1, i = origin
        let upto = min(pos, bytes.count)
        while i < upto { if bytes[i] == 0x0A { line += 1; col = 1 } else { col += 1 }; i += 1 }
        return JSONSyntaxError(line: line, column: col, reason: reason)
    }

    private mutating func skipSpace() {
        while pos < end {
            let b = bytes[pos]
            if b == 0x20 || b == 0x0A || b == 0x0D || b == 0x09 { pos += 1 } else { return }
        }
    }

    private mutating func value() throws -> JSONValue {
        guard pos < end else { throw fail("unexpected end of input") }
        switch bytes[pos] {
        case 0x7B: return try object()
        case 0x5B: return try array()
        case 0x22: return .string(try string())
        case 0x74: try literal("true"); return .bool(true)
        case 0x66: try literal("false"); return .bool(false)
        case 0x6E: try literal("null"); return .null
        case 0x4E: try literal("NaN"); return .number(.nan)
        case 0x49: try literal("Infinity"); return .number(.infinity)
        case 0x2D:
            if pos + 1 < end, bytes[pos + 1] == 0x49 { pos += 1; try literal("Infinity"); return .number(-.infinity) }
            return .number(try number())
        case 0x30...0x39: return .number(try number())
        default: throw fail("unexpected character '\(printable(bytes[pos]))'")
        }
    }

    private func printable(_ b: UInt8) -> String {
        b >= 0x20 && b < 0x7F ? String(UnicodeScalar(b)) : "\\u{\(String(b, radix: 16))}"
    }

    private mutating func literal(_ word: StaticString) throws {
        let n = word.utf8CodeUnitCount
        guard pos + n <= end else { throw fail("unexpected end of input") }
        let w = word.utf8Start
        for k in 0..<n where bytes[pos + k] != w[k] { throw fail("invalid literal (expected \(word))") }
        pos += n
    }

    private mutating func enter() throws {
        depth += 1
        if depth > JSONParser.maxDepth { throw fail("nesting deeper than \(JSONParser.maxDepth)") }
    }

    private mutating func object() throws -> JSONValue {
        try enter()
        defer { depth -= 1 }
        pos += 1
        var members: [(String, JSONValue)] = []
        members.reserveCapacity(12)
        skipSpace()
        if pos < end, bytes[pos] == 0x7D { pos += 1; return .object(members) }
        while true {
            skipSpace()
            guard pos < end, bytes[pos] == 0x22 else { throw fail("expected a member name in double quotes") }
            let key = try string()
            skipSpace()
            guard pos < end, bytes[pos] == 0x3A else { throw fail("expected ':' after a member name") }
            pos += 1
            skipSpace()
            members.append((key, try value()))
            skipSpace()
            guard pos < end else { throw fail("unexpected end of input in an object") }
            if bytes[pos] == 0x2C { pos += 1; continue }
            if bytes[pos] == 0x7D { pos += 1; return .object(members) }
            throw fail("expected ',' or '}' in an object")
        }
    }

    private mutating func array() throws -> JSONValue {
        try enter()
        defer { depth -= 1 }
        pos += 1
        var items: [JSONValue] = []
        skipSpace()
        if pos < end, bytes[pos] == 0x5D { pos += 1; return .array(items) }
        while true {
            skipSpace()
            items.append(try value())
            skipSpace()
            guard pos < end else { throw fail("unexpected end of input in an array") }
            if bytes[pos] == 0x2C { pos += 1; continue }
            if bytes[pos] == 0x5D { pos += 1; return .array(items) }
            throw fail("expected ',' or ']' in an array")
        }
    }

    private mutating func string() throws -> String {
        pos += 1
        let start = pos
        // Fast path: no escapes, valid UTF-8 checked by String(validating:).
        while pos < end {
            let b = bytes[pos]
            if b == 0x22 {
                let s = String(validating: UnsafeBufferPointer(rebasing: bytes[start..<pos]), as: UTF8.self)
                guard let s else { throw fail("invalid UTF-8 in a string") }
                pos += 1
                return s
            }
            if b == 0x5C { break }
            if b < 0x20 { throw fail("control character in a string (escape it)") }
            pos += 1
        }
        var out = Array(UnsafeBufferPointer(rebasing: bytes[start..<pos]))
        while pos < end {
            let b = bytes[pos]
            if b == 0x22 {
                pos += 1
                guard let s = String(validating: out, as: UTF8.self) else { throw fail("invalid UTF-8 in a string") }
                return s
            }
            if b < 0x20 { throw fail("control character in a string (escape it)") }
            if b != 0x5C { out.append(b); pos += 1; continue }
            pos += 1
            guard pos < end else { break }
            let e = bytes[pos]
            pos += 1
            switch e {
            case 0x22: out.append(0x22)
            case 0x5C: out.append(0x5C)
            case 0x2F: out.append(0x2F)
            case 0x62: out.append(0x08)
            case 0x66: out.append(0x0C)
            case 0x6E: out.append(0x0A)
            case 0x72: out.append(0x0D)
            case 0x74: out.append(0x09)
            case 0x75:
                var code = try hex4()
                if code >= 0xD800 && code < 0xDC00 {
                    guard pos + 1 < end, bytes[pos] == 0x5C, bytes[pos + 1] == 0x75 else { throw fail("unpaired surrogate in \\u escape") }
                    pos += 2
                    let low = try hex4()
                    guard low >= 0xDC00 && low < 0xE000 else { throw fail("unpaired surrogate in \\u escape") }
                    code = 0x10000 + ((code - 0xD800) << 10) + (low - 0xDC00)
                } else if code >= 0xDC00 && code < 0xE000 {
                    throw fail("unpaired surrogate in \\u escape")
                }
                guard let scalar = UnicodeScalar(code) else { throw fail("invalid \\u escape") }
                out.append(contentsOf: Array(String(scalar).utf8))
            default:
                throw fail("invalid escape \\\(printable(e))")
            }
        }
        throw fail("unterminated string")
    }

    private mutating func hex4() throws -> UInt32 {
        guard pos + 4 <= end else { throw fail("truncated \\u escape") }
        var v: UInt32 = 0
        for _ in 0..<4 {
            let b = bytes[pos]
            let d: UInt32
            switch b {
            case 0x30...0x39: d = UInt32(b - 0x30)
            case 0x41...0x46: d = UInt32(b - 0x41 + 10)
            case 0x61...0x66: d = UInt32(b - 0x61 + 10)
            default: throw fail("invalid hex digit in \\u escape")
            }
            v = v * 16 + d
            pos += 1
        }
        return v
    }

    private mutating func number() throws -> Double {
        guard let v = JSONParser.scanNumber(bytes, &pos, end) else { throw fail("invalid number") }
        return v
    }

    /// Reads an RFC 8259 number at `pos` (advancing past it); nil when the text there is not one.
    static func scanNumber(_ bytes: UnsafeBufferPointer<UInt8>, _ pos: inout Int, _ end: Int) -> Double? {
        let start = pos
        if pos < end, bytes[pos] == 0x2D { pos += 1 }
        guard pos < end, NumberText.isDigit(bytes[pos]) else { return nil }
        var integral = true
        if bytes[pos] == 0x30 {
            pos += 1
        } else {
            while pos < end, NumberText.isDigit(bytes[pos]) { pos += 1 }
        }
        if pos < end, bytes[pos] == 0x2E {
            integral = false
            pos += 1
            guard pos < end, NumberText.isDigit(bytes[pos]) else { return nil }
            while pos < end, NumberText.isDigit(bytes[pos]) { pos += 1 }
        }
        if pos < end, bytes[pos] == 0x65 || bytes[pos] == 0x45 {
            integral = false
            pos += 1
            if pos < end, bytes[pos] == 0x2B || bytes[pos] == 0x2D { pos += 1 }
            guard pos < end, NumberText.isDigit(bytes[pos]) else { return nil }
            while pos < end, NumberText.isDigit(bytes[pos]) { pos += 1 }
        }
        // Small integers (shots, n_questions, most D) need no strtod.
        if integral && pos - start <= 15 {
            var v: Int64 = 0
            var i = start
            let negative = bytes[i] == 0x2D
            if negative { i += 1 }
            while i < pos { v = v * 10 + Int64(bytes[i] &- 0x30); i += 1 }
            return negative ? -Double(v) : Double(v)
        }
        switch NumberText.parse(bytes, start, pos) {
        case .number(let v): return v
        case .notFinite: return bytes[start] == 0x2D ? -.infinity : .infinity
        case .notANumber: return nil
        }
    }
}

extension JSONParser {
    /// Parses a whole upload body; a syntax error becomes the upload's one problem, on `body`,
    /// naming its line and column.
    package static func parseBody(_ bytes: [UInt8]) throws -> JSONValue {
        do {
            return try parse(bytes)
        } catch let e as JSONSyntaxError {
            throw IngestionError(problems: [RowProblem(index: -1, line: e.line, field: "body",
                                                       reason: "invalid JSON at line \(e.line), column \(e.column): \(e.reason)")])
        }
    }
}
