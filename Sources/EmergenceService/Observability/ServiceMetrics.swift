import Storage
import Foundation
import HTTP
import Synchronization

/// What `GET /metrics` exposes. Events (answered requests, stored rows, fit transitions) are counted
/// here as they happen, under one mutex held for a few dictionary updates; levels (open connections,
/// queue depth, file sizes) are read when scraped, through `Gauges`.
final class ServiceMetrics: Sendable {
    /// Labels of one request series. Every field has a bounded set of values, so clients cannot grow
    /// the number of series: the route is a template of the router (or "none"), the method one of
    /// the standard ones (or "other"), the status a number the server sent.
    struct RequestKey: Hashable {
        var route: String
        var method: String
        var status: Int
    }

    struct DurationKey: Hashable {
        var route: String
        var method: String
    }

    private struct State {
        var requests: [RequestKey: UInt64] = [:]
        var durations: [DurationKey: Histogram] = [:]
        var bytesIn: UInt64 = 0
        var bytesOut: UInt64 = 0
        var rowsInserted: UInt64 = 0
        var rowsUpdated: UInt64 = 0
        /// Transitions into each status (queued, running, succeeded, failed, cancelled, timed_out).
        var fitTransitions: [String: UInt64] = [:]
        /// Durations of finished fits by their final status.
        var fitDurations: [String: Histogram] = [:]
    }

    private let state = Lock(State())
    let startTime = Date().timeIntervalSince1970
    /// Open client connections, read from the HTTP server once it exists (set before it starts).
    private let connections = Lock<@Sendable () -> Int>({ 0 })

    init() {}

    func countConnections(with source: @escaping @Sendable () -> Int) {
        connections.withLock { $0 = source }
    }

    func openConnections() -> Int {
        let source = connections.withLock { $0 }
        return source()
    }

    static let knownMethods: Set<String> = ["GET", "HEAD", "POST", "PUT", "DELETE", "PATCH", "OPTIONS", "TRACE", "CONNECT"]

    /// `ServerConfiguration.onResponse`: runs on an I/O thread for every response.
    func record(_ summary: RequestSummary) {
        let route = summary.route ?? "none"
        let method = Self.knownMethods.contains(summary.method) ? summary.method : (summary.method.isEmpty ? "none" : "other")
        let key = RequestKey(route: route, method: method, status: summary.status)
        let durationKey = DurationKey(route: route, method: method)
        let bytesIn = UInt64(max(0, summary.bytesIn)), bytesOut = UInt64(max(0, summary.bytesOut))
        state.withLock { s in
            s.requests[key, default: 0] &+= 1
            s.durations[durationKey, default: Histogram(bounds: Histogram.requestBounds)].observe(summary.duration)
            s.bytesIn &+= bytesIn
            s.bytesOut &+= bytesOut
        }
    }

    func recordUpload(inserted: Int, updated: Int) {
        state.withLock { s in
            s.rowsInserted &+= UInt64(max(0, inserted))
            s.rowsUpdated &+= UInt64(max(0, updated))
        }
    }

    func recordFitTransition(to status: String, count: Int = 1, finishedAfter duration: Double? = nil) {
        state.withLock { s in
            s.fitTransitions[status, default: 0] &+= UInt64(max(0, count))
            if let duration {
                s.fitDurations[status, default: Histogram(bounds: Histogram.fitBounds)].observe(duration)
            }
        }
    }

    /// Levels read at scrape time.
    struct Gauges {
        var openConnections: Int
        var fitsQueued: Int
        var fitsRunning: Int
        var databaseBytes: Int64
        var walBytes: Int64
    }

    static let fitStatuses = ["queued", "running", "succeeded", "failed", "cancelled", "timed_out"]

