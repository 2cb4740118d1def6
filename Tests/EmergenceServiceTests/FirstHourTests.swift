import Foundation
import XCTest
@testable import EmergenceService
@testable import Jobs

/// The first hour at a lab: nothing accepted silently, and every error says the fix.
final class FirstHourTests: XCTestCase {
    private func csv(_ t: TestService, _ study: String, _ text: String, query: String = "") throws -> Reply {
        try t.request("POST", "/v1/studies/\(study)/evaluations\(query)", body: text, headers: [("Content-Type", "text/csv")])
    }

    /// The shared mmlu-like CSV with `subset` renamed `subst`: 422 naming `subst` and suggesting
    /// `subset`; nothing stored. Declared with ?ignore=, it loads, and the answer lists what it used.
    func testMisspeltColumnIsRefusedNamingTheFieldItMeant() throws {
        let t = try TestService()
        defer { t.close() }
        XCTAssertEqual(try t.request("POST", "/v1/studies", body: #"{"name": "mmlu"}"#).status, 201)
        let original = String(decoding: try FixtureFiles.bytes("mmlu-like.csv"), as: UTF8.self)
        var lines = original.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        XCTAssertTrue(lines[0].contains(",subset,"))
        lines[0] = lines[0].replacingOccurrences(of: ",subset,", with: ",subst,")
        let renamed = lines.joined(separator: "\n")

        let refused = try csv(t, "mmlu", renamed)
        XCTAssertEqual(refused.status, 422, refused.text)
        XCTAssertEqual(refused.headers["Content-Type"], "application/problem+json")
        XCTAssertEqual(refused.errors.first?["field"] as? String, "subst")
        XCTAssertEqual(refused.errors.first?["line"] as? Int, 1)
        let detail = try XCTUnwrap(refused.json["detail"] as? String)
        XCTAssertTrue(detail.contains("line 1, subst: unknown column; did you mean `subset`?"), detail)
        XCTAssertTrue(detail.contains("nothing was stored"), detail)
        XCTAssertEqual(try t.request("GET", "/v1/studies/mmlu").json["evaluations"] as? Int, 0)

        // Said on purpose: the column is left out (and the answer says which columns counted).
        let ignored = try csv(t, "mmlu", renamed, query: "?ignore=subst")
        XCTAssertEqual(ignored.status, 200, ignored.text)
        XCTAssertEqual(ignored.json["ignored"] as? [String], ["subst"])
        XCTAssertFalse((ignored.json["columns"] as? [String] ?? []).contains("subset"))
        // The file as it is: every column used.
        let t2 = try TestService()
        defer { t2.close() }
        XCTAssertEqual(try t2.request("POST", "/v1/studies", body: #"{"name": "mmlu"}"#).status, 201)
        let plain = try csv(t2, "mmlu", original)
        XCTAssertEqual(plain.status, 200, plain.text)
        XCTAssertEqual(plain.json["ignored"] as? [String], [])
        XCTAssertTrue((plain.json["columns"] as? [String] ?? []).contains("subset"), plain.text)
    }

    /// JSON rows are named rows[N], counted from 1; the entry also carries `row`.
    func testJSONProblemsNameRowsFromOne() throws {
        let t = try TestService()
        defer { t.close() }
        XCTAssertEqual(try t.request("POST", "/v1/studies", body: #"{"name": "s"}"#).status, 201)
        let r = try t.request("POST", "/v1/studies/s/evaluations", body: """
            [{"checkpoint": "a", "pretrain_loss": 2.5, "setting": "few_shot", "accuracy": 0.5},
             {"checkpoint": "b", "pretrain_loss": 2.5, "setting": "few_shot", "accuracy": 1.5}]
            """, headers: [("Content-Type", "application/json")])
        XCTAssertEqual(r.status, 422)
        XCTAssertEqual(r.errors.first?["row"] as? Int, 2)
        XCTAssertEqual(r.errors.first?["index"] as? Int, 1)
        XCTAssertTrue((r.json["detail"] as? String ?? "").contains("rows[2], accuracy:"), r.text)
        let n = try t.request("POST", "/v1/studies/s/evaluations", body: """
            {"checkpoint": "a", "pretrain_loss": 2.5, "setting": "few_shot", "accuracy": 0.5, "n_question": 10}

            """, headers: [("Content-Type", "application/x-ndjson")])
        XCTAssertEqual(n.status, 422)
        XCTAssertTrue((n.json["detail"] as? String ?? "").contains("line 1, n_question: unknown key; did you mean `n_questions`?"), n.text)
    }

    /// A missing study's 404 names the call that creates it; a browser gets an HTML page linking home.
    func testMissingStudySaysHowToCreateIt() throws {
        let t = try TestService()
        defer { t.close() }
        let r = try csv(t, "mmlu2", "checkpoint,pretrain_loss,setting,accuracy\na,2.5,few_shot,0.5\n")
        XCTAssertEqual(r.status, 404)
        let detail = try XCTUnwrap(r.json["detail"] as? String)
        XCTAssertTrue(detail.contains("no study with id or name \"mmlu2\""), detail)
        XCTAssertTrue(detail.contains("create it with POST /v1/studies {\"name\": \"mmlu2\"}"), detail)

        let page = try t.request("GET", "/studies/mmlu2", headers: [("Accept", "text/html,application/xhtml+xml,*/*;q=0.8")])
        XCTAssertEqual(page.status, 404)
        XCTAssertEqual(page.headers["Content-Type"], "text/html; charset=utf-8")
        XCTAssertTrue(page.text.contains("<a href=\"/\">"), page.text)
        XCTAssertTrue(page.text.contains("POST /v1/studies"), page.text)
        // An API client (no HTML in Accept) still gets the problem.
        XCTAssertEqual(try t.request("GET", "/studies/mmlu2").headers["Content-Type"], "application/problem+json")
    }

    /// {"cutoffs": [2e22, 1e-300]}: the 2e22 cutoff's result and an error entry for 1e-300 (its
    /// look-ahead overflows and it leaves no data); no cutoff with data at all is a 422 naming cutoffs.
    func testABacktestKeepsEveryCutoffThatWorks() throws {
        let t = try TestService()
        defer { t.close() }
        XCTAssertEqual(try t.request("POST", "/v1/studies", body: #"{"name": "mmlu", "shots": 5}"#).status, 201)
        XCTAssertEqual(try csv(t, "mmlu", String(decoding: try FixtureFiles.bytes("mmlu-like.csv"), as: UTF8.self)).status, 200)

        let none = try t.request("POST", "/v1/studies/mmlu/backtests", body: #"{"cutoffs": [1e-300]}"#)
        XCTAssertEqual(none.status, 422, none.text)
        XCTAssertEqual(none.errors.first?["field"] as? String, "cutoffs")

        let r = try t.request("POST", "/v1/studies/mmlu/backtests",
                              body: #"{"cutoffs": [2e22, 1e-300], "bootstrap": 20, "observe_bootstrap": 20, "seed": 1}"#)
        XCTAssertEqual(r.status, 202, r.text)
        let id = try XCTUnwrap(r.json["id"] as? Int)
        var job: [String: Any] = [:]
        let deadline = Date().addingTimeInterval(120)
        while Date() < deadline {
            job = try t.request("GET", "/v1/jobs/\(id)").json
            if let s = job["status"] as? String, Job.Status(rawValue: s)?.isFinished == true { break }
            Thread.sleep(forTimeInterval: 0.05)
        }
        XCTAssertEqual(job["status"] as? String, "succeeded", "\(job)")
        let cutoffs = try XCTUnwrap((job["result"] as? [String: Any])?["cutoffs"] as? [[String: Any]])
        XCTAssertEqual(cutoffs.count, 2)
        let tiny = try XCTUnwrap(cutoffs.first { ($0["max_flops"] as? Double) == 1e-300 })
        let good = try XCTUnwrap(cutoffs.first { ($0["max_flops"] as? Double) == 2e22 })
        XCTAssertTrue((tiny["error"] as? String ?? "").contains("overflows"), "\(tiny)")
        XCTAssertTrue((tiny["error"] as? String ?? "").contains("nothing to fit"), "\(tiny)")
        XCTAssertNil(good["error"])
        XCTAssertEqual(good["status"] as? String, "ok")
        XCTAssertNotNil(good["predicted"] as? [String: Any])
        // The plot of the same job still draws.
        XCTAssertEqual(try t.request("GET", "/v1/jobs/\(id)/plots/backtest.svg").status, 200)
    }

    /// Binomial noise without question counts is refused when the fit is asked for, naming the row
    /// by what identifies it, not when it runs ("row 0 has none").
    func testBinomialFitWithoutQuestionCountsIsRefusedUpFront() throws {
        let t = try TestService()
        defer { t.close() }
        XCTAssertEqual(try t.request("POST", "/v1/studies", body: #"{"name": "s"}"#).status, 201)
        XCTAssertEqual(try csv(t, "s", "checkpoint,pretrain_loss,setting,accuracy,n_questions\na,2.5,few_shot,0.5,100\nb,2.4,few_shot,0.5,\n").status, 200)
        let r = try t.request("POST", "/v1/studies/s/fits", body: #"{"noise": "binomial"}"#)
        XCTAssertEqual(r.status, 422, r.text)
        XCTAssertEqual(r.errors.first?["field"] as? String, "noise")
        let reason = r.errors.first?["reason"] as? String ?? ""
        XCTAssertTrue(reason.contains("1 stored row has none (the first: checkpoint \"b\", setting few_shot)"), reason)
        XCTAssertFalse(reason.contains("row 0"), reason)
        XCTAssertEqual(try t.request("POST", "/v1/studies/s/fits", body: #"{"noise": "gaussian"}"#).status, 202)
    }
}
