import XCTest
import EmergenceCore
@testable import Ingestion

/// What reading a body gave: every row emitted (provisional ones included), then the format or the
/// problems. Equal outcomes mean the split made no difference.
private struct Outcome: Equatable, CustomStringConvertible {
    var emitted: [Evaluation] = []
    var format: UploadFormat?
    var problems: [RowProblem]?
    var otherError: String?

    var description: String {
        "emitted \(emitted.count), format \(format.map(\.rawValue) ?? "-"), problems \(problems.map { IngestionError(problems: $0).description } ?? "-"), error \(otherError ?? "-")"
    }
}

/// SplitMix64: a tiny deterministic generator so every run tests the same documents and splits.
private struct SplitMix: RandomNumberGenerator {
    var state: UInt64
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

final class UploadReaderTests: XCTestCase {
    private let header = "checkpoint,model,parameters,tokens,flops,pretrain_loss,setting,shots,finetune_examples,subset,accuracy,n_questions"

    /// Reads `body` cut at `cuts` (sorted offsets) and records what came out.
    private func read(_ body: [UInt8], contentType: String?, cuts: [Int], parameters: [String: String] = [:],
                      inflated: Bool = false) -> Outcome {
        var out = Outcome()
        do {
            var reader = try UploadReader(contentType: contentType, parameters: parameters, inflated: inflated)
            var from = 0
            try body.withUnsafeBufferPointer { all in
                for cut in cuts + [body.count] where cut >= from {
                    try reader.read(UnsafeBufferPointer(rebasing: all[from..<cut])) { out.emitted.append($0) }
                    from = cut
                }
            }
            out.format = try reader.finish { out.emitted.append($0) }
        } catch let e as IngestionError {
            out.problems = e.problems
        } catch {
            out.otherError = "\(error)"
        }
        return out
    }

    private func whole(_ body: [UInt8], _ contentType: String?, parameters: [String: String] = [:]) -> Outcome {
        read(body, contentType: contentType, cuts: [], parameters: parameters)
    }

    /// The same outcome whole, byte by byte and at random cuts.
    private func assertSplitInvariant(_ body: [UInt8], _ contentType: String?, rng: inout SplitMix,
                                      parameters: [String: String] = [:], file: StaticString = #filePath, line: UInt = #line) {
        let expected = whole(body, contentType, parameters: parameters)
        let bytewise = read(body, contentType: contentType, cuts: Array(0..<body.count), parameters: parameters)
        XCTAssertEqual(bytewise, expected, "1-byte pieces", file: file, line: line)
        for _ in 0..<8 {
            let k = Int.random(in: 1...12, using: &rng)
            let cuts = (0..<k).map { _ in Int.random(in: 0...max(0, body.count), using: &rng) }.sorted()
            XCTAssertEqual(read(body, contentType: contentType, cuts: cuts, parameters: parameters), expected,
                           "cuts \(cuts)", file: file, line: line)
        }
    }

    // MARK: - Random documents

    private func name(_ rng: inout SplitMix) -> String {
        ["c1", "pythia-160m@step1000", "ü-step 2", "q", "s,1", "a \"b\"", "x\ny", "  padded  ", "7"].randomElement(using: &rng)!
    }

    private func csvCell(_ s: String, _ rng: inout SplitMix) -> String {
        if s.contains(",") || s.contains("\"") || s.contains("\n") || Bool.random(using: &rng) && rng.next() % 4 == 0 {
            return "\"" + s.replacingOccurrences(of: "\"", with: "\"\"") + "\""
        }
        return s
    }

