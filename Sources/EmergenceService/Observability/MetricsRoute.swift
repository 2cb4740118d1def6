import Foundation
#if canImport(Glibc)
import Glibc
#endif
import HTTP

extension ServiceAPI {
    /// `GET /metrics`: the Prometheus text exposition (format 0.0.4). Needs the read scope when tokens
    /// are on, like every other read: a scraper gets a `read` token of its own.
    func metricsExposition(_ request: HTTPRequest) throws -> HTTPResponse {
        // A database that cannot be read still gets its request counters scraped; the queue then reads 0
        // and the failure shows in /readyz.
        let queued = (try? jobs.queuedCount()) ?? 0
        let gauges = ServiceMetrics.Gauges(openConnections: metrics.openConnections(), fitsQueued: queued,
                                           fitsRunning: pool.runningCount,
                                           databaseBytes: Self.fileSize(database.path),
                                           walBytes: Self.fileSize(database.path + "-wal"))
        var headers = HTTPHeaders()
        headers.set("Content-Type", PrometheusText.contentType)
        headers.set("Cache-Control", "no-store")
        return HTTPResponse(status: 200, headers: headers, body: Array(metrics.exposition(gauges).utf8))
    }

    /// Bytes of a file, 0 when it does not exist (the WAL between checkpoints at shutdown).
    static func fileSize(_ path: String) -> Int64 {
        var st = stat()
        guard stat(path, &st) == 0 else { return 0 }
        return Int64(st.st_size)
    }
}
