@testable import Charts
import XCTest

final class BacktestChartTests: XCTestCase {
    func testPointsIntervalsAndSuccessBand() throws {
        let points: [BacktestChart.Point] = [
            .init(maxFlops: 1e21, predicted: nil, status: "no_signal"),
            .init(maxFlops: 5e21, predicted: 1.70, p5: 1.55, p95: 1.80, status: "ok"),
            .init(maxFlops: 1e22, predicted: 1.82, p5: 1.77, p95: 1.90, status: "ok"),
            .init(maxFlops: 2e22, predicted: 1.86, p5: 1.83, p95: 1.89, status: "ok", success: true),
        ]
        let text = BacktestChart.svg(points: points, observedEmergenceLoss: 1.85, options: .init(title: "mmlu <back-test>", emergenceFlops: 8e22))
        XCTAssertEqual(text, BacktestChart.svg(points: points, observedEmergenceLoss: 1.85, options: .init(title: "mmlu <back-test>", emergenceFlops: 8e22)))
        let svg = SVGInspector.parse(text)
        let dots = svg.all("circle") { $0.number("r") == 5 }
        XCTAssertEqual(dots.map { $0.attributes["fill"] ?? "" }, ["#c0392b", "#2a7d2e", "#2a7d2e"], "5e21 misses by 0.15 nats; the others are within 0.1")
        XCTAssertTrue(svg.texts.contains { $0.hasPrefix("4 cutoffs; 2 of 3 judged within 0.10 nats") }, "\(svg.texts)")
        XCTAssertTrue(svg.texts.contains { $0.contains("gave no point estimate") })
        XCTAssertEqual(svg.texts.first, "mmlu <back-test>")
        // Cutoffs grow to the right.
        let xs = dots.compactMap { $0.number("cx") }
        XCTAssertEqual(xs, xs.sorted())
    }

    func testEmptyAndUnjudged() throws {
        let empty = SVGInspector.parse(BacktestChart.svg(points: [], observedEmergenceLoss: nil))
        XCTAssertTrue(empty.texts.contains("No back-test points to draw."))
        let unjudged = SVGInspector.parse(BacktestChart.svg(points: [.init(maxFlops: 1e22, predicted: 1.8, p5: .nan, p95: 1.9)], observedEmergenceLoss: nil))
        XCTAssertEqual(unjudged.all("circle") { $0.number("r") == 5 }.first?.attributes["fill"], "#777777")
    }
}
