import XCTest
import EmergenceCore
@testable import Ingestion

final class EvaluationJSONTests: XCTestCase {
    private func problems(_ body: () throws -> Any, file: StaticString = #filePath, line: UInt = #line) -> [RowProblem] {
        do {
            _ = try body()
            XCTFail("expected problems", file: file, line: line)
            return []
        } catch let e as IngestionError {
            return e.problems
        } catch {
            XCTFail("unexpected \(error)", file: file, line: line)
            return []
        }
    }

    private let a = Evaluation(checkpoint: "c1", model: "1b", parameters: 1e9, tokens: 2e10, pretrainLoss: 2.5,
                               setting: .fewShot, shots: 5, accuracy: 0.25, nQuestions: 100)
    private let b = Evaluation(checkpoint: "c2", pretrainLoss: 2.1, setting: .finetuned, finetuneExamples: 256,
                               subset: "0", accuracy: 0.4)

    func testArrayAndWrappedObjectAgree() throws {
        let array = """
        [{"checkpoint": "c1", "model": "1b", "parameters": 1e9, "tokens": 2E10, "pretrain_loss": 2.5,
          "setting": "few_shot", "shots": 5, "accuracy": 0.25, "n_questions": 100, "extra_notes": "ignored", "flops": null},
         {"checkpoint": "c2", "pretrain_loss": 2.1, "setting": "finetuned", "finetune_examples": 256, "subset": 0, "accuracy": 0.4}]
        """
        XCTAssertEqual(try EvaluationJSON.parse(Array(array.utf8)), [a, b])
        XCTAssertEqual(try EvaluationJSON.parse(Array("{\"evaluations\": \(array)}".utf8)), [a, b])
    }

    /// An unknown key is refused once (at its first row, counted from 1), naming the closest field;
    /// `ignore` or an `extra` name leaves it out.
    func testUnknownKeysAreRefusedOnceUnlessDeclared() throws {
        let text = """
        [{"checkpoint": "c1", "pretrain_loss": 2.5, "setting": "few_shot", "accuracy": 0.25, "subst": "a"},
         {"checkpoint": "c2", "pretrain_loss": 2.5, "setting": "few_shot", "accuracy": 0.25, "subst": "b", "extra": {"x": 1}}]
        """
        let p = problems { try EvaluationJSON.parse(Array(text.utf8)) }
        XCTAssertEqual(p.map(\.field), ["subst"])
        XCTAssertEqual(p.first?.location, "rows[1]")
        XCTAssertTrue(p.first?.reason.contains("did you mean `subset`?") ?? false, "\(p)")
        XCTAssertEqual(try EvaluationJSON.parse(Array(text.utf8), rules: ColumnRules(ignoring: ["subst"])).count, 2)
        let lines = problems { try EvaluationJSON.parseLines(Array("{\"checkpoint\": \"c\", \"pretrain_loss\": 2.5, \"setting\": \"few_shot\", \"accuracy\": 0.2, \"n_question\": 5}\n".utf8)) }
        XCTAssertEqual(lines.map(\.field), ["n_question"])
        XCTAssertEqual(lines.first?.location, "line 1")
    }

    func testJSONEncoderOutputRoundTrips() throws {
        let data = try JSONEncoder().encode([a, b])
        XCTAssertEqual(try EvaluationJSON.parse([UInt8](data)), [a, b])
    }

    func testEveryBadFieldOfEveryRow() {
        let p = problems { try EvaluationJSON.parse(Array("""
        [{"checkpoint": "ok", "pretrain_loss": 2, "setting": "few_shot", "accuracy": 0.5},
         {"checkpoint": 7.5, "pretrain_loss": "2", "setting": "finetuned", "accuracy": 1.5, "shots": 1.5},
         {"pretrain_loss": NaN, "setting": "zero", "accuracy": 0.5, "n_questions": 0},
         3]
        """.utf8)) }
        XCTAssertEqual(p.map { "\($0.index) \($0.field)" }, [
            "1 checkpoint", "1 pretrain_loss", "1 shots", "1 accuracy", "1 finetune_examples",
            "2 pretrain_loss", "2 setting", "2 checkpoint", "2 n_questions",
            "3 row",
        ])
        XCTAssertTrue(p[0].reason.contains("got the number 7.5); quote it"), p[0].reason)
        XCTAssertTrue(p[1].reason.contains("got a string"))
        XCTAssertTrue(p[5].reason.contains("finite"))
        XCTAssertNil(p[0].line)
    }

