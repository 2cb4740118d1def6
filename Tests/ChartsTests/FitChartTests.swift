@testable import Charts
@testable import EmergenceCore
import XCTest

final class FitChartTests: XCTestCase {
    /// The x-axis as drawn: (pixel, value) of each tick label under the plot, and the linear map
    /// value → pixel through them, so positions can be checked against the JSON's numbers.
    func xAxis(_ svg: SVGInspector, labelY: String = "499") -> (ticks: [(Double, Double)], map: (Double) -> Double) {
        let ticks = svg.all("text") { $0.attributes["y"] == labelY && $0.attributes["text-anchor"] == "middle" }
            .compactMap { e -> (Double, Double)? in
                guard let px = e.number("x"), let v = Double(e.text) else { return nil }
                return (px, v)
            }
            .sorted { $0.0 < $1.0 }
        guard let a = ticks.first, let b = ticks.last, b.1 != a.1 else { return (ticks, { _ in .nan }) }
        return (ticks, { v in a.0 + (v - a.1) / (b.1 - a.1) * (b.0 - a.0) })
    }

    func okChart() throws -> (String, FitResult, [Evaluation]) {
        let result = try Fixture.result("mmlu-like-2e22.result.json")
        let rows = try Fixture.rows("mmlu-like.csv")
        return (FitChart.svg(result: result, evaluations: rows, options: .init(title: "mmlu-like", chance: 0.25, maxFlops: 2e22)), result, rows)
    }

    func testBandEstimateAndCurvesSitWhereTheResultPutsThem() throws {
        let (text, result, _) = try okChart()
        let svg = SVGInspector.parse(text)
        let (ticks, px) = xAxis(svg)
        XCTAssertGreaterThanOrEqual(ticks.count, 4)
        // Reversed: values fall as pixels grow (capability to the right).
        XCTAssertTrue(zip(ticks, ticks.dropFirst()).allSatisfy { $0.0 < $1.0 && $0.1 > $1.1 }, "\(ticks)")

        let mle = try XCTUnwrap(result.emergence.loss.mle)
        let p5 = try XCTUnwrap(result.emergence.loss.percentiles?["5"]), p95 = try XCTUnwrap(result.emergence.loss.percentiles?["95"])
        let estimate = try XCTUnwrap(svg.all("line") { $0.attributes["stroke"] == Palette.estimate && $0.attributes["stroke-width"] == "2" }.first)
        XCTAssertEqual(try XCTUnwrap(estimate.number("x1")), px(mle), accuracy: 0.6)
        let band = try XCTUnwrap(svg.all("rect") { $0.attributes["fill"] == Palette.band && $0.attributes["fill-opacity"] == "0.28" }.first)
        let left = try XCTUnwrap(band.number("x")), width = try XCTUnwrap(band.number("width"))
        XCTAssertEqual(left, px(p95), accuracy: 0.6, "the band's left edge is the higher loss, the 95th percentile")
        XCTAssertEqual(left + width, px(p5), accuracy: 0.6)

        // One curve per data amount, and the few-shot curve whose elbow is E*.
        let amounts = result.data.dataAmounts
        let curves = svg.all("polyline") { $0.attributes["stroke-width"] == "1.8" }
        XCTAssertEqual(curves.count, amounts.count)
        let fewShot = try XCTUnwrap(svg.all("polyline") { $0.attributes["stroke-dasharray"] == "7 4" }.first)
        let elbow = try XCTUnwrap(fewShot.attributes["points"]?.split(separator: " ").dropFirst().first)
        XCTAssertEqual(try XCTUnwrap(Double(elbow.split(separator: ",")[0])), px(mle), accuracy: 0.6)

        // Every row drawn: used ones filled, the 13 above max_flops hollow and grey.
        let plotRight = ChartLayout().plotRight
        let hollow = (svg.all("circle") + svg.all("polygon")).filter {
            $0.attributes["stroke"] == Palette.unused && $0.attributes["fill"] == "none" && ($0.number("cx") ?? 0) < plotRight
        }
        XCTAssertEqual(hollow.count, result.data.excludedRows)
        let filled = svg.all("circle") { $0.attributes["fill-opacity"] == "0.85" } + svg.all("polygon") { $0.attributes["fill"] == Palette.fewShot && $0.attributes["fill-opacity"] == "0.85" }
        XCTAssertEqual(filled.count, result.data.rows)

        let texts = svg.texts
        XCTAssertTrue(texts.contains("D = 100,000"), "legend gives D")
        XCTAssertTrue(texts.contains("chance 0.25"))
        XCTAssertTrue(texts.contains("E* = 1.847 (5–95%: 1.772–1.909)"), "\(texts)")
        XCTAssertTrue(texts.contains { $0.hasPrefix("Warning (competing_optima)") })
        XCTAssertTrue(texts.contains { $0.contains("pretraining loss") }, "labelled x-axis")
        XCTAssertTrue(texts.contains("accuracy"), "labelled y-axis")
    }

