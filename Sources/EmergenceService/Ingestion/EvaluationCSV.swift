import EmergenceCore
import Foundation

/// Evaluations as CSV (RFC 4180), the CLI's file format and `text/csv` uploads.
///
/// Header names are METHOD.md §2's, in any order; optional columns may be absent or empty; unknown
/// columns are ignored so exports with extra bookkeeping columns load as they are. CRLF or LF line
/// ends, a UTF-8 BOM and blank lines are tolerated. Works on the bytes: a 200k-row upload builds
/// Strings only for the text cells it keeps.
public enum EvaluationCSV {
    /// The header `emergence simulate` writes and the docs show.
    public static let header = EvaluationField.allCases.map(\.name).joined(separator: ",")

    /// - Throws: `IngestionError` with every problem (line, column, reason) when any row is bad.
    public static func parse(_ bytes: [UInt8]) throws -> [Evaluation] {
        try bytes.withUnsafeBufferPointer { try parse($0) }
    }

    public static func parse(_ buffer: UnsafeBufferPointer<UInt8>) throws -> [Evaluation] {
        var out: [Evaluation] = []
        out.reserveCapacity(max(16, buffer.count / 96))
        try parse(buffer) { out.append($0) }
        return out
    }

    /// Streams rows to `emit` as they are read, until the first bad row (after which it only collects
    /// problems); throws `IngestionError` at the end if there were any. A consumer must therefore
    /// treat the emitted rows as provisional until this returns.
    static func parse(_ buffer: UnsafeBufferPointer<UInt8>, emit: (Evaluation) -> Void) throws {
        var scanner = CSVScanner(bytes: buffer)
        var problems: [RowProblem] = []
        var cells: [CSVScanner.Cell] = []
        cells.reserveCapacity(16)

        // Header: the first non-blank record.
        var headerLine = 1
        while true {
            headerLine = scanner.line
            switch scanner.next(into: &cells) {
            case .end:
                throw IngestionError(problems: [RowProblem(index: -1, line: 1, field: "header",
                                                           reason: "the upload is empty: expected a CSV header line")])
            case .unterminatedQuote:
                throw IngestionError(problems: [RowProblem(index: -1, line: headerLine, field: "header",
                                                           reason: "unterminated quoted field")])
            case .record:
                break
            }
            if !CSVScanner.isBlank(cells, buffer) { break }
        }
        var columnOf = [Int](repeating: -1, count: EvaluationField.allCases.count)
        for (i, cell) in cells.enumerated() {
            let name = scanner.text(cell).trimmingASCIISpaces().lowercased()
            guard let f = EvaluationField.named(name) else { continue }
            if columnOf[f.rawValue] >= 0 {
                problems.append(RowProblem(index: -1, line: headerLine, field: f.name, reason: "column appears twice in the header"))
            }
            columnOf[f.rawValue] = i
        }
        for f in EvaluationField.allCases where f.isRequired && columnOf[f.rawValue] < 0 {
            problems.append(RowProblem(index: -1, line: headerLine, field: f.name, reason: "required column is missing from the header"))
        }
        if !problems.isEmpty { throw IngestionError(problems: problems) }
        let width = cells.count

        var index = 0
        while true {
            let line = scanner.line
            let outcome = scanner.next(into: &cells)
            if outcome == .end { break }
            if outcome == .unterminatedQuote {
                problems.append(RowProblem(index: index, line: line, field: "row",
                                           reason: "unterminated quoted field (a \" is never closed)"))
                break
            }
            if CSVScanner.isBlank(cells, buffer) { continue }
            defer { index += 1 }
            if cells.count != width {
                problems.append(RowProblem(index: index, line: line, field: "row",
                                           reason: "has \(cells.count) fields; the header has \(width)"))
                continue
            }
            var draft = EvaluationDraft()
            for f in EvaluationField.allCases {
                let c = columnOf[f.rawValue]
                if c < 0 { continue }
                read(f, cells[c], &scanner, &draft)
            }
            if let e = draft.finish() {
                if problems.isEmpty { emit(e) }
            } else {
                for p in draft.problems {
                    problems.append(RowProblem(index: index, line: line, field: p.field, reason: p.reason))
                }
            }
        }
        if !problems.isEmpty { throw IngestionError(problems: problems) }
    }