    func testSyntaxErrorNamesLineAndColumn() {
        let p = problems { try EvaluationJSON.parse(Array("[\n {\"checkpoint\": \"c\",\n  \"accuracy\": 0.5,,}]".utf8)) }
        XCTAssertEqual(p.count, 1)
        XCTAssertEqual(p.first?.field, "body")
        XCTAssertEqual(p.first?.line, 3)
        XCTAssertTrue(p.first?.reason.contains("column 19") == true, p.first?.reason ?? "")
    }

    func testWrongTopLevelShapes() {
        XCTAssertEqual(problems { try EvaluationJSON.parse(Array("{\"rows\": []}".utf8)) }.map(\.field), ["evaluations"])
        XCTAssertEqual(problems { try EvaluationJSON.parse(Array("\"hello\"".utf8)) }.map(\.field), ["body"])
        XCTAssertEqual(problems { try EvaluationJSON.parse([]) }.map(\.field), ["body"])
    }

    func testNDJSONLinesBlankLinesAndLineNumbers() throws {
        let text = """
        {"checkpoint": "c1", "model": "1b", "parameters": 1e9, "tokens": 2e10, "pretrain_loss": 2.5, "setting": "few_shot", "shots": 5, "accuracy": 0.25, "n_questions": 100}\r

        {"checkpoint": "c2", "pretrain_loss": 2.1, "setting": "finetuned", "finetune_examples": 256, "subset": "0", "accuracy": 0.4}

        """
        XCTAssertEqual(try EvaluationJSON.parseLines(Array(text.utf8)), [a, b])
        let bad = text + "{\"checkpoint\": \"c3\", \"pretrain_loss\": -1, \"setting\": \"few_shot\", \"accuracy\": 0.4}\n{oops\n"
        let p = problems { try EvaluationJSON.parseLines(Array(bad.utf8)) }
        XCTAssertEqual(p.map { "\($0.index) \($0.line!) \($0.field)" }, ["2 4 pretrain_loss", "3 5 row"])
        XCTAssertTrue(p[1].reason.contains("column 2"), p[1].reason)
    }