    func testSameInputSameBytes() throws {
        let (a, result, rows) = try okChart()
        let b = FitChart.svg(result: result, evaluations: rows.reversed().reversed(), options: .init(title: "mmlu-like", chance: 0.25, maxFlops: 2e22))
        XCTAssertEqual(a, b)
    }

    func testUserTextIsEscaped() throws {
        let result = try Fixture.result("mmlu-like-2e22.result.json")
        var rows = try Fixture.rows("mmlu-like.csv")
        rows[0].checkpoint = "<ckpt a=\"1\">&'\u{1}\u{FFFF}"
        rows[1].subset = "]]><!--"
        let title = "<script>alert('x')</script> & \"study\"\u{7}"
        let text = FitChart.svg(result: result, evaluations: rows, options: .init(title: title))
        XCTAssertFalse(text.contains("<script>"))
        let svg = SVGInspector.parse(text)
        XCTAssertEqual(svg.texts.first, "<script>alert('x')</script> & \"study\"\u{FFFD}")
        XCTAssertTrue(svg.all("title").contains { $0.text.hasPrefix("<ckpt a=\"1\">&'\u{FFFD}\u{FFFD}") })
    }

    func testEveryStatusDrawsWhatExists() throws {
        let rows = try Fixture.rows("mmlu-like.csv")
        // already_emerged: an observed elbow.
        let emerged = SVGInspector.parse(FitChart.svg(result: try Fixture.result("mmlu-like-all.result.json"), evaluations: rows))
        XCTAssertTrue(emerged.texts.contains { $0.contains("already_emerged") })
        XCTAssertTrue(emerged.texts.contains("fitted floor B = 0.2534"), "without a chance, the fitted floor is drawn")

        // no_signal: a bound, no curves, no estimate line.
        let noSignal = try Fixture.result("no-signal.result.json")
        let ns = SVGInspector.parse(FitChart.svg(result: noSignal, evaluations: try Fixture.rows("no-signal.csv"), options: .init(chance: 0.25)))
        XCTAssertTrue(ns.texts.contains { $0.hasPrefix("E* < 1.725") }, "\(ns.texts)")
        XCTAssertTrue(ns.all("polyline").isEmpty)
        XCTAssertTrue(ns.texts.contains("No fitted parameters: the rows are drawn without curves."))

        // insufficient_data: points only.
        var thin = try Fixture.result("mmlu-like-2e22.result.json")
        thin.status = .insufficientData
        thin.parameters = nil
        thin.emergence = .init(loss: .init(), flops: nil, probabilityEmerged: [])
        let insufficient = SVGInspector.parse(FitChart.svg(result: thin, evaluations: rows))
        XCTAssertTrue(insufficient.all("polyline").isEmpty)
        XCTAssertEqual(insufficient.all("circle") { $0.attributes["fill-opacity"] == "0.85" }.count, rows.filter { $0.setting == .finetuned }.count)

        // A one-sided interval (what a `not_identified` fit may give): no estimate, the side shaded.
        var oneSided = try Fixture.result("mmlu-like-2e22.result.json")
        oneSided.emergence.loss = .init(mle: nil, upperBound: nil, intervalMethod: "mcmc", percentiles: ["95": 1.9])
        let os = SVGInspector.parse(FitChart.svg(result: oneSided, evaluations: rows))
        XCTAssertTrue(os.texts.contains("E* one-sided bound"))
        XCTAssertTrue(os.all("line") { $0.attributes["stroke"] == Palette.estimate }.isEmpty)

        // Nonsense numbers: nothing non-finite reaches the document, far markers are named instead.
        var wild = try Fixture.result("mmlu-like-2e22.result.json")
        wild.parameters?.k = .nan
        wild.emergence.loss.percentiles?["5"] = -400
        wild.emergence.loss.mle = .infinity
        let wildText = FitChart.svg(result: wild, evaluations: rows)
        XCTAssertFalse(wildText.lowercased().contains("nan"))
        XCTAssertFalse(wildText.contains("inf"))
        XCTAssertTrue(SVGInspector.parse(wildText).texts.contains { $0.hasPrefix("Beyond the axis, not drawn: the 5th percentile") })

        // No rows at all.
        _ = SVGInspector.parse(FitChart.svg(result: thin, evaluations: []))
    }

    func testManyRowsAreAveragedPerCheckpointAndAmount() throws {
        let result = try Fixture.result("mmlu-like-2e22.result.json")
        let rows = try Fixture.rows("mmlu-like.csv")
        var many: [Evaluation] = []
        for i in 0..<30 { many += rows.map { var r = $0; r.subset = "s\(i)"; return r } }
        let svg = SVGInspector.parse(FitChart.svg(result: result, evaluations: many, options: .init(maxFlops: 2e22)))
        XCTAssertTrue(svg.texts.contains { $0.hasPrefix("More than 2000 rows") })
        XCTAssertLessThanOrEqual(svg.all("circle").count + svg.all("polygon").count, rows.count + 20)
    }
}
