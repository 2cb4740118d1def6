@testable import Charts
@testable import EmergenceCore
import XCTest

final class EmergenceCDFChartTests: XCTestCase {
    /// Decade ticks "1eNN" under the plot: pixel = a + b·log10(C).
    func logAxis(_ svg: SVGInspector) -> (Double) -> Double {
        let ticks = svg.all("text") { $0.attributes["y"] == "499" && $0.text.hasPrefix("1e") }
            .compactMap { e -> (Double, Double)? in
                guard let px = e.number("x"), let k = Double(e.text.dropFirst(2)) else { return nil }
                return (px, k)
            }
        guard let a = ticks.first, let b = ticks.last, a.1 != b.1 else { return { _ in .nan } }
        return { c in a.0 + (log10(c) - a.1) / (b.1 - a.1) * (b.0 - a.0) }
    }

    func testMLEIntervalAndYouAreHere() throws {
        let result = try Fixture.result("mmlu-like-2e22.result.json")
        let rows = try Fixture.rows("mmlu-like.csv")
        let here = try XCTUnwrap(EmergenceCDFChart.largestCheckpointFlops(rows, maxFlops: 2e22))
        XCTAssertLessThanOrEqual(here, 2e22)
        let text = EmergenceCDFChart.svg(result: result, largestCheckpointFlops: here, options: .init(title: "mmlu-like"))
        XCTAssertEqual(text, EmergenceCDFChart.svg(result: result, largestCheckpointFlops: here, options: .init(title: "mmlu-like")))
        let svg = SVGInspector.parse(text)
        let px = logAxis(svg)
        let flops = try XCTUnwrap(result.emergence.flops)
        let mle = try XCTUnwrap(flops.mle), p5 = try XCTUnwrap(flops.percentiles?["5"]), p95 = try XCTUnwrap(flops.percentiles?["95"])
        let mleLine = try XCTUnwrap(svg.all("line") { $0.attributes["stroke"] == Palette.estimate }.first)
        XCTAssertEqual(try XCTUnwrap(mleLine.number("x1")), px(mle), accuracy: 0.6)
        let hereLine = try XCTUnwrap(svg.all("line") { $0.attributes["stroke"] == Palette.here && $0.attributes["stroke-dasharray"] == "8 4" }.first)
        XCTAssertEqual(try XCTUnwrap(hereLine.number("x1")), px(here), accuracy: 0.6)
        let band = try XCTUnwrap(svg.all("rect") { $0.attributes["fill"] == Palette.band && $0.attributes["fill-opacity"] == "0.28" }.first)
        XCTAssertEqual(try XCTUnwrap(band.number("x")), px(p5), accuracy: 0.6)
        XCTAssertEqual(try XCTUnwrap(band.number("x")) + (try XCTUnwrap(band.number("width"))), px(p95), accuracy: 0.6)
        let texts = svg.texts
        XCTAssertTrue(texts.contains { $0.hasPrefix("Capability expected at 8.1e22 FLOPs (5–95%: 3.3e22–2.7e23)") }, "\(texts)")
        XCTAssertTrue(texts.contains { $0.hasPrefix("you are here:") })
        XCTAssertTrue(texts.contains("P(emerged by C)"))
    }

    func testWithoutComputeEstimateItSaysWhy() throws {
        var result = try Fixture.result("mmlu-like-2e22.result.json")
        result.scalingLaw = nil
        result.emergence.flops = nil
        result.emergence.probabilityEmerged = []
        result.warnings = [.init(code: "no_scaling_law", message: "no flops")]
        let svg = SVGInspector.parse(EmergenceCDFChart.svg(result: result, largestCheckpointFlops: nil))
        XCTAssertTrue(svg.texts.contains { $0.hasPrefix("No compute estimate to draw: no scaling law") }, "\(svg.texts)")

        // Unreachable: E* below L∞.
        result.scalingLaw = .init(source: "fitted", lInf: 1.9, a: 50, b: 0.08, points: 10, rmse: 0.01)
        result.emergence.flops = .init(mle: nil, reachable: false, reachableFraction: 0, percentiles: nil, lowerBound: nil)
        result.warnings = []
        let unreachable = SVGInspector.parse(EmergenceCDFChart.svg(result: result, largestCheckpointFlops: 1e22))
        XCTAssertTrue(unreachable.texts.contains { $0.contains("irreducible loss") }, "\(unreachable.texts)")
    }

    func testNoSignalShowsTheLowerBound() throws {
        let result = try Fixture.result("no-signal.result.json")
        let svg = SVGInspector.parse(EmergenceCDFChart.svg(result: result, largestCheckpointFlops: 5e23))
        XCTAssertTrue(svg.texts.contains { $0.contains("emergence needs more than") }, "\(svg.texts)")
    }

    func testUnreachableUpperPercentileRunsOffTheEdge() throws {
        var result = try Fixture.result("mmlu-like-2e22.result.json")
        result.emergence.flops?.percentiles?["95"] = nil
        result.emergence.flops?.reachableFraction = 0.93
        let text = EmergenceCDFChart.svg(result: result, largestCheckpointFlops: 2e22)
        let svg = SVGInspector.parse(text)
        let band = try XCTUnwrap(svg.all("rect") { $0.attributes["fill"] == Palette.band && $0.attributes["fill-opacity"] == "0.28" }.first)
        XCTAssertEqual(try XCTUnwrap(band.number("x")) + (try XCTUnwrap(band.number("width"))), ChartLayout().plotRight, accuracy: 0.01)
        XCTAssertTrue(svg.texts.contains { $0.contains("unreachable") })
        XCTAssertTrue(svg.texts.contains { $0.contains("Only 93% of samples") })
    }

    func testExtremeComputesDoNotTrap() throws {
        var result = try Fixture.result("mmlu-like-2e22.result.json")
        for extreme in [Double.leastNonzeroMagnitude, 1e-300, 1.7e308, .greatestFiniteMagnitude] {
            result.emergence.flops?.mle = extreme
            result.emergence.probabilityEmerged = [.init(flops: extreme, p: 0.5), .init(flops: 1e22, p: .nan)]
            _ = SVGInspector.parse(EmergenceCDFChart.svg(result: result, largestCheckpointFlops: extreme))
            _ = SVGInspector.parse(BacktestChart.svg(points: [.init(maxFlops: extreme, predicted: 1.8)], observedEmergenceLoss: 1.8,
                                                     options: .init(emergenceFlops: extreme)))
        }
    }
}
