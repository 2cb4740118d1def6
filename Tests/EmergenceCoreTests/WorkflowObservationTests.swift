import XCTest
@testable import EmergenceCore

/// The observed emergence point (ReLU of few-shot accuracy against loss).
final class WorkflowObservationTests: XCTestCase {
    struct Truth: Decodable { var emergence_loss: Double?; var emergence_flops: Double? }

    static func truth(_ study: String) throws -> Truth {
        let url = try XCTUnwrap(Bundle.module.url(forResource: "Fixtures/truth", withExtension: "json"))
        let all = try JSONDecoder().decode([String: Truth].self, from: Data(contentsOf: url))
        return try XCTUnwrap(all[study])
    }

    /// Fewer resamples than the CLI's 1,000: the debug build is ~10× slower.
    static func options(bootstrap: Int = 300) -> ObserveOptions {
        var o = ObserveOptions()
        o.bootstrap = bootstrap
        o.seed = 1
        return o
    }

    /// On the studies that reach past their emergence, within 0.1 nats of the
    /// truth's emergence_loss, with the truth inside the 5–95 interval.
    func testObservedEmergenceMatchesTheTruth() throws {
        for study in ["mmlu-like", "csqa-like", "cola-like", "gsm8k-like"] {
            let rows = try ReferenceCrossCheckTests.load(study)
            let truth = try XCTUnwrap(Self.truth(study).emergence_loss)
            let r = try Observation.run(rows, options: Self.options())
            XCTAssertEqual(r.status, .ok, study)
            let mle = try XCTUnwrap(r.emergence.loss?.mle, study)
            XCTAssertEqual(mle, truth, accuracy: 0.1, study)
            let p = try XCTUnwrap(r.emergence.loss?.percentiles, study)
            let lo = try XCTUnwrap(p["5"]), hi = try XCTUnwrap(p["95"])
            XCTAssertLessThanOrEqual(lo, truth, study)
            XCTAssertGreaterThanOrEqual(hi, truth, study)
            // FLOPs through the fitted scaling law, and the first checkpoint past the elbow.
            let flops = try XCTUnwrap(r.emergence.flops?.mle, study)
            XCTAssertGreaterThan(flops, 0)
            let first = try XCTUnwrap(r.firstEmerged, study)
            XCTAssertLessThan(try XCTUnwrap(first.pretrainLoss), mle, study)
            XCTAssertEqual(r.scalingLaw?.source, "fitted")
        }
    }

    func testPreEmergenceAndNoSignalStudiesHaveNotYetEmerged() throws {
        var o = Self.options(bootstrap: 50)
        o.maxFlops = 2e22   // mmlu-like emerges at 7.4e22: every few-shot row here is at the floor
        let pre = try Observation.run(ReferenceCrossCheckTests.load("mmlu-like"), options: o)
        XCTAssertEqual(pre.status, .notYetEmerged)
        XCTAssertNil(pre.emergence.loss?.mle)
        XCTAssertNotNil(pre.emergence.loss?.upperBound)
        XCTAssertNotNil(pre.emergence.flops?.lowerBound)
        let said = try XCTUnwrap(pre.warnings.first { $0.code == "not_yet_emerged" }?.message)
        XCTAssertTrue(said.contains("of 99 studies simulated from the floor with these checkpoints reached it"), said)

        let none = try Observation.run(ReferenceCrossCheckTests.load("no-signal"), options: Self.options(bootstrap: 50))
        XCTAssertEqual(none.status, .notYetEmerged)
        XCTAssertTrue(none.warnings.contains { $0.code == "not_yet_emerged" })
    }

    func testDeterministicAndIndependentOfRowOrder() throws {
        let rows = try ReferenceCrossCheckTests.load("gsm8k-like")
        let a = try Observation.run(rows, options: Self.options(bootstrap: 100)).jsonData()
        let b = try Observation.run(rows.reversed(), options: Self.options(bootstrap: 100)).jsonData()
        XCTAssertEqual(a, b)
    }

    func testFlopsAxis() throws {
        var o = Self.options(bootstrap: 100)
        o.axis = .flops
        let r = try Observation.run(ReferenceCrossCheckTests.load("gsm8k-like"), options: o)
        XCTAssertEqual(r.status, .ok)
        let truth = try XCTUnwrap(Self.truth("gsm8k-like").emergence_flops)
        let flops = try XCTUnwrap(r.emergence.flops?.mle)
        // Within a factor of 2 of the truth's FLOPs (the checkpoints are a factor 2 apart in tokens).
        XCTAssertEqual(log10(flops), log10(truth), accuracy: log10(2.0))
        XCTAssertEqual(try XCTUnwrap(r.emergence.loss?.mle), 1.98, accuracy: 0.1)
    }

    func testTooFewCheckpointsAndBadInput() throws {
        let rows = try ReferenceCrossCheckTests.load("mmlu-like").filter { $0.setting == .fewShot }.prefix(2)
        let r = try Observation.run(Array(rows), options: Self.options(bootstrap: 10))
        XCTAssertEqual(r.status, .insufficientData)
        XCTAssertThrowsError(try Observation.run([], options: Self.options())) { XCTAssertEqual($0 as? FitError, .noRows) }
        var bad = Self.options()
        bad.bootstrap = -1
        bad.maxFlops = .nan
        XCTAssertEqual(Set(bad.problems().map(\.field)), ["bootstrap", "max_flops"])
        XCTAssertThrowsError(try Observation.run(Array(rows), options: bad))
    }

    func testOptionsJSON() throws {
        let o = try JSONDecoder().decode(ObserveOptions.self, from: Data(#"{"axis":"flops","bootstrap":10}"#.utf8))
        XCTAssertEqual(o.axis, .flops)
        XCTAssertEqual(o.bootstrap, 10)
        XCTAssertEqual(o.seed, 0)
        let text = String(decoding: try FitResult.makeEncoder(pretty: false).encode(o), as: UTF8.self)
        XCTAssertEqual(text, #"{"axis":"flops","bootstrap":10,"max_flops":null,"scaling_law":null,"seed":0}"#)
        XCTAssertEqual(try JSONDecoder().decode(ObserveOptions.self, from: Data(text.utf8)), o)
    }
}
