import XCTest
@testable import EmergenceCore

/// Which of two studies reaches the capability first.
final class WorkflowComparisonTests: XCTestCase {
    static func options() -> ComparisonOptions {
        var o = FitOptions()
        o.bootstrap = 150   // debug build: keep it quick
        o.seed = 1
        o.maxFlops = 2e22
        return ComparisonOptions(fit: o)
    }

    /// gsm8k-like emerges at 1.25e22 FLOPs, mmlu-like at 7.4e22 (truth.json: 5.9× apart; same
    /// simulated model family and scaling law).
    func testStudiesThreeTimesApartAreOrdered() throws {
        let early = try ReferenceCrossCheckTests.load("gsm8k-like")
        let late = try ReferenceCrossCheckTests.load("mmlu-like")
        let r = try Comparison.run(a: early, b: late, options: Self.options())
        XCTAssertGreaterThan(try XCTUnwrap(r.probabilityAFirst), 0.9)
        XCTAssertLessThan(try XCTUnwrap(r.log10FlopsDifference?.mle), 0)
        XCTAssertNotNil(r.log10FlopsDifference?.percentiles?["5"])
        XCTAssertEqual(r.a.emergence.loss.mle, try EmergenceFit.run(early, options: Self.options().fit).emergence.loss.mle)
        // The other way round.
        let swapped = try Comparison.run(a: late, b: early, options: Self.options())
        XCTAssertLessThan(try XCTUnwrap(swapped.probabilityAFirst), 0.1)
        XCTAssertEqual(try XCTUnwrap(swapped.probabilityAFirst), 1 - r.probabilityAFirst!, accuracy: 1e-9)
    }

    /// Two studies simulated from the same truth (mmlu-like, seeds 1 and 2, as `emergence simulate
    /// --scenario mmlu-like --seed 1|2` writes them): neither is clearly first.
    func testSameTruthDifferentSeedsIsUndecided() throws {
        let s = try XCTUnwrap(SimulationScenario.named["mmlu-like"])
        let a = Simulator.simulate(s, seed: 1).evaluations
        let b = Simulator.simulate(s, seed: 2).evaluations
        let r = try Comparison.run(a: a, b: b, options: Self.options())
        let p = try XCTUnwrap(r.probabilityAFirst)
        XCTAssertGreaterThan(p, 0.2)
        XCTAssertLessThan(p, 0.8)
        let d = try XCTUnwrap(r.log10FlopsDifference?.percentiles)
        XCTAssertLessThan(try XCTUnwrap(d["5"]), 0)
        XCTAssertGreaterThan(try XCTUnwrap(d["95"]), 0)
    }

    func testProbabilityOverPairs() {
        XCTAssertEqual(Comparison.probabilityLess([1, 2], [3, 4]), 1)
        XCTAssertEqual(Comparison.probabilityLess([3, 4], [1, 2]), 0)
        XCTAssertEqual(Comparison.probabilityLess([1, 3], [2]), 0.5)
        // Ties count half, and two unreachable samples tie.
        XCTAssertEqual(Comparison.probabilityLess([2, .infinity], [2, .infinity]), 0.5)
        XCTAssertEqual(Comparison.probabilityLess([1], [.infinity]), 1)
        XCTAssertNil(Comparison.probabilityLess([], [1]))
    }

    func testOptionsNeedSamples() {
        var o = Self.options()
        o.fit.uncertainty = .none
        XCTAssertEqual(o.problems().map(\.field), ["uncertainty"])
        XCTAssertThrowsError(try Comparison.run(a: [], b: [], options: o))
        var ok = Self.options()
        ok.fit.bootstrap = 60_000   // two fits: 120,000 resamples over the budget of 100,000
        XCTAssertTrue(ok.problems().contains { $0.reason.contains("work budget") })
    }

    func testAStudyWithoutFinetunedRowsIsNamed() throws {
        let b = try ReferenceCrossCheckTests.load("gsm8k-like")
        let a = b.filter { $0.setting == .fewShot }
        XCTAssertThrowsError(try Comparison.run(a: a, b: b, options: Self.options())) { error in
            guard case .invalidOptions(let p) = error as? FitError else { return XCTFail("\(error)") }
            XCTAssertEqual(p.map(\.field), ["a"])
        }
    }
}
