import EmergenceCore

/// NDJSON read a piece at a time (see `UploadReader`): each complete line becomes a row as soon as
/// its newline arrives. Line numbers and row indexes carry over between pieces, so problems name
/// the same line and index as when the text is read whole. Rows are emitted only while no problem
/// has been found (the upload is refused whole at `finish` if any was).
struct NDJSONReader {
    private var problems = ProblemList()
    private var line = 1
    private var index = 0
    private var atStart = true
    private let rules: ColumnRules
    private(set) var seen = ColumnsSeen()

    init(rules: ColumnRules = ColumnRules()) { self.rules = rules }

    /// Reads the lines of `buf` that are complete (and, when `final`, the last line even without a
    /// newline); returns how many bytes it used.
    mutating func read(_ buf: UnsafeBufferPointer<UInt8>, final: Bool, emit: (Evaluation) -> Void) throws -> Int {
        var start = 0
        let n = buf.count
        if atStart {
            if n < 3 && !final { return 0 }
            if n >= 3, buf[0] == 0xEF, buf[1] == 0xBB, buf[2] == 0xBF { start += 3 }
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
                try problems.add(RowProblem(index: index, line: thisLine, field: "row",
                                            reason: "invalid JSON at column \(e.column): \(e.reason)"))
                continue
            }
            switch EvaluationJSON.evaluation(from: value, rules: rules, seen: &seen) {
            case .success(let e): if problems.isEmpty { emit(e) }
            case .failure(let p):
                for item in p { try problems.add(RowProblem(index: index, line: thisLine, field: item.field, reason: item.reason)) }
            }
        }
        return min(start, n)
    }

    /// A line longer than the caller will hold: an evaluation is a few hundred bytes, and holding a
    /// "line" until its newline could take the whole decompressed limit in memory.
    func overflow(limit: Int) -> IngestionError {
        problems.adding(RowProblem(index: index, line: line, field: "row", reason: "line is longer than \(limit) bytes"))
    }

    /// Throws every problem found, if any.
    func finish() throws {
        try problems.finish()
    }
}
