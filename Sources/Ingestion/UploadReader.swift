import EmergenceCore

/// Reads an evaluation upload of any format piece by piece, in bounded memory.
///
/// Feed the body's bytes with `read` in pieces of any size, split anywhere (as they come off the
/// socket or out of the gzip inflater), then call `finish`. Rows go to `emit` as soon as they are
/// complete. Only the unfinished end of the body is held between pieces: one CSV record, NDJSON
/// line or JSON array element, each at most `maxRecordBytes`; an lm-evaluation-harness file (or any
/// JSON body that is not an array of rows) is held whole, up to `maxWholeDocumentBytes`. So memory
/// per upload stays at a few MiB whatever the inflated size, and a field or element that never ends
/// is refused at its bound with a problem naming where it began.
///
/// Rows are provisional: reading goes on past a bad row to collect every problem (up to
/// `ProblemList.limit`), and `finish` (or `read`, for a fatal one) throws `IngestionError` listing
/// them, so the consumer must store nothing unless `finish` returns. Problems name the same lines and
/// row indexes however the body was split.
public struct UploadReader {
    /// The longest CSV record, NDJSON line or JSON array element: an evaluation is a few hundred bytes.
    public static let maxRecordBytes = 1 << 20
    /// The largest JSON body read whole (harness results files are tens of KiB).
    public static let maxWholeDocumentBytes = JSONDocumentReader.maxWholeBytes

    private enum Parser {
        case undecided
        case csv(CSVReader)
        case json(JSONDocumentReader)
        case ndjson(NDJSONReader)
    }

    private let declared: UploadFormat?
    private let parameters: [String: String]
    private let inflated: Bool
    private let rules: ColumnRules
    private var used = ColumnsSeen()
    private var parser = Parser.undecided
    private var started = false
    /// The unread end of the body so far (an unfinished record, or the whole of a whole-read body).
    private var tail: [UInt8] = []

    /// Bytes held between pieces (the unfinished record, or the whole-read document so far).
    var heldBytes: Int { tail.count }

    /// The format, once known (sniffed from the first significant byte when not declared; a JSON
    /// body is known to be a harness results file only after `finish`).
    public private(set) var format: UploadFormat?

    /// - format: the declared format; nil to sniff it (`[` or `{` first is JSON, else CSV).
    /// - parameters: the request's query parameters (harness files take fields from them).
    /// - inflated: the body was sent gzip-compressed and these are its inflated bytes (a body that
    ///   still starts with the gzip magic was then compressed twice).
    public init(format: UploadFormat?, parameters: [String: String] = [:], inflated: Bool = false) {
        declared = format == .lmEvalHarness ? .json : format
        self.parameters = parameters
        self.inflated = inflated
        self.rules = ColumnRules(parameters: parameters)
        self.format = declared
    }

    /// The reader for a request's Content-Type (nil or empty: sniffed).
    /// - Throws: `UploadError.unsupportedMediaType`, or `IngestionError` (field `charset`) for a
    ///   charset other than UTF-8 or US-ASCII.
    public init(contentType: String?, parameters: [String: String] = [:], inflated: Bool = false) throws {
        var format: UploadFormat?
        if let contentType, !contentType.isEmpty {
            guard let f = EvaluationUpload.format(mediaType: EvaluationUpload.mediaType(contentType)) else {
                throw UploadError.unsupportedMediaType(contentType)
            }
            try EvaluationUpload.checkCharset(contentType: contentType)
            format = f
        }
        self.init(format: format, parameters: parameters, inflated: inflated)
    }

    /// The evaluation fields that carried a value in at least one row so far, in the CSV header's order.
    public var columns: [String] { used.columns }

    /// The columns or keys left out at the caller's word (`?ignore=`, an `extra_` name), first seen first.
    public var ignoredColumns: [String] {
        switch parser {
        case .undecided: return []
        case .csv(let p): return p.seen.ignored
        case .ndjson(let p): return p.seen.ignored
        case .json(let p): return p.seen.ignored
        }
    }

    /// Reads the next piece of the body.
    public mutating func read(_ piece: UnsafeBufferPointer<UInt8>, emit: (Evaluation) -> Void) throws {
        var marks = used
        defer { used = marks }
        try consume(piece, final: false) { marks.mark($0); emit($0) }
    }

