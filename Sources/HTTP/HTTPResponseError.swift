/// An error that knows how it is answered: its status and RFC 9457 problem body (and any headers,
/// such as `Retry-After`). A handler throws it and the service answers `response`, so each module's
/// errors say what they mean to a client where they are defined, instead of one switch over every
/// module's errors deciding it.
public protocol HTTPResponseError: Error {
    var response: HTTPResponse { get }
}

extension HTTPResponseError {
    /// The problem response of this error (what most adopters return as `response`).
    public static func problem(_ status: Int, _ title: String, _ detail: String, extensions: [String: Any] = [:],
                               headers: HTTPHeaders = HTTPHeaders()) -> HTTPResponse {
        .problem(status: status, title: title, detail: detail, extensions: extensions, headers: headers)
    }
}

/// A gzip body that cannot be inflated within its limits: 413 past the limit, else 400.
extension GzipBodyDecoder.Failure: HTTPResponseError {
    public var response: HTTPResponse {
        .problem(status: status, title: status == 413 ? "Content Too Large" : "Bad Request", detail: detail)
    }
}
