/// How the body of a request is delimited (RFC 9112 §6.3).
enum BodyFraming: Equatable {
    case none
    case length(Int)
    case chunked
}

/// The content coding of a request body (RFC 9110 §8.4); only gzip is decoded.
enum ContentCoding: Equatable {
    case identity
    case gzip
}

/// A parsed and validated request line and header section.
struct RequestHead {
    var method: String
    var target: String
    var minorVersion: Int
    var headers: HTTPHeaders
    var parsedTarget: RequestTarget
    var framing: BodyFraming
    var keepAlive: Bool
    var expectContinue: Bool
    var contentCoding: ContentCoding

    var hasBody: Bool {
        switch framing {
        case .none: return false
        case .length(let n): return n > 0
        case .chunked: return true
        }
    }
}