    private func randomCSV(_ rng: inout SplitMix) -> [UInt8] {
        var out: [UInt8] = []
        if rng.next() % 3 == 0 { out += [0xEF, 0xBB, 0xBF] }
        let eol = ["\n", "\r\n", "\r"].randomElement(using: &rng)!
        out += Array((header + eol).utf8)
        for _ in 0..<Int.random(in: 0...12, using: &rng) {
            switch rng.next() % 10 {
            case 0: out += Array(eol.utf8)  // blank line
            case 1: out += Array("c,m,1e9,2e10,,2.5,finetuned,,,s,0.5,100\(eol)".utf8)  // missing D
            case 2: out += Array("c,m,x,2e10,,2.5,few_shot,5,,s,1.5,100\(eol)".utf8)  // two bad cells
            case 3: out += Array("q".utf8) + [0xFF] + Array(",m,,,,2.5,few_shot,5,,,0.5,\(eol)".utf8)  // invalid UTF-8
            case 4: out += Array("short,row\(eol)".utf8)
            default:
                let setting = Bool.random(using: &rng) ? "few_shot" : "finetuned"
                let row = [csvCell(name(&rng), &rng), csvCell(name(&rng), &rng), "1e9", "2.5e10", "", "2.1\(rng.next() % 10)",
                           setting, "5", setting == "finetuned" ? "\(1 << (rng.next() % 10))" : "", csvCell(name(&rng), &rng),
                           "0.\(rng.next() % 100)", "2000"]
                out += Array((row.joined(separator: ",") + eol).utf8)
            }
        }
        if rng.next() % 4 == 0 { out += Array("\"unterminated,".utf8) }
        if rng.next() % 3 == 0, let last = out.last, last == 0x0A { out.removeLast() }  // no final newline
        return out
    }

    private func jsonString(_ s: String) -> String {
        var out = "\""
        for u in s.unicodeScalars {
            switch u {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            default: out.unicodeScalars.append(u)
            }
        }
        return out + "\""
    }

    private func randomObject(_ rng: inout SplitMix, space: String) -> [UInt8] {
        switch rng.next() % 9 {
        case 0: return Array("{\"checkpoint\": 7.5, \"pretrain_loss\": \"2\",\(space)\"setting\": \"zero\", \"accuracy\": 0.5}".utf8)
        case 1: return Array("3".utf8)
        case 2: return Array("{\"checkpoint\": \"q".utf8) + [0xFE] + Array("\", \"pretrain_loss\": 2, \"setting\": \"few_shot\", \"accuracy\": 0.5}".utf8)
        case 3: return Array("{\"checkpoint\": \"a\\u00e9\\\"}[\", \"pretrain_loss\": 2,\(space)\"setting\": \"few_shot\", \"accuracy\": 0.5, \"x\": [1, {\"y\": \"]\"}]}".utf8)
        default:
            let setting = Bool.random(using: &rng) ? "few_shot" : "finetuned"
            var fields = ["\"checkpoint\": \(jsonString(name(&rng)))", "\"pretrain_loss\": 2.\(rng.next() % 100)",
                          "\"setting\": \"\(setting)\"", "\"accuracy\": 0.\(rng.next() % 100)", "\"subset\": \(jsonString(name(&rng)))"]
            if setting == "finetuned" { fields.append("\"finetune_examples\": \(1 << (rng.next() % 12))") }
            fields.shuffle(using: &rng)
            return Array(("{" + fields.joined(separator: ",\(space)") + "}").utf8)
        }
    }

    private func randomJSON(_ rng: inout SplitMix) -> [UInt8] {
        let space = [" ", "\n", "\r\n  ", ""].randomElement(using: &rng)!
        var out: [UInt8] = []
        if rng.next() % 4 == 0 { out += [0xEF, 0xBB, 0xBF] }
        let wrapped = Bool.random(using: &rng)
        out += Array((wrapped ? "\(space){\(space)\"evaluations\"\(space):\(space)[" : "\(space)[").utf8)
        let n = Int.random(in: 0...8, using: &rng)
        for i in 0..<n {
            out += Array(space.utf8) + randomObject(&rng, space: space)
            if i < n - 1 { out += Array(",".utf8) }
        }
        out += Array("\(space)]".utf8)
        if wrapped {
            if rng.next() % 3 == 0 { out += Array(",\(space)\"meta\": {\"k\": [1, 2]}".utf8) }
            out += Array("\(space)}".utf8)
        }
        switch rng.next() % 8 {
        case 0: out += Array(" x".utf8)          // text after the value
        case 1: out.removeLast(min(out.count, 3)) // truncated
        case 2: if let comma = out.lastIndex(of: 0x2C) { out.insert(0x2C, at: comma) }  // ",,"
        default: break
        }
        return out + Array(space.utf8)
    }

