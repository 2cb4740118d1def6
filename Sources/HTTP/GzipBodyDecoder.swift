/// Inflates a request body that its handler took still encoded (`HTTPRequest.bodyIsGzip`), piece by
/// piece, so the handler can parse what has been inflated while the rest waits. Same limits and
/// errors as the server's own inflation.
public final class GzipBodyDecoder {
    /// A body the server would have refused: `status` is 400 (not gzip, truncated) or 413 (over the limit).
    public struct Failure: Error, Equatable, CustomStringConvertible {
        public var status: Int
        public var detail: String
        public var description: String { detail }
    }

    private let inflater: GzipInflater
    private let body: [UInt8]
    private var offset = 0

    /// - limit: the most bytes the body may inflate to (`HTTPRequest.maxDecodedBodyBytes`).
    public init(_ request: HTTPRequest) throws {
        body = request.body
        do {
            inflater = try GzipInflater(maxOutputBytes: request.maxDecodedBodyBytes)
        } catch {
            throw Failure(status: error.status, detail: error.detail)
        }
    }

    /// Inflates up to `inputBytes` more of the body, appending to `output`; false once the body
    /// has been read to its end (and found whole).
    public func next(into output: inout [UInt8], inputBytes: Int = 256 * 1024) throws -> Bool {
        if offset == body.count {
            do { try inflater.finish() } catch { throw Failure(status: error.status, detail: error.detail) }
            return false
        }
        let end = min(body.count, offset + inputBytes)
        do {
            try body.withUnsafeBufferPointer { all throws(HTTPParseError) in
                try inflater.feed(UnsafeBufferPointer(rebasing: all[offset..<end]), into: &output)
            }
        } catch {
            throw Failure(status: error.status, detail: error.detail)
        }
        offset = end
        return true
    }
}
