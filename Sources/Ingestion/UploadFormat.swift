import EmergenceCore

/// The body formats an evaluation upload takes, chosen by Content-Type (sniffed when there is none).
public enum UploadFormat: String, Sendable, CaseIterable {
    case csv
    case json
    case ndjson
    /// An lm-evaluation-harness results file (sent as application/json; recognised by its `results`).
    case lmEvalHarness = "lm-eval-harness"
}

/// A body refused before any row is read, for its media type (the service answers 415).
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
    /// The format for a Content-Type (parameters ignored); nil when unsupported.
    /// Without a Content-Type the first byte decides: `[` or `{` is JSON, anything else CSV.
    public static func format(contentType: String?, body: [UInt8]) -> UploadFormat? {
        guard let contentType, !contentType.isEmpty else {
            return body.withUnsafeBufferPointer { sniff($0) } ?? .csv
        }
        return format(mediaType: mediaType(contentType))
    }

    /// The format of a body without a Content-Type from its first significant byte; nil when the
    /// bytes so far are all whitespace (or a byte order mark).
    static func sniff(_ bytes: UnsafeBufferPointer<UInt8>) -> UploadFormat? {
        guard let first = bytes.first(where: { $0 != 0x20 && $0 != 0x0A && $0 != 0x0D && $0 != 0x09 && $0 != 0xEF && $0 != 0xBB && $0 != 0xBF }) else {
            return nil
        }
        return first == 0x5B || first == 0x7B ? .json : .csv
    }

    static func format(mediaType mime: String) -> UploadFormat? {
        switch mime {
        case "text/csv", "application/csv": return .csv
        case "application/x-ndjson", "application/ndjson", "application/jsonl", "application/x-jsonlines", "application/jsonlines":
            return .ndjson
        case "application/json", "text/json": return .json
        default: return mime.hasSuffix("+json") ? .json : nil
        }
    }

    static func mediaType(_ contentType: String) -> String {
        contentType.split(separator: ";", omittingEmptySubsequences: false).first.map { String($0).trimmingASCIISpaces().lowercased() } ?? ""
    }

    /// The `charset` parameter of a Content-Type, lowercased and unquoted; nil when absent.
    public static func charset(contentType: String) -> String? {
        for parameter in contentType.split(separator: ";").dropFirst() {
            let kv = parameter.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            guard kv.count == 2, String(kv[0]).trimmingASCIISpaces().lowercased() == "charset" else { continue }
            var value = String(kv[1]).trimmingASCIISpaces()
            if value.utf8.count >= 2, value.hasPrefix("\""), value.hasSuffix("\"") { value = String(value.dropFirst().dropLast()) }
            return value.lowercased()
        }
        return nil
    }

    /// Character sets whose bytes are read as they are: UTF-8 and its ASCII subset. Text in any
    /// other would be misread (Latin-1 é is invalid UTF-8; UTF-16 is not even ASCII-compatible).
    static let acceptedCharsets: Set<String> = ["utf-8", "utf8", "us-ascii", "ascii"]

    /// Refuses a Content-Type that declares a character set other than UTF-8 (or US-ASCII): an
    /// `IngestionError` on field `charset`, which the service answers with 422.
    public static func checkCharset(contentType: String?) throws {
        guard let contentType, let charset = charset(contentType: contentType) else { return }
        guard acceptedCharsets.contains(charset) else {
            throw IngestionError(problems: [RowProblem(index: -1, field: "charset",
                reason: "Content-Type charset \"\(charset.clipped())\" is not accepted; send the body as UTF-8 (charset=utf-8 or none)")])
        }
    }

    /// Decodes a whole upload (see `UploadReader`, which this feeds in one piece).
    /// - parameters: the request's query parameters (used by harness files only).
    /// - Throws: `IngestionError` (every bad row) or `UploadError`.
    public static func decode(_ body: [UInt8], contentType: String?, parameters: [String: String] = [:]) throws
        -> (format: UploadFormat, evaluations: [Evaluation]) {
        var reader = try UploadReader(contentType: contentType, parameters: parameters)
        var rows: [Evaluation] = []
        try body.withUnsafeBufferPointer { try reader.read($0) { rows.append($0) } }
        let format = try reader.finish { rows.append($0) }
        return (format, rows)
    }
}
