import EmergenceCore
import Foundation
import XCTest
@testable import EmergenceService
@testable import Jobs
@testable import HTTP

/// `GET /` and `GET /studies/{name}`: HTML that escapes user strings and shows the JSON's numbers.
final class StudyPagesTests: XCTestCase {
    /// The real fit, with a small bootstrap so a debug build runs it in seconds.
    static let realFit: JobWorkerPool.FitRunner = { rows, options, progress, isCancelled in
        try EmergenceFit.run(rows, options: options, threads: 1, progress: progress, isCancelled: isCancelled)
    }

    private func fitted(_ t: TestService, study: String, options: String = #"{"seed":1,"bootstrap":100,"max_flops":2e22}"#) throws -> [String: Any] {
        XCTAssertEqual(try t.request("POST", "/v1/studies", body: #"{"name":"\#(study)","chance":0.25,"shots":5}"#).status, 201)
        let up = try t.request("POST", "/v1/studies/\(HTMLText.pathSegment(study))/evaluations",
                               bytes: try FixtureFiles.bytes("mmlu-like.csv"), headers: [("Content-Type", "text/csv")])
        XCTAssertEqual(up.status, 200, up.text)
        let fit = try t.request("POST", "/v1/studies/\(HTMLText.pathSegment(study))/fits", body: options)
        XCTAssertEqual(fit.status, 202, fit.text)
        return try t.waitForFit(try XCTUnwrap(fit.json["id"] as? Int))
    }

    /// Every `<data value="…" data-field="F">text</data>` on a page, as (field, exact value, text).
    private func dataElements(_ html: String) throws -> [(field: String, value: Double, text: String)] {
        let re = try NSRegularExpression(pattern: #"<data value="([^"]*)" data-field="([^"]*)">([^<]*)</data>"#)
        return re.matches(in: html, range: NSRange(html.startIndex..., in: html)).compactMap { m in
            let g = { (i: Int) in String(html[Range(m.range(at: i), in: html)!]) }
            return Double(g(1)).map { (g(2), $0, g(3)) }
        }
    }

    func testStudyPageNumbersEqualThePredictionJSON() throws {
        let t = try TestService(runner: Self.realFit)
        defer { t.close() }
        let fit = try fitted(t, study: "mmlu")
        XCTAssertEqual(fit["status"] as? String, "succeeded", "\(fit)")
        let prediction = try t.request("GET", "/v1/studies/mmlu/prediction")
        // JSONDecoder, not JSONSerialization: on Linux the latter can round the last digit of a
        // double (it read 1.8468715446177995 as …992), and this test compares exact values.
        struct Document: Decodable { var result: FitResult }
        let result = try JSONDecoder().decode(Document.self, from: Data(prediction.body)).result
        let flops = try XCTUnwrap(result.emergence.flops)
        let fp = try XCTUnwrap(flops.percentiles)
        let lp = try XCTUnwrap(result.emergence.loss.percentiles)
        let expected: [String: Double] = [
            "flops.mle": try XCTUnwrap(flops.mle), "flops.p5": try XCTUnwrap(fp["5"]), "flops.p95": try XCTUnwrap(fp["95"]),
            "loss.mle": try XCTUnwrap(result.emergence.loss.mle), "loss.p5": try XCTUnwrap(lp["5"]), "loss.p95": try XCTUnwrap(lp["95"]),
        ]

        let page = try t.request("GET", "/studies/mmlu")
        XCTAssertEqual(page.status, 200)
        XCTAssertEqual(page.headers["Content-Type"], "text/html; charset=utf-8")
        XCTAssertEqual(page.headers["Cache-Control"], "no-cache")
        let html = page.text
        XCTAssertTrue(html.hasPrefix("<!DOCTYPE html>"))
        XCTAssertFalse(html.lowercased().contains("<script"), "no JavaScript")
        let found = try dataElements(html)
        for (field, value) in expected {
            let hits = found.filter { $0.field == field }
            XCTAssertFalse(hits.isEmpty, "\(field) is not on the page")
            for h in hits {
                XCTAssertEqual(h.value, value, "\(field): the page's exact value differs from the JSON's")
                XCTAssertEqual(h.text, field.hasPrefix("flops") ? PageNumbers.flops(value) : PageNumbers.loss(value), field)
            }
        }
        // The prediction in words, as the issue writes it.
        let sentence = "Capability expected at \(PageNumbers.flops(expected["flops.mle"]!)) FLOPs (5–95%: \(PageNumbers.flops(expected["flops.p5"]!))–\(PageNumbers.flops(expected["flops.p95"]!)))"
        let plain = html.replacingOccurrences(of: #"<[^>]+>"#, with: "", options: .regularExpression)
        XCTAssertTrue(plain.contains(sentence), "missing: \(sentence)")
        XCTAssertTrue(plain.contains("beyond your largest checkpoint"))
        // Largest checkpoint within max_flops 2e22, and the ratio the sentence states.
        let largest = try XCTUnwrap(found.first { $0.field == "flops.largest_checkpoint" }?.value)
        XCTAssertLessThanOrEqual(largest, 2e22)
        XCTAssertEqual(try XCTUnwrap(found.first { $0.field == "flops.ratio_to_largest" }?.value), expected["flops.mle"]! / largest)
        // Both plots, with alt text.
        XCTAssertTrue(html.contains(#"<img src="/v1/studies/mmlu/plots/fit.svg" alt="Accuracy against pretraining loss"#))
        XCTAssertTrue(html.contains(#"<img src="/v1/studies/mmlu/plots/emergence-cdf.svg" alt="Probability that the capability has emerged"#))
        // Each warning of the result is explained.
        for w in result.warnings {
            let code = w.code
            XCTAssertTrue(html.contains("data-warning=\"\(code)\""), code)
            XCTAssertNotNil(WarningExplanations.byCode[code], "no explanation for \(code)")
        }
        // The history lists the fit with its E*.
        let id = try XCTUnwrap(fit["id"] as? Int)
        XCTAssertTrue(html.contains("<tr data-fit=\"\(id)\">"))
        XCTAssertTrue(found.contains { $0.field == "history.loss.mle" && $0.value == expected["loss.mle"]! })

        // The list shows the same FLOPs.
        let index = try t.request("GET", "/")
        XCTAssertEqual(index.status, 200)
        XCTAssertEqual(index.headers["Cache-Control"], "no-cache")
        let listed = try dataElements(index.text)
        XCTAssertEqual(listed.first { $0.field == "flops.mle" }?.value, expected["flops.mle"])
        XCTAssertEqual(listed.first { $0.field == "flops.p5" }?.value, expected["flops.p5"])
        XCTAssertEqual(listed.first { $0.field == "flops.p95" }?.value, expected["flops.p95"])
        XCTAssertTrue(index.text.contains(#"<a href="/studies/mmlu">mmlu</a>"#))
        XCTAssertTrue(index.text.contains(#"<span class="badge succeeded">succeeded</span>"#))
    }

    func testUserStringsAreEscapedEverywhere() throws {
        let t = try TestService()
        defer { t.close() }
        let body = #"{"name":"<script>alert(\"x&y\")<\\script>","description":"<img src=x onerror=alert(1)>","task":"<b>t</b>"}"#
        let created = try t.request("POST", "/v1/studies", body: body)
        XCTAssertEqual(created.status, 201, created.text)
        // Checkpoint names are user data too; the quick fit's result does not quote them, the
        // page's escaping is the same function for every string.
        let rows = "checkpoint,pretrain_loss,setting,shots,finetune_examples,accuracy\n<i>ck</i>,2.5,few_shot,5,,0.25\n"
        XCTAssertEqual(try t.request("POST", "/v1/studies/\(created.json["id"] as! Int)/evaluations", body: rows,
                                     headers: [("Content-Type", "text/csv")]).status, 200)
        let fit = try t.request("POST", "/v1/studies/\(created.json["id"] as! Int)/fits", body: "{}")
        XCTAssertEqual(fit.status, 202, fit.text)
        _ = try t.waitForFit(try XCTUnwrap(fit.json["id"] as? Int))
        let escaped = "&lt;script&gt;alert(&quot;x&amp;y&quot;)&lt;\\script&gt;"
        let index = try t.request("GET", "/").text
        XCTAssertTrue(index.contains(escaped), index)
        XCTAssertFalse(index.contains("<script"))
        XCTAssertTrue(index.contains(#"href="/studies/%3Cscript%3Ealert%28%22x%26y%22%29%3C%5Cscript%3E""#))
        let page = try t.request("GET", "/studies/%3Cscript%3Ealert%28%22x%26y%22%29%3C%5Cscript%3E")
        XCTAssertEqual(page.status, 200, page.text)
        XCTAssertFalse(page.text.contains("<script"))
        XCTAssertFalse(page.text.contains("<img src=x"))
        XCTAssertFalse(page.text.contains("<b>t</b>"))
        XCTAssertTrue(page.text.contains("&lt;img src=x onerror=alert(1)&gt;"))
        XCTAssertTrue(page.text.contains(escaped))
    }

    func testPagesWithoutDataSayWhatToDo() throws {
        let t = try TestService()
        defer { t.close() }
        let empty = try t.request("GET", "/")
        XCTAssertEqual(empty.status, 200)
        XCTAssertTrue(empty.text.contains("No studies yet"))
        XCTAssertEqual(try t.request("POST", "/v1/studies", body: #"{"name":"fresh"}"#).status, 201)
        let page = try t.request("GET", "/studies/fresh").text
        XCTAssertTrue(page.contains("No prediction yet"))
        XCTAssertTrue(page.contains("upload evaluations to <code>POST /v1/studies/fresh/evaluations</code>"))
        XCTAssertTrue(page.contains("No fits yet"))
        // A fit whose result is not ok: the status is shown and the page says what to do.
        let rows = "checkpoint,pretrain_loss,setting,shots,finetune_examples,accuracy\nck1,2.5,few_shot,5,,0.25\n"
        XCTAssertEqual(try t.request("POST", "/v1/studies/fresh/evaluations", body: rows, headers: [("Content-Type", "text/csv")]).status, 200)
        let fit = try t.request("POST", "/v1/studies/fresh/fits", body: "{}")
        _ = try t.waitForFit(try XCTUnwrap(fit.json["id"] as? Int))
        let after = try t.request("GET", "/studies/fresh").text
        XCTAssertTrue(after.contains("Not enough data for a prediction"), after)
        XCTAssertTrue(after.contains("upload finetuned runs at three or more finetuning amounts"))
        XCTAssertTrue(after.contains(#"<span class="badge insufficient_data">insufficient data</span>"#))
        // An unknown study is the API's 404 problem.
        let missing = try t.request("GET", "/studies/nope")
        XCTAssertEqual(missing.status, 404)
        XCTAssertEqual(missing.headers["Content-Type"], "application/problem+json")
        XCTAssertEqual(missing.headers["Cache-Control"], "no-store")
    }

    func testPagesNeedTheReadScopeWhenTokensAreOn() throws {
        let t = try TestService(tokens: TokenSet(entries: [("page-reader-token-0001", .read)]))
        defer { t.close() }
        XCTAssertEqual(try t.request("GET", "/").status, 401)
        XCTAssertEqual(try t.request("GET", "/studies/x").status, 401)
        XCTAssertEqual(try t.request("GET", "/", headers: [("Authorization", "Bearer page-reader-token-0001")]).status, 200)
    }

    func testNumberFormats() {
        XCTAssertEqual(PageNumbers.flops(7.4123e22), "7.4e22")
        XCTAssertEqual(PageNumbers.flops(2.9999e23), "3.0e23")
        XCTAssertEqual(PageNumbers.flops(0.00123), "1.2e-3")
        XCTAssertEqual(PageNumbers.flops(5), "5.0e0")
        XCTAssertEqual(PageNumbers.ratio(3.66), "3.7×")
        XCTAssertEqual(PageNumbers.ratio(1234.4), "1234×")
        XCTAssertEqual(PageNumbers.loss(1.85), "1.850")
        XCTAssertEqual(PageNumbers.time("2026-11-30T00:54:54.913Z"), "2026-11-30 00:54 UTC")
        XCTAssertEqual(HTMLText.escape(#"<a href="x">'&'</a>"#), "&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;")
        XCTAssertEqual(HTMLText.pathSegment("a b/é"), "a%20b%2F%C3%A9")
    }

    /// Every warning code the core can raise (docs/cli.md lists them) has an explanation.
    func testEveryWarningCodeIsExplained() {
        let codes = ["no_signal", "already_emerged", "long_extrapolation", "few_data_amounts", "few_checkpoints_above_floor",
                     "competing_optima", "form_misfit", "wide_interval", "mcmc_not_converged", "bootstrap_failures",
                     "unreachable", "long_compute_extrapolation", "no_scaling_law", "mixed_shots", "d0_adjusted",
                     "unknown_flops_excluded", "fit_failed",
                     "e_star_not_pinned", "detection_limit", "weak_signal", "pinned_at_few_shot_boundary", "unphysical_interval", "alpha_at_bound"]
        for c in codes { XCTAssertNotNil(WarningExplanations.byCode[c], c) }
    }

    /// A `not_identified` result (Identifiability.swift) is said as its one-sided bound, never as a
    /// forecast, and the page says what to add.
    func testNotIdentifiedIsSaidAsItsBound() throws {
        let json = """
            {"status":"not_identified","warnings":[],"form":"log_power","delta":true,"noise":"gaussian","seed":1,
             "data":{"rows":10,"few_shot_rows":2,"finetuned_rows":8,"checkpoints":3,"data_amounts":[100,1000,10000],
                     "excluded_rows":0,"loss_range":[1.9,2.4]},
             "emergence":{"loss":{"upper_bound":1.9},"flops":{"reachable":true,"lower_bound":2e22},"probability_emerged":[]},
             "uncertainty":{}}
            """
        let r = try JSONDecoder().decode(FitResult.self, from: Data(json.utf8))
        let sentence = StudyPages.predictionSentence(r, largest: 1e22)
        XCTAssertTrue(sentence.hasPrefix("Not yet predictable"), sentence)
        XCTAssertTrue(sentence.contains("data-field=\"loss.upper_bound\""), sentence)
        XCTAssertTrue(sentence.contains("data-field=\"flops.lower_bound\""), sentence)
        XCTAssertFalse(sentence.contains("expected at"), sentence)
    }
}
