import EmergenceCore
import Foundation

/// Evaluations as CSV (RFC 4180), the CLI's file format and `text/csv` uploads.
///
/// Header names are docs/method.md §1's, in any order; optional columns may be absent or empty. Any other
/// column is refused, naming the closest field, unless `ColumnRules` says to leave it out (listed in
/// `ignore`, or named `extra_…`): a misspelt `subst` must not silently merge rows. CRLF or LF line
/// ends, a UTF-8 BOM and blank lines are tolerated. Works on the bytes: a 200k-row upload builds
/// Strings only for the text cells it keeps.
public enum EvaluationCSV {
    /// The header `emergence simulate` writes and the docs show.
    public static let header = EvaluationField.allCases.map(\.name).joined(separator: ",")

    /// - requireLoss: a row without `pretrain_loss` is a problem of its line (a fit's input); by
    ///   default it is allowed (observe on the flops axis needs only FLOPs).
    /// - Throws: `IngestionError` with every problem (line, column, reason) when any row is bad.
    public static func parse(_ bytes: [UInt8], rules: ColumnRules = ColumnRules(), requireLoss: Bool = false) throws -> [Evaluation] {
        try bytes.withUnsafeBufferPointer { try parse($0, rules: rules, requireLoss: requireLoss) }
    }

    public static func parse(_ buffer: UnsafeBufferPointer<UInt8>, rules: ColumnRules = ColumnRules(),
                             requireLoss: Bool = false) throws -> [Evaluation] {
        var out: [Evaluation] = []
        out.reserveCapacity(max(16, buffer.count / 96))
        var reader = CSVReader(rules: rules)
        reader.requireLoss = requireLoss
        _ = try reader.read(buffer, final: true) { out.append($0) }
        try reader.finish()
        return out
    }
}

/// CSV read a piece at a time (see `UploadReader`): each call reads the records of a buffer that are
/// complete and says how many bytes it used; the caller keeps the rest and hands it back, with more
/// after it, next time. A record is complete only once its terminator is seen (a CR at the very end
/// could still be the first half of a CRLF; a quoted field may hold newlines), so line numbers, row
/// indexes and problems do not depend on where the body was split.
///
/// Rows are emitted as they are read until the first bad row (after which problems are only
/// collected); `finish` throws `IngestionError` if there were any, so a consumer must treat the
/// emitted rows as provisional until then.
struct CSVReader {
    private var problems = ProblemList()
    /// The 1-based physical line at the start of the next unread byte.
    private(set) var line = 1
    /// Data rows (non-blank records after the header) read so far.
    private(set) var index = 0
    private var atStart = true
    private var sawHeader = false
    private var stopped = false
    private var columnOf = [Int](repeating: -1, count: EvaluationField.allCases.count)
    private var width = 0
    private var cells: [CSVScanner.Cell] = []
    /// Whether `pretrain_loss` is required (its column and every row's value), as a fit needs.
    var requireLoss = false
    private let rules: ColumnRules
    /// Columns whose header cell is empty: allowed (spreadsheets append them) while they stay empty.
    private var unnamed: [Int] = []
    private(set) var seen = ColumnsSeen()

    init(rules: ColumnRules = ColumnRules()) {
        self.rules = rules
        cells.reserveCapacity(16)
    }

    /// Reads the complete records of `buffer` (all of it when `final`); returns the bytes used.
    mutating func read(_ buffer: UnsafeBufferPointer<UInt8>, final: Bool, emit: (Evaluation) -> Void) throws -> Int {
        if stopped { return buffer.count }
        var start = 0
        if atStart {
            if buffer.count < 3 && !final { return 0 }
            // UTF-8 byte order mark, as spreadsheet exports write it.
            if buffer.count >= 3 && buffer[0] == 0xEF && buffer[1] == 0xBB && buffer[2] == 0xBF { start = 3 }
            atStart = false
        }
        var scanner = CSVScanner(bytes: buffer, pos: start, line: line, final: final)
        defer { line = scanner.line }
        while true {
            scanner.skipEmptyLines()
            let recordStart = scanner.pos
            let recordLine = scanner.line
            switch scanner.next(into: &cells) {
            case .needMore:
                scanner.rewind(to: recordStart, line: recordLine)
                return recordStart
            case .end:
                return scanner.pos
            case .unterminatedQuote:
                if !sawHeader {
                    throw IngestionError(problems: [RowProblem(index: -1, line: recordLine, field: "header",
                                                               reason: "unterminated quoted field")])
                }
                try problems.add(RowProblem(index: index, line: recordLine, field: "row",
                                            reason: "unterminated quoted field (a \" is never closed)"))
                stopped = true
                return buffer.count
            case .record:
                if CSVScanner.isBlank(cells, buffer) { continue }
                if !sawHeader {
                    try readHeader(scanner, line: recordLine)
                    continue
                }
                try readRow(&scanner, line: recordLine, recordStart: recordStart, emit: emit)
            }
        }
    }

