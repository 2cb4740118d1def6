import Foundation

/// Every limit and timeout of the server. Defaults are the production values; tests shorten the timeouts.
public struct ServerConfiguration: Sendable {
    /// Host to bind: an IPv4 or IPv6 literal, "localhost" (127.0.0.1 and ::1), "*" (the IPv4 and
    /// IPv6 wildcards) or another name (every address it resolves to). Each address gets its own
    /// listener (IPv6 ones with IPV6_V6ONLY), all on the same port.
    public var host: String = "127.0.0.1"
    /// 0 picks an ephemeral port; read it back from `HTTPServer.port`.
    public var port: Int = 8080
    public var backlog: Int32 = 1024

    /// Request line limit (414 beyond).
    public var maxRequestLineBytes = 8 * 1024
    /// Header section limit in bytes (431 beyond).
    public var maxHeaderBytes = 16 * 1024
    /// Header field count limit (431 beyond).
    public var maxHeaderCount = 100
    /// Body limit as sent on the wire, after de-chunking (413 beyond), for routes whose
    /// `RoutePolicy.maxBodyBytes` is nil.
    public var maxBodyBytes = 32 * 1024 * 1024
    /// Body limit after gzip decoding (413 beyond), for routes whose `RoutePolicy.maxDecodedBodyBytes` is nil.
    public var maxDecompressedBodyBytes = 256 * 1024 * 1024
    /// Request-body bytes held at once over all connections (declared Content-Lengths of admitted
    /// requests, and chunked bodies as they grow); one more is answered 503 with Retry-After. With
    /// per-route body limits this bounds the memory that clients' bodies can take.
    public var maxBufferedBodyBytes = 512 * 1024 * 1024
    /// Open connections; one more is answered 503 and closed.
    public var maxConnections = 1024

    /// Time allowed to receive a complete request head, from its first byte (or from accept for the
    /// first request). 408 and close beyond.
    public var headerReadTimeout: TimeInterval = 10
    /// How long a keep-alive connection may sit between requests before it is closed silently.
    public var idleTimeout: TimeInterval = 60
    /// How long a body (or a response write) may make no progress. 408 and close for bodies.
    public var bodyStallTimeout: TimeInterval = 30
    /// After a closing response, how long unread input is drained so the close does not turn into
    /// a TCP reset that destroys the response in flight.
    public var lingerTimeout: TimeInterval = 2
    /// Deadline for the graceful shutdown started by SIGTERM/SIGINT.
    public var shutdownDeadline: TimeInterval = 10

    /// Responses at least this large are gzip-encoded when the client accepts gzip.
    public var compressionThreshold = 1024
    /// zlib level for responses (1 fastest … 9 smallest).
    public var compressionLevel: Int32 = 6

    /// Handlers running at once; further requests wait in a queue (their connections stay parked).
    public var handlerConcurrency = 64
    /// Number of epoll event loops; defaults to the number of active cores.
    public var eventLoopCount = max(1, ProcessInfo.processInfo.activeProcessorCount)
    /// How long an event loop runs from one batch of events to the next without sleeping before it
    /// yields its core once (`sched_yield`); nil never yields. Under load a loop can find events
    /// ready on every wait for milliseconds on end, and a thread woken on its core meanwhile (a
    /// handler or fit worker, a client on the same machine) often is not let in until the
    /// scheduler's next tick, 4 ms at the common HZ=250; every request that thread carries waits
    /// as long. A yield lets such a thread run now; with nothing waiting it returns at once.
    public var loopYieldInterval: TimeInterval? = 0.0005

    /// Cross-origin access for browser pages on other origins (nil: no CORS headers, and a
    /// preflight is answered like any OPTIONS). See `CORSPolicy`.
    public var cors: CORSPolicy?

    /// Called once per answered request (see `RequestSummary`), just before its response is
    /// queued for sending. It runs on an I/O thread: keep it cheap and non-blocking (bump counters,
    /// or hand the summary to a queue that writes the log).
    public var onResponse: (@Sendable (RequestSummary) -> Void)?

    public init(host: String = "127.0.0.1", port: Int = 8080) {
        self.host = host
        self.port = port
    }

    var parserLimits: ParserLimits {
        ParserLimits(maxRequestLineBytes: maxRequestLineBytes, maxHeaderBytes: maxHeaderBytes,
                     maxHeaderCount: maxHeaderCount)
    }
}
