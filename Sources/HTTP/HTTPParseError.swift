/// A request the server refuses before any handler sees it. `status` is what the client gets;
/// the connection is always closed afterwards because its framing can no longer be trusted.
struct HTTPParseError: Error, Equatable {
    var status: Int
    var detail: String

    static func badRequest(_ detail: String) -> HTTPParseError { HTTPParseError(status: 400, detail: detail) }
}

/// The protocol limits the parser enforces (see ServerConfiguration for the defaults and statuses).
/// Body limits are per route (`RoutePolicy`), so the connection applies them once the route is known.
struct ParserLimits: Sendable {
    var maxRequestLineBytes = 8 * 1024
    var maxHeaderBytes = 16 * 1024
    var maxHeaderCount = 100
}
