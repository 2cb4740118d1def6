@testable import Charts
import EmergenceCore
import XCTest

/// `BacktestChart.points(result:)`/`svg(result:options:)`: a real back-test's result becomes the
/// chart's points one for one, with the result's own verdicts and the observed emergence.
final class BacktestChartResultTests: XCTestCase {
    private func backtest(_ csv: String, cutoffs: [Double]) throws -> BacktestResult {
        var o = BacktestOptions(cutoffs: cutoffs)
        o.fit.bootstrap = 20
        o.fit.seed = 1
        o.observeBootstrap = 20
        return try Backtest.run(try Fixture.rows(csv), options: o, threads: 1)
    }

    func testEachCutoffIsAPointWithTheResultsEstimateAndVerdict() throws {
        let result = try backtest("mmlu-like.csv", cutoffs: [1e21, 2e22, 4e22])
        XCTAssertEqual(result.observation.status, .ok)
        let points = BacktestChart.points(result: result)
        XCTAssertEqual(points.map(\.maxFlops), result.cutoffs.map(\.maxFlops))
        for (p, c) in zip(points, result.cutoffs) {
            XCTAssertEqual(p.predicted, c.predicted?.loss?.mle)
            XCTAssertEqual(p.p5, c.predicted?.loss?.percentiles?["5"])
            XCTAssertEqual(p.p95, c.predicted?.loss?.percentiles?["95"])
            XCTAssertEqual(p.status, c.status.rawValue)
            XCTAssertEqual(p.success, c.errorNats == nil ? nil : c.success, "the result's verdict, not the chart's")
        }
        let text = BacktestChart.svg(result: result, options: .init(title: "mmlu back-test", tolerance: 5, emergenceFlops: 1))
        let svg = SVGInspector.parse(text)
        let observed = try XCTUnwrap(result.observation.emergence.loss?.mle)
        XCTAssertTrue(svg.texts.contains { $0.hasPrefix("observed emergence \(ChartNumber.fixed(observed, 3)) ± 0.10") },
                      "the result's threshold replaces the options' tolerance: \(svg.texts)")
        XCTAssertNotNil(result.observation.firstEmerged?.flops)
        XCTAssertTrue(svg.texts.contains("first emerged checkpoint"), "the first emerged checkpoint is marked: \(svg.texts)")
        XCTAssertEqual(svg.texts.first, "mmlu back-test")
    }

    func testNothingIsJudgedWhenEmergenceIsNotObserved() throws {
        let result = try backtest("no-signal.csv", cutoffs: [1e22])
        XCTAssertNotEqual(result.observation.status, .ok)
        XCTAssertEqual(BacktestChart.points(result: result).map(\.success), [nil])
        let svg = SVGInspector.parse(BacktestChart.svg(result: result))
        XCTAssertTrue(svg.texts.contains("No observed emergence loss: success is not judged."), "\(svg.texts)")
        XCTAssertTrue(svg.texts.contains { $0.hasPrefix("Emergence is not observed in the checkpoints (") }, "\(svg.texts)")
        XCTAssertTrue(svg.all("circle") { $0.number("r") == 5 }.allSatisfy { $0.attributes["fill"] == "#777777" })
    }
}