    /// The whole exposition. Series are sorted so that two scrapes list them in the same order.
    func exposition(_ gauges: Gauges) -> String {
        let s = state.withLock { $0 }
        var out = PrometheusText()

        out.family("emergence_http_requests_total", type: "counter",
                   help: "HTTP requests answered, by route template, method and status.")
        for (key, count) in s.requests.sorted(by: { ($0.key.route, $0.key.method, $0.key.status) < ($1.key.route, $1.key.method, $1.key.status) }) {
            out.sample("emergence_http_requests_total",
                       [("route", key.route), ("method", key.method), ("status", String(key.status))], count)
        }
        out.family("emergence_http_request_duration_seconds", type: "histogram",
                   help: "Seconds from a request's first byte to its response being queued, by route template and method.")
        for (key, h) in s.durations.sorted(by: { ($0.key.route, $0.key.method) < ($1.key.route, $1.key.method) }) {
            out.histogram("emergence_http_request_duration_seconds", [("route", key.route), ("method", key.method)], h)
        }
        out.family("emergence_http_open_connections", type: "gauge", help: "Client connections open now.")
        out.sample("emergence_http_open_connections", [], UInt64(max(0, gauges.openConnections)))
        out.family("emergence_http_request_bytes_total", type: "counter", help: "Bytes of requests read (heads and bodies as sent).")
        out.sample("emergence_http_request_bytes_total", [], s.bytesIn)
        out.family("emergence_http_response_bytes_total", type: "counter", help: "Bytes of responses written (as serialized, after compression).")
        out.sample("emergence_http_response_bytes_total", [], s.bytesOut)

        out.family("emergence_evaluation_rows_ingested_total", type: "counter",
                   help: "Evaluation rows stored by committed uploads: inserted new, or updated in place.")
        out.sample("emergence_evaluation_rows_ingested_total", [("result", "inserted")], s.rowsInserted)
        out.sample("emergence_evaluation_rows_ingested_total", [("result", "updated")], s.rowsUpdated)

        out.family("emergence_fit_transitions_total", type: "counter",
                   help: "Fits entering each status since the process started (queued includes requeued after a restart).")
        for status in Self.fitStatuses {
            out.sample("emergence_fit_transitions_total", [("status", status)], s.fitTransitions[status] ?? 0)
        }
        out.family("emergence_fit_queue_depth", type: "gauge", help: "Fits queued and waiting for a worker.")
        out.sample("emergence_fit_queue_depth", [], UInt64(max(0, gauges.fitsQueued)))
        out.family("emergence_fits_running", type: "gauge", help: "Fits running now.")
        out.sample("emergence_fits_running", [], UInt64(max(0, gauges.fitsRunning)))
        out.family("emergence_fit_duration_seconds", type: "histogram", help: "Wall-clock seconds of finished fits, by final status.")
        for status in s.fitDurations.keys.sorted() {
            if let h = s.fitDurations[status] { out.histogram("emergence_fit_duration_seconds", [("status", status)], h) }
        }

        out.family("emergence_database_size_bytes", type: "gauge", help: "Size of the SQLite database file.")
        out.sample("emergence_database_size_bytes", [], Double(gauges.databaseBytes))
        out.family("emergence_database_wal_size_bytes", type: "gauge", help: "Size of the SQLite write-ahead log (0 when absent).")
        out.sample("emergence_database_wal_size_bytes", [], Double(gauges.walBytes))

        out.family("emergence_build_info", type: "gauge", help: "Always 1; the labels say which build runs.")
        out.sample("emergence_build_info", [("version", BuildInfo.version), ("swift", BuildInfo.swiftVersion)], UInt64(1))
        out.family("emergence_process_start_time_seconds", type: "gauge", help: "When this process started, in seconds since the epoch.")
        out.sample("emergence_process_start_time_seconds", [], startTime.rounded())
        return out.text
    }
}

/// What `emergence_build_info` reports. The version follows the API version in openapi.json.
enum BuildInfo {
    static let version = "1.0.0"
    static var swiftVersion: String {
        #if compiler(>=6.3)
        "6.3"
        #elseif compiler(>=6.2)
        "6.2"
        #elseif compiler(>=6.1)
        "6.1"
        #else
        "6.0"
        #endif
    }
}
