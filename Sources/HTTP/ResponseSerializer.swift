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
        bytes.append(contentsOf: statusLine(response.status))
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
        if !hasNosniff { bytes.append(contentsOf: nosniffLine) }
        if !hasPolicy { bytes.append(contentsOf: policyLine) }
        bytes.append(contentsOf: dateName)
        bytes.append(contentsOf: date)
        bytes.append(0x0D)
        bytes.append(0x0A)
        if !bodyless {
            bytes.append(contentsOf: contentLengthName)
            appendDecimal(response.body.count, to: &bytes)
            bytes.append(0x0D)
            bytes.append(0x0A)
        }
        if !keepAlive {
            bytes.append(contentsOf: closeLine)
        } else if echoKeepAlive {
            bytes.append(contentsOf: keepAliveLine)
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

    /// "HTTP/1.1 <status> <phrase>\r\n", built once per status the server answers with.
    static func statusLine(_ status: Int) -> [UInt8] {
        if status == 200 { return ok }
        if let line = commonStatusLines[status] { return line }
        return makeStatusLine(status)
    }

    private static func makeStatusLine(_ status: Int) -> [UInt8] {
        Array("HTTP/1.1 \(status) \(StatusPhrase.phrase(status))\r\n".utf8)
    }

    private static let ok = makeStatusLine(200)
    private static let commonStatusLines: [Int: [UInt8]] = {
        var lines: [Int: [UInt8]] = [:]
        for status in StatusPhrase.known { lines[status] = makeStatusLine(status) }
        return lines
    }()
    private static let nosniffLine = Array("X-Content-Type-Options: nosniff\r\n".utf8)
    private static let policyLine = Array("Content-Security-Policy: \(SecurityHeaders.lockedDown)\r\n".utf8)
    private static let dateName = Array("Date: ".utf8)
    private static let contentLengthName = Array("Content-Length: ".utf8)
    private static let closeLine = Array("Connection: close\r\n".utf8)
    private static let keepAliveLine = Array("Connection: keep-alive\r\n".utf8)

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
    private static let cache = Mutex<(second: Int, text: String)>((second: -1, text: ""))

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
