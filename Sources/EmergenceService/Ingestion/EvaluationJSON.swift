import EmergenceCore

/// Evaluations as JSON: an array of objects, `{"evaluations": [...]}`, or NDJSON (one object a line).
/// Keys are METHOD.md §2's field names; `null` means absent; unknown keys are ignored, as CSV ignores
/// unknown columns.
public enum EvaluationJSON {
    /// A JSON array of evaluation objects, or an object holding one under `evaluations`.
    public static func parse(_ bytes: [UInt8]) throws -> [Evaluation] {
        if let rows = bytes.withUnsafeBufferPointer(FastEvaluationJSON.document) { return rows }
        let root = try JSONParser.parseBody(bytes)
        return try evaluations(in: root)
    }

    static func evaluations(in root: JSONValue) throws -> [Evaluation] {
        let items: [JSONValue]
        switch root {
        case .array(let a):
            items = a
        case .object:
            guard case .array(let a)? = root["evaluations"] else {
                throw IngestionError(problems: [RowProblem(index: -1, field: "evaluations",
                    reason: "expected a JSON array of evaluations, or an object with an \"evaluations\" array")])
            }
            items = a
        default:
            throw IngestionError(problems: [RowProblem(index: -1, field: "body",
                reason: "expected a JSON array of evaluations, got \(root.kindName)")])
        }
        var out: [Evaluation] = []
        out.reserveCapacity(items.count)
        var problems: [RowProblem] = []
        for (i, item) in items.enumerated() {
            switch evaluation(from: item) {
            case .success(let e): if problems.isEmpty { out.append(e) }
            case .failure(let p): problems += p.map { RowProblem(index: i, field: $0.field, reason: $0.reason) }
            }
        }
        if !problems.isEmpty { throw IngestionError(problems: problems) }
        return out
    }

    /// NDJSON (`application/x-ndjson`): one evaluation object per line; blank lines skipped.
    public static func parseLines(_ bytes: [UInt8]) throws -> [Evaluation] {
        var out: [Evaluation] = []
        out.reserveCapacity(bytes.count / 160)
        try parseLines(bytes) { out.append($0) }
        return out
    }

    /// Streams rows to `emit` (see `EvaluationCSV.parse(_:emit:)` for the contract).
    static func parseLines(_ bytes: [UInt8], emit: (Evaluation) -> Void) throws {
        var reader = NDJSONReader()
        _ = bytes.withUnsafeBufferPointer { reader.read($0, from: 0, final: true, emit: emit) }
        try reader.finish()
    }

    static func evaluation(from value: JSONValue) -> Result<Evaluation, FieldProblemList> {
        guard case .object(let members) = value else {
            return .failure(FieldProblemList([("row", "expected an object, got \(value.kindName)")]))
        }
        var draft = EvaluationDraft()
        for (key, v) in members {
            guard let f = EvaluationField.named(key) else { continue }
            if case .null = v { continue }
            switch f {
            case .checkpoint, .model, .subset:
                let text: String
                switch v {
                case .string(let s): text = s
                // Subsets and checkpoints are often numbered; a number stands for its decimal text.
                case .number(let d) where d.isFinite: text = NumberText.integer(d).map(String.init) ?? String(d)
                default: draft.report(f, "must be a string (got \(v.kindName))"); continue
                }
                switch f {
                case .checkpoint: draft.checkpoint = text
                case .model: draft.model = text
                default: draft.subset = text
                }
            case .setting:
                guard case .string(let s) = v else { draft.report(f, "must be \"few_shot\" or \"finetuned\" (got \(v.kindName))"); continue }
                guard let setting = Evaluation.Setting(rawValue: s) else {
                    draft.report(f, "must be few_shot or finetuned (got \"\(s.clipped())\")"); continue
                }
                draft.setting = setting
            case .shots, .nQuestions:
                guard case .number(let d) = v else { draft.report(f, "must be an integer (got \(v.kindName))"); continue }
                guard d.isFinite else { draft.report(f, "must be a finite integer"); continue }
                guard let i = NumberText.integer(d) else { draft.report(f, "must be an integer (got \(d))"); continue }
                if f == .shots { draft.shots = i } else { draft.nQuestions = i }
            case .parameters, .tokens, .flops, .pretrainLoss, .finetuneExamples, .accuracy:
                guard case .number(let d) = v else { draft.report(f, "must be a number (got \(v.kindName))"); continue }
                guard d.isFinite else { draft.report(f, "must be a finite number (got \(d))"); continue }
                switch f {
                case .parameters: draft.parameters = d
                case .tokens: draft.tokens = d
                case .flops: draft.flops = d
                case .pretrainLoss: draft.pretrainLoss = d
                case .finetuneExamples: draft.finetuneExamples = d
                default: draft.accuracy = d
                }
            }
        }
        if let e = draft.finish() { return .success(e) }
        return .failure(FieldProblemList(draft.problems))
    }
}

