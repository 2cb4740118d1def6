/// Parses a request head (request line + header section, RFC 9112 §2–5) out of a byte buffer that
/// may hold only part of it. It remembers how far it has scanned so a head arriving one byte per
/// read costs linear, not quadratic, time.
struct RequestParser {
    var limits: ParserLimits
    /// Bytes of the current head already searched for its end.
    private var scanned = 0
    /// Index of the request line's LF once found, and how far the search for it got.
    private var requestLineEnd = -1
    private var lineScanned = 0

    init(limits: ParserLimits) {
        self.limits = limits
    }

    mutating func reset() {
        scanned = 0
        requestLineEnd = -1
        lineScanned = 0
    }

    /// Number of leading empty lines (CRLF) to discard before a request line (RFC 9112 §2.2).
    static func leadingEmptyLines(_ buffer: UnsafeBufferPointer<UInt8>) -> Int {
        var i = 0
        while i + 1 < buffer.count, buffer[i] == 0x0D, buffer[i + 1] == 0x0A { i += 2 }
        return i
    }

    /// Returns the head and the number of bytes it occupied, nil when more bytes are needed, or
    /// throws the status to answer with. `buffer` must start at the request line.
    mutating func parse(_ buffer: UnsafeBufferPointer<UInt8>) throws(HTTPParseError) -> (RequestHead, Int)? {
        guard let end = try findHeadEnd(buffer) else { return nil }
        reset()
        let head = try parseHead(UnsafeBufferPointer(rebasing: buffer[0..<end]))
        return (head, end)
    }

    /// Finds the end of the header section (the index after its empty line) and enforces the size
    /// limits before the whole head has arrived.
    private mutating func findHeadEnd(_ buffer: UnsafeBufferPointer<UInt8>) throws(HTTPParseError) -> Int? {
        let count = buffer.count
        if requestLineEnd < 0 {
            var j = lineScanned
            while j < count, j <= limits.maxRequestLineBytes + 1 {
                if buffer[j] == 0x0A { requestLineEnd = j; break }
                j += 1
            }
            lineScanned = j
            if requestLineEnd < 0 {
                if count > limits.maxRequestLineBytes + 1 { throw HTTPParseError(status: 414, detail: "request line exceeds \(limits.maxRequestLineBytes) bytes") }
                return nil
            }
        }
        var i = max(scanned, requestLineEnd)
        // The head ends at LF followed by an empty line ("\r\n" or a bare "\n", the latter rejected later).
        while i < count {
            if buffer[i] == 0x0A {
                if i + 1 < count, buffer[i + 1] == 0x0A { return try checkHeaderSize(i + 2, requestLineEnd) }
                if i + 2 < count, buffer[i + 1] == 0x0D, buffer[i + 2] == 0x0A { return try checkHeaderSize(i + 3, requestLineEnd) }
                if i + 2 >= count { break }  // wait for the bytes after this LF
            }
            i += 1
        }
        scanned = i
        if count - (requestLineEnd + 1) > limits.maxHeaderBytes + 2 {
            throw HTTPParseError(status: 431, detail: "header section exceeds \(limits.maxHeaderBytes) bytes")
        }
        return nil
    }

    private func checkHeaderSize(_ end: Int, _ requestLineEnd: Int) throws(HTTPParseError) -> Int {
        if end - (requestLineEnd + 1) > limits.maxHeaderBytes + 2 {
            throw HTTPParseError(status: 431, detail: "header section exceeds \(limits.maxHeaderBytes) bytes")
        }
        return end
    }