    private func randomNDJSON(_ rng: inout SplitMix) -> [UInt8] {
        var out: [UInt8] = []
        if rng.next() % 4 == 0 { out += [0xEF, 0xBB, 0xBF] }
        for _ in 0..<Int.random(in: 0...10, using: &rng) {
            switch rng.next() % 8 {
            case 0: out += Array("\r\n".utf8)
            case 1: out += Array("{\"checkpoint\": \n".utf8)
            default: out += randomObject(&rng, space: " ") + Array((Bool.random(using: &rng) ? "\n" : "\r\n").utf8)
            }
        }
        return out
    }

    func testEveryFormatReadsTheSameWhateverTheSplit() {
        var rng = SplitMix(state: 8)
        for _ in 0..<150 {
            assertSplitInvariant(randomCSV(&rng), "text/csv", rng: &rng)
            assertSplitInvariant(randomJSON(&rng), "application/json", rng: &rng)
            assertSplitInvariant(randomNDJSON(&rng), "application/x-ndjson", rng: &rng)
            assertSplitInvariant(randomCSV(&rng), nil, rng: &rng)
            assertSplitInvariant(randomJSON(&rng), nil, rng: &rng)
        }
    }

    func testRandomDocumentsMeanWhatTheyShouldWhole() {
        // The generators do produce both outcomes, so the test above compares something.
        var rng = SplitMix(state: 3)
        var ok = 0, bad = 0
        for _ in 0..<200 {
            for body in [randomCSV(&rng), randomJSON(&rng)] {
                if whole(body, nil).problems == nil { ok += 1 } else { bad += 1 }
            }
        }
        XCTAssertGreaterThan(ok, 20)
        XCTAssertGreaterThan(bad, 20)
    }

    func testHarnessFileReadWholeInAnySplit() throws {
        var rng = SplitMix(state: 5)
        let body = try FixtureFiles.bytes("pythia-160m-5shot-step143000.json")
        assertSplitInvariant(body, "application/json", rng: &rng, parameters: ["task": "arc_easy", "pretrain_loss": "2.3"])
        let outcome = whole(body, "application/json", parameters: ["task": "arc_easy", "pretrain_loss": "2.3"])
        XCTAssertEqual(outcome.format, .lmEvalHarness)
        XCTAssertEqual(outcome.emitted.count, 1)
    }

    func testSplitsInsideQuotesEscapesCRLFAndBOM() {
        let text: [UInt8] = [0xEF, 0xBB, 0xBF] + Array("checkpoint,setting,pretrain_loss,accuracy,subset\r\n\"a \"\"b\"\"\r\nc\",few_shot,2,0.5,\"\"\"\"\r\nd,few_shot,2,0.5,x\r\n".utf8)
        let expected = whole(text, "text/csv")
        XCTAssertNil(expected.problems)
        XCTAssertEqual(expected.emitted.map(\.checkpoint), ["a \"b\"\r\nc", "d"])
        XCTAssertEqual(expected.emitted.first?.subset, "\"")
        for cut in 0...text.count {
            XCTAssertEqual(read(text, contentType: "text/csv", cuts: [cut]), expected, "cut at \(cut)")
        }
    }

    // MARK: - Nothing changes silently

    func testInvalidUTF8InCSVNamesLineAndColumn() {
        let body = Array("checkpoint,setting,pretrain_loss,accuracy\nq".utf8) + [0xFF] + Array(",few_shot,2,0.5\nq".utf8) + [0xFE]
            + Array(",few_shot,2,0.5\nok,few_shot,2,0.5\n\"x\ny".utf8) + [0xC3] + Array("\",few_shot,2,0.5\n".utf8)
        let p = whole(body, "text/csv").problems ?? []
        XCTAssertEqual(p.map(\.line), [2, 3, 5])
        XCTAssertEqual(p.map(\.index), [0, 1, 3])
        XCTAssertEqual(p.map(\.field), ["checkpoint", "checkpoint", "checkpoint"])
        XCTAssertTrue(p[0].reason.contains("0xFF at line 2, column 2"), p[0].reason)
        XCTAssertTrue(p[1].reason.contains("0xFE at line 3, column 2"), p[1].reason)
        XCTAssertTrue(p[2].reason.contains("0xC3 at line 6, column 2"), p[2].reason)
    }