    /// A longer record than the caller will hold: the problem names where it began.
    func overflow(limit: Int) -> IngestionError {
        problems.adding(RowProblem(index: sawHeader ? index : -1, line: line, field: sawHeader ? "row" : "header",
                                   reason: "record is longer than \(limit) bytes (is a quoted field never closed?)"))
    }

    /// Throws every problem found, or that there was no header at all.
    func finish() throws {
        if !sawHeader {
            throw IngestionError(problems: [RowProblem(index: -1, line: 1, field: "header",
                                                       reason: "the upload is empty: expected a CSV header line")])
        }
        try problems.finish()
    }

    private mutating func readHeader(_ scanner: CSVScanner, line: Int) throws {
        sawHeader = true
        var headerProblems: [RowProblem] = []
        for (i, cell) in cells.enumerated() {
            let raw = scanner.text(cell).trimmingASCIISpaces()
            let name = raw.lowercased()
            guard let f = EvaluationField.named(name) else {
                if raw.isEmpty {
                    unnamed.append(i)
                } else if rules.allows(raw) {
                    seen.ignore(raw)
                } else {
                    headerProblems.append(RowProblem(index: -1, line: line, field: raw,
                                                     reason: ColumnRules.unknown(raw, what: "column")))
                }
                continue
            }
            if columnOf[f.rawValue] >= 0 {
                headerProblems.append(RowProblem(index: -1, line: line, field: f.name, reason: "column appears twice in the header"))
            }
            columnOf[f.rawValue] = i
        }
        for f in EvaluationField.allCases where (f.isRequired || (requireLoss && f == .pretrainLoss)) && columnOf[f.rawValue] < 0 {
            headerProblems.append(RowProblem(index: -1, line: line, field: f.name, reason: "required column is missing from the header"))
        }
        if !headerProblems.isEmpty { throw IngestionError(problems: headerProblems) }
        width = cells.count
    }

    private mutating func readRow(_ scanner: inout CSVScanner, line: Int, recordStart: Int, emit: (Evaluation) -> Void) throws {
        defer { index += 1 }
        if cells.count != width {
            try problems.add(RowProblem(index: index, line: line, field: "row",
                                        reason: "has \(cells.count) fields; the header has \(width)"))
            return
        }
        for c in unnamed where !scanner.isEmpty(cells[c]) {
            try problems.add(RowProblem(index: index, line: line, field: "row",
                reason: "has a value (\"\(scanner.text(cells[c]).clipped())\") in column \(c + 1), which has no name in the header; name it, or leave it empty"))
            return
        }
        var draft = EvaluationDraft()
        draft.requireLoss = requireLoss
        for f in EvaluationField.allCases {
            let c = columnOf[f.rawValue]
            if c < 0 { continue }
            Self.read(f, cells[c], &scanner, &draft, line: line, recordStart: recordStart)
        }
        if let e = draft.finish() {
            if problems.isEmpty { emit(e) }
        } else {
            for p in draft.problems {
                try problems.add(RowProblem(index: index, line: line, field: p.field, reason: p.reason))
            }
        }
    }

