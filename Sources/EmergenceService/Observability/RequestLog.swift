import HTTP
import Logging

/// `ServerConfiguration.onResponse`: counts every answered request for `/metrics` and writes its
/// log line. Only the summary's fields are logged: never the path's query, a header (tokens) or a body.
final class RequestLog: Sendable {
    let metrics: ServiceMetrics
    let logger: Logger

    init(metrics: ServiceMetrics, logger: Logger) {
        self.metrics = metrics
        self.logger = logger
    }

    func record(_ summary: RequestSummary) {
        metrics.record(summary)
        guard logger.logLevel <= .info else { return }
        var metadata: Logger.Metadata = [
            "event": "request",
            "method": .string(summary.method),
            "route": .string(summary.route ?? "none"),
            "status": .stringConvertible(summary.status),
            "bytes_in": .stringConvertible(summary.bytesIn),
            "bytes_out": .stringConvertible(summary.bytesOut),
            "duration_s": .stringConvertible((summary.duration * 1e6).rounded() / 1e6),
            "peer": .string(summary.remoteAddress),
        ]
        // Absent only for protocol errors answered before the service saw the request.
        if let id = summary.requestID { metadata["request_id"] = .string(id) }
        logger.info("request", metadata: metadata)
    }
}
