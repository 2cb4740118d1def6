import EmergenceCore
import Foundation
import XCTest
@testable import Ingestion

/// Public results that give no pretraining loss (leaderboards: only FLOPs, or parameters and
/// tokens): `observe` on the flops axis answers from them; fits refuse and name the line.
final class LeaderboardWithoutLossTests: XCTestCase {
    static let file = "pythia-arc-challenge-leaderboard.csv"

    func testObserveOnTheFlopsAxisAnswersInFLOPsWithNoLossBlock() throws {
        let rows = try EvaluationCSV.parse(FixtureFiles.bytes(Self.file))
        XCTAssertEqual(rows.count, 78)
        XCTAssertTrue(rows.allSatisfy { $0.pretrainLossIfGiven == nil && $0.effectiveFlops != nil })
        var o = ObserveOptions()
        o.axis = .flops
        o.bootstrap = 200
        o.seed = 1
        let r = try Observation.run(rows, options: o)
        XCTAssertEqual(r.status, .ok)
        XCTAssertNil(r.emergence.loss, "no loss block without losses or a given scaling law")
        let flops = try XCTUnwrap(r.emergence.flops)
        let mle = try XCTUnwrap(flops.mle)
        let p = try XCTUnwrap(flops.percentiles)
        let lo = try XCTUnwrap(p["5"]), hi = try XCTUnwrap(p["95"])
        XCTAssertLessThanOrEqual(lo, mle)
        XCTAssertLessThanOrEqual(mle, hi)
        // ARC-Challenge leaves its floor (≈ 0.20) between 1e20 and 1e21 FLOPs in these runs: 1.4B
        // reaches 0.235 at step 23000 (4.1e20 FLOPs), 6.9B 0.259 at 2.0e21.
        XCTAssertGreaterThan(mle, 1e20)
        XCTAssertLessThan(mle, 1e21)
        XCTAssertNil(r.firstEmerged?.pretrainLoss)
        XCTAssertTrue(r.warnings.contains { $0.code == "no_scaling_law" })
        let doc = try XCTUnwrap(JSONSerialization.jsonObject(with: r.jsonData()) as? [String: Any])
        let emergence = try XCTUnwrap(doc["emergence"] as? [String: Any])
        XCTAssertEqual(Set(emergence.keys), ["flops"])
        XCTAssertNil((doc["first_emerged"] as? [String: Any])?["pretrain_loss"])
    }

    func testTheLossAxisSaysToUseFlops() throws {
        let rows = try EvaluationCSV.parse(FixtureFiles.bytes(Self.file))
        XCTAssertThrowsError(try Observation.run(rows, options: ObserveOptions())) { e in
            XCTAssertTrue("\(e)".contains("use the flops axis"), "\(e)")
        }
    }

    /// A fit's reader names every line without a loss (1-based physical lines; the header is 1).
    func testFitsNameTheLineWithoutALoss() throws {
        let csv = """
            checkpoint,pretrain_loss,setting,finetune_examples,accuracy
            a,2.1,few_shot,,0.25
            b,,finetuned,100,0.3
            c,1.9,finetuned,100,0.4
            """
        XCTAssertEqual(try EvaluationCSV.parse(Array(csv.utf8)).count, 3, "uploads take it")
        XCTAssertThrowsError(try EvaluationCSV.parse(Array(csv.utf8), requireLoss: true)) { e in
            guard let e = e as? IngestionError else { return XCTFail("\(e)") }
            XCTAssertEqual(e.problems.count, 1)
            XCTAssertEqual(e.problems.first?.line, 3)
            XCTAssertEqual(e.problems.first?.field, "pretrain_loss")
            XCTAssertEqual(e.problems.first?.reason, Evaluation.lossRequiredReason)
            XCTAssertTrue(e.description.contains("line 3"), e.description)
        }
        // The engine's own check (the service's rows, in upload order) names the row, 1-based.
        let rows = try EvaluationCSV.parse(Array(csv.utf8))
        XCTAssertThrowsError(try MissingPretrainLoss.check(rows)) { e in
            XCTAssertEqual((e as? MissingPretrainLoss)?.rows.map(\.index), [2])
            XCTAssertTrue("\(e)".contains("missing on row 2 (checkpoint \"b\", finetuned)"), "\(e)")
        }
        // And a fit that skipped both still refuses before any math.
        XCTAssertThrowsError(try EmergenceFit.run(rows, options: FitOptions())) { e in
            XCTAssertTrue("\(e)".contains("pretrain_loss"), "\(e)")
        }
    }
}