    private static func read(_ f: EvaluationField, _ cell: CSVScanner.Cell, _ scanner: inout CSVScanner,
                             _ draft: inout EvaluationDraft, line: Int, recordStart: Int) {
        let bytes = scanner.bytes
        if scanner.isEmpty(cell) { return }  // absent; `finish` reports required fields
        switch f.kind {
        case .text:
            // Kept text must be valid UTF-8: decoding with replacement would store U+FFFD, and two
            // different names (q\xff, q\xfe) would collide into one identity, the second silently
            // overwriting the first.
            guard let text = scanner.validText(cell) else {
                let at = scanner.invalidUTF8Position(cell, recordStart: recordStart, recordLine: line)
                draft.report(f, "is not valid UTF-8 (byte 0x\(String(at.byte, radix: 16, uppercase: true)) at line \(at.line), column \(at.column)); send UTF-8")
                return
            }
            draft.set(f, text: text.trimmingASCIISpaces())
        case .setting:
            if scanner.equals(cell, "few_shot") { draft.setting = .fewShot }
            else if scanner.equals(cell, "finetuned") { draft.setting = .finetuned }
            else { draft.report(f, "must be few_shot or finetuned (got \"\(scanner.text(cell).clipped())\")") }
        case .integer:
            switch NumberText.parse(bytes, cell.start, cell.end) {
            case .number(let v):
                if let i = NumberText.integer(v) {
                    draft.set(f, integer: i)
                } else {
                    draft.report(f, "must be an integer (got \(scanner.text(cell).clipped()))")
                }
            case .notFinite: draft.report(f, "must be a finite integer (got \(scanner.text(cell).clipped()))")
            case .notANumber: draft.report(f, "must be an integer (got \"\(scanner.text(cell).clipped())\")")
            }
        case .number:
            switch NumberText.parse(bytes, cell.start, cell.end) {
            case .number(let v):
                draft.set(f, number: v)
            case .notFinite: draft.report(f, "must be a finite number (got \(scanner.text(cell).clipped()))")
            case .notANumber: draft.report(f, "must be a number (got \"\(scanner.text(cell).clipped())\")")
            }
        }
    }
}

/// RFC 4180 records over a byte buffer. Cells are byte ranges; quoted cells keep a flag so the rare
/// doubled quote is unescaped only when a String is built.
struct CSVScanner {
    struct Cell {
        var start: Int
        var end: Int
        var hasDoubledQuotes: Bool
        var quoted: Bool
    }
    /// `needMore`: the buffer ends inside a record and is not the last; the caller rewinds to the
    /// record's start and reads it again once more bytes have arrived.
    enum Outcome: Equatable { case record, end, unterminatedQuote, needMore }

    let bytes: UnsafeBufferPointer<UInt8>
    private(set) var pos: Int
    /// The 1-based physical line at `pos`.
    private(set) var line: Int
    /// Whether the buffer ends where the body ends (else a record running to its end is unfinished).
    let final: Bool

    init(bytes: UnsafeBufferPointer<UInt8>, pos: Int, line: Int, final: Bool) {
        self.bytes = bytes
        self.pos = pos
        self.line = line
        self.final = final
    }

    mutating func rewind(to pos: Int, line: Int) {
        self.pos = pos
        self.line = line
    }

    /// Steps over empty lines (LF, CRLF, lone CR) without building records: a body of nothing but
    /// line ends (a gzip "bomb" of a gigabyte of them) then costs a byte comparison a line.
    /// Lines of spaces are blank too, but go through `next` (they are rare).
    mutating func skipEmptyLines() {
        let n = bytes.count
        while pos < n {
            let b = bytes[pos]
            if b == 0x0A {
                pos += 1
            } else if b == 0x0D {
                if pos + 1 < n {
                    pos += bytes[pos + 1] == 0x0A ? 2 : 1
                } else if final {
                    pos += 1
                } else {
                    return  // maybe half a CRLF: read again with what follows
                }
            } else {
                return
            }
            line += 1
        }
    }

    mutating func next(into cells: inout [Cell]) -> Outcome {
        cells.removeAll(keepingCapacity: true)
        let n = bytes.count
        if pos >= n { return final ? .end : .needMore }
        while true {
            if pos < n, bytes[pos] == 0x22 {  // quoted cell
                pos += 1
                let start = pos
                var doubled = false
                while true {
                    guard pos < n else { return final ? .unterminatedQuote : .needMore }
                    let b = bytes[pos]
                    if b == 0x22 {
                        // A quote as the last byte of an unfinished buffer may be half of a `""`.
                        if pos + 1 >= n && !final { return .needMore }
                        if pos + 1 < n, bytes[pos + 1] == 0x22 { doubled = true; pos += 2; continue }
                        break
                    }
                    if b == 0x0A { line += 1 }
                    pos += 1
                }
                let end = pos
                pos += 1  // closing quote
                // Anything between the closing quote and the separator (lenient: spaces) is ignored.
                while pos < n, bytes[pos] != 0x2C, bytes[pos] != 0x0A, bytes[pos] != 0x0D { pos += 1 }
                cells.append(Cell(start: start, end: end, hasDoubledQuotes: doubled, quoted: true))
            } else {
                let start = pos
                while pos < n, bytes[pos] != 0x2C, bytes[pos] != 0x0A, bytes[pos] != 0x0D { pos += 1 }
                cells.append(Cell(start: start, end: pos, hasDoubledQuotes: false, quoted: false))
            }
            if pos >= n { return final ? .record : .needMore }
            let b = bytes[pos]
            if b == 0x2C {
                pos += 1
                if pos >= n {
                    guard final else { return .needMore }
                    cells.append(Cell(start: n, end: n, hasDoubledQuotes: false, quoted: false))
                    return .record
                }
                continue
            }
            // Record end: LF, CRLF or a lone CR (a CR ending an unfinished buffer may be half a CRLF).
            if b == 0x0D {
                pos += 1
                if pos >= n && !final { return .needMore }
                if pos < n, bytes[pos] == 0x0A { pos += 1 }
            } else {
                pos += 1
            }
            line += 1
            return .record
        }
    }

