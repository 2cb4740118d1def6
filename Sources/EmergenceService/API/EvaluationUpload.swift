import EmergenceCore
import HTTP
import Ingestion

extension EvaluationUpload {
    /// Compressed bytes inflated per step of a gzip body. Deflate expands at most ~1,032:1, so one
    /// step yields at most ~4 MiB even from a "gzip bomb", and an ordinary body (~5-10:1) a few
    /// tens of KiB: the inflated text is never held whole, only a piece and the reader's unfinished end.
    static let gzipInputStep = 4 * 1024

    /// Reads an upload's body into `emit` in bounded memory, whatever its format and encoding: a
    /// plain body is handed to the reader as it lies, a gzip one (`HTTPRequest.bodyIsGzip`) is
    /// inflated a piece at a time and each piece read before the next is inflated, so inflating
    /// overlaps storing. Rows are provisional (see `UploadReader`): the call throws at the end if
    /// any row was bad.
    /// - Throws: `UploadError` (415), `IngestionError` (422), `GzipBodyDecoder.Failure` (400/413).
    static func read(_ request: HTTPRequest, contentType: String?, parameters: [String: String],
                     emit: (Evaluation) -> Void) throws -> (format: UploadFormat, columns: [String], ignored: [String]) {
        var reader = try UploadReader(contentType: contentType, parameters: parameters, inflated: request.bodyIsGzip)
        if request.bodyIsGzip {
            let decoder = try GzipBodyDecoder(request)
            var piece: [UInt8] = []
            while try decoder.next(into: &piece, inputBytes: gzipInputStep) {
                try piece.withUnsafeBufferPointer { try reader.read($0, emit: emit) }
                piece.removeAll(keepingCapacity: true)
            }
        } else {
            try request.body.withUnsafeBufferPointer { try reader.read($0, emit: emit) }
        }
        let format = try reader.finish(emit: emit)
        return (format, reader.columns, reader.ignoredColumns)
    }
}
