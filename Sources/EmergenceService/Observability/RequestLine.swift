#if canImport(Glibc)
import Glibc
#endif
import HTTP
import Ingestion

/// One request's log line, rendered straight into bytes: this runs on an I/O thread for every
/// response, so it skips swift-log's metadata dictionary (a dozen allocations a line) and String
/// formatting (digits are written by hand). Same keys and layout as `LineLogHandler` gives other lines.
enum RequestLine {
    static func render(_ s: RequestSummary, format: LogFormat, label: String = "emergence") -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(320)
        let route = s.route ?? "none"
        let micros = Int((max(0, min(s.duration, 1e9)) * 1e6).rounded())
        let json = format == .json
        // ,"name": in JSON, ` name=` in text: the numbers below are written alike in both.
        func key(_ name: StaticString) {
            out.append(json ? 0x2C : 0x20)
            if json { out.append(0x22) }
            name.withUTF8Buffer { out.append(contentsOf: $0) }
            if json { out.append(contentsOf: [0x22, 0x3A]) } else { out.append(0x3D) }
        }
        if json {
            out.append(contentsOf: "{\"time\":\"".utf8)
            appendTimestamp(to: &out)
            out.append(contentsOf: "\",\"level\":\"info\",\"logger\":".utf8)
            appendJSONString(label, to: &out)
            out.append(contentsOf: ",\"message\":\"request\",\"event\":\"request\"".utf8)
            if let id = s.requestID {
                out.append(contentsOf: ",\"request_id\":".utf8)
                appendJSONString(id, to: &out)
            }
            out.append(contentsOf: ",\"method\":".utf8)
            appendJSONString(s.method, to: &out)
            out.append(contentsOf: ",\"route\":".utf8)
            appendJSONString(route, to: &out)
        } else {
            appendTimestamp(to: &out)
            out.append(contentsOf: " info \(label): request event=request".utf8)
            if let id = s.requestID { out.append(contentsOf: " request_id=\(id)".utf8) }
            out.append(contentsOf: " method=\(s.method) route=\(route)".utf8)
        }
        key("status")
        appendInt(s.status, to: &out)
        key("bytes_in")
        appendInt(s.bytesIn, to: &out)
        key("bytes_out")
        appendInt(s.bytesOut, to: &out)
        key("duration_s")
        appendSeconds(micros: micros, to: &out)
        key("peer")
        if json {
            appendJSONString(s.remoteAddress, to: &out)
            out.append(contentsOf: "}\n".utf8)
        } else {
            out.append(contentsOf: "\(s.remoteAddress)\n".utf8)
        }
        return out
    }

    /// A string as JSON: the common case (printable ASCII without `"` or `\`) copied as is.
    static func appendJSONString(_ s: String, to out: inout [UInt8]) {
        if s.utf8.allSatisfy({ $0 >= 0x20 && $0 < 0x7F && $0 != 0x22 && $0 != 0x5C }) {
            out.append(0x22)
            out.append(contentsOf: s.utf8)
            out.append(0x22)
        } else {
            var text = ""
            JSONText.appendString(s, to: &text)
            out.append(contentsOf: text.utf8)
        }
    }

    static func appendInt(_ value: Int, to out: inout [UInt8]) {
        if value < 0 {
            out.append(0x2D)
            appendInt(value == Int.min ? Int.max : -value, to: &out)
            return
        }
        var digits: (UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8,
                     UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8) =
            (0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)
        var count = 0
        var v = value
        withUnsafeMutableBytes(of: &digits) { buffer in
            repeat {
                buffer[19 - count] = UInt8(0x30 + v % 10)
                v /= 10
                count += 1
            } while v > 0
            out.append(contentsOf: buffer[(20 - count)...])
        }
    }

    /// Seconds with six decimals, from whole microseconds: `0.000437`.
    static func appendSeconds(micros: Int, to out: inout [UInt8]) {
        appendInt(micros / 1_000_000, to: &out)
        out.append(0x2E)
        var fraction = micros % 1_000_000
        var place = 100_000
        while place > 0 {
            out.append(UInt8(0x30 + fraction / place))
            fraction %= place
            place /= 10
        }
    }

    /// UTC with milliseconds, RFC 3339, as `LineLogHandler.timestamp()` writes it.
    static func appendTimestamp(to out: inout [UInt8]) {
        var ts = timespec()
        clock_gettime(CLOCK_REALTIME, &ts)
        var seconds = ts.tv_sec
        var t = tm()
        gmtime_r(&seconds, &t)
        func two(_ v: Int32) {
            out.append(UInt8(0x30 + v / 10 % 10))
            out.append(UInt8(0x30 + v % 10))
        }
        let year = t.tm_year + 1900
        two(year / 100)
        two(year % 100)
        out.append(0x2D); two(t.tm_mon + 1)
        out.append(0x2D); two(t.tm_mday)
        out.append(0x54); two(t.tm_hour)
        out.append(0x3A); two(t.tm_min)
        out.append(0x3A); two(t.tm_sec)
        out.append(0x2E)
        let ms = Int32(ts.tv_nsec / 1_000_000)
        out.append(UInt8(0x30 + ms / 100))
        two(ms % 100)
        out.append(0x5A)
    }
}
