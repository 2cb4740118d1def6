import EmergenceCore

/// A JSON upload read a piece at a time (see `UploadReader`).
///
/// A JSON array of evaluations, or `{"evaluations": [...]}` (that key first), is streamed element by
/// element: a small scanner that tracks strings, escapes and bracket depth finds where each element
/// ends, and only then is the element parsed (the byte-level fast path, else the general parser,
/// which explains every problem). Only the unfinished element is held, and no element may be longer
/// than `maxElementBytes` (an evaluation is a few hundred bytes). Whitespace between elements is read
/// and dropped, however much of it there is.
///
/// Any other document (an lm-evaluation-harness results file, an object with `evaluations` after
/// other keys, a bare value) is read whole, up to `maxWholeBytes`, and parsed as before.
///
/// Problems carry the same index, line and column however the body was split: positions are
/// counted over the whole document, not the piece.
struct JSONDocumentReader {
    /// The longest array element held (the same bound as an NDJSON line).
    static let maxElementBytes = 1 << 20
    /// The largest document read whole (harness results files are tens of KiB).
    static let maxWholeBytes = 16 << 20

    private enum Phase {
        case start           // before the root value
        case open            // after `[`: an element or `]`
        case element         // inside an element that began at the start of the unread bytes
        case afterElement    // `,` or `]`
        case beforeElement   // after `,`: an element
        case afterArray      // after `]`: `}` when wrapped, then nothing
        case restOfWrapper   // `, ...}` after the evaluations array of a wrapper: read whole at the end
        case trailing        // only whitespace may follow
        case whole           // the document is read whole at the end
    }

    /// Query parameters for a harness results file; nil when such files are not recognised.
    private let harnessParameters: [String: String]?
    private var phase = Phase.start
    private var wrapped = false
    private var atStart = true
    private var problems = ProblemList()
    /// Elements (rows) read so far.
    private var index = 0
    /// Position in the document of the first unread byte, and the line it is on and where that began.
    private var base = 0
    private var line = 1
    private var lineStart = 0
    /// Scan of the unfinished element (offsets from its first byte).
    private var scanned = 0
    private var depth = 0
    private var inString = false
    private var escaped = false
    private var newlines = 0
    private var lastNewline = -1

    /// Whether the body turned out to be a harness results file (known after `finish`).
    private(set) var isHarness = false

    private let rules: ColumnRules
    private(set) var seen = ColumnsSeen()

    init(harnessParameters: [String: String]?, rules: ColumnRules = ColumnRules()) {
        self.harnessParameters = harnessParameters
        self.rules = rules
    }

    init(harness: Bool, rules: ColumnRules = ColumnRules()) {
        self.init(harnessParameters: harness ? [:] : nil, rules: rules)
    }

    /// How many unread bytes the caller may hold before `overflow`.
    var holdLimit: Int {
        phase == .whole ? Self.maxWholeBytes : Self.maxElementBytes
    }

    func overflow(limit: Int) -> IngestionError {
        if phase == .whole {
            return problems.adding(RowProblem(index: -1, line: line, field: "body",
                reason: "a JSON body other than an array of evaluations or {\"evaluations\": [...]} (such as an lm-evaluation-harness results file) is read whole, and may be at most \(limit) bytes"))
        }
        return problems.adding(RowProblem(index: index, line: line, field: "row",
            reason: "array element \(index) (from line \(line)) is longer than \(limit) bytes"))
    }

