/// A complete request as handed to a handler: framing already removed, body de-chunked and gunzipped
/// (unless its route asked for the body still encoded: see `bodyIsGzip`).
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
    /// The body is still gzip-compressed: its route was registered with `encodedBody: true`, and the
    /// handler inflates it (`GzipBodyDecoder`, within the server's decompressed-size limit,
    /// `maxDecodedBodyBytes`).
    public var bodyIsGzip = false
    /// `ServerConfiguration.maxDecompressedBodyBytes`, for a handler that inflates the body itself.
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
