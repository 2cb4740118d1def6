import Foundation
#if canImport(Glibc)
import Glibc
#endif
import Ingestion
import Logging

/// How the server writes its log (`--log-format`, `EMERGENCE_LOG_FORMAT`).
public enum LogFormat: String, Sendable, CaseIterable {
    /// One JSON object per line: `time`, `level`, `logger`, `message`, then the metadata as keys.
    case json
    /// One human-readable line: time, level, label, message, `key=value` metadata.
    case text
}

/// A swift-log handler writing one line per entry to a `LogSink`. Metadata values made from Int,
/// Double or Bool are written as JSON numbers and booleans, everything else as strings.
struct LineLogHandler: LogHandler {
    let label: String
    let format: LogFormat
    let sink: LogSink
    var logLevel: Logger.Level = .info
    var metadata: Logger.Metadata = [:]

    init(label: String, format: LogFormat, sink: LogSink = .standardError) {
        self.label = label
        self.format = format
        self.sink = sink
    }

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    /// Keys the line itself uses; metadata with one of these names is written as `meta_NAME`.
    static let reserved: Set<String> = ["time", "level", "logger", "message"]

    func log(event: LogEvent) {
        var all = metadata
        if let extra = event.metadata { all.merge(extra) { _, new in new } }
        sink.write(Array(render(level: event.level, message: event.message.description, metadata: all).utf8))
    }

    func render(level: Logger.Level, message: String, metadata: Logger.Metadata) -> String {
        let time = Self.timestamp()
        switch format {
        case .json:
            var out = "{\"time\":\"\(time)\",\"level\":\"\(level.rawValue)\",\"logger\":"
            JSONText.appendString(label, to: &out)
            out += ",\"message\":"
            JSONText.appendString(message, to: &out)
            for key in metadata.keys.sorted() {
                guard let value = metadata[key] else { continue }
                out += ","
                JSONText.appendString(Self.reserved.contains(key) ? "meta_" + key : key, to: &out)
                out += ":"
                JSONText.appendValue(value, to: &out)
            }
            out += "}\n"
            return out
        case .text:
            var out = "\(time) \(level.rawValue) \(label): \(message)"
            for key in metadata.keys.sorted() {
                guard let value = metadata[key] else { continue }
                out += " \(key)=\(value)"
            }
            // A message or value with a line break must not start a line that looks like another entry.
            return out.replacingOccurrences(of: "\n", with: "\\n") + "\n"
        }
    }

    /// UTC with milliseconds, RFC 3339 (`2026-11-30T00:41:07.123Z`), without Foundation formatters.
    static func timestamp() -> String {
        var ts = timespec()
        clock_gettime(CLOCK_REALTIME, &ts)
        var seconds = ts.tv_sec
        var t = tm()
        gmtime_r(&seconds, &t)
        func pad(_ v: Int32, _ width: Int) -> String {
            let s = String(v)
            return s.count >= width ? s : String(repeating: "0", count: width - s.count) + s
        }
        let ms = Int32(ts.tv_nsec / 1_000_000)
        return "\(pad(t.tm_year + 1900, 4))-\(pad(t.tm_mon + 1, 2))-\(pad(t.tm_mday, 2))T\(pad(t.tm_hour, 2)):\(pad(t.tm_min, 2)):\(pad(t.tm_sec, 2)).\(pad(ms, 3))Z"
    }
}

/// Metadata values as JSON text, for log lines (no encoder per line).
extension JSONText {
    static func appendValue(_ value: Logger.Metadata.Value, to out: inout String) {
        switch value {
        case .string(let s):
            appendString(s, to: &out)
        case .stringConvertible(let v):
            switch v {
            case let i as Int: out += String(i)
            case let d as Double where d.isFinite: out += "\(d)"
            case let b as Bool: out += b ? "true" : "false"
            default: appendString(v.description, to: &out)
            }
        case .array(let items):
            out += "["
            for (i, item) in items.enumerated() {
                if i > 0 { out += "," }
                appendValue(item, to: &out)
            }
            out += "]"
        case .dictionary(let dict):
            out += "{"
            for (i, key) in dict.keys.sorted().enumerated() {
                if i > 0 { out += "," }
                appendString(key, to: &out)
                out += ":"
                if let v = dict[key] { appendValue(v, to: &out) } else { out += "null" }
            }
            out += "}"
        }
    }
}
