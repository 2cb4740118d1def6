/// A complete request as handed to a handler: framing already removed, body de-chunked and gunzipped
/// (unless its route asked for the body still encoded: see `bodyIsGzip`). A `RoutePolicy.admit`
/// check gets one with the head only (empty body). Repeated header lines stay separate:
/// `headers.values(name)` lists them all (e.g. to refuse a second `Authorization`).
public struct HTTPRequest: Sendable {
    public var method: String
    /// The request-target exactly as received.
    public var target: String
    /// The percent-decoded path (an absolute-form target reduced to its path).
    public var path: String
    /// The path as received, still percent-encoded; the router splits this into segments before
    /// decoding so that an encoded "/" stays inside its segment.
    public var rawPath: String
    /// Percent-decoded query items, "+" read as a space.
    public var queryItems: [(name: String, value: String)]
    public var headers: HTTPHeaders
    public var body: [UInt8]
    /// The body is still gzip-compressed. A handler sees this only when its route's policy has
    /// `encodedBody: true`; it then inflates the body itself (`GzipBodyDecoder`, within
    /// `maxDecodedBodyBytes`). For other routes the Router inflates it first, on the handler thread.
    public var bodyIsGzip = false
    /// The route's decoded-size limit (`RoutePolicy.maxDecodedBodyBytes`, else
    /// `ServerConfiguration.maxDecompressedBodyBytes`), for whoever inflates the body.
    public var maxDecodedBodyBytes = Int.max
    /// Filled by the Router from `{name}` template segments.
    public var pathParameters: [String: String]
    public var remoteAddress: String
    /// 0 for HTTP/1.0, 1 for HTTP/1.1.
    public var minorVersion: Int

    public init(method: String, target: String, headers: HTTPHeaders = HTTPHeaders(), body: [UInt8] = [],
                remoteAddress: String = "", minorVersion: Int = 1) throws {
        let parts = try RequestTarget.parse(target, method: method)
        self.method = method
        self.target = target
        self.path = parts.path
        self.rawPath = parts.rawPath
        self.queryItems = parts.queryItems
        self.headers = headers
        self.body = body
        self.pathParameters = [:]
        self.remoteAddress = remoteAddress
        self.minorVersion = minorVersion
    }

    /// The first query value named `name`.
    public func query(_ name: String) -> String? {
        queryItems.first { $0.name == name }?.value
    }
}
