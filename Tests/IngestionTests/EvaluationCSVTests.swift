import XCTest
import EmergenceCore
@testable import Ingestion

final class EvaluationCSVTests: XCTestCase {
    private let header = "checkpoint,model,parameters,tokens,flops,pretrain_loss,setting,shots,finetune_examples,subset,accuracy,n_questions"

    private func parse(_ text: String) throws -> [Evaluation] {
        try EvaluationCSV.parse(Array(text.utf8))
    }

    /// The problems a CSV yields; fails the test when it parses.
    private func problems(_ text: String, file: StaticString = #filePath, line: UInt = #line) -> [RowProblem] {
        do {
            let rows = try parse(text)
            XCTFail("expected problems, parsed \(rows.count) rows", file: file, line: line)
            return []
        } catch let e as IngestionError {
            return e.problems
        } catch {
            XCTFail("unexpected error \(error)", file: file, line: line)
            return []
        }
    }

    func testParsesEveryField() throws {
        let rows = try parse("""
        \(header)
        1b-7bt,1b,1000000000.0,7812500000.0,4.6875e+19,2.53206,few_shot,5,,,0.252,2000
        3b-60bt,3b,3e9,6e10,,2.1,finetuned,,1024,s2,0.61,
        """)
        XCTAssertEqual(rows, [
            Evaluation(checkpoint: "1b-7bt", model: "1b", parameters: 1e9, tokens: 7.8125e9, flops: 4.6875e19,
                       pretrainLoss: 2.53206, setting: .fewShot, shots: 5, accuracy: 0.252, nQuestions: 2000),
            Evaluation(checkpoint: "3b-60bt", model: "3b", parameters: 3e9, tokens: 6e10, pretrainLoss: 2.1,
                       setting: .finetuned, finetuneExamples: 1024, subset: "s2", accuracy: 0.61),
        ])
        XCTAssertEqual(rows[1].effectiveFlops, 6 * 3e9 * 6e10)
    }

    func testColumnsInAnyOrderOptionalAbsentExtraColumnsOnlyWhenSaid() throws {
        let text = "accuracy,notes,setting,checkpoint,pretrain_loss,extra_run\n0.5,hello,few_shot,c1,2.5,r7\n"
        // `notes` is neither a field nor declared: refused, naming it.
        let refused = problems(text)
        XCTAssertEqual(refused.map(\.field), ["notes"])
        XCTAssertEqual(refused.first?.line, 1)
        // Declared (`ignore`), it is left out, as `extra_…` columns always are.
        let rows = try EvaluationCSV.parse(Array(text.utf8), rules: ColumnRules(ignoring: ["notes"]))
        XCTAssertEqual(rows, [Evaluation(checkpoint: "c1", pretrainLoss: 2.5, setting: .fewShot, accuracy: 0.5)])
    }

    /// A misspelt optional column is refused with the field it most likely meant, never dropped (it
    /// would merge rows that differ only in it, or lose the question counts a binomial fit needs).
    func testMisspeltColumnsNameTheClosestField() {
        for (wrong, right) in [("subst", "subset"), ("n_question", "n_questions"), ("Pretrain-Loss", "pretrain_loss"),
                               ("finetune_example", "finetune_examples"), ("acc", "accuracy"), ("parmeters", "parameters")] {
            let header = "checkpoint,setting,pretrain_loss,accuracy,\(wrong)"
            let p = problems(header + "\nc,few_shot,2.5,0.5,1\n")
            XCTAssertEqual(p.map(\.field), [wrong], header)
            XCTAssertTrue(p.first?.reason.contains("did you mean `\(right)`?") ?? false, "\(wrong): \(p)")
            XCTAssertTrue(p.first?.reason.contains("ignore=\(wrong)") ?? false, "\(wrong): \(p)")
        }
        // Nothing near: the fields are listed instead.
        let far = problems("checkpoint,setting,pretrain_loss,accuracy,zzzzzzzz\nc,few_shot,2.5,0.5,1\n")
        XCTAssertTrue(far.first?.reason.contains("the fields are checkpoint, model") ?? false, "\(far)")
    }

    /// A header cell left empty (a spreadsheet's trailing comma) is allowed while its cells stay empty.
    func testUnnamedColumnMustStayEmpty() throws {
        XCTAssertEqual(try parse("checkpoint,setting,pretrain_loss,accuracy,\nc,few_shot,2.5,0.5,\n").count, 1)
        let p = problems("checkpoint,setting,pretrain_loss,accuracy,\nc,few_shot,2.5,0.5,x\n")
        XCTAssertEqual(p.map(\.field), ["row"])
        XCTAssertEqual(p.map(\.line), [2])
    }

