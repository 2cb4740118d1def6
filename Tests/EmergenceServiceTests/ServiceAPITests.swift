import EmergenceCore
import Foundation
import HTTP
import XCTest
@testable import EmergenceService

final class ServiceAPITests: XCTestCase {
    private let header = "checkpoint,model,parameters,tokens,flops,pretrain_loss,setting,shots,finetune_examples,subset,accuracy,n_questions"
    private var csv: String {
        header + "\n"
            + "a,1b,1e9,1e10,,2.5,few_shot,5,,,0.25,100\n"
            + "a,1b,1e9,1e10,,2.5,finetuned,,64,s0,0.30,100\n"
            + "b,1b,1e9,2e10,,2.3,finetuned,,64,s0,0.35,100\n"
    }

    private func makeStudy(_ t: TestService, _ name: String = "mmlu") throws -> Int {
        let r = try t.request("POST", "/v1/studies", body: #"{"name": "\#(name)", "task": "mmlu", "chance": 0.25, "shots": 5}"#)
        XCTAssertEqual(r.status, 201, r.text)
        return r.json["id"] as! Int
    }

    func testStudyLifecycle() throws {
        let t = try TestService()
        defer { t.close() }
        let r = try t.request("POST", "/v1/studies", body: #"{"name": "mmlu", "task": "mmlu", "chance": 0.25, "description": "MMLU on OpenLLaMA"}"#)
        XCTAssertEqual(r.status, 201)
        let id = r.json["id"] as! Int
        XCTAssertEqual(r.headers["Location"], "/v1/studies/\(id)")
        XCTAssertEqual(try t.request("GET", "/v1/studies/mmlu").json["id"] as? Int, id)
        XCTAssertEqual(try t.request("GET", "/v1/studies/\(id)").json["name"] as? String, "mmlu")
        XCTAssertEqual(try t.request("GET", "/v1/studies/nope").status, 404)
        // "+1" is a name, not an id (only all-digit references are ids).
        XCTAssertEqual(try t.request("GET", "/v1/studies/+\(id)").status, 404)
        XCTAssertEqual(try t.request("POST", "/v1/studies", body: #"{"name": "+\#(id)"}"#).status, 201)
        XCTAssertEqual(try t.request("GET", "/v1/studies/+\(id)").json["name"] as? String, "+\(id)")
        let dup = try t.request("POST", "/v1/studies", body: #"{"name": "mmlu"}"#)
        XCTAssertEqual(dup.status, 409)
        XCTAssertEqual(dup.headers["Content-Type"], "application/problem+json")
        let list = try t.request("GET", "/v1/studies")
        XCTAssertEqual((list.json["studies"] as? [[String: Any]])?.count, 2)
        XCTAssertEqual(try t.request("DELETE", "/v1/studies/mmlu").status, 204)
        XCTAssertEqual(try t.request("GET", "/v1/studies/\(id)").status, 404)
    }

    func testStudyBodyProblemsAreAllNamed() throws {
        let t = try TestService()
        defer { t.close() }
        let r = try t.request("POST", "/v1/studies", body: #"{"name": "123", "chance": 1.5, "shots": -1, "colour": "red"}"#)
        XCTAssertEqual(r.status, 422)
        XCTAssertEqual(Set(r.errors.map { $0["field"] as! String }), ["name", "chance", "shots", "colour"])
        for bad in [" a", "a ", "a/b", "a\\u0001b", ""] {
            XCTAssertEqual(try t.request("POST", "/v1/studies", body: #"{"name": "\#(bad)"}"#).status, 422, bad)
        }
        XCTAssertEqual(try t.request("POST", "/v1/studies", body: "{").status, 422)
        XCTAssertEqual(try t.request("POST", "/v1/studies", body: "{}").errors.first?["field"] as? String, "name")
    }

    func testCSVWithOneBadAccuracyIs422NamingRowAndFieldAndStoresNothing() throws {
        let t = try TestService()
        defer { t.close() }
        _ = try makeStudy(t)
        let bad = csv.replacingOccurrences(of: "0.35,100", with: "1.35,100")
        let r = try t.request("POST", "/v1/studies/mmlu/evaluations", body: bad, headers: [("Content-Type", "text/csv")])
        XCTAssertEqual(r.status, 422)
        XCTAssertEqual(r.headers["Content-Type"], "application/problem+json")
        XCTAssertEqual(r.errors.count, 1)
        XCTAssertEqual(r.errors.first?["index"] as? Int, 2)
        XCTAssertEqual(r.errors.first?["line"] as? Int, 4)
        XCTAssertEqual(r.errors.first?["field"] as? String, "accuracy")
        XCTAssertTrue((r.json["detail"] as? String)?.contains("line 4, accuracy") == true)
        let list = try t.request("GET", "/v1/studies/mmlu/evaluations")
        XCTAssertEqual((list.json["evaluations"] as? [Any])?.count, 0)
        XCTAssertEqual(try t.request("GET", "/v1/studies/mmlu").json["data_version"] as? Int, 0)
    }

    /// Rows are stored while the rest of the upload is still being parsed; a bad row late in a large
    /// upload must still roll back the thousands already written in the transaction.
    func testLateBadRowInALargeUploadStoresNothing() throws {
        let t = try TestService()
        defer { t.close() }
        _ = try makeStudy(t)
        var lines: [String] = []
        for i in 0..<20_000 {
            let accuracy = i == 17_000 ? "1.5" : "0.5"
            lines.append(#"{"checkpoint": "c\#(i)", "pretrain_loss": 2.5, "setting": "few_shot", "accuracy": \#(accuracy)}"#)
        }
        let r = try t.request("POST", "/v1/studies/mmlu/evaluations", body: lines.joined(separator: "\n"),
                              headers: [("Content-Type", "application/x-ndjson")])
        XCTAssertEqual(r.status, 422)
        XCTAssertEqual(r.errors.map { $0["index"] as? Int }, [17_000])
        XCTAssertEqual(r.errors.first?["line"] as? Int, 17_001)
        XCTAssertEqual(try t.request("GET", "/v1/studies/mmlu").json["evaluations"] as? Int, 0)
        XCTAssertEqual((try t.request("GET", "/v1/studies/mmlu/evaluations").json["evaluations"] as? [Any])?.count, 0)
        // The same upload without the bad row is taken whole.
        lines[17_000] = #"{"checkpoint": "c17000", "pretrain_loss": 2.5, "setting": "few_shot", "accuracy": 0.5}"#
        let ok = try t.request("POST", "/v1/studies/mmlu/evaluations", body: lines.joined(separator: "\n"),
                               headers: [("Content-Type", "application/x-ndjson")])
        XCTAssertEqual(ok.json["inserted"] as? Int, 20_000, ok.text)
    }

    /// A gzip NDJSON body is inflated piece by piece while it is parsed: problems still name the
    /// right row and line across pieces, and nothing is stored from a refused upload.
    func testGzipUploadsAreInflatedWhileParsed() throws {
        let t = try TestService()
        defer { t.close() }
        _ = try makeStudy(t)
        var lines: [String] = []
        for i in 0..<60_000 {
            // Long lines (a padded model name) so the inflated text spans many pieces (~11 MB).
            lines.append(#"{"checkpoint": "c\#(i)", "model": "\#(String(repeating: "m", count: 100))", "pretrain_loss": 2.5, "setting": "few_shot", "accuracy": 0.5}"#)
        }
        var bad = lines
        bad[37_123] = #"{"checkpoint": "c37123", "pretrain_loss": 2.5, "setting": "few_shot", "accuracy": 1.5}"#
        bad[59_999] = #"{"checkpoint": "c59999", "pretrain_loss": 2.5, "setting": "few_shot""#  // cut short, no newline
        var r = try t.request("POST", "/v1/studies/mmlu/evaluations", gzipped: Array(bad.joined(separator: "\n").utf8),
                              headers: [("Content-Type", "application/x-ndjson")])
        XCTAssertEqual(r.status, 422, r.text)
        XCTAssertEqual(r.errors.map { $0["index"] as? Int }, [37_123, 59_999])
        XCTAssertEqual(r.errors.map { $0["line"] as? Int }, [37_124, 60_000])
        XCTAssertEqual(r.errors.first?["field"] as? String, "accuracy")
        XCTAssertEqual(try t.request("GET", "/v1/studies/mmlu").json["evaluations"] as? Int, 0)
        // A blank line and a byte-order mark change nothing; the good body is taken whole.
        r = try t.request("POST", "/v1/studies/mmlu/evaluations", gzipped: [0xEF, 0xBB, 0xBF] + Array((lines.joined(separator: "\n") + "\n\n").utf8),
                          headers: [("Content-Type", "application/x-ndjson")])
        XCTAssertEqual(r.json["inserted"] as? Int, 60_000, r.text)
        // CSV and JSON are inflated piece by piece too; a body over the limit, or not gzip, is refused.
        r = try t.request("POST", "/v1/studies/mmlu/evaluations", gzipped: Array(csv.utf8), headers: [("Content-Type", "text/csv")])
        XCTAssertEqual(r.json["inserted"] as? Int, 3, r.text)
        // The route's decoded limit (ServiceConfiguration.bodyLimits) is what counts.
        let small = try TestService(configure: { $0.bodyLimits.uploadDecodedBytes = 1_000_000 })
        defer { small.close() }
        _ = try makeStudy(small)
        r = try small.request("POST", "/v1/studies/mmlu/evaluations", gzipped: Array(lines.joined(separator: "\n").utf8),
                              headers: [("Content-Type", "application/x-ndjson")])
        XCTAssertEqual(r.status, 413, r.text)
        var notGzip = try HTTPRequest(method: "POST", target: "/v1/studies/mmlu/evaluations",
                                      headers: HTTPHeaders([("Content-Type", "application/x-ndjson"), ("Content-Encoding", "gzip")]),
                                      body: Array("plain text".utf8))
        notGzip.bodyIsGzip = true
        XCTAssertEqual(Reply(t.service.router.handle(notGzip)).status, 400)
        // A "line" of megabytes is refused as soon as it passes the line limit, naming where it starts.
        let long = Array((lines[0] + "\n" + lines[1] + "\n" + String(repeating: " ", count: 3 << 20) + "x").utf8)
        r = try t.request("POST", "/v1/studies/mmlu/evaluations", gzipped: long, headers: [("Content-Type", "application/x-ndjson")])
        XCTAssertEqual(r.status, 422, r.text)
        XCTAssertEqual(r.errors.first?["line"] as? Int, 3)
        XCTAssertEqual(r.errors.first?["index"] as? Int, 2)
        XCTAssertEqual(try t.request("GET", "/v1/studies/mmlu").json["evaluations"] as? Int, 60_003)
    }

    func testUploadsUpsertByIdentityAndBumpDataVersionOnlyOnChange() throws {
        let t = try TestService()
        defer { t.close() }
        _ = try makeStudy(t)
        var r = try t.request("POST", "/v1/studies/mmlu/evaluations", body: csv, headers: [("Content-Type", "text/csv")])
        XCTAssertEqual(r.status, 200, r.text)
        XCTAssertEqual(r.json["inserted"] as? Int, 3)
        XCTAssertEqual(r.json["updated"] as? Int, 0)
        XCTAssertEqual(r.json["data_version"] as? Int, 1)
        // The same rows again (a retry): updated, nothing changed, same version.
        r = try t.request("POST", "/v1/studies/mmlu/evaluations", body: csv, headers: [("Content-Type", "text/csv")])
        XCTAssertEqual(r.json["inserted"] as? Int, 0)
        XCTAssertEqual(r.json["updated"] as? Int, 3)
        XCTAssertEqual(r.json["data_version"] as? Int, 1)
        // One changed value and one new row, as JSON.
        let json = #"[{"checkpoint": "b", "model": "1b", "parameters": 1e9, "tokens": 2e10, "pretrain_loss": 2.3, "setting": "finetuned", "finetune_examples": 64, "subset": "s0", "accuracy": 0.4, "n_questions": 100},"#
            + #" {"checkpoint": "b", "pretrain_loss": 2.3, "setting": "finetuned", "finetune_examples": 128, "accuracy": 0.5}]"#
        r = try t.request("POST", "/v1/studies/mmlu/evaluations", body: json, headers: [("Content-Type", "application/json")])
        XCTAssertEqual(r.json["inserted"] as? Int, 1)
        XCTAssertEqual(r.json["updated"] as? Int, 1)
        XCTAssertEqual(r.json["data_version"] as? Int, 2)
        let rows = try t.request("GET", "/v1/studies/mmlu/evaluations?checkpoint=b&setting=finetuned&subset=s0").json["evaluations"] as? [[String: Any]]
        XCTAssertEqual(rows?.count, 1)
        XCTAssertEqual(rows?.first?["accuracy"] as? Double, 0.4)
        XCTAssertEqual(try t.request("GET", "/v1/studies/mmlu").json["evaluations"] as? Int, 4)
    }

    func testNDJSONAndHarnessUploads() throws {
        let t = try TestService()
        defer { t.close() }
        _ = try makeStudy(t)
        let nd = #"{"checkpoint": "a", "pretrain_loss": 2.5, "setting": "few_shot", "shots": 5, "accuracy": 0.25}"# + "\n"
            + #"{"checkpoint": "a", "pretrain_loss": 2.5, "setting": "finetuned", "finetune_examples": 10, "accuracy": 0.3}"# + "\n"
        var r = try t.request("POST", "/v1/studies/mmlu/evaluations", body: nd, headers: [("Content-Type", "application/x-ndjson")])
        XCTAssertEqual(r.json["inserted"] as? Int, 2, r.text)
        XCTAssertEqual(r.json["format"] as? String, "ndjson")
        let harness = try FixtureFiles.bytes("pythia-160m-5shot-step143000.json")
        r = try t.request("POST", "/v1/studies/mmlu/evaluations?task=arc_easy&pretrain_loss=2.43", bytes: harness,
                          headers: [("Content-Type", "application/json")])
        XCTAssertEqual(r.status, 200, r.text)
        XCTAssertEqual(r.json["format"] as? String, "lm-eval-harness")
        r = try t.request("POST", "/v1/studies/mmlu/evaluations", bytes: harness, headers: [("Content-Type", "application/json")])
        XCTAssertEqual(r.status, 422)
        XCTAssertEqual(r.errors.first?["field"] as? String, "task")
        XCTAssertEqual(try t.request("POST", "/v1/studies/mmlu/evaluations", body: "x", headers: [("Content-Type", "image/png")]).status, 415)
        XCTAssertEqual(try t.request("POST", "/v1/studies/mmlu/evaluations", body: "[]", headers: [("Content-Type", "application/json")]).status, 422)
    }

    func testEvaluationPagination() throws {
        let t = try TestService()
        defer { t.close() }
        _ = try makeStudy(t)
        var text = "checkpoint,setting,pretrain_loss,accuracy\n"
        for i in 0..<25 { text += "c\(i),few_shot,2.\(i),0.5\n" }
        XCTAssertEqual(try t.request("POST", "/v1/studies/mmlu/evaluations", body: text, headers: [("Content-Type", "text/csv")]).status, 200)
        var seen: [String] = []
        var cursor: String? = nil
        repeat {
            let r = try t.request("GET", "/v1/studies/mmlu/evaluations?limit=10" + (cursor.map { "&cursor=\($0)" } ?? ""))
            seen += (r.json["evaluations"] as! [[String: Any]]).map { $0["checkpoint"] as! String }
            cursor = r.json["next_cursor"] as? String
        } while cursor != nil
        XCTAssertEqual(seen, (0..<25).map { "c\($0)" })
        XCTAssertEqual(try t.request("GET", "/v1/studies/mmlu/evaluations?limit=0").status, 400)
        XCTAssertEqual(try t.request("GET", "/v1/studies/mmlu/evaluations?cursor=x").status, 400)
        XCTAssertEqual(try t.request("GET", "/v1/studies/mmlu/evaluations?setting=zero").status, 400)
        let control = try t.request("GET", "/v1/studies/mmlu/evaluations?checkpoint=a%08b")
        XCTAssertEqual(control.status, 400)
        XCTAssertEqual(control.errors.first?["field"] as? String, "checkpoint")
    }

    func testFitQueuedRunsAndIsReusedOnUnchangedData() throws {
        let t = try TestService()
        defer { t.close() }
        _ = try makeStudy(t)
        XCTAssertEqual(try t.request("POST", "/v1/studies/mmlu/fits", body: "{}").status, 409, "no evaluations yet")
        try t.request("POST", "/v1/studies/mmlu/evaluations", body: csv, headers: [("Content-Type", "text/csv")])
        let r = try t.request("POST", "/v1/studies/mmlu/fits", body: #"{"max_flops": 2e22, "seed": 1}"#)
        XCTAssertEqual(r.status, 202, r.text)
        let id = r.json["id"] as! Int
        XCTAssertEqual(r.headers["Location"], "/v1/fits/\(id)")
        let done = try t.waitForFit(id)
        XCTAssertEqual(done["status"] as? String, "succeeded")
        XCTAssertEqual(done["progress"] as? Double, 1)
        XCTAssertEqual((done["result"] as? [String: Any])?["seed"] as? Int, 1)
        XCTAssertEqual(((done["result"] as? [String: Any])?["data"] as? [String: Any])?["rows"] as? Int, 3)
        XCTAssertEqual((done["options"] as? [String: Any])?["max_flops"] as? Double, 2e22)
        XCTAssertNotNil(done["started_at"] as? String)
        XCTAssertNotNil(done["finished_at"] as? String)

        // Same options (spelt differently, defaults explicit) on unchanged data: the same fit.
        let again = try t.request("POST", "/v1/studies/mmlu/fits", body: #"{"seed": 1, "max_flops": 2.0e22, "form": "log_power"}"#)
        XCTAssertEqual(again.status, 200)
        XCTAssertEqual(again.json["id"] as? Int, id)
        // Different options, or changed data: a new fit.
        XCTAssertEqual(try t.request("POST", "/v1/studies/mmlu/fits", body: #"{"seed": 2}"#).status, 202)
        try t.request("POST", "/v1/studies/mmlu/evaluations", body: csv.replacingOccurrences(of: "0.35,100", with: "0.36,100"),
                      headers: [("Content-Type", "text/csv")])
        let afterChange = try t.request("POST", "/v1/studies/mmlu/fits", body: #"{"max_flops": 2e22, "seed": 1}"#)
        XCTAssertEqual(afterChange.status, 202)
        XCTAssertNotEqual(afterChange.json["id"] as? Int, id)

        let fits = try t.request("GET", "/v1/studies/mmlu/fits").json["fits"] as? [[String: Any]]
        XCTAssertEqual(fits?.count, 3)
        XCTAssertTrue(fits?.allSatisfy { $0["result"] is NSNull } == true, "listed without results")
    }

    func testFitOptionProblems() throws {
        let t = try TestService()
        defer { t.close() }
        _ = try makeStudy(t)
        try t.request("POST", "/v1/studies/mmlu/evaluations", body: csv, headers: [("Content-Type", "text/csv")])
        func fields(_ body: String) throws -> [String] {
            let r = try t.request("POST", "/v1/studies/mmlu/fits", body: body)
            XCTAssertEqual(r.status, 422, body)
            return r.errors.map { $0["field"] as! String }
        }
        XCTAssertEqual(try fields(#"{"max_flop": 2e22}"#), ["max_flop"])
        XCTAssertEqual(try fields(#"{"form": "cubic"}"#), ["form"])
        XCTAssertEqual(try fields(#"{"seed": -1}"#), ["seed"])
        XCTAssertEqual(try fields(#"{"bootstrap": "many"}"#), ["bootstrap"])
        XCTAssertEqual(try fields(#"{"d0": 0.5, "mcmc_walkers": 7}"#), ["d0", "mcmc_walkers"])
        XCTAssertEqual(try fields(#"{"scaling_law": {"l_inf": 1, "a": -1, "b": 0.1}}"#), ["scaling_law.a"])
        XCTAssertEqual(try fields(#"{"alpha_prior": {"median": 1.4, "sd": 0.3}}"#), ["alpha_prior.sd"])
        XCTAssertEqual(try fields(#"{"alpha_prior": {"median": 0, "log_sd": 0}}"#), ["alpha_prior.median", "alpha_prior.log_sd"])
        XCTAssertEqual(try fields(#"{"alpha_prior": {"median": 1.4}}"#), ["alpha_prior.log_sd"])
        XCTAssertEqual(try fields("[1]"), ["body"])
    }

    func testExtremeFiniteValuesAreAcceptedByValidationAndSchemaAlike() throws {
        let t = try TestService()
        defer { t.close() }
        _ = try makeStudy(t)
        // Validation and CHECKs agree on the extremes: the largest finite loss is accepted.
        let r = try t.request("POST", "/v1/studies/mmlu/evaluations",
                              body: #"[{"checkpoint": "c", "pretrain_loss": 1.7976931348623157e308, "setting": "few_shot", "accuracy": 2.2e-309}]"#,
                              headers: [("Content-Type", "application/json")])
        XCTAssertEqual(r.status, 200, r.text)
    }

    func testFailedFitRecordsTheError() throws {
        let t = try TestService(runner: { _, _, _, _ in throw FitError.noFinetunedRows })
        defer { t.close() }
        _ = try makeStudy(t)
        try t.request("POST", "/v1/studies/mmlu/evaluations", body: csv, headers: [("Content-Type", "text/csv")])
        let id = try t.request("POST", "/v1/studies/mmlu/fits", body: "{}").json["id"] as! Int
        let done = try t.waitForFit(id)
        XCTAssertEqual(done["status"] as? String, "failed")
        XCTAssertTrue((done["error"] as? String)?.contains("finetuned") == true)
        XCTAssertTrue(done["result"] is NSNull)
        // A failed fit is not reused: asking again queues a new one.
        XCTAssertEqual(try t.request("POST", "/v1/studies/mmlu/fits", body: "{}").status, 202)
    }

    func testCancelQueuedAndRunningFits() throws {
        let started = DispatchSemaphore(value: 0)
        let t = try TestService(workers: 1, runner: { rows, options, progress, isCancelled in
            started.signal()
            while !isCancelled() { Thread.sleep(forTimeInterval: 0.005) }
            throw FitError.cancelled
        })
        defer { t.close() }
        _ = try makeStudy(t)
        try t.request("POST", "/v1/studies/mmlu/evaluations", body: csv, headers: [("Content-Type", "text/csv")])
        let running = try t.request("POST", "/v1/studies/mmlu/fits", body: #"{"seed": 1}"#).json["id"] as! Int
        XCTAssertEqual(started.wait(timeout: .now() + 10), .success)
        let queued = try t.request("POST", "/v1/studies/mmlu/fits", body: #"{"seed": 2}"#).json["id"] as! Int
        XCTAssertEqual(try t.request("GET", "/v1/fits/\(queued)").json["status"] as? String, "queued", "one worker: the second waits")

        let q = try t.request("DELETE", "/v1/fits/\(queued)")
        XCTAssertEqual(q.status, 200)
        XCTAssertEqual(q.json["status"] as? String, "cancelled")
        let r = try t.request("DELETE", "/v1/fits/\(running)")
        XCTAssertEqual(r.status, 202)
        XCTAssertEqual(try t.waitForFit(running)["status"] as? String, "cancelled")
        XCTAssertEqual(try t.request("DELETE", "/v1/fits/\(running)").status, 200, "idempotent")
        XCTAssertEqual(try t.request("DELETE", "/v1/fits/999").status, 404)
        XCTAssertEqual(try t.request("GET", "/v1/fits/abc").status, 404)
    }

    func testPredictionETagAnd404Reason() throws {
        let t = try TestService()
        defer { t.close() }
        _ = try makeStudy(t)
        let none = try t.request("GET", "/v1/studies/mmlu/prediction")
        XCTAssertEqual(none.status, 404)
        XCTAssertTrue((none.json["detail"] as? String)?.contains("no succeeded fit") == true)
        try t.request("POST", "/v1/studies/mmlu/evaluations", body: csv, headers: [("Content-Type", "text/csv")])
        let id = try t.request("POST", "/v1/studies/mmlu/fits", body: "{}").json["id"] as! Int
        _ = try t.waitForFit(id)
        let p = try t.request("GET", "/v1/studies/mmlu/prediction")
        XCTAssertEqual(p.status, 200)
        XCTAssertEqual(p.json["id"] as? Int, id)
        let etag = try XCTUnwrap(p.headers["ETag"])
        XCTAssertEqual(p.body, try t.request("GET", "/v1/fits/\(id)").body, "the prediction is the fit's document")
        XCTAssertEqual(try t.request("GET", "/v1/studies/mmlu/prediction", headers: [("If-None-Match", etag)]).status, 304)
        XCTAssertEqual(try t.request("GET", "/v1/studies/mmlu/prediction", headers: [("If-None-Match", "W/\(etag), \"x\"")]).status, 304)
        XCTAssertEqual(try t.request("GET", "/v1/studies/mmlu/prediction", headers: [("If-None-Match", "\"fit-0\"")]).status, 200)
    }

    func testTokensAndScopes() throws {
        let tokens = try TokenSet.parse("reader-0123456789abcdef:read, writer-0123456789abcdef:write admin-0123456789abcdef:admin")
        let t = try TestService(tokens: tokens)
        defer { t.close() }
        func status(_ m: String, _ path: String, _ token: String?, body: String = "") throws -> Int {
            try t.request(m, path, body: body, headers: token.map { [("Authorization", "Bearer \($0)")] } ?? []).status
        }
        XCTAssertEqual(try status("GET", "/healthz", nil), 200)
        XCTAssertEqual(try status("GET", "/openapi.json", nil), 200)
        let unauth = try t.request("GET", "/v1/studies")
        XCTAssertEqual(unauth.status, 401)
        XCTAssertEqual(unauth.headers["WWW-Authenticate"], "Bearer realm=\"emergence\"")
        XCTAssertEqual(try status("GET", "/v1/studies", "wrong-0123456789abcdef"), 401)
        XCTAssertEqual(try status("GET", "/v1/studies", "reader-0123456789abcdef"), 200)
        XCTAssertEqual(try status("POST", "/v1/studies", "reader-0123456789abcdef", body: #"{"name": "s"}"#), 403)
        XCTAssertEqual(try status("POST", "/v1/studies", nil, body: #"{"name": "s"}"#), 401)
        XCTAssertEqual(try status("POST", "/v1/studies", "writer-0123456789abcdef", body: #"{"name": "s"}"#), 201)
        XCTAssertEqual(try status("DELETE", "/v1/studies/s", "writer-0123456789abcdef"), 403)
        XCTAssertEqual(try status("DELETE", "/v1/studies/s", "admin-0123456789abcdef"), 204)
        let forbidden = try t.request("POST", "/v1/studies", body: "{}", headers: [("Authorization", "Bearer reader-0123456789abcdef")])
        XCTAssertFalse(forbidden.text.contains("reader-0123456789abcdef"), "a token is never echoed")
    }

    func testTokenParsingAndConstantTimeCompare() throws {
        XCTAssertThrowsError(try TokenSet.parse("abcdefghijklmnopqrstuvwxyz"))
        XCTAssertThrowsError(try TokenSet.parse("abcdefghijklmnopqrstuvwxyz:root"))
        XCTAssertThrowsError(try TokenSet.parse("short:read"))
        XCTAssertThrowsError(try TokenSet.parse("aaaaaaaaaaaaaaaa:read,aaaaaaaaaaaaaaaa:admin"), "a token listed twice")
        let set = try TokenSet.parse("aaaaaaaaaaaaaaaa:admin,bbbbbbbbbbbbbbbb:write")
        XCTAssertEqual(set.scope(of: "aaaaaaaaaaaaaaaa"), .admin)
        XCTAssertEqual(set.scope(of: "bbbbbbbbbbbbbbbb"), .write)
        XCTAssertNil(set.scope(of: "bbbbbbbbbbbbbbb"))
        XCTAssertNil(set.scope(of: "bbbbbbbbbbbbbbbbb"))
        XCTAssertNil(set.scope(of: ""))
        XCTAssertEqual(TokenSet.constantTimeEquals(Array("abc".utf8), Array("abc".utf8)), 1)
        XCTAssertEqual(TokenSet.constantTimeEquals(Array("abc".utf8), Array("abd".utf8)), 0)
        XCTAssertEqual(TokenSet.constantTimeEquals(Array("abc".utf8), Array("ab".utf8)), 0)
    }

    func testNoTokensRefusesNonLoopbackHosts() {
        var c = ServiceConfiguration()
        for host in ["127.0.0.1", "::1", "localhost", "127.1.2.3"] {
            c.host = host
            XCTAssertNoThrow(try c.validate(), host)
        }
        for host in ["0.0.0.0", "10.0.0.5", "::", "example.com"] {
            c.host = host
            XCTAssertThrowsError(try c.validate(), host) { XCTAssertTrue("\($0)".contains("EMERGENCE_TOKENS")) }
        }
        c.host = "0.0.0.0"
        c.tokens = TokenSet(entries: [("0123456789abcdef", .write)])
        XCTAssertNoThrow(try c.validate())
    }

    /// The caches' sizes are configuration: 0 (no cache) to 64 GiB; anything else is refused by name.
    func testCacheSizesAreBounded() {
        var c = ServiceConfiguration()
        for bytes in [0, 1 << 20, 64 << 30] {
            c.predictionCacheBytes = bytes; c.identityCacheBytes = bytes
            XCTAssertNoThrow(try c.validate(), "\(bytes)")
        }
        c.predictionCacheBytes = -(1 << 20)
        XCTAssertThrowsError(try c.validate()) { XCTAssertTrue("\($0)".contains("prediction cache must be in 0...65536 MiB (got -1 MiB)"), "\($0)") }
        c.predictionCacheBytes = 0
        c.identityCacheBytes = .max
        XCTAssertThrowsError(try c.validate()) { XCTAssertTrue("\($0)".contains("identity cache must be in 0...65536 MiB"), "\($0)") }
    }

    func testQueuedAndRunningFitsSurviveARestart() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("restart-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: dir) }
        let started = DispatchSemaphore(value: 0)
        var first: TestService? = try TestService(dir: dir, workers: 1, runner: { _, _, _, isCancelled in
            started.signal()
            while !isCancelled() { Thread.sleep(forTimeInterval: 0.005) }
            throw FitError.cancelled
        })
        _ = try makeStudy(first!)
        try first!.request("POST", "/v1/studies/mmlu/evaluations", body: csv, headers: [("Content-Type", "text/csv")])
        let a = try first!.request("POST", "/v1/studies/mmlu/fits", body: #"{"seed": 1}"#).json["id"] as! Int
        XCTAssertEqual(started.wait(timeout: .now() + 10), .success)
        let b = try first!.request("POST", "/v1/studies/mmlu/fits", body: #"{"seed": 2}"#).json["id"] as! Int
        XCTAssertEqual(try first!.request("GET", "/v1/fits/\(a)").json["status"] as? String, "running")
        XCTAssertEqual(try first!.request("GET", "/v1/fits/\(b)").json["status"] as? String, "queued")
        // Shut down with one fit running and one queued; the running one is interrupted, not
        // cancelled, and goes back to the queue without using up its attempt.
        first!.close()
        XCTAssertEqual(try first!.request("GET", "/v1/fits/\(a)").json["status"] as? String, "queued")
        first = nil

        let second = try TestService(dir: dir, workers: 2)
        defer { second.close() }
        for id in [a, b] {
            let done = try second.waitForFit(id)
            XCTAssertEqual(done["status"] as? String, "succeeded", "fit \(id)")
        }
        XCTAssertEqual(try second.request("GET", "/v1/fits/\(a)").json["attempts"] as? Int, 1)
    }
}