    /// Parses a complete head ending in its empty line.
    func parseHead(_ head: UnsafeBufferPointer<UInt8>) throws(HTTPParseError) -> RequestHead {
        var i = 0
        let n = head.count

        // method SP request-target SP HTTP-version CRLF
        let methodStart = i
        while i < n, CharacterClasses.isToken(head[i]) { i += 1 }
        guard i > methodStart, i < n, head[i] == 0x20 else { throw .badRequest("malformed method in request line") }
        let method = String(decoding: UnsafeBufferPointer(rebasing: head[methodStart..<i]), as: UTF8.self)
        i += 1
        let targetStart = i
        while i < n, CharacterClasses.isTarget(head[i]) { i += 1 }
        guard i > targetStart, i < n, head[i] == 0x20 else { throw .badRequest("malformed request-target in request line") }
        let target = String(decoding: UnsafeBufferPointer(rebasing: head[targetStart..<i]), as: UTF8.self)
        i += 1
        // "HTTP/" DIGIT "." DIGIT
        guard i + 8 <= n,
              head[i] == 0x48, head[i + 1] == 0x54, head[i + 2] == 0x54, head[i + 3] == 0x50, head[i + 4] == 0x2F,
              (0x30...0x39).contains(head[i + 5]), head[i + 6] == 0x2E, (0x30...0x39).contains(head[i + 7]) else {
            throw .badRequest("malformed HTTP-version in request line")
        }
        let major = Int(head[i + 5] - 0x30), minor = Int(head[i + 7] - 0x30)
        i += 8
        guard i + 1 < n, head[i] == 0x0D, head[i + 1] == 0x0A else { throw .badRequest("request line must end in CRLF") }
        i += 2
        guard major == 1, minor <= 1 else { throw HTTPParseError(status: 505, detail: "HTTP/\(major).\(minor) is not supported") }

        // *( field-line CRLF ) CRLF
        var headers = HTTPHeaders()
        while true {
            guard i + 1 < n else { throw .badRequest("header section must end in CRLF") }
            if head[i] == 0x0D {
                guard head[i + 1] == 0x0A, i + 2 == n else { throw .badRequest("bare CR in header section") }
                break
            }
            if head[i] == 0x20 || head[i] == 0x09 { throw .badRequest("obsolete line folding is not accepted") }
            let nameStart = i
            while i < n, CharacterClasses.isToken(head[i]) { i += 1 }
            guard i < n else { throw .badRequest("truncated header field") }
            if head[i] != 0x3A {
                if head[i] == 0x20 || head[i] == 0x09 { throw .badRequest("whitespace between header field name and colon") }
                throw .badRequest("invalid character in header field name")
            }
            guard i > nameStart else { throw .badRequest("empty header field name") }
            let name = String(decoding: UnsafeBufferPointer(rebasing: head[nameStart..<i]), as: UTF8.self)
            i += 1
            while i < n, head[i] == 0x20 || head[i] == 0x09 { i += 1 }
            let valueStart = i
            while i < n, CharacterClasses.isFieldValue(head[i]) { i += 1 }
            var valueEnd = i
            guard i + 1 < n, head[i] == 0x0D, head[i + 1] == 0x0A else {
                throw .badRequest("invalid character in value of header field \(name)")
            }
            while valueEnd > valueStart, head[valueEnd - 1] == 0x20 || head[valueEnd - 1] == 0x09 { valueEnd -= 1 }
            let value = String(decoding: UnsafeBufferPointer(rebasing: head[valueStart..<valueEnd]), as: UTF8.self)
            i += 2
            headers.add(name, value)
            if headers.count > limits.maxHeaderCount {
                throw HTTPParseError(status: 431, detail: "more than \(limits.maxHeaderCount) header fields")
            }
        }
        return try interpret(method: method, target: target, minorVersion: minor, headers: headers)
    }

    /// The comma-separated list elements of field lines (RFC 9110 §5.6.1), as `HTTPHeaders.listValues`.
    static func listElements(_ lines: [String]) -> [String] {
        if lines.isEmpty { return [] }
        return lines.flatMap { $0.split(separator: ",").map { trimOWS(Substring($0)) } }.filter { !$0.isEmpty }
    }