    /// Reads what `buf` completes; returns how many bytes it used (the caller keeps the rest).
    mutating func read(_ buf: UnsafeBufferPointer<UInt8>, final: Bool, emit: (Evaluation) -> Void) throws -> Int {
        var pos = 0
        defer { base += pos }
        let n = buf.count
        if atStart {
            if n < 3 && !final { return 0 }
            if n >= 3, buf[0] == 0xEF, buf[1] == 0xBB, buf[2] == 0xBF { pos = 3; lineStart = 3 }
            atStart = false
        }
        while true {
            switch phase {
            case .start:
                skipSpace(buf, &pos)
                guard pos < n else {
                    if final { throw syntax("expected a JSON value, found nothing", at: pos) }
                    return pos
                }
                if buf[pos] == 0x5B {
                    pos += 1
                    phase = .open
                } else if buf[pos] == 0x7B, let after = wrapperArrayStart(buf, pos) {
                    if after < 0 {  // undecided until more arrives
                        if final || n - pos > 4096 { phase = .whole } else { return pos }
                    } else {
                        countLines(buf, pos, after)
                        pos = after
                        wrapped = true
                        phase = .open
                    }
                } else {
                    phase = .whole
                }
            case .open, .beforeElement:
                skipSpace(buf, &pos)
                guard pos < n else {
                    if final { throw syntax("unexpected end of input", at: pos) }
                    return pos
                }
                if buf[pos] == 0x5D {
                    if phase == .beforeElement { throw syntax("expected a value after ',', found ']'", at: pos) }
                    pos += 1
                    phase = .afterArray
                } else {
                    startElement()
                    phase = .element
                }
            case .element:
                // The element starts at `pos`; when it goes on past the buffer, those bytes are left
                // unread and the scan resumes there next time.
                guard pos < n else {
                    if final { throw syntax("unexpected end of input", at: pos) }
                    return pos
                }
                guard let end = scanElement(buf, from: pos, final: final) else { return pos }
                try readElement(buf, start: pos, end: end, emit: emit)
                pos = end
                phase = .afterElement
            case .afterElement:
                skipSpace(buf, &pos)
                guard pos < n else {
                    if final { throw syntax("unexpected end of input: expected ',' or ']'", at: pos) }
                    return pos
                }
                if buf[pos] == 0x2C { pos += 1; phase = .beforeElement }
                else if buf[pos] == 0x5D { pos += 1; phase = .afterArray }
                else { throw syntax("expected ',' or ']' after an array element", at: pos) }
            case .afterArray:
                guard wrapped else { phase = .trailing; continue }
                skipSpace(buf, &pos)
                guard pos < n else {
                    if final { throw syntax("unexpected end of input: expected '}'", at: pos) }
                    return pos
                }
                if buf[pos] == 0x7D { pos += 1; phase = .trailing }
                else if buf[pos] == 0x2C { phase = .restOfWrapper }
                else { throw syntax("expected ',' or '}' after the evaluations array", at: pos) }
            case .restOfWrapper:
                guard final else { return pos }
                // The wrapper's other members: checked for syntax, otherwise ignored (only the
                // first "evaluations" counts, as when the document is parsed whole).
                var rest: [UInt8] = [0x7B]
                rest.append(contentsOf: UnsafeBufferPointer(rebasing: buf[(pos + 1)..<n]))
                do {
                    _ = try rest.withUnsafeBufferPointer { try JSONParser.parse($0) }
                } catch let e as JSONSyntaxError {
                    throw elementSyntax(e, elementStart: pos)
                }
                pos = n
                return pos
            case .trailing:
                skipSpace(buf, &pos)
                if pos < n { throw syntax("unexpected text after the JSON value", at: pos) }
                return pos
            case .whole:
                guard final else { return pos }
                try readWhole(buf, from: pos, emit: emit)
                pos = n
                return pos
            }
        }
    }

    /// Throws every problem found, if any.
    func finish() throws {
        try problems.finish()
    }

    // MARK: - Scanning

    private mutating func skipSpace(_ buf: UnsafeBufferPointer<UInt8>, _ pos: inout Int) {
        let n = buf.count
        while pos < n {
            let b = buf[pos]
            if b == 0x0A { line += 1; lineStart = base + pos + 1 }
            else if b != 0x20 && b != 0x0D && b != 0x09 { return }
            pos += 1
        }
    }

    private mutating func countLines(_ buf: UnsafeBufferPointer<UInt8>, _ from: Int, _ to: Int) {
        for i in from..<to where buf[i] == 0x0A { line += 1; lineStart = base + i + 1 }
    }

    /// For a root `{` at `pos`: the position after `[` when the first member is `"evaluations": [`;
    /// -1 when the bytes so far cannot tell; nil when it is some other object.
    private func wrapperArrayStart(_ buf: UnsafeBufferPointer<UInt8>, _ pos: Int) -> Int? {
        let n = buf.count
        var p = pos + 1
        func space() { while p < n, buf[p] == 0x20 || buf[p] == 0x0A || buf[p] == 0x0D || buf[p] == 0x09 { p += 1 } }
        space()
        let key: StaticString = "\"evaluations\""
        let k = key.utf8Start
        for i in 0..<key.utf8CodeUnitCount {
            guard p < n else { return -1 }
            guard buf[p] == k[i] else { return nil }
            p += 1
        }
        space()
        guard p < n else { return -1 }
        guard buf[p] == 0x3A else { return nil }
        p += 1
        space()
        guard p < n else { return -1 }
        return buf[p] == 0x5B ? p + 1 : nil
    }

    private mutating func startElement() {
        scanned = 0
        depth = 0
        inString = false
        escaped = false
        newlines = 0
        lastNewline = -1
    }