/// A row's problems as (field, reason), before the format adds index and line.
struct FieldProblemList: Error, Sequence {
    var items: [(field: String, reason: String)]
    init(_ items: [(field: String, reason: String)]) { self.items = items }
    func makeIterator() -> IndexingIterator<[(field: String, reason: String)]> { items.makeIterator() }
}

/// NDJSON read a piece at a time: each complete line becomes a row as soon as its newline arrives.
/// Line numbers and row indexes carry over between pieces, so problems name the same line and
/// index as when the text is read whole. Rows are emitted only while no problem has been found
/// (the upload is refused whole at `finish` if any was).
struct NDJSONReader {
    private var problems: [RowProblem] = []
    private var line = 1
    private var index = 0
    private var atStart = true

    /// Lines and rows (non-blank lines) read so far.
    var linesRead: Int { line - 1 }
    var rowsRead: Int { index }

    /// Reads the lines of `buf[from...]` that are complete (and, when `final`, the last line even
    /// without a newline); returns where the unread rest begins.
    mutating func read(_ buf: UnsafeBufferPointer<UInt8>, from: Int, final: Bool, emit: (Evaluation) -> Void) -> Int {
        var start = from
        let n = buf.count
        if atStart {
            if n - start < 3 && !final { return start }
            if n - start >= 3, buf[start] == 0xEF, buf[start + 1] == 0xBB, buf[start + 2] == 0xBF { start += 3 }
            atStart = false
        }
        while start < n {
            var end = start
            while end < n, buf[end] != 0x0A { end += 1 }
            if end == n && !final { return start }  // the line goes on in the next piece
            let thisLine = line
            defer { start = end + 1; line += 1 }
            var s = start
            while s < end, buf[s] == 0x20 || buf[s] == 0x09 || buf[s] == 0x0D { s += 1 }
            if s == end { continue }
            defer { index += 1 }
            var fast = FastEvaluationJSON(buf, start: s, end: end)
            if let e = fast.evaluation() {
                fast.skipSpace()
                if fast.atEnd {
                    if problems.isEmpty { emit(e) }
                    continue
                }
            }
            let value: JSONValue
            do {
                value = try JSONParser.parse(buf, start: start, end: end)
            } catch let e as JSONSyntaxError {
                problems.append(RowProblem(index: index, line: thisLine, field: "row",
                                           reason: "invalid JSON at column \(e.column): \(e.reason)"))
                continue
            } catch {
                problems.append(RowProblem(index: index, line: thisLine, field: "row", reason: "\(error)"))
                continue
            }
            switch EvaluationJSON.evaluation(from: value) {
            case .success(let e): if problems.isEmpty { emit(e) }
            case .failure(let p): problems += p.map { RowProblem(index: index, line: thisLine, field: $0.field, reason: $0.reason) }
            }
        }
        return min(start, n)
    }

    /// Throws every problem found, if any.
    func finish() throws {
        if !problems.isEmpty { throw IngestionError(problems: problems) }
    }
}
