import HTTP

/// `ServerConfiguration.onResponse`: counts every answered request for `/metrics` and writes its
/// log line. Only the summary's fields are logged: never the path's query, a header (tokens) or a body.
final class RequestLog: Sendable {
    let metrics: ServiceMetrics
    /// Where request lines go, and how they look; nil: counted, not logged.
    let lines: (format: LogFormat, sink: LogSink)?

    init(metrics: ServiceMetrics, lines: (format: LogFormat, sink: LogSink)?) {
        self.metrics = metrics
        self.lines = lines
    }

    func record(_ summary: RequestSummary) {
        metrics.record(summary)
        guard let lines else { return }
        lines.sink.write(RequestLine.render(summary, format: lines.format))
    }
}
