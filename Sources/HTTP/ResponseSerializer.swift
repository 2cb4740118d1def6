import Glibc
import Synchronization

/// Turns a response into the bytes of an HTTP/1.1 message (RFC 9112 §4–6).
enum ResponseSerializer {
    /// Header fields the server owns; a handler's own values for them are dropped.
    private static let framingFields = ["Content-Length", "Transfer-Encoding", "Connection", "Date", "Keep-Alive"]

    static func serialize(_ response: HTTPResponse, headOnly: Bool, keepAlive: Bool, echoKeepAlive: Bool) -> [UInt8] {
        let bodyless = response.status < 200 || response.status == 204 || response.status == 304
        var bytes: [UInt8] = []
        bytes.reserveCapacity(160 + (headOnly || bodyless ? 0 : response.body.count))
        func append(_ text: String) { bytes.append(contentsOf: text.utf8) }
        append("HTTP/1.1 \(response.status) \(StatusPhrase.phrase(response.status))\r\n")
        for field in response.headers {
            if framingFields.contains(where: { asciiCaseInsensitiveEquals($0, field.name) }) { continue }
            // A handler must not be able to split the response with CR/LF in a value.
            guard !field.name.isEmpty, field.name.utf8.allSatisfy(CharacterClasses.isToken),
                  field.value.utf8.allSatisfy(CharacterClasses.isFieldValue) else { continue }
            append(field.name)
            append(": ")
            append(field.value)
            append("\r\n")
        }
        // Every answer: no MIME sniffing, and (unless the handler set its own, as HTML pages do) a
        // policy that lets a body run or load nothing should a browser render it.
        if response.headers["X-Content-Type-Options"] == nil { append("X-Content-Type-Options: nosniff\r\n") }
        if response.headers["Content-Security-Policy"] == nil {
            append("Content-Security-Policy: \(SecurityHeaders.lockedDown)\r\n")
        }
        append("Date: ")
        append(HTTPDate.now())
        append("\r\n")
        if !bodyless {
            append("Content-Length: \(response.body.count)\r\n")
        }
        if !keepAlive {
            append("Connection: close\r\n")
        } else if echoKeepAlive {
            append("Connection: keep-alive\r\n")
        }
        append("\r\n")
        if !headOnly && !bodyless {
            bytes.append(contentsOf: response.body)
        }
        return bytes
    }

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