    /// Applies the message-framing and semantic rules of RFC 9112 §3.2, §6, §9 and RFC 9110 §10.1.1.
    func interpret(method: String, target: String, minorVersion: Int, headers: HTTPHeaders) throws(HTTPParseError) -> RequestHead {
        // One pass over the fields for the ones that frame or qualify the message; most requests
        // carry only Host of these.
        var hostCount = 0
        var host: String?
        var transferEncoding: [String] = [], contentLength: [String] = [], connection: [String] = []
        var contentEncoding: [String] = []
        var expect: String?
        for field in headers {
            let name = field.name
            switch name.utf8.count {
            case 4 where asciiCaseInsensitiveEquals(name, "Host"):
                hostCount += 1
                if host == nil { host = field.value }
            case 6 where asciiCaseInsensitiveEquals(name, "Expect"):
                if expect == nil { expect = field.value }
            case 10 where asciiCaseInsensitiveEquals(name, "Connection"):
                connection.append(field.value)
            case 14 where asciiCaseInsensitiveEquals(name, "Content-Length"):
                contentLength.append(field.value)
            case 16 where asciiCaseInsensitiveEquals(name, "Content-Encoding"):
                contentEncoding.append(field.value)
            case 17 where asciiCaseInsensitiveEquals(name, "Transfer-Encoding"):
                transferEncoding.append(field.value)
            default:
                break
            }
        }
        if hostCount > 1 { throw .badRequest("more than one Host header field") }
        if minorVersion == 1 && hostCount == 0 { throw .badRequest("HTTP/1.1 request without a Host header field") }
        if let host, host.utf8.contains(where: { $0 == 0x20 || $0 == 0x09 || $0 == 0x2F || $0 == 0x40 || $0 == 0x2C }) {
            throw .badRequest("invalid Host header field")
        }

        var framing = BodyFraming.none
        if !transferEncoding.isEmpty {
            if !contentLength.isEmpty { throw .badRequest("both Content-Length and Transfer-Encoding present") }
            if minorVersion == 0 { throw .badRequest("Transfer-Encoding in an HTTP/1.0 request") }
            let codings = RequestParser.listElements(transferEncoding).map { $0.lowercased() }
            guard codings.last == "chunked" else { throw .badRequest("transfer coding list does not end in chunked") }
            if codings.filter({ $0 == "chunked" }).count > 1 { throw .badRequest("chunked applied more than once") }
            if codings.count > 1 { throw HTTPParseError(status: 501, detail: "transfer coding \(codings[0]) is not implemented") }
            framing = .chunked
        } else if !contentLength.isEmpty {
            var length: Int?
            for line in contentLength {
                // A list of identical values ("5, 5") is one value (RFC 9110 §8.6).
                for element in line.split(separator: ",", omittingEmptySubsequences: false) {
                    let text = trimOWS(element)
                    guard !text.isEmpty, text.utf8.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }) else {
                        throw .badRequest("invalid Content-Length")
                    }
                    var value = 0
                    for digit in text.utf8 {
                        let (times, o1) = value.multipliedReportingOverflow(by: 10)
                        let (plus, o2) = times.addingReportingOverflow(Int(digit - 0x30))
                        if o1 || o2 { value = Int.max; break }
                        value = plus
                    }
                    if let length, length != value { throw .badRequest("conflicting Content-Length values") }
                    length = value
                }
            }
            // An overflowing value stays Int.max: the route's body limit (checked by the connection
            // once the route is known) refuses it with 413.
            framing = .length(length ?? 0)
        }

        // Any method token is accepted here; the router answers one that the path lacks with 405.
        let parsedTarget = try RequestTarget.parse(target, method: method)

        var close = false, keepAliveToken = false
        for token in RequestParser.listElements(connection) {
            let lower = token.lowercased()
            if lower == "close" { close = true } else if lower == "keep-alive" { keepAliveToken = true }
        }
        let keepAlive = !close && (minorVersion == 1 || keepAliveToken)

        var expectContinue = false
        if minorVersion == 1, let expect {
            guard expect.lowercased() == "100-continue" else {
                throw HTTPParseError(status: 417, detail: "only Expect: 100-continue is supported")
            }
            expectContinue = framing != .none && framing != .length(0)
        }

        var coding = ContentCoding.identity
        let codings = RequestParser.listElements(contentEncoding).map { $0.lowercased() }.filter { $0 != "identity" }
        if !codings.isEmpty, framing != .none, framing != .length(0) {
            guard codings == ["gzip"] || codings == ["x-gzip"] else {
                throw HTTPParseError(status: 415, detail: "request Content-Encoding \(codings.joined(separator: ", ")) is not supported; use gzip")
            }
            coding = .gzip
        }

        return RequestHead(method: method, target: target, minorVersion: minorVersion, headers: headers,
                           parsedTarget: parsedTarget, framing: framing, keepAlive: keepAlive,
                           expectContinue: expectContinue, contentCoding: coding)
    }
}
