import XCTest
@testable import EmergenceCore

/// Back-testing against the observed emergence.
final class WorkflowBacktestTests: XCTestCase {
    static func fitOptions() -> FitOptions {
        var o = FitOptions()
        o.bootstrap = 60   // debug build: keep it quick
        o.seed = 3
        return o
    }

    /// The back-test at 2e22 is `emergence fit --max-flops 2e22` with the same options and seed, to
    /// the byte; success is |error| < 0.1 nats; the horizon is C(first post-emergence) / cutoff.
    func testCutoffAgreesWithTheFitAndScoresIt() throws {
        let rows = try ReferenceCrossCheckTests.load("mmlu-like")
        var options = BacktestOptions(cutoffs: [2e22, 1e22], fit: Self.fitOptions())
        options.observeBootstrap = 100
        let r = try Backtest.run(rows, options: options)
        XCTAssertEqual(r.cutoffs.map(\.maxFlops), [1e22, 2e22])
        var direct = Self.fitOptions()
        direct.maxFlops = 2e22
        let fit = try EmergenceFit.run(rows, options: direct)
        let at = r.cutoffs[1]
        XCTAssertEqual(try XCTUnwrap(at.fit).jsonData(), try fit.jsonData())
        XCTAssertEqual(at.predicted?.loss?.mle, fit.emergence.loss.mle)
        XCTAssertEqual(r.observation.status, .ok)
        let observed = try XCTUnwrap(r.observation.emergence.loss?.mle)
        XCTAssertEqual(at.observed.loss?.mle, observed)
        for c in r.cutoffs {
            let error = try XCTUnwrap(c.errorNats)
            XCTAssertEqual(error, try XCTUnwrap(c.predicted?.loss?.mle) - observed, accuracy: 1e-12)
            XCTAssertEqual(c.success, abs(error) < 0.1)
            let first = try XCTUnwrap(r.observation.firstEmerged?.flops)
            XCTAssertEqual(try XCTUnwrap(c.horizon), first / c.maxFlops, accuracy: 1e-9)
            XCTAssertNotNil(c.errorLog10Flops)
        }
        XCTAssertTrue(at.success, "the 2e22 prediction lands within 0.1 nats of the observed emergence on mmlu-like")
        XCTAssertEqual(r.horizon, r.cutoffs.filter(\.success).compactMap(\.horizon).max())
    }

    func testACutoffBelowEveryCheckpointHasNoData() throws {
        let rows = try ReferenceCrossCheckTests.load("gsm8k-like")
        var options = BacktestOptions(cutoffs: [1e10], fit: Self.fitOptions())
        options.observeBootstrap = 20
        let r = try Backtest.run(rows, options: options)
        XCTAssertEqual(r.cutoffs.first?.status, .noData)
        XCTAssertEqual(r.cutoffs.first?.success, false)
        XCTAssertNil(r.horizon)
    }

    func testOptionsAreValidatedAndBounded() throws {
        var o = BacktestOptions(cutoffs: [], fit: FitOptions())
        XCTAssertTrue(o.problems().contains { $0.field == "cutoffs" })
        o.cutoffs = (1...21).map { Double($0) * 1e21 }
        XCTAssertTrue(o.problems().contains { $0.field == "cutoffs" })
        o.cutoffs = [1e22, .infinity, 1e22]
        XCTAssertEqual(Set(o.problems().map(\.field)), ["cutoffs[1]", "cutoffs"])
        o.cutoffs = [1e22]
        o.fit.maxFlops = 1e22
        XCTAssertEqual(o.problems().map(\.field), ["max_flops"])
        // The whole back-test gets one fit's budget: 20 cutoffs × 10,000 resamples is too much.
        o.fit.maxFlops = nil
        o.fit.bootstrap = 10_000
        o.cutoffs = (1...20).map { Double($0) * 1e21 }
        XCTAssertTrue(o.problems().contains { $0.field == "cutoffs" && $0.reason.contains("work budget") })
        XCTAssertThrowsError(try Backtest.run([], options: o)) { error in
            guard case .invalidOptions = error as? FitError else { return XCTFail("\(error)") }
        }
    }

    /// The body is flat: the fit's keys beside cutoffs; the encoding is canonical.
    func testOptionsJSONIsFlat() throws {
        let body = #"{"cutoffs":[5e21,2e22],"bootstrap":200,"seed":7,"form":"power","observe_bootstrap":50}"#
        let o = try JSONDecoder().decode(BacktestOptions.self, from: Data(body.utf8))
        XCTAssertEqual(o.cutoffs, [5e21, 2e22])
        XCTAssertEqual(o.fit.bootstrap, 200)
        XCTAssertEqual(o.fit.seed, 7)
        XCTAssertEqual(o.fit.form, .power)
        XCTAssertEqual(o.observeBootstrap, 50)
        let encoded = try FitResult.makeEncoder(pretty: false).encode(o)
        XCTAssertEqual(try JSONDecoder().decode(BacktestOptions.self, from: encoded), o)
        let keys = try XCTUnwrap(JSONSerialization.jsonObject(with: encoded) as? [String: Any]).keys
        XCTAssertTrue(keys.contains("cutoffs") && keys.contains("bootstrap") && keys.contains("mcmc_walkers"))
    }
}