    func testCRLFBomQuotingAndBlankLines() throws {
        let text = "\u{FEFF}checkpoint,setting,pretrain_loss,accuracy,subset\r\n"
            + "\"step,1\",few_shot,2.0,0.25,\"a \"\"quoted\"\"\nsubset\"\r\n"
            + "\r\n"
            + "c2,finetuned,1.9,0.3,\r\n"
            + "\r\n\r\n"
        // The second data row has no finetune_examples: reported with its physical line (5).
        let p = problems(text)
        XCTAssertEqual(p, [RowProblem(index: 1, line: 5, field: "finetune_examples", reason: "is required for a finetuned row")])

        let ok = try parse(text.replacingOccurrences(of: "c2,finetuned", with: "c2,few_shot"))
        XCTAssertEqual(ok.count, 2)
        XCTAssertEqual(ok[0].checkpoint, "step,1")
        XCTAssertEqual(ok[0].subset, "a \"quoted\"\nsubset")
        XCTAssertNil(ok[1].subset)
    }

    func testLoneCRLineEndsAndNoTrailingNewline() throws {
        let rows = try parse("checkpoint,setting,pretrain_loss,accuracy\rc,few_shot,2,0.5")
        XCTAssertEqual(rows.map(\.checkpoint), ["c"])
    }

    func testHeaderOnlyGivesNoRows() throws {
        XCTAssertEqual(try parse(header + "\n"), [])
    }

    func testEmptyUpload() {
        XCTAssertEqual(problems("").map(\.field), ["header"])
        XCTAssertEqual(problems("\n\n").map(\.field), ["header"])
    }

    func testMissingRequiredColumnsEachNamedOnLineOne() {
        // pretrain_loss is optional in uploads (leaderboards give only FLOPs); accuracy is not.
        let p = problems("checkpoint,setting\nc,few_shot\n")
        XCTAssertEqual(p, [
            RowProblem(index: -1, line: 1, field: "accuracy", reason: "required column is missing from the header"),
        ])
        // A fit's reader requires it, as a column and on every line.
        do {
            _ = try EvaluationCSV.parse(Array("checkpoint,setting,accuracy\nc,few_shot,0.5\n".utf8), requireLoss: true)
            XCTFail("expected problems")
        } catch let e as IngestionError {
            XCTAssertEqual(e.problems, [RowProblem(index: -1, line: 1, field: "pretrain_loss", reason: "required column is missing from the header")])
        } catch { XCTFail("\(error)") }
    }

    func testDuplicateColumn() {
        let p = problems("checkpoint,setting,pretrain_loss,accuracy,accuracy\nc,few_shot,2,0.5,0.5\n")
        XCTAssertEqual(p.map(\.field), ["accuracy"])
        XCTAssertEqual(p.first?.line, 1)
    }

    /// A good row then the same row with one cell replaced; the problems are the second row's.
    private func oneBadCell(_ column: String, _ value: String) -> [RowProblem] {
        let good: [(String, String)] = [("checkpoint", "c"), ("setting", "few_shot"), ("pretrain_loss", "2.0"),
                                        ("accuracy", "0.5"), ("shots", "5"), ("n_questions", "100"),
                                        ("finetune_examples", ""), ("parameters", "1e9"), ("tokens", "2e10"), ("flops", "")]
        let header = good.map(\.0).joined(separator: ",")
        let row1 = good.map(\.1).joined(separator: ",")
        let row2 = good.map { $0.0 == column ? value : $0.1 }.joined(separator: ",")
        return problems(header + "\n" + row1 + "\n" + row2 + "\n")
    }

    private func assertOneProblem(_ column: String, _ value: String, reasonContains: String,
                                  file: StaticString = #filePath, line: UInt = #line) {
        let p = oneBadCell(column, value)
        XCTAssertEqual(p.count, 1, "\(column)=\(value): \(p)", file: file, line: line)
        XCTAssertEqual(p.first?.index, 1, file: file, line: line)
        XCTAssertEqual(p.first?.line, 3, file: file, line: line)
        XCTAssertEqual(p.first?.field, column, file: file, line: line)
        XCTAssertTrue(p.first?.reason.contains(reasonContains) == true, "\(p.first?.reason ?? "")", file: file, line: line)
    }