    func testInvalidUTF8RefusedByJSONAndNDJSON() {
        let object = Array("{\"checkpoint\": \"q".utf8) + [0xFF] + Array("\", \"pretrain_loss\": 2, \"setting\": \"few_shot\", \"accuracy\": 0.5}".utf8)
        let json = whole(Array("[".utf8) + object + Array("]".utf8), "application/json").problems ?? []
        XCTAssertEqual(json.count, 1)
        XCTAssertTrue(json.first?.reason.contains("invalid UTF-8") == true, "\(json)")
        let ndjson = whole(object + [0x0A], "application/x-ndjson").problems ?? []
        XCTAssertEqual(ndjson.map(\.line), [1])
        XCTAssertTrue(ndjson.first?.reason.contains("invalid UTF-8") == true, "\(ndjson)")
    }

    func testCharsetOtherThanUTF8IsRefused() {
        let body = Array("checkpoint,setting,pretrain_loss,accuracy\nc,few_shot,2,0.5\n".utf8)
        for ok in ["text/csv", "text/csv; charset=utf-8", "text/csv;charset=\"UTF-8\"", "text/csv; charset=us-ascii"] {
            XCTAssertNil(whole(body, ok).problems, ok)
        }
        for bad in ["text/csv; charset=latin1", "text/csv; charset=ISO-8859-1", "application/json; charset=utf-16"] {
            let p = whole(body, bad).problems ?? []
            XCTAssertEqual(p.map(\.field), ["charset"], bad)
        }
    }