    /// Reads what is left at the end of the body; returns the format it was read as.
    @discardableResult
    public mutating func finish(emit: (Evaluation) -> Void) throws -> UploadFormat {
        var marks = used
        defer { used = marks }
        try consume(UnsafeBufferPointer(start: nil, count: 0), final: true) { marks.mark($0); emit($0) }
        switch parser {
        case .undecided: break  // not reached: a final consume always decides
        case .csv(let p): try p.finish()
        case .ndjson(let p): try p.finish()
        case .json(let p):
            try p.finish()
            if p.isHarness { format = .lmEvalHarness }
        }
        return format ?? .csv
    }

    private mutating func consume(_ piece: UnsafeBufferPointer<UInt8>, final: Bool, emit: (Evaluation) -> Void) throws {
        if !started {
            // The first bytes say whether the body is still gzip, and (undeclared) what format it is.
            if tail.isEmpty, let f = try Self.decide(piece, final: final, declared: format, inflated: inflated) {
                start(f)  // and read the piece where it lies, below
            } else {
                tail.append(contentsOf: piece)
                let decided = try tail.withUnsafeBufferPointer { try Self.decide($0, final: final, declared: format, inflated: inflated) }
                guard let f = decided else { return }
                start(f)
                try parseTail(final: final, emit: emit)
                return
            }
        }
        if tail.isEmpty {
            // Nothing held over: read the piece where it lies and keep only its unfinished end.
            let used = try run(piece, final: final, emit: emit)
            if used < piece.count { tail.append(contentsOf: UnsafeBufferPointer(rebasing: piece[used...])) }
            try checkHeld()
        } else {
            tail.append(contentsOf: piece)
            try parseTail(final: final, emit: emit)
        }
    }

    /// The format to read `bytes` (the body's first bytes) as; nil while they cannot tell.
    private static func decide(_ bytes: UnsafeBufferPointer<UInt8>, final: Bool, declared: UploadFormat?,
                               inflated: Bool) throws -> UploadFormat? {
        if bytes.count < 2 && !final { return nil }
        if bytes.count >= 2, bytes[0] == 0x1F, bytes[1] == 0x8B {
            if !inflated { throw UploadError.undeclaredGzip }
            throw IngestionError(problems: [RowProblem(index: -1, field: "body", reason: "the body is gzip-compressed twice")])
        }
        if let declared { return declared }
        // Leading whitespace alone cannot tell; past a little of it, the default (CSV) holds.
        if let sniffed = EvaluationUpload.sniff(bytes) { return sniffed }
        return final || bytes.count > 64 * 1024 ? .csv : nil
    }

    private mutating func start(_ f: UploadFormat) {
        format = f
        switch f {
        case .csv: parser = .csv(CSVReader(rules: rules))
        case .ndjson: parser = .ndjson(NDJSONReader(rules: rules))
        case .json, .lmEvalHarness: parser = .json(JSONDocumentReader(harnessParameters: parameters, rules: rules))
        }
        started = true
    }

    private mutating func parseTail(final: Bool, emit: (Evaluation) -> Void) throws {
        var held = tail
        tail = []  // so `held` is uniquely referenced and trimmed in place
        let used = try held.withUnsafeBufferPointer { try run($0, final: final, emit: emit) }
        held.removeFirst(used)
        tail = held
        try checkHeld()
    }

    /// Refuses an unfinished record (or whole-read document) longer than the bound.
    private func checkHeld() throws {
        switch parser {
        case .undecided: break
        case .csv(let p): if tail.count > Self.maxRecordBytes { throw p.overflow(limit: Self.maxRecordBytes) }
        case .ndjson(let p): if tail.count > Self.maxRecordBytes { throw p.overflow(limit: Self.maxRecordBytes) }
        case .json(let p): if tail.count > p.holdLimit { throw p.overflow(limit: p.holdLimit) }
        }
    }

    /// Hands `buffer` to the format's reader; returns the bytes it used.
    private mutating func run(_ buffer: UnsafeBufferPointer<UInt8>, final: Bool, emit: (Evaluation) -> Void) throws -> Int {
        // Each reader is moved out while it works so that its arrays are not shared (and copied).
        switch parser {
        case .undecided:
            return 0
        case .csv(var p):
            parser = .undecided
            defer { parser = .csv(p) }
            return try p.read(buffer, final: final, emit: emit)
        case .ndjson(var p):
            parser = .undecided
            defer { parser = .ndjson(p) }
            return try p.read(buffer, final: final, emit: emit)
        case .json(var p):
            parser = .undecided
            defer { parser = .json(p) }
            return try p.read(buffer, final: final, emit: emit)
        }
    }
}
