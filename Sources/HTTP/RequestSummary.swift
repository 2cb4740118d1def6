/// One answered request, for metrics and request logs (`ServerConfiguration.onResponse`). Every
/// response the server writes gets exactly one: handler responses, answers from the head (404, 405,
/// OPTIONS, admission refusals, 413) and protocol errors (400, 408, 431, 503 …). Connections closed
/// without a response (idle, client gone) get none.
public struct RequestSummary: Sendable {
    /// The request method; "" when the request line could not be parsed.
    public var method: String
    /// The percent-decoded path; "" when the request line could not be parsed.
    public var path: String
    /// The template of the route that matched (e.g. "/v1/fits/{id}"); nil when none did.
    public var route: String?
    public var status: Int
    /// Bytes of this request read off the wire: its head and as much of its body as was read.
    public var bytesIn: Int
    /// Bytes of the response as serialized (status line, header fields and body).
    public var bytesOut: Int
    /// Seconds from the first byte of the request (or the accept, for an error before any byte)
    /// to the response being queued for sending, on the monotonic clock.
    public var duration: Double
    public var remoteAddress: String
    /// The response's `X-Request-Id` field when it has one (the application sets it), so a request
    /// log line carries the id the client saw; nil for answers the server made alone (protocol errors).
    public var requestID: String? = nil
}
