import XCTest
import EmergenceCore
@testable import Ingestion

/// The byte-level fast path must agree with the general parser: the same evaluation when it accepts
/// an object, and a refusal (so the general parser reports the problems) whenever that one would fail.
final class FastEvaluationJSONTests: XCTestCase {
    private let cases = [
        #"{"checkpoint": "c", "pretrain_loss": 2.5, "setting": "few_shot", "accuracy": 0.25}"#,
        #"{"checkpoint":"c","model":"m","parameters":1e9,"tokens":2E10,"flops":1.2e+20,"pretrain_loss":2,"setting":"finetuned","shots":null,"finetune_examples":64,"subset":"s1","accuracy":1,"n_questions":2000}"#,
        #"  {  "accuracy" : 0 , "setting" : "few_shot" , "pretrain_loss" : 0.5 , "checkpoint" : "ü-step 1" , "shots" : 5.0 }  "#,
        #"{"checkpoint": "c", "checkpoint": "d", "pretrain_loss": 2.5, "setting": "few_shot", "accuracy": 0.25}"#,
        #"{"checkpoint": "c", "pretrain_loss": -0.0, "setting": "few_shot", "accuracy": 0.25}"#,
        #"{"checkpoint": "c", "pretrain_loss": 2.5, "setting": "finetuned", "accuracy": 0.25}"#,
        #"{"checkpoint": "c", "pretrain_loss": 2.5, "setting": "few_shot", "accuracy": 1.5}"#,
        #"{"checkpoint": "c", "pretrain_loss": "2.5", "setting": "few_shot", "accuracy": 0.25}"#,
        #"{"checkpoint": 7, "pretrain_loss": 2.5, "setting": "few_shot", "accuracy": 0.25}"#,
        #"{"checkpoint": "c\"q", "pretrain_loss": 2.5, "setting": "few_shot", "accuracy": 0.25}"#,
        #"{"checkpoint": "c", "pretrain_loss": NaN, "setting": "few_shot", "accuracy": 0.25}"#,
        #"{"checkpoint": "c", "pretrain_loss": 1e999, "setting": "few_shot", "accuracy": 0.25}"#,
        #"{"checkpoint": "c", "pretrain_loss": 2.5, "setting": "few_shot", "accuracy": 0.25, "extra": {"a": [1]}}"#,
        #"{"checkpoint": "c", "pretrain_loss": 2.5, "setting": "few_shot", "accuracy": 0.25, "shots": 1.5}"#,
        #"{"checkpoint": "c", "pretrain_loss": 2.5, "setting": "few_shot", "accuracy": 0.25, "shots": 12345678901234567}"#,
        #"{"checkpoint": "c", "pretrain_loss": 01, "setting": "few_shot", "accuracy": 0.25}"#,
        #"{"checkpoint": "c", "pretrain_loss": 2., "setting": "few_shot", "accuracy": 0.25}"#,
        #"{"checkpoint": "c", "pretrain_loss": 2.5, "setting": "few_shot", "accuracy": 0.25,}"#,
        #"{"checkpoint": "c", "pretrain_loss": 2.5, "setting": "few_shot", "accuracy": nul}"#,
        #"{"checkpoint": "", "pretrain_loss": 2.5, "setting": "few_shot", "accuracy": 0.25}"#,
        #"{}"#, "[]", "", "{", #"{"checkpoint": "c""#,
    ]

    func testFastPathAgreesWithTheGeneralParser() throws {
        var accepted = 0
        for text in cases {
            let bytes = Array(text.utf8)
            let slow: Evaluation? = {
                guard let v = try? JSONParser.parse(bytes), case .success(let e) = EvaluationJSON.evaluation(from: v) else { return nil }
                return e
            }()
            let fast: Evaluation? = bytes.withUnsafeBufferPointer { buf in
                var p = FastEvaluationJSON(buf, start: 0, end: buf.count)
                guard let e = p.evaluation() else { return nil }
                p.skipSpace()
                return p.atEnd ? e : nil
            }
            if let fast {
                accepted += 1
                XCTAssertEqual(fast, slow, text)
            } else if slow != nil {
                // Refusing a valid object is allowed (the general parser then takes it), but only for
                // the shapes the fast path does not handle.
                XCTAssertTrue(text.contains("extra") || text.contains("\\\"") || text.contains(": 7,"), "fast path refused a plain valid object: \(text)")
            }
        }
        XCTAssertEqual(accepted, 4, "the plain valid objects take the fast path")
    }

    func testDocumentsFastAndSlowGiveTheSameRows() throws {
        var rows: [Evaluation] = []
        for i in 0..<50 {
            let fewShot = i % 3 == 0
            let d: Double? = fewShot ? nil : Double(1 << (i % 10 + 1))
            rows.append(Evaluation(checkpoint: "c\(i)", model: i % 2 == 0 ? "m" : nil, parameters: 1e9,
                                   tokens: Double(i + 1) * 1e9, pretrainLoss: 2 + Double(i) / 100,
                                   setting: fewShot ? .fewShot : .finetuned, shots: fewShot ? 5 : nil,
                                   finetuneExamples: d, subset: "s\(i % 4)", accuracy: Double(i) / 50, nQuestions: 100))
        }
        let array = Array(try JSONEncoder().encode(rows))
        let fast = try XCTUnwrap(array.withUnsafeBufferPointer(FastEvaluationJSON.document))
        XCTAssertEqual(fast, rows)
        XCTAssertEqual(try EvaluationJSON.parse(array), rows)
        let wrapped = Array("{\"evaluations\": ".utf8) + array + Array("}".utf8)
        XCTAssertEqual(wrapped.withUnsafeBufferPointer(FastEvaluationJSON.document), rows)
        // One bad row anywhere: the fast path refuses the document and the general one lists the problem.
        var bad = rows
        bad[37].accuracy = 2
        let badBytes = Array(try JSONEncoder().encode(bad))
        XCTAssertNil(badBytes.withUnsafeBufferPointer(FastEvaluationJSON.document))
        XCTAssertThrowsError(try EvaluationJSON.parse(badBytes)) { e in
            let indices: [Int]? = (e as? IngestionError)?.problems.map { $0.index }
            XCTAssertEqual(indices, [37])
        }
    }
}
