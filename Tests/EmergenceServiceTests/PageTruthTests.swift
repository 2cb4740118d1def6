@testable import EmergenceCore
import Foundation
import XCTest
@testable import EmergenceService

/// Pages tell the truth: each sentence the study page generates about its numbers is checked against
/// the numbers on the same page.
final class PageTruthTests: XCTestCase {
    private func result(status: FitResult.Status, mle: Double?, interval: (Double, Double)?, upperBound: Double? = nil,
                        warnings: [FitResult.Warning]) -> FitResult {
        let percentiles = interval.map { ["5": $0.0, "50": mle ?? $0.0, "95": $0.1] }
        return FitResult(status: status, warnings: warnings, form: .logPower, d0: 5, delta: true, noise: .gaussian, seed: 1,
                         data: .init(rows: 40, fewShotRows: 10, finetunedRows: 30, checkpoints: 10, dataAmounts: [100, 1000, 10000],
                                     excludedRows: 0, lossRange: [1.9, 3.1]),
                         parameters: nil, fit: nil,
                         emergence: .init(loss: .init(mle: mle, upperBound: upperBound, intervalMethod: interval == nil ? nil : "bootstrap",
                                                      percentiles: percentiles),
                                          flops: nil, probabilityEmerged: []),
                         uncertainty: .init(bootstrap: nil, mcmc: nil), scalingLaw: nil)
    }

    /// The page: the loss sentence (E* and its interval, as shown) and the warnings table.
    private func page(_ r: FitResult) -> String { StudyPages.lossSentence(r) + "\n" + StudyPages.warnings(r) }

    /// The explanation cell of `code`.
    private func explanation(_ html: String, _ code: String) throws -> String {
        let row = try XCTUnwrap(html.components(separatedBy: "<tr data-warning=\"\(code)\">").dropFirst().first)
        return try XCTUnwrap(row.components(separatedBy: "<td>").dropFirst(2).first?.components(separatedBy: "</td>").first)
    }

    /// Every three-decimal number an explanation cites is one the page shows elsewhere (the loss
    /// sentence's data, or the fit's own message beside it).
    private func assertNumbersAppearOnThePage(_ html: String, _ text: String, file: StaticString = #filePath, line: UInt = #line) {
        let rest = html.replacingOccurrences(of: text, with: "")
        let regex = try! NSRegularExpression(pattern: "[0-9]+\\.[0-9]{3}")
        for m in regex.matches(in: text, range: NSRange(text.startIndex..., in: text)) {
            let n = String(text[Range(m.range, in: text)!])
            XCTAssertTrue(rest.contains(n), "the explanation cites \(n), which the page does not show elsewhere", file: file, line: line)
        }
    }

    func testCompetingOptimaSaysWhetherTheIntervalCoversTheOtherOptimum() throws {
        let message = "another local optimum is nearly as likely (Δlog L = 0.80) but predicts E* = 1.762 instead of 1.840. Finetune at more data amounts"
        let outside = page(result(status: .ok, mle: 1.840, interval: (1.772, 1.909), warnings: [.init(code: "competing_optima", message: message)]))
        let said = try explanation(outside, "competing_optima")
        XCTAssertFalse(said.contains("covers both"), said)
        XCTAssertTrue(said.contains("1.762 lies outside it"), said)
        XCTAssertTrue(said.contains("(1.772–1.909)"), said)
        XCTAssertTrue(outside.contains(">1.772</data>") && outside.contains(">1.909</data>"), "the interval the sentence cites is the page's")
        assertNumbersAppearOnThePage(outside, said)

        let inside = page(result(status: .ok, mle: 1.840, interval: (1.700, 1.909),
                                 warnings: [.init(code: "competing_optima", message: message)]))
        let saidInside = try explanation(inside, "competing_optima")
        XCTAssertTrue(saidInside.contains("covers both"), saidInside)
        assertNumbersAppearOnThePage(inside, saidInside)
    }

    func testAlphaAtBoundSaysTheBandAndHeadlinesNoEstimate() throws {
        let message = "the law's curvature is not identified (α̂ = 0.05, at its bound 0.05): a nearly flat law in ln D fits best, but for α between 0.05 and 2.10 the data put E* between 1.512 and 1.877"
        let w = FitResult.Warning(code: "alpha_at_bound", message: message)
        var banded = result(status: .ok, mle: nil, interval: (1.55, 1.86), warnings: [w])
        banded.emergence.loss.alphaBand = .init(alphaLow: 0.05, alphaHigh: 2.1, lossLow: 1.512, lossHigh: 1.877)
        let html = page(banded)
        XCTAssertTrue(html.contains("No single emergence loss"), html)
        XCTAssertFalse(html.contains("E* ="), "no estimate is headlined")
        let said = try explanation(html, "alpha_at_bound")
        XCTAssertTrue(said.contains("between 1.512 and 1.877"), said)
        XCTAssertTrue(said.contains("the interval shown spreads over that range"), said)
        assertNumbersAppearOnThePage(html, said)

        // not_identified: no interval on the page, so none is said to spread over the band.
        let bound = page(result(status: .notIdentified, mle: nil, interval: nil, upperBound: 1.909, warnings: [w]))
        let saidBound = try explanation(bound, "alpha_at_bound")
        XCTAssertFalse(saidBound.contains("interval"), saidBound)
        XCTAssertTrue(saidBound.contains("Only a bound is given"), saidBound)
    }

    func testNotIdentifiedSaysOnlyABoundAndNothingElseDoes() throws {
        let w = FitResult.Warning(code: "pinned_at_few_shot_boundary", message: "E* sits at the lowest few-shot loss 1.909")
        let bound = result(status: .notIdentified, mle: nil, interval: nil, upperBound: 1.909, warnings: [w])
        let html = page(bound)
        XCTAssertTrue(try explanation(html, "pinned_at_few_shot_boundary").contains("Only a bound is given"))
        XCTAssertFalse(html.contains("5–95%"), "a not_identified page shows no interval")
        let sentence = StudyPages.predictionSentence(bound, largest: nil)
        XCTAssertTrue(sentence.contains("below pretraining loss <data value=\"1.909\""), sentence)
        XCTAssertFalse(sentence.contains("expected at"), sentence)

        // The same warning beside an interval: the page does not claim only a bound is given.
        let withInterval = page(result(status: .ok, mle: 1.8, interval: (1.7, 1.9), warnings: [w]))
        XCTAssertFalse(try explanation(withInterval, "pinned_at_few_shot_boundary").contains("Only a bound"))
    }
}