    /// Where the element at `buf[start]` ends (exclusive), resuming the scan where the last piece
    /// ended; nil when it goes on past the buffer. At the end of the body an unfinished element ends
    /// there (the parser then names what is missing).
    private mutating func scanElement(_ buf: UnsafeBufferPointer<UInt8>, from start: Int, final: Bool) -> Int? {
        let n = buf.count
        var i = start + scanned
        defer { scanned = i - start }
        let first = buf[start]
        if first == 0x7B || first == 0x5B || first == 0x22 {
            // Brackets and strings: the element ends where depth returns to zero outside a string.
            while i < n {
                let b = buf[i]
                if inString {
                    if escaped { escaped = false }
                    else if b == 0x5C { escaped = true }
                    else if b == 0x22 {
                        inString = false
                        if depth == 0 { i += 1; return i }  // a bare string element
                    }
                    else if b == 0x0A { newlines += 1; lastNewline = i - start }
                } else {
                    switch b {
                    case 0x22: inString = true
                    case 0x7B, 0x5B: depth += 1
                    case 0x7D, 0x5D:
                        depth -= 1
                        if depth == 0 { i += 1; return i }
                    case 0x0A: newlines += 1; lastNewline = i - start
                    default: break
                    }
                }
                i += 1
            }
        } else {
            // A number or literal (not an evaluation, but its problem is the element's): up to a
            // separator or whitespace.
            while i < n {
                let b = buf[i]
                if b == 0x2C || b == 0x5D || b == 0x7D || b == 0x20 || b == 0x0A || b == 0x0D || b == 0x09 { return i }
                i += 1
            }
        }
        return final ? n : nil
    }

    // MARK: - Parsing

    /// Parses the element `buf[start..<end]` and moves the line count past it.
    private mutating func readElement(_ buf: UnsafeBufferPointer<UInt8>, start: Int, end: Int, emit: (Evaluation) -> Void) throws {
        defer {
            index += 1
            line += newlines
            if lastNewline >= 0 { lineStart = base + start + lastNewline + 1 }
        }
        var fast = FastEvaluationJSON(buf, start: start, end: end)
        if let e = fast.evaluation() {
            fast.skipSpace()
            if fast.atEnd {
                if problems.isEmpty { emit(e) }
                return
            }
        }
        let value: JSONValue
        do {
            value = try JSONParser.parse(buf, start: start, end: end)
        } catch let e as JSONSyntaxError {
            throw elementSyntax(e, elementStart: start)
        }
        switch EvaluationJSON.evaluation(from: value, rules: rules, seen: &seen) {
        case .success(let e): if problems.isEmpty { emit(e) }
        case .failure(let p):
            for item in p { try problems.add(RowProblem(index: index, field: item.field, reason: item.reason)) }
        }
    }

    /// A document that is not streamed: parsed whole, as the whole body always used to be.
    private mutating func readWhole(_ buf: UnsafeBufferPointer<UInt8>, from start: Int, emit: (Evaluation) -> Void) throws {
        let n = buf.count
        if let rows = FastEvaluationJSON.document(UnsafeBufferPointer(rebasing: buf[start..<n])) {
            rows.forEach(emit)
            return
        }
        let root: JSONValue
        do {
            root = try JSONParser.parse(buf, start: start, end: n)
        } catch let e as JSONSyntaxError {
            throw elementSyntax(e, elementStart: start)
        }
        if let harnessParameters, LMEvalHarness.isResultsFile(root) {
            isHarness = true
            emit(try LMEvalHarness.evaluation(from: root, parameters: harnessParameters))
            return
        }
        try EvaluationJSON.evaluations(in: root, rules: rules, seen: &seen).forEach(emit)
    }

    /// A syntax error at `pos` of the unread bytes, with the problems found before it.
    private func syntax(_ reason: String, at pos: Int) -> IngestionError {
        let column = base + pos - lineStart + 1
        return problems.adding(RowProblem(index: -1, line: line, field: "body",
                                          reason: "invalid JSON at line \(line), column \(column): \(reason)"))
    }

    /// A syntax error the parser found in text that began at `elementStart` (on the current line).
    private func elementSyntax(_ e: JSONSyntaxError, elementStart: Int) -> IngestionError {
        let l = line + e.line - 1
        let column = e.line == 1 ? base + elementStart - lineStart + e.column : e.column
        return problems.adding(RowProblem(index: -1, line: l, field: "body",
                                          reason: "invalid JSON at line \(l), column \(column): \(e.reason)"))
    }
}
