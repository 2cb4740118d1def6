import EmergenceCore
import HTTP

/// The body formats `POST /v1/studies/{study}/evaluations` takes, chosen by Content-Type.
public enum UploadFormat: String, Sendable, CaseIterable {
    case csv
    case json
    case ndjson
    /// An lm-evaluation-harness results file (sent as application/json; recognised by its `results`).
    case lmEvalHarness = "lm-eval-harness"
}

public enum UploadError: Error, Equatable, CustomStringConvertible {
    case unsupportedMediaType(String)
    /// The body is gzip but was sent without `Content-Encoding: gzip`.
    case undeclaredGzip

    public var description: String {
        switch self {
        case .unsupportedMediaType(let t):
            return "Content-Type \(t) is not accepted; send text/csv, application/json or application/x-ndjson"
        case .undeclaredGzip:
            return "the body is gzip-compressed; send it with Content-Encoding: gzip"
        }
    }
}

public enum EvaluationUpload {
    /// The format for a Content-Type (parameters such as charset ignored); nil when unsupported.
    /// Without a Content-Type the first byte decides: `[` or `{` is JSON, anything else CSV.
    public static func format(contentType: String?, body: [UInt8]) -> UploadFormat? {
        guard let contentType, !contentType.isEmpty else {
            let first = body.first { $0 != 0x20 && $0 != 0x0A && $0 != 0x0D && $0 != 0x09 && $0 != 0xEF && $0 != 0xBB && $0 != 0xBF }
            return first == 0x5B || first == 0x7B ? .json : .csv
        }
        let mime = contentType.split(separator: ";").first.map { String($0).trimmingASCIISpaces().lowercased() } ?? ""
        switch mime {
        case "text/csv", "application/csv": return .csv
        case "application/x-ndjson", "application/ndjson", "application/jsonl", "application/x-jsonlines", "application/jsonlines":
            return .ndjson
        case "application/json", "text/json": return .json
        default: return mime.hasSuffix("+json") ? .json : nil
        }
    }

    /// Decodes a whole upload. JSON bodies that look like a harness results file are read as one.
    /// - parameters: the request's query parameters (used by harness files only).
    /// - Throws: `IngestionError` (every bad row) or `UploadError`.
    public static func decode(_ body: [UInt8], contentType: String?, parameters: [String: String] = [:]) throws
        -> (format: UploadFormat, evaluations: [Evaluation]) {
        if body.count >= 2, body[0] == 0x1F, body[1] == 0x8B { throw UploadError.undeclaredGzip }
        guard let format = format(contentType: contentType, body: body) else {
            throw UploadError.unsupportedMediaType(contentType ?? "")
        }
        switch format {
        case .csv:
            return (.csv, try EvaluationCSV.parse(body))
        case .ndjson:
            return (.ndjson, try EvaluationJSON.parseLines(body))
        case .json, .lmEvalHarness:
            if let rows = body.withUnsafeBufferPointer(FastEvaluationJSON.document) { return (.json, rows) }
            let root = try JSONParser.parseBody(body)
            if LMEvalHarness.isResultsFile(root) {
                return (.lmEvalHarness, [try LMEvalHarness.evaluation(from: root, parameters: parameters)])
            }
            return (.json, try EvaluationJSON.evaluations(in: root))
        }
    }

    /// Like `decode`, but hands rows to `emit` while reading CSV and NDJSON, so storing can overlap
    /// parsing. Rows are provisional: the call throws at the end if any row was bad.
    static func decode(_ body: [UInt8], contentType: String?, parameters: [String: String],
                       emit: (Evaluation) -> Void) throws -> UploadFormat {
        if body.count >= 2, body[0] == 0x1F, body[1] == 0x8B { throw UploadError.undeclaredGzip }
        switch format(contentType: contentType, body: body) {
        case .csv?:
            try body.withUnsafeBufferPointer { try EvaluationCSV.parse($0, emit: emit) }
            return .csv
        case .ndjson?:
            try EvaluationJSON.parseLines(body, emit: emit)
            return .ndjson
        default:
            let (format, rows) = try decode(body, contentType: contentType, parameters: parameters)
            rows.forEach(emit)
            return format
        }
    }

    /// The longest NDJSON line a gzip upload may hold.
    static let maxLineBytes = 1 << 20

    /// Like `decode(_:contentType:parameters:emit:)` for a body still gzip-compressed. NDJSON is
    /// inflated a piece at a time and each complete line parsed at once, so inflating overlaps
    /// storing and the inflated text is never held whole; other formats are inflated first.
    static func decode(gzip request: HTTPRequest, contentType: String?, parameters: [String: String],
                       emit: (Evaluation) -> Void) throws -> UploadFormat {
        let decoder = try GzipBodyDecoder(request)
        var text: [UInt8] = []
        if let contentType, !contentType.isEmpty, format(contentType: contentType, body: []) == .ndjson {
            var reader = NDJSONReader()
            var unread = 0
            while try decoder.next(into: &text) {
                unread = text.withUnsafeBufferPointer { reader.read($0, from: unread, final: false, emit: emit) }
                // Keep only the partial last line (memory stays at a few pieces, not the whole body).
                if unread >= 4 << 20 {
                    text.removeFirst(unread)
                    unread = 0
                }
                // An evaluation is a few hundred bytes; a "line" of megabytes is not one, and
                // holding it until its newline could take the whole decompressed limit in memory.
                if text.count - unread > maxLineBytes {
                    throw IngestionError(problems: [RowProblem(index: reader.rowsRead, line: reader.linesRead + 1, field: "row",
                                                               reason: "line is longer than \(maxLineBytes) bytes")])
                }
            }
            _ = text.withUnsafeBufferPointer { reader.read($0, from: unread, final: true, emit: emit) }
            try reader.finish()
            return .ndjson
        }
        while try decoder.next(into: &text) {}
        if text.count >= 2, text[0] == 0x1F, text[1] == 0x8B {
            throw IngestionError(problems: [RowProblem(index: -1, field: "body", reason: "the body is gzip-compressed twice")])
        }
        return try decode(text, contentType: contentType, parameters: parameters, emit: emit)
    }
}
