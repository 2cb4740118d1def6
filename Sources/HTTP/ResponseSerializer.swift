import Glibc
import Synchronization

/// Turns a response into the bytes of an HTTP/1.1 message (RFC 9112 §4–6).
enum ResponseSerializer {
    static func serialize(_ response: HTTPResponse, headOnly: Bool, keepAlive: Bool, echoKeepAlive: Bool) -> [UInt8] {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(256 + response.body.count)
        HTTPDate.current.withUnsafeBufferPointer { date in
            serialize(response, into: &bytes, date: date, headOnly: headOnly, keepAlive: keepAlive, echoKeepAlive: echoKeepAlive)
        }
        return bytes
    }

    /// Appends the response's bytes to `bytes` (no intermediate Strings). `date` is the IMF-fixdate
    /// for the Date field (29 bytes; an event loop keeps its own, refreshed once a second).
    static func serialize(_ response: HTTPResponse, into bytes: inout [UInt8], date: UnsafeBufferPointer<UInt8>,
                          headOnly: Bool, keepAlive: Bool, echoKeepAlive: Bool) {
        let bodyless = response.status < 200 || response.status == 204 || response.status == 304
        if let line = staticStatusLine(response.status) {
            append(line, to: &bytes)
        } else {
            bytes.append(contentsOf: "HTTP/1.1 \(response.status) \(StatusPhrase.phrase(response.status))\r\n".utf8)
        }
        var hasNosniff = false, hasPolicy = false
        for field in response.headers {
            let name = field.name.utf8
            // Fields the server owns (framing, Date): a handler's own values are dropped.
            if isFramingField(field.name) { continue }
            // A handler must not be able to split the response with CR/LF in a value.
            guard !name.isEmpty, name.allSatisfy(CharacterClasses.isToken),
                  field.value.utf8.allSatisfy(CharacterClasses.isFieldValue) else { continue }
            if !hasNosniff && asciiCaseInsensitiveEquals(field.name, "X-Content-Type-Options") { hasNosniff = true }
            if !hasPolicy && asciiCaseInsensitiveEquals(field.name, "Content-Security-Policy") { hasPolicy = true }
            bytes.append(contentsOf: name)
            bytes.append(0x3A)
            bytes.append(0x20)
            bytes.append(contentsOf: field.value.utf8)
            bytes.append(0x0D)
            bytes.append(0x0A)
        }
        // Every answer: no MIME sniffing, and (unless the handler set its own, as HTML pages do) a
        // policy that lets a body run or load nothing should a browser render it.
        if !hasNosniff { append(nosniffLine, to: &bytes) }
        if !hasPolicy { append(policyLine, to: &bytes) }
        append(dateName, to: &bytes)
        bytes.append(contentsOf: date)
        bytes.append(0x0D)
        bytes.append(0x0A)
        if !bodyless {
            append(contentLengthName, to: &bytes)
            appendDecimal(response.body.count, to: &bytes)
            bytes.append(0x0D)
            bytes.append(0x0A)
        }
        if !keepAlive {
            append(closeLine, to: &bytes)
        } else if echoKeepAlive {
            append(keepAliveLine, to: &bytes)
        }
        bytes.append(0x0D)
        bytes.append(0x0A)
        if !headOnly && !bodyless {
            bytes.append(contentsOf: response.body)
        }
    }

    /// Content-Length, Transfer-Encoding, Connection, Date and Keep-Alive, in any case.
    static func isFramingField(_ name: String) -> Bool {
        switch name.utf8.count {
        case 4: return asciiCaseInsensitiveEquals(name, "Date")
        case 10: return asciiCaseInsensitiveEquals(name, "Connection") || asciiCaseInsensitiveEquals(name, "Keep-Alive")
        case 14: return asciiCaseInsensitiveEquals(name, "Content-Length")
        case 17: return asciiCaseInsensitiveEquals(name, "Transfer-Encoding")
        default: return false
        }
    }

