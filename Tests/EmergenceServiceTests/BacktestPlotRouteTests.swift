import Charts
import EmergenceCore
import Foundation
#if canImport(FoundationXML)
import FoundationXML
#endif
import XCTest
@testable import EmergenceService
@testable import Jobs

/// `GET /v1/jobs/{id}/plots/backtest.svg`: the chart of a succeeded back-test job (the same drawing as
/// `emergence backtest --svg`), its ETag and 304, 404 for no job or another kind, 409 until it has
/// succeeded, read scope; and the study page showing the latest one.
final class BacktestPlotRouteTests: XCTestCase {
    private func study(_ t: TestService, headers: [(String, String)] = []) throws {
        XCTAssertEqual(try t.request("POST", "/v1/studies", body: #"{"name": "mmlu", "shots": 5}"#, headers: headers).status, 201)
        let up = try t.request("POST", "/v1/studies/mmlu/evaluations", bytes: try FixtureFiles.bytes("mmlu-like.csv"),
                               headers: headers + [("Content-Type", "text/csv")])
        XCTAssertEqual(up.status, 200, up.text)
    }

    private func waitForJob(_ t: TestService, _ id: Int, headers: [(String, String)] = []) throws -> [String: Any] {
        let deadline = Date().addingTimeInterval(120)
        while Date() < deadline {
            let j = try t.request("GET", "/v1/jobs/\(id)", headers: headers).json
            if let s = j["status"] as? String, Job.Status(rawValue: s)?.isFinished == true { return j }
            Thread.sleep(forTimeInterval: 0.02)
        }
        XCTFail("job \(id) did not finish")
        return [:]
    }

    private static let backtestBody = #"{"cutoffs": [2e22, 4e22], "bootstrap": 20, "observe_bootstrap": 20, "seed": 1}"#

    func testASucceededBacktestIsDrawnWithAHashETag() throws {
        let t = try TestService()
        defer { t.close() }
        try study(t)
        let bt = try t.request("POST", "/v1/studies/mmlu/backtests", body: Self.backtestBody)
        XCTAssertEqual(bt.status, 202, bt.text)
        let id = try XCTUnwrap(bt.json["id"] as? Int)
        XCTAssertEqual(try waitForJob(t, id)["status"] as? String, "succeeded")

        // A back-test is no fit: the fit plot routes give it the 404 that /v1/fits/{id} gives (a
        // clean-clone schemathesis run found a 500 here, from decoding its result as a fit's).
        for plot in ["fit.svg", "emergence-cdf.svg"] {
            let notAFit = try t.request("GET", "/v1/fits/\(id)/plots/\(plot)")
            XCTAssertEqual(notAFit.status, 404, notAFit.text)
        }

        let r = try t.request("GET", "/v1/jobs/\(id)/plots/backtest.svg")
        XCTAssertEqual(r.status, 200, r.text)
        XCTAssertEqual(r.headers["Content-Type"], "image/svg+xml")
        XCTAssertEqual(r.headers["Cache-Control"], "no-cache")
        XCTAssertTrue(XMLParser(data: Data(r.body)).parse(), "well-formed")
        let etag = try XCTUnwrap(r.headers["ETag"])
        XCTAssertEqual(etag, "\"svg-\(ServiceAPI.contentHash(r.body))\"")
        XCTAssertTrue(r.text.contains("<title id=\"chart-title\">Back-test: mmlu</title>"), r.text)
        XCTAssertTrue(r.text.contains("Back-test job \(id) of study mmlu"))

        // The picture is BacktestChart's drawing of the stored result, with the route's title and note.
        let stored = try XCTUnwrap(try t.service.api.jobs.find(id: id)?.resultJSON)
        let result = try JSONDecoder().decode(BacktestResult.self, from: Data(stored))
        XCTAssertEqual(BacktestChart.points(result: result).count, 2)
        let finished = try XCTUnwrap(try t.service.api.jobs.find(id: id)?.finishedAt)
        let expected = BacktestChart.svg(result: result, options: .init(title: "Back-test: mmlu",
                                                                        notes: ["Back-test job \(id) of study mmlu, finished \(finished)."]))
        XCTAssertEqual(r.text, expected)

        XCTAssertEqual(try t.request("GET", "/v1/jobs/\(id)/plots/backtest.svg", headers: [("If-None-Match", etag)]).status, 304)
        XCTAssertEqual(try t.request("GET", "/v1/jobs/\(id)/plots/backtest.svg", headers: [("If-None-Match", "\"svg-0\"")]).status, 200)

        // The study page shows it.
        let page = try t.request("GET", "/studies/mmlu")
        XCTAssertTrue(page.text.contains("<img src=\"/v1/jobs/\(id)/plots/backtest.svg\""), page.text)
    }

    func testNoJobAnotherKindAndUnfinishedBacktests() throws {
        // One worker held by a fit that runs until cancelled: the back-test behind it stays queued.
        let t = try TestService(workers: 1, runner: { _, _, _, isCancelled in
            while !isCancelled() { Thread.sleep(forTimeInterval: 0.005) }
            throw FitError.cancelled
        })
        defer { t.close() }
        try study(t)
        XCTAssertEqual(try t.request("GET", "/v1/jobs/999/plots/backtest.svg").status, 404)
        XCTAssertEqual(try t.request("GET", "/v1/jobs/abc/plots/backtest.svg").status, 404)
        let fit = try XCTUnwrap(try t.request("POST", "/v1/studies/mmlu/fits", body: "{}").json["id"] as? Int)
        let other = try t.request("GET", "/v1/jobs/\(fit)/plots/backtest.svg")
        XCTAssertEqual(other.status, 404, other.text)
        XCTAssertEqual(other.headers["Content-Type"], "application/problem+json")
        XCTAssertTrue((other.json["detail"] as? String)?.contains("is a fit job, not a backtest") == true, other.text)

        let bt = try XCTUnwrap(try t.request("POST", "/v1/studies/mmlu/backtests", body: Self.backtestBody).json["id"] as? Int)
        let queued = try t.request("GET", "/v1/jobs/\(bt)/plots/backtest.svg")
        XCTAssertEqual(queued.status, 409, queued.text)
        XCTAssertTrue((queued.json["detail"] as? String)?.contains("poll /v1/jobs/\(bt)") == true, queued.text)
        XCTAssertEqual(try t.request("DELETE", "/v1/jobs/\(bt)").status, 200)
        let cancelled = try t.request("GET", "/v1/jobs/\(bt)/plots/backtest.svg")
        XCTAssertEqual(cancelled.status, 409)
        XCTAssertTrue((cancelled.json["detail"] as? String)?.contains("ended cancelled") == true, cancelled.text)
        XCTAssertFalse(try t.request("GET", "/studies/mmlu").text.contains("backtest.svg"), "no succeeded back-test: no chart on the page")
        XCTAssertEqual(try t.request("DELETE", "/v1/jobs/\(fit)").status, 202)
    }

    func testTheBacktestPlotNeedsTheReadScope() throws {
        let tokens = try TokenSet.parse("reader-0123456789abcdef:read,admin-0123456789abcdef:admin")
        let t = try TestService(tokens: tokens)
        defer { t.close() }
        XCTAssertEqual(try t.request("GET", "/v1/jobs/1/plots/backtest.svg").status, 401)
        XCTAssertEqual(try t.request("GET", "/v1/jobs/1/plots/backtest.svg", headers: [("Authorization", "Bearer reader-0123456789abcdef")]).status, 404)
    }
}