    func testLongNamesAreRefusedInEveryFormat() {
        let long = String(repeating: "n", count: Evaluation.maxTextBytes + 1)
        let fine = String(repeating: "é", count: Evaluation.maxTextBytes / 2)  // 256 bytes exactly
        for (field, value) in [("checkpoint", long), ("model", long), ("subset", long)] {
            var row = ["checkpoint": "c", "setting": "few_shot", "pretrain_loss": "2", "accuracy": "0.5", "model": fine, "subset": fine]
            row[field] = value
            let keys = row.keys.sorted()
            let csv = Array((keys.joined(separator: ",") + "\n" + keys.map { row[$0]! }.joined(separator: ",") + "\n").utf8)
            let object = "{" + keys.map { "\"\($0)\": " + ($0 == "pretrain_loss" || $0 == "accuracy" ? row[$0]! : jsonString(row[$0]!)) }.joined(separator: ", ") + "}"
            for (body, type) in [(csv, "text/csv"), (Array("[\(object)]".utf8), "application/json"), (Array("\(object)\n".utf8), "application/x-ndjson")] {
                let p = whole(body, type).problems ?? []
                XCTAssertEqual(p.map(\.field), [field], type)
                XCTAssertTrue(p.first?.reason.contains("at most 256 bytes") == true, "\(p)")
            }
        }
        // A 100 KB checkpoint name: a problem, not a stored row.
        let huge = String(repeating: "x", count: 100_000)
        XCTAssertEqual(whole(Array("checkpoint,setting,pretrain_loss,accuracy\n\(huge),few_shot,2,0.5\n".utf8), "text/csv").problems?.map(\.field), ["checkpoint"])
        let harness = whole(Array(#"{"results": {"t": {"acc": 0.5}}}"#.utf8), "application/json",
                            parameters: ["pretrain_loss": "2", "checkpoint": long]).problems
        XCTAssertEqual(harness?.map(\.field), ["checkpoint"])
    }

    // MARK: - Bounded memory

    /// Feeds `head`, then `filler` repeated in 64 KiB pieces up to `total` bytes; returns the error and
    /// the most bytes the reader held.
    private func flood(_ head: String, filler: UInt8, total: Int, contentType: String) -> (Error?, Int) {
        var reader: UploadReader
        do { reader = try UploadReader(contentType: contentType) } catch { return (error, 0) }
        let piece = [UInt8](repeating: filler, count: 64 * 1024)
        var held = 0
        do {
            try Array(head.utf8).withUnsafeBufferPointer { try reader.read($0) { _ in } }
            var sent = 0
            while sent < total {
                try piece.withUnsafeBufferPointer { try reader.read($0) { _ in } }
                sent += piece.count
                held = max(held, reader.heldBytes)
            }
            try reader.finish { _ in }
        } catch {
            return (error, held)
        }
        return (nil, held)
    }

    func testFieldOrElementThatNeverEndsIsCutAtItsBound() {
        let csvHeader = "checkpoint,setting,pretrain_loss,accuracy\nc,few_shot,2,0.5\n"
        for (head, filler, type, field) in [
            (csvHeader + "\"", UInt8(ascii: "a"), "text/csv", "row"),            // a quoted field never closed
            (csvHeader + "c", UInt8(ascii: " "), "text/csv", "row"),             // a record without an end
            ("[{\"checkpoint\": \"", UInt8(ascii: "a"), "application/json", "row"),  // a string never closed
            ("{\"evaluations\": [[", UInt8(ascii: "["), "application/json", "row"),   // nesting without end
            ("{\"checkpoint\": ", UInt8(ascii: " "), "application/x-ndjson", "row"),  // a line without a newline
            ("{\"results\": ", UInt8(ascii: " "), "application/json", "body"),     // a whole-read document
        ] {
            let (error, held) = flood(head, filler: filler, total: 64 << 20, contentType: type)
            let problems = (error as? IngestionError)?.problems ?? []
            XCTAssertEqual(problems.last?.field, field, "\(type) \(head): \(String(describing: error))")
            XCTAssertEqual(problems.last?.line, head.hasPrefix("checkpoint") ? 3 : 1, "\(problems)")
            XCTAssertLessThanOrEqual(held, UploadReader.maxWholeDocumentBytes + 64 * 1024)
            if field == "row" { XCTAssertLessThanOrEqual(held, UploadReader.maxRecordBytes + 64 * 1024) }
        }
    }

    func testEndlessWhitespaceIsReadNotHeld() {
        let csv = "checkpoint,setting,pretrain_loss,accuracy\nc,few_shot,2,0.5\n"
        for (head, filler, type) in [(csv, UInt8(ascii: "\n"), "text/csv"), ("[", UInt8(ascii: " "), "application/json"),
                                     ("{\"evaluations\": [", UInt8(ascii: "\n"), "application/json"),
                                     ("", UInt8(ascii: "\n"), "application/x-ndjson")] {
            let (error, held) = flood(head, filler: filler, total: 4 << 20, contentType: type)
            // JSON never sees its closing bracket: a syntax problem at the end, not a memory one.
            if type == "application/json" {
                XCTAssertEqual((error as? IngestionError)?.problems.map(\.field), ["body"], type)
            } else {
                XCTAssertTrue(error is IngestionError || error == nil, "\(String(describing: error))")
            }
            XCTAssertLessThanOrEqual(held, 4096, type)
        }
    }

    func testProblemsStopAtTheLimit() {
        var body = Array("checkpoint,setting,pretrain_loss,accuracy\n".utf8)
        for _ in 0..<(ProblemList.limit + 500) { body += Array("c,never,2,0.5\n".utf8) }
        let p = whole(body, "text/csv").problems ?? []
        XCTAssertEqual(p.count, ProblemList.limit + 1)
        XCTAssertEqual(p.last?.field, "body")
        XCTAssertTrue(p.last?.reason.contains("reading stopped") == true)
    }

    func testGzipMagic() {
        XCTAssertEqual(whole([0x1F, 0x8B, 8, 0], "text/csv").otherError, "\(UploadError.undeclaredGzip)")
        let twice = read([0x1F, 0x8B, 8, 0], contentType: "text/csv", cuts: [1], inflated: true)
        XCTAssertEqual(twice.problems?.first?.reason, "the body is gzip-compressed twice")
    }
}