    static func appendDecimal(_ value: Int, to bytes: inout [UInt8]) {
        if value < 10 {
            bytes.append(UInt8(0x30 + value))
            return
        }
        var digits: (UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8,
                     UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8) =
            (0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)
        var count = 0
        var rest = UInt(value < 0 ? 0 : value)
        withUnsafeMutableBytes(of: &digits) { buffer in
            while rest > 0 {
                buffer[19 - count] = UInt8(0x30 + rest % 10)
                rest /= 10
                count += 1
            }
            bytes.append(contentsOf: UnsafeRawBufferPointer(rebasing: buffer[(20 - count)...]))
        }
    }

    /// The status line of the statuses the server and the service answer with, as constant bytes;
    /// nil for others (built when needed).
    static func staticStatusLine(_ status: Int) -> StaticString? {
        switch status {
        case 200: return "HTTP/1.1 200 OK\r\n"
        case 201: return "HTTP/1.1 201 Created\r\n"
        case 202: return "HTTP/1.1 202 Accepted\r\n"
        case 204: return "HTTP/1.1 204 No Content\r\n"
        case 304: return "HTTP/1.1 304 Not Modified\r\n"
        case 400: return "HTTP/1.1 400 Bad Request\r\n"
        case 401: return "HTTP/1.1 401 Unauthorized\r\n"
        case 403: return "HTTP/1.1 403 Forbidden\r\n"
        case 404: return "HTTP/1.1 404 Not Found\r\n"
        case 405: return "HTTP/1.1 405 Method Not Allowed\r\n"
        case 409: return "HTTP/1.1 409 Conflict\r\n"
        case 413: return "HTTP/1.1 413 Content Too Large\r\n"
        case 422: return "HTTP/1.1 422 Unprocessable Content\r\n"
        case 429: return "HTTP/1.1 429 Too Many Requests\r\n"
        case 500: return "HTTP/1.1 500 Internal Server Error\r\n"
        case 503: return "HTTP/1.1 503 Service Unavailable\r\n"
        default: return nil
        }
    }

    // Constant bytes as StaticStrings: appending them touches no reference count, which both event
    // loops would otherwise contend for on every response.
    @inline(__always)
    private static func append(_ text: StaticString, to bytes: inout [UInt8]) {
        bytes.append(contentsOf: UnsafeBufferPointer(start: text.utf8Start, count: text.utf8CodeUnitCount))
    }

    private static let nosniffLine: StaticString = "X-Content-Type-Options: nosniff\r\n"
    /// `SecurityHeaders.lockedDown` (a test checks they agree).
    static let policyLine: StaticString =
        "Content-Security-Policy: default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'\r\n"
    private static let dateName: StaticString = "Date: "
    private static let contentLengthName: StaticString = "Content-Length: "
    private static let closeLine: StaticString = "Connection: close\r\n"
    private static let keepAliveLine: StaticString = "Connection: keep-alive\r\n"

    static let continueResponse = Array("HTTP/1.1 100 Continue\r\n\r\n".utf8)
}

/// The security headers the server adds to every answer.
public enum SecurityHeaders {
    /// The Content-Security-Policy of an answer that is not a page (JSON, problems, SVG, text):
    /// nothing may load, run or frame it.
    public static let lockedDown = "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'"
}

/// IMF-fixdate (RFC 9110 §5.6.7), cached per second because every response carries one.
enum HTTPDate {
    private static let days = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"]
    private static let months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
    private static let cache = Lock<(second: Int, text: String)>((second: -1, text: ""))

    /// The current date's bytes, cached per second behind a lock (for the handler pool's threads;
    /// each event loop keeps its own copy without a lock: `EventLoop.date`).
    static var current: [UInt8] { Array(now().utf8) }

    static func now() -> String {
        let seconds = time(nil)
        if let cached = cache.withLock({ $0.second == seconds ? $0.text : nil }) { return cached }
        let text = format(seconds)
        cache.withLock { $0 = (second: seconds, text: text) }
        return text
    }

    static func format(_ seconds: Int) -> String {
        var t = time_t(seconds)
        var parts = tm()
        gmtime_r(&t, &parts)
        func two(_ n: Int32) -> String { n < 10 ? "0\(n)" : "\(n)" }
        return "\(days[Int(parts.tm_wday)]), \(two(parts.tm_mday)) \(months[Int(parts.tm_mon)]) \(parts.tm_year + 1900) "
            + "\(two(parts.tm_hour)):\(two(parts.tm_min)):\(two(parts.tm_sec)) GMT"
    }
}