    private static func read(_ f: EvaluationField, _ cell: CSVScanner.Cell, _ scanner: inout CSVScanner,
                             _ draft: inout EvaluationDraft) {
        let bytes = scanner.bytes
        if scanner.isEmpty(cell) { return }  // absent; `finish` reports required fields
        switch f {
        case .checkpoint: draft.checkpoint = scanner.text(cell).trimmingASCIISpaces()
        case .model: draft.model = scanner.text(cell).trimmingASCIISpaces()
        case .subset: draft.subset = scanner.text(cell).trimmingASCIISpaces()
        case .setting:
            if scanner.equals(cell, "few_shot") { draft.setting = .fewShot }
            else if scanner.equals(cell, "finetuned") { draft.setting = .finetuned }
            else { draft.report(f, "must be few_shot or finetuned (got \"\(scanner.text(cell).clipped())\")") }
        case .shots, .nQuestions:
            switch NumberText.parse(bytes, cell.start, cell.end) {
            case .number(let v):
                if let i = NumberText.integer(v) {
                    if f == .shots { draft.shots = i } else { draft.nQuestions = i }
                } else {
                    draft.report(f, "must be an integer (got \(scanner.text(cell).clipped()))")
                }
            case .notFinite: draft.report(f, "must be a finite integer (got \(scanner.text(cell).clipped()))")
            case .notANumber: draft.report(f, "must be an integer (got \"\(scanner.text(cell).clipped())\")")
            }
        case .parameters, .tokens, .flops, .pretrainLoss, .finetuneExamples, .accuracy:
            switch NumberText.parse(bytes, cell.start, cell.end) {
            case .number(let v):
                switch f {
                case .parameters: draft.parameters = v
                case .tokens: draft.tokens = v
                case .flops: draft.flops = v
                case .pretrainLoss: draft.pretrainLoss = v
                case .finetuneExamples: draft.finetuneExamples = v
                default: draft.accuracy = v
                }
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
    enum Outcome: Equatable { case record, end, unterminatedQuote }

    let bytes: UnsafeBufferPointer<UInt8>
    private var pos: Int
    /// The 1-based physical line at `pos`.
    private(set) var line = 1

    init(bytes: UnsafeBufferPointer<UInt8>) {
        self.bytes = bytes
        // UTF-8 byte order mark, as spreadsheet exports write it.
        pos = bytes.count >= 3 && bytes[0] == 0xEF && bytes[1] == 0xBB && bytes[2] == 0xBF ? 3 : 0
    }

    mutating func next(into cells: inout [Cell]) -> Outcome {
        cells.removeAll(keepingCapacity: true)
        let n = bytes.count
        if pos >= n { return .end }
        while true {
            if pos < n, bytes[pos] == 0x22 {  // quoted cell
                pos += 1
                let start = pos
                var doubled = false
                while true {
                    guard pos < n else { return .unterminatedQuote }
                    let b = bytes[pos]
                    if b == 0x22 {
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
            if pos >= n { return .record }
            let b = bytes[pos]
            if b == 0x2C { pos += 1; if pos >= n { cells.append(Cell(start: n, end: n, hasDoubledQuotes: false, quoted: false)); return .record }; continue }
            // Record end: LF, CRLF or a lone CR.
            if b == 0x0D { pos += 1; if pos < n, bytes[pos] == 0x0A { pos += 1 } } else { pos += 1 }
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

    func text(_ c: Cell) -> String {
        let s = String(decoding: UnsafeBufferPointer(rebasing: bytes[c.start..<c.end]), as: UTF8.self)
        return c.hasDoubledQuotes ? s.replacingOccurrences(of: "\"\"", with: "\"") : s
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
    func trimmingASCIISpaces() -> String {
        guard let f = utf8.first, let l = utf8.last, f == 0x20 || f == 0x09 || l == 0x20 || l == 0x09 else { return self }
        var u = Substring(self)
        while let c = u.first, c == " " || c == "\t" { u = u.dropFirst() }
        while let c = u.last, c == " " || c == "\t" { u = u.dropLast() }
        return String(u)
    }

    /// Echoed bad values are shortened so a problem list stays readable.
    func clipped(_ max: Int = 40) -> String {
        count <= max ? self : String(prefix(max)) + "…"
    }
}