    static func isBlank(_ cells: [Cell], _ bytes: UnsafeBufferPointer<UInt8>) -> Bool {
        guard cells.count == 1, !cells[0].quoted else { return false }
        for i in cells[0].start..<cells[0].end where bytes[i] != 0x20 && bytes[i] != 0x09 { return false }
        return true
    }

    func isEmpty(_ c: Cell) -> Bool {
        for i in c.start..<c.end where bytes[i] != 0x20 && bytes[i] != 0x09 { return false }
        return true
    }

    /// The cell as text, for messages (invalid UTF-8 shown as U+FFFD).
    func text(_ c: Cell) -> String {
        let s = String(decoding: UnsafeBufferPointer(rebasing: bytes[c.start..<c.end]), as: UTF8.self)
        return c.hasDoubledQuotes ? s.replacingOccurrences(of: "\"\"", with: "\"") : s
    }

    /// The cell as text to keep; nil when it is not valid UTF-8.
    func validText(_ c: Cell) -> String? {
        let raw = UnsafeBufferPointer(rebasing: bytes[c.start..<c.end])
        // ASCII (nearly every name) is valid as it is; `String(validating:)` is generic and costs
        // a metadata lookup a call, which a 200k-row upload notices.
        var ascii = true
        for b in raw where b >= 0x80 { ascii = false; break }
        let s: String
        if ascii {
            s = String(decoding: raw, as: UTF8.self)
        } else {
            guard let v = String(validating: raw, as: UTF8.self) else { return nil }
            s = v
        }
        return c.hasDoubledQuotes ? s.replacingOccurrences(of: "\"\"", with: "\"") : s
    }

    /// The first byte of `c` that is not valid UTF-8, with its physical line and 1-based byte column
    /// (records begin at the start of a line; a quoted cell may span several).
    func invalidUTF8Position(_ c: Cell, recordStart: Int, recordLine: Int) -> (byte: UInt8, line: Int, column: Int) {
        var iterator = UnsafeBufferPointer(rebasing: bytes[c.start..<c.end]).makeIterator()
        var parser = Unicode.UTF8.ForwardParser()
        var offset = c.start
        scan: while true {
            switch parser.parseScalar(from: &iterator) {
            case .valid(let encoded): offset += encoded.count
            case .emptyInput: break scan  // not reached for an invalid cell
            case .error: break scan
            }
        }
        var line = recordLine, lineStart = recordStart
        for i in recordStart..<min(offset, bytes.count) where bytes[i] == 0x0A { line += 1; lineStart = i + 1 }
        let byte = offset < bytes.count ? bytes[offset] : 0
        return (byte, line, offset - lineStart + 1)
    }

    /// Whether the cell (spaces trimmed) is exactly `word`, without building a String.
    func equals(_ c: Cell, _ word: StaticString) -> Bool {
        var s = c.start, e = c.end
        while s < e, bytes[s] == 0x20 || bytes[s] == 0x09 { s += 1 }
        while e > s, bytes[e - 1] == 0x20 || bytes[e - 1] == 0x09 { e -= 1 }
        guard e - s == word.utf8CodeUnitCount else { return false }
        let w = word.utf8Start
        for k in 0..<(e - s) where bytes[s + k] != w[k] { return false }
        return true
    }
}

extension String {
    package func trimmingASCIISpaces() -> String {
        guard let f = utf8.first, let l = utf8.last, f == 0x20 || f == 0x09 || l == 0x20 || l == 0x09 else { return self }
        var u = Substring(self)
        while let c = u.first, c == " " || c == "\t" { u = u.dropFirst() }
        while let c = u.last, c == " " || c == "\t" { u = u.dropLast() }
        return String(u)
    }

    /// Echoed bad values are shortened so a problem list stays readable.
    package func clipped(_ max: Int = 40) -> String {
        count <= max ? self : String(prefix(max)) + "…"
    }
}
