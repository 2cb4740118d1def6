import EmergenceCore

/// Evaluations as JSON: an array of objects, `{"evaluations": [...]}`, or NDJSON (one object a line).
/// Keys are docs/method.md §1's field names; `null` means absent; any other key is refused (once, at its
/// first row) unless `ColumnRules` leaves it out, as CSV refuses unknown columns.
public enum EvaluationJSON {
    /// A JSON array of evaluation objects, or an object holding one under `evaluations`.
    public static func parse(_ bytes: [UInt8], rules: ColumnRules = ColumnRules()) throws -> [Evaluation] {
        var out: [Evaluation] = []
        out.reserveCapacity(bytes.count / 160)
        var reader = JSONDocumentReader(harnessParameters: nil, rules: rules)
        try bytes.withUnsafeBufferPointer { _ = try reader.read($0, final: true) { out.append($0) } }
        try reader.finish()
        return out
    }

    static func evaluations(in root: JSONValue, rules: ColumnRules, seen: inout ColumnsSeen) throws -> [Evaluation] {
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
            switch evaluation(from: item, rules: rules, seen: &seen) {
            case .success(let e): if problems.isEmpty { out.append(e) }
            case .failure(let p): problems += p.map { RowProblem(index: i, field: $0.field, reason: $0.reason) }
            }
        }
        if !problems.isEmpty { throw IngestionError(problems: problems) }
        return out
    }

    /// NDJSON (`application/x-ndjson`): one evaluation object per line; blank lines skipped.
    public static func parseLines(_ bytes: [UInt8], rules: ColumnRules = ColumnRules()) throws -> [Evaluation] {
        var out: [Evaluation] = []
        out.reserveCapacity(bytes.count / 160)
        try parseLines(bytes, rules: rules) { out.append($0) }
        return out
    }

    /// Streams rows to `emit` (see `CSVReader` for the contract).
    static func parseLines(_ bytes: [UInt8], rules: ColumnRules = ColumnRules(), emit: (Evaluation) -> Void) throws {
        var reader = NDJSONReader(rules: rules)
        _ = try bytes.withUnsafeBufferPointer { try reader.read($0, final: true, emit: emit) }
        try reader.finish()
    }

    static func evaluation(from value: JSONValue) -> Result<Evaluation, FieldProblemList> {
        var seen = ColumnsSeen()
        return evaluation(from: value, rules: ColumnRules(), seen: &seen)
    }

    static func evaluation(from value: JSONValue, rules: ColumnRules, seen: inout ColumnsSeen) -> Result<Evaluation, FieldProblemList> {
        guard case .object(let members) = value else {
            return .failure(FieldProblemList([("row", "expected an object, got \(value.kindName)")]))
        }
        var draft = EvaluationDraft()
        for (key, v) in members {
            guard let f = EvaluationField.named(key) else {
                if rules.allows(key) {
                    seen.ignore(key)
                } else if seen.firstReport(key) {
                    draft.reportRow(key, ColumnRules.unknown(key, what: "key"))
                }
                continue
            }
            if case .null = v { continue }
            switch f.kind {
            case .text:
                let text: String
                switch v {
                case .string(let s): text = s
                // Subsets and checkpoints are often numbered: a whole number stands for its decimal
                // text. Any other number would be stored as text it was not written as (7.50 as "7.5",
                // 1e-308 as "1e-308"), so it is refused, with the fix.
                case .number(let d):
                    guard let i = NumberText.integer(d) else {
                        draft.report(f, "must be a string or a whole number below 9e15 (got the number \(d)); quote it to keep it as written")
                        continue
                    }
                    text = String(i)
                default: draft.report(f, "must be a string or a whole number (got \(v.kindName))"); continue
                }
                draft.set(f, text: text)
            case .setting:
                guard case .string(let s) = v else { draft.report(f, "must be \"few_shot\" or \"finetuned\" (got \(v.kindName))"); continue }
                guard let setting = Evaluation.Setting(rawValue: s) else {
                    draft.report(f, "must be few_shot or finetuned (got \"\(s.clipped())\")"); continue
                }
                draft.setting = setting
            case .integer:
                guard case .number(let d) = v else { draft.report(f, "must be an integer (got \(v.kindName))"); continue }
                guard d.isFinite else { draft.report(f, "must be a finite integer"); continue }
                guard let i = NumberText.integer(d) else { draft.report(f, "must be an integer (got \(d))"); continue }
                draft.set(f, integer: i)
            case .number:
                guard case .number(let d) = v else { draft.report(f, "must be a number (got \(v.kindName))"); continue }
                guard d.isFinite else { draft.report(f, "must be a finite number (got \(d))"); continue }
                draft.set(f, number: d)
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