    func testEveryBadCell() {
        assertOneProblem("pretrain_loss", "abc", reasonContains: "must be a number")
        assertOneProblem("pretrain_loss", "NaN", reasonContains: "finite")
        assertOneProblem("pretrain_loss", "inf", reasonContains: "finite")
        assertOneProblem("pretrain_loss", "-Infinity", reasonContains: "finite")
        assertOneProblem("pretrain_loss", "1e999", reasonContains: "finite")
        assertOneProblem("pretrain_loss", "0", reasonContains: "> 0")
        assertOneProblem("pretrain_loss", "-1.5", reasonContains: "> 0")
        assertOneProblem("pretrain_loss", "0x1p3", reasonContains: "must be a number")
        assertOneProblem("pretrain_loss", "1.2.3", reasonContains: "must be a number")
        assertOneProblem("accuracy", "1.5", reasonContains: "[0, 1]")
        assertOneProblem("accuracy", "-0.01", reasonContains: "[0, 1]")
        assertOneProblem("accuracy", "nan", reasonContains: "finite")
        assertOneProblem("accuracy", "", reasonContains: "required")
        assertOneProblem("accuracy", "50%", reasonContains: "must be a number")
        assertOneProblem("setting", "zero_shot", reasonContains: "few_shot or finetuned")
        assertOneProblem("setting", "", reasonContains: "required")
        assertOneProblem("checkpoint", "", reasonContains: "required")
        assertOneProblem("shots", "2.5", reasonContains: "integer")
        assertOneProblem("shots", "five", reasonContains: "integer")
        assertOneProblem("shots", "-1", reasonContains: ">= 0")
        assertOneProblem("n_questions", "0", reasonContains: "> 0")
        assertOneProblem("n_questions", "10.5", reasonContains: "integer")
        assertOneProblem("parameters", "-3", reasonContains: "> 0")
        assertOneProblem("tokens", "x", reasonContains: "must be a number")
        assertOneProblem("flops", "0", reasonContains: "> 0")
        assertOneProblem("finetune_examples", "-2", reasonContains: ">= 0")
    }

    func testIntegralFloatsAcceptedForIntegerColumns() throws {
        let rows = try parse("checkpoint,setting,pretrain_loss,accuracy,shots,n_questions\nc,few_shot,2,0.5,5.0,2000.0\n")
        XCTAssertEqual(rows.first?.shots, 5)
        XCTAssertEqual(rows.first?.nQuestions, 2000)
    }

    func testFinetunedRules() {
        let h = "checkpoint,setting,pretrain_loss,accuracy,finetune_examples\n"
        XCTAssertEqual(problems(h + "c,finetuned,2,0.5,\n").map(\.reason), ["is required for a finetuned row"])
        XCTAssertEqual(problems(h + "c,finetuned,2,0.5,0.5\n").map(\.field), ["finetune_examples"])
    }

    func testEveryBadRowAndFieldReportedNothingReturned() {
        let p = problems("""
        checkpoint,setting,pretrain_loss,accuracy
        a,few_shot,2,0.5
        b,few_shot,-1,1.5
        c,few_shot,2,0.5
        d,fewshot,x,0.5
        """)
        XCTAssertEqual(p.map { "\($0.index):\($0.line!):\($0.field)" },
                       ["1:3:pretrain_loss", "1:3:accuracy", "3:5:pretrain_loss", "3:5:setting"])
    }

    func testWrongFieldCount() {
        let p = problems("checkpoint,setting,pretrain_loss,accuracy\nc,few_shot,2\nd,few_shot,2,0.5,extra\n")
        XCTAssertEqual(p.map(\.field), ["row", "row"])
        XCTAssertEqual(p.map(\.line), [2, 3])
        XCTAssertTrue(p[0].reason.contains("3 fields"))
    }

    func testUnterminatedQuote() {
        let p = problems("checkpoint,setting,pretrain_loss,accuracy\n\"c,few_shot,2,0.5\n")
        XCTAssertEqual(p.map(\.field), ["row"])
        XCTAssertEqual(p.first?.line, 2)
        XCTAssertTrue(p.first?.reason.contains("unterminated") == true)
    }

    func testLineNumbersCountMultilineQuotedCells() {
        let p = problems("checkpoint,setting,pretrain_loss,accuracy\n\"a\nb\",few_shot,2,0.5\nc,few_shot,2,7\n")
        XCTAssertEqual(p, [RowProblem(index: 1, line: 4, field: "accuracy", reason: "must be a number in [0, 1]")])
    }

    func testSpacesAroundValuesTolerated() throws {
        let rows = try parse("checkpoint, setting ,pretrain_loss,accuracy\n c1 , finetuned , 2.5 ,0.5\n".replacingOccurrences(of: "finetuned", with: "few_shot"))
        XCTAssertEqual(rows, [Evaluation(checkpoint: "c1", pretrainLoss: 2.5, setting: .fewShot, accuracy: 0.5)])
    }

    func testDescriptionNamesLineAndColumn() {
        let e = IngestionError(problems: [RowProblem(index: 0, line: 7, field: "accuracy", reason: "must be a number in [0, 1]")])
        XCTAssertEqual(e.description, "line 7, accuracy: must be a number in [0, 1]")
    }
}
