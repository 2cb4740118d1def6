/// What a route accepts, decided from the request head before any of the body is read (see
/// `Router.add(_:_:policy:_:)`). The connection applies it in this order once a head is complete:
/// route resolution (404/405/OPTIONS), `admit`, the declared Content-Length against
/// `maxBodyBytes` (413); only then is `100 Continue` sent and the body read. A refusal of a request
/// whose body is still on the wire is answered and the connection closed, so the body is never
/// buffered (the unread bytes are drained and discarded, as for any closing response).
public struct RoutePolicy: Sendable {
    /// Body limit in bytes as sent on the wire (after de-chunking, before gzip decoding); 413 beyond.
    /// nil: `ServerConfiguration.maxBodyBytes`. A declared Content-Length is checked from the head;
    /// a chunked body as its chunk sizes arrive.
    public var maxBodyBytes: Int?
    /// Limit in bytes after gzip decoding; 413 beyond. nil: `ServerConfiguration.maxDecompressedBodyBytes`.
    /// It reaches the handler as `HTTPRequest.maxDecodedBodyBytes`.
    public var maxDecodedBodyBytes: Int?
    /// Hand this route a gzip body still compressed (`HTTPRequest.bodyIsGzip`), for a handler that
    /// inflates it as it parses (`GzipBodyDecoder`). Otherwise the Router inflates the body on the
    /// handler thread before calling the handler (400 when corrupt or truncated, 413 beyond
    /// `maxDecodedBodyBytes`). The I/O threads never inflate.
    public var encodedBody: Bool
    /// Admission check run on the request head: the `HTTPRequest` it gets has the method, target,
    /// headers, path parameters and remote address, and an empty body. A non-nil response is sent
    /// as is and the body is never read (e.g. 401 for a missing token).
    ///
    /// It runs on an I/O thread, once per request, before the body arrives: it must be cheap and
    /// must never block (no locks held long, no I/O, no database). A constant-time comparison of a
    /// few tokens is the intended use. A refusal's body should be small: it is not gzip-encoded.
    public var admit: (@Sendable (HTTPRequest) -> HTTPResponse?)?
    /// The handler never blocks and is quick (a health check, a static document, an answer from
    /// memory): it runs on the connection's I/O thread, with no hop to the handler pool and back.
    /// Everything else the I/O thread serves waits while it runs, so a handler that touches a
    /// database, a file, a lock held for long, or does heavy computation must leave this false
    /// (the default: the handler runs on the pool). A gzip request body is still inflated on the
    /// pool, and a response the client gets gzip-encoded is compressed there too.
    public var nonBlocking: Bool
    /// An answer the loop can give from memory, tried on the I/O thread before the handler is handed
    /// to the pool: a response is sent as the route's answer (the handler never runs); nil hands the
    /// request to the handler on the pool as usual. For a route whose answer is usually in a cache
    /// but on a miss needs the database: the hit costs no thread hop, the miss blocks no loop.
    /// The same rules as `nonBlocking` apply to it: no I/O, no lock held for long, quick. It is not
    /// tried for a gzip request body (that is inflated on the pool first).
    public var fromMemory: (@Sendable (HTTPRequest) -> HTTPResponse?)?

    public init(maxBodyBytes: Int? = nil, maxDecodedBodyBytes: Int? = nil, encodedBody: Bool = false,
                nonBlocking: Bool = false, admit: (@Sendable (HTTPRequest) -> HTTPResponse?)? = nil,
                fromMemory: (@Sendable (HTTPRequest) -> HTTPResponse?)? = nil) {
        self.maxBodyBytes = maxBodyBytes
        self.maxDecodedBodyBytes = maxDecodedBodyBytes
        self.encodedBody = encodedBody
        self.nonBlocking = nonBlocking
        self.admit = admit
        self.fromMemory = fromMemory
    }
}