    func testParserHandlesEscapesAndUnicode() throws {
        let v = try JSONParser.parse(Array(#"{"s": "a\"b\\c\/d\n\u00e9\ud83d\ude00", "n": -0.5e-3, "t": [true, false, null], "big": 12345678901234567890}"#.utf8))
        XCTAssertEqual(v["s"], .string("a\"b\\c/d\né😀"))
        XCTAssertEqual(v["n"], .number(-0.0005))
        XCTAssertEqual(v["t"], .array([.bool(true), .bool(false), .null]))
        XCTAssertEqual(v["big"], .number(12345678901234567890))
        for bad in ["[1,]", "{\"a\" 1}", "01", "1.", "\"\\x\"", "\"\\ud800\"", "[1] 2", "{\"a\":1", "tru", "\"a\u{01}\"", "-"] {
            XCTAssertThrowsError(try JSONParser.parse(Array(bad.utf8)), bad)
        }
        let deep = String(repeating: "[", count: 1000) + String(repeating: "]", count: 1000)
        XCTAssertThrowsError(try JSONParser.parse(Array(deep.utf8)))
    }
}

final class LMEvalHarnessTests: XCTestCase {
    func testOlderShapePythiaFile() throws {
        let body = try FixtureFiles.bytes("pythia-160m-5shot-step143000.json")
        let (format, rows) = try EvaluationUpload.decode(body, contentType: "application/json",
                                                         parameters: ["task": "arc_easy", "pretrain_loss": "2.43"])
        XCTAssertEqual(format, .lmEvalHarness)
        XCTAssertEqual(rows, [Evaluation(checkpoint: "EleutherAI/pythia-v1.1-160m@step143000", model: "pythia-v1.1-160m",
                                         parameters: 160e6, tokens: 143000 * 2_097_152, pretrainLoss: 2.43,
                                         setting: .fewShot, shots: 5, accuracy: 0.4494949494949495)])
    }

    func testQueryParametersOverrideAndSelectMetric() throws {
        let body = try FixtureFiles.bytes("pythia-160m-5shot-step143000.json")
        let rows = try LMEvalHarness.parse(body, parameters: [
            "task": "arc_easy", "metric": "acc_norm", "pretrain_loss": "2.4", "checkpoint": "p160-final",
            "parameters": "162322944", "flops": "3e20", "setting": "finetuned", "finetune_examples": "64", "subset": "b",
            "n_questions": "2376",
        ])
        XCTAssertEqual(rows.first?.checkpoint, "p160-final")
        XCTAssertEqual(rows.first?.accuracy, 0.4175084175084175)
        XCTAssertEqual(rows.first?.parameters, 162322944)
        XCTAssertEqual(rows.first?.flops, 3e20)
        XCTAssertEqual(rows.first?.setting, .finetuned)
        XCTAssertEqual(rows.first?.finetuneExamples, 64)
        XCTAssertEqual(rows.first?.subset, "b")
        XCTAssertEqual(rows.first?.nQuestions, 2376)
    }

    func testVersion04Shape() throws {
        let body = try FixtureFiles.bytes("lm-eval-0.4-example.json")
        let rows = try LMEvalHarness.parse(body, parameters: ["task": "arc_easy", "pretrain_loss": "2.0"])
        XCTAssertEqual(rows, [Evaluation(checkpoint: "EleutherAI/pythia-1.4b@step143000", model: "pythia-1.4b", parameters: 1.4e9,
                                         tokens: 143000 * 2_097_152, pretrainLoss: 2.0, setting: .fewShot, shots: 0,
                                         accuracy: 0.6178, nQuestions: 2376)])
    }

    func testProblemsNameTheParameter() throws {
        let body = try FixtureFiles.bytes("pythia-160m-5shot-step143000.json")
        func problems(_ q: [String: String]) -> [RowProblem] {
            do { _ = try LMEvalHarness.parse(body, parameters: q); XCTFail("parsed \(q)"); return [] }
            catch let e as IngestionError { return e.problems } catch { XCTFail("\(error)"); return [] }
        }
        XCTAssertEqual(problems(["pretrain_loss": "2"]).map(\.field), ["task"])  // 65 tasks: must choose
        XCTAssertEqual(problems(["task": "nope", "pretrain_loss": "2"]).map(\.field), ["task"])
        XCTAssertEqual(problems(["task": "arc_easy", "metric": "f1", "pretrain_loss": "2"]).map(\.field), ["metric"])
        XCTAssertEqual(problems(["task": "arc_easy"]).map(\.field), ["pretrain_loss"])
        XCTAssertEqual(problems(["task": "arc_easy", "pretrain_loss": "x"]).map(\.field), ["pretrain_loss"])
        XCTAssertEqual(problems(["task": "arc_easy", "pretrain_loss": "2", "setting": "finetuned"]).map(\.field), ["finetune_examples"])
        XCTAssertEqual(problems(["task": "arc_easy", "pretrain_loss": "2", "shots": "1.5"]).map(\.field), ["shots"])
        XCTAssertEqual(problems(["task": "arc_easy", "pretrain_loss": "2", "setting": "zero"]).map(\.field), ["setting"])
    }

    func testSizeInModelName() {
        XCTAssertEqual(LMEvalHarness.sizeInName("pythia-v1.1-160m"), 160e6)
        XCTAssertEqual(LMEvalHarness.sizeInName("pythia-6.9b-deduped"), 6.9e9)
        XCTAssertNil(LMEvalHarness.sizeInName("gpt2"))
    }
}

final class EvaluationUploadTests: XCTestCase {
    func testFormatByContentType() {
        XCTAssertEqual(EvaluationUpload.format(contentType: "text/csv; charset=utf-8", body: []), .csv)
        XCTAssertEqual(EvaluationUpload.format(contentType: "application/x-ndjson", body: []), .ndjson)
        XCTAssertEqual(EvaluationUpload.format(contentType: "Application/JSON", body: []), .json)
        XCTAssertEqual(EvaluationUpload.format(contentType: "application/vnd.x+json", body: []), .json)
        XCTAssertNil(EvaluationUpload.format(contentType: "application/xml", body: []))
        XCTAssertEqual(EvaluationUpload.format(contentType: nil, body: Array(" [".utf8)), .json)
        XCTAssertEqual(EvaluationUpload.format(contentType: nil, body: Array("checkpoint,".utf8)), .csv)
    }

    func testRefusals() {
        XCTAssertThrowsError(try EvaluationUpload.decode([0x1F, 0x8B, 8, 0], contentType: "text/csv")) {
            XCTAssertEqual($0 as? UploadError, .undeclaredGzip)
        }
        XCTAssertThrowsError(try EvaluationUpload.decode([], contentType: "image/png")) {
            XCTAssertEqual($0 as? UploadError, .unsupportedMediaType("image/png"))
        }
    }

    func testSimulatedStudyCSVFixture() throws {
        let (format, rows) = try EvaluationUpload.decode(try FixtureFiles.bytes("mmlu-like.csv"), contentType: "text/csv")
        XCTAssertEqual(format, .csv)
        XCTAssertEqual(rows.count, 184)
        XCTAssertGreaterThan(rows.filter { $0.setting == .finetuned }.count, 0)
    }
}
