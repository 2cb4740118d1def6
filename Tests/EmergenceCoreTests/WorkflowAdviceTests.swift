import XCTest
@testable import EmergenceCore

/// Ranking the next experiments by the expected width of E*'s interval.
final class WorkflowAdviceTests: XCTestCase {
    static func options() -> AdviceOptions {
        var f = FitOptions()
        f.bootstrap = 40
        f.seed = 2
        f.maxFlops = 2e22
        var o = AdviceOptions(fit: f)
        o.simulations = 2
        o.refitBootstrap = 20
        o.dataAmounts = [50]
        o.checkpointFlops = [4e22]
        return o
    }

    func testRanksCandidatesByExpectedWidth() throws {
        let rows = try ReferenceCrossCheckTests.load("mmlu-like")
        let r = try Advice.run(rows, options: Self.options())
        XCTAssertEqual(r.status, .ok)
        XCTAssertEqual(r.candidates.count, 2)
        XCTAssertEqual(r.candidates.map(\.rank), [1, 2])
        XCTAssertLessThanOrEqual(r.candidates[0].width.expected, r.candidates[1].width.expected)
        XCTAssertEqual(r.refits, 6)                 // (1 baseline + 2 candidates) × 2 simulations
        XCTAssertEqual(r.resamples, 6 * 20)
        let baseline = try XCTUnwrap(r.baseline)
        for c in r.candidates {
            XCTAssertEqual(c.narrowing, baseline.expected - c.width.expected, accuracy: 1e-12)
            XCTAssertGreaterThan(c.rows, 0)
        }
        let checkpoint = try XCTUnwrap(r.candidates.first { $0.kind == .checkpoint })
        XCTAssertEqual(checkpoint.flops, 4e22)
        XCTAssertNotNil(checkpoint.pretrainLoss)
        // The checkpoint lies past the base's max_flops: the refits keep it (a refit that dropped it
        // would reproduce the baseline's widths exactly).
        XCTAssertNotEqual(checkpoint.width.expected, baseline.expected)
        // Reproducible.
        XCTAssertEqual(try Advice.run(rows, options: Self.options()).jsonData(), try r.jsonData())
    }

    func testNoModelWithoutSignal() throws {
        var o = Self.options()
        o.fit.maxFlops = nil
        let r = try Advice.run(ReferenceCrossCheckTests.load("no-signal"), options: o)
        XCTAssertEqual(r.status, .noModel)
        XCTAssertTrue(r.candidates.isEmpty)
    }

    func testDefaultGridAndBounds() throws {
        var o = AdviceOptions()
        XCTAssertEqual(o.candidateCount, 7)
        XCTAssertTrue(o.problems().isEmpty)
        o.simulations = 51
        o.refitBootstrap = 10
        o.checkpointFlops = Array(repeating: 1e22, count: 20)
        XCTAssertEqual(Set(o.problems().map(\.field)), ["simulations", "refit_bootstrap", "data_amounts"])
        // Within the caps but over the budget: 21 designs × 50 simulations × 1,000 resamples.
        o = AdviceOptions()
        o.simulations = 50
        o.refitBootstrap = 1000
        o.dataAmounts = Array(repeating: 100, count: 10)
        o.checkpointFlops = Array(repeating: 1e22, count: 10)
        XCTAssertEqual(o.problems().map(\.field), ["simulations"])
    }
}
