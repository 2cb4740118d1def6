/// A response produced by a handler. The server adds Date, Content-Length and Connection, and
/// gzip-encodes the body when the client accepts it. A handler's `Connection: close` is honoured:
/// the connection is closed after this response (e.g. after refusing a gzip bomb).
public struct HTTPResponse: Sendable {
    public var status: Int
    public var headers: HTTPHeaders
    public var body: [UInt8]

    /// The handler asked for the connection to be closed after this response.
    var asksToClose: Bool {
        for field in headers where asciiCaseInsensitiveEquals(field.name, "Connection") {
            if field.value.split(separator: ",").contains(where: { asciiCaseInsensitiveEquals(trimOWS($0), "close") }) {
                return true
            }
        }
        return false
    }

    public init(status: Int, headers: HTTPHeaders = HTTPHeaders(), body: [UInt8] = []) {
        self.status = status
        self.headers = headers
        self.body = body
    }

    /// `Content-Type: application/json` with the given bytes.
    public static func json(_ status: Int, _ body: [UInt8]) -> HTTPResponse {
        HTTPResponse(status: status, headers: ["Content-Type": "application/json"], body: body)
    }

    /// `text/plain; charset=utf-8`.
    public static func text(_ status: Int, _ text: String) -> HTTPResponse {
        HTTPResponse(status: status, headers: ["Content-Type": "text/plain; charset=utf-8"], body: Array(text.utf8))
    }

    /// RFC 9457 problem details: {"type","title","status","detail", ...extensions}.
    /// Extension values must be JSON-serialisable (String, numbers, Bool, arrays, dictionaries, NSNull).
    public static func problem(status: Int, title: String, detail: String? = nil, type: String = "about:blank",
                               extensions: [String: Any] = [:], headers: HTTPHeaders = HTTPHeaders()) -> HTTPResponse {
        var headers = headers
        headers.set("Content-Type", "application/problem+json")
        // An error describes one moment (a queue full, a token refused): no cache should keep it.
        if headers["Cache-Control"] == nil { headers.set("Cache-Control", "no-store") }
        let body = ProblemDetails.encode(status: status, title: title, detail: detail, type: type, extensions: extensions)
        return HTTPResponse(status: status, headers: headers, body: body)
    }
}

/// Reason phrases for the status line; clients ignore them, people reading logs do not.
enum StatusPhrase {
    static func phrase(_ status: Int) -> String {
        switch status {
        case 100: return "Continue"
        case 200: return "OK"
        case 201: return "Created"
        case 202: return "Accepted"
        case 204: return "No Content"
        case 206: return "Partial Content"
        case 301: return "Moved Permanently"
        case 302: return "Found"
        case 303: return "See Other"
        case 304: return "Not Modified"
        case 307: return "Temporary Redirect"
        case 308: return "Permanent Redirect"
        case 400: return "Bad Request"
        case 401: return "Unauthorized"
        case 403: return "Forbidden"
        case 404: return "Not Found"
        case 405: return "Method Not Allowed"
        case 406: return "Not Acceptable"
        case 408: return "Request Timeout"
        case 409: return "Conflict"
        case 410: return "Gone"
        case 411: return "Length Required"
        case 412: return "Precondition Failed"
        case 413: return "Content Too Large"
        case 414: return "URI Too Long"
        case 415: return "Unsupported Media Type"
        case 417: return "Expectation Failed"
        case 422: return "Unprocessable Content"
        case 429: return "Too Many Requests"
        case 431: return "Request Header Fields Too Large"
        case 500: return "Internal Server Error"
        case 501: return "Not Implemented"
        case 502: return "Bad Gateway"
        case 503: return "Service Unavailable"
        case 504: return "Gateway Timeout"
        case 505: return "HTTP Version Not Supported"
        default: return "Status \(status)"
        }
    }
}
