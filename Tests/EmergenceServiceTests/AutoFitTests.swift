import EmergenceCore
import Foundation
import XCTest
@testable import EmergenceService

/// A study's `auto_fit` queues one refit after uploads go quiet.
final class AutoFitTests: XCTestCase {
    private let header = "checkpoint,model,parameters,tokens,flops,pretrain_loss,setting,shots,finetune_examples,subset,accuracy,n_questions"
    private func rows(_ checkpoint: String) -> String {
        header + "\n" + "\(checkpoint),1b,1e9,1e10,,2.5,few_shot,5,,,0.25,100\n" + "\(checkpoint),1b,1e9,1e10,,2.5,finetuned,,64,s0,0.30,100\n"
    }

    private func upload(_ t: TestService, _ checkpoint: String) throws {
        let r = try t.request("POST", "/v1/studies/s/evaluations", body: rows(checkpoint), headers: [("Content-Type", "text/csv")])
        XCTAssertEqual(r.status, 200, r.text)
    }

    private func fits(_ t: TestService) throws -> [[String: Any]] {
        try t.request("GET", "/v1/studies/s/jobs").json["jobs"] as? [[String: Any]] ?? []
    }

    /// Waits until `n` jobs exist (or `seconds` pass).
    private func waitForJobs(_ t: TestService, _ n: Int, seconds: Double = 10) throws -> [[String: Any]] {
        let deadline = Date().addingTimeInterval(seconds)
        var jobs = try fits(t)
        while jobs.count < n && Date() < deadline {
            Thread.sleep(forTimeInterval: 0.02)
            jobs = try fits(t)
        }
        return jobs
    }

    func testUploadsQueueOneRefitAfterTheQuietPeriod() throws {
        let t = try TestService(configure: { $0.autoFitQuiet = 0.3 })
        defer { t.close() }
        let created = try t.request("POST", "/v1/studies", body: #"{"name": "s", "auto_fit": {"bootstrap": 10, "seed": 7}}"#)
        XCTAssertEqual(created.status, 201, created.text)
        XCTAssertEqual((created.json["auto_fit"] as? [String: Any])?["seed"] as? Int, 7)
        // Three uploads inside one quiet period: one refit.
        try upload(t, "a")
        try upload(t, "b")
        try upload(t, "c")
        XCTAssertEqual(try fits(t).count, 0, "nothing before the quiet period ends")
        let jobs = try waitForJobs(t, 1)
        XCTAssertEqual(jobs.count, 1)
        XCTAssertEqual(jobs.first?["auto"] as? Bool, true)
        XCTAssertEqual(jobs.first?["kind"] as? String, "fit")
        XCTAssertEqual((jobs.first?["options"] as? [String: Any])?["seed"] as? Int, 7)
        let id = jobs.first?["id"] as! Int
        XCTAssertEqual(try t.waitForFit(id)["status"] as? String, "succeeded")
        XCTAssertEqual(try t.request("GET", "/v1/studies/s/prediction").json["id"] as? Int, id, "/prediction moved by itself")
        Thread.sleep(forTimeInterval: 0.5)
        XCTAssertEqual(try fits(t).count, 1, "no second refit without new data")

        // New data: a second refit, and /prediction follows it.
        try upload(t, "d")
        let two = try waitForJobs(t, 2)
        XCTAssertEqual(two.count, 2)
        let second = two.first?["id"] as! Int
        XCTAssertEqual(try t.waitForFit(second)["status"] as? String, "succeeded")
        XCTAssertEqual(try t.request("GET", "/v1/studies/s/prediction").json["id"] as? Int, second)

        // Off: uploads queue nothing.
        let off = try t.request("PATCH", "/v1/studies/s", body: #"{"auto_fit": null}"#)
        XCTAssertEqual(off.status, 200, off.text)
        XCTAssertTrue(off.json["auto_fit"] is NSNull)
        try upload(t, "e")
        Thread.sleep(forTimeInterval: 0.6)
        XCTAssertEqual(try fits(t).count, 2)
    }

    func testAtMostOneRefitWaitsPerStudy() throws {
        // The one worker is busy with a blocking fit, so the refit stays queued while more data arrives.
        let release = DispatchSemaphore(value: 0)
        let t = try TestService(workers: 1, configure: { $0.autoFitQuiet = 0.1 }, runner: { rows, options, progress, isCancelled in
            if options.seed == 99 {
                while release.wait(timeout: .now() + 0.005) == .timedOut { if isCancelled() { throw FitError.cancelled } }
            }
            return try TestService.quickFit(rows, options, progress, isCancelled)
        })
        defer { t.close() }
        XCTAssertEqual(try t.request("POST", "/v1/studies", body: #"{"name": "s"}"#).status, 201)
        try upload(t, "a")
        let blocker = try t.request("POST", "/v1/studies/s/fits", body: #"{"seed": 99}"#)
        XCTAssertEqual(blocker.status, 202)
        let on = try t.request("PATCH", "/v1/studies/s", body: #"{"auto_fit": {"bootstrap": 0}}"#)
        XCTAssertEqual(on.status, 200, on.text)
        try upload(t, "b")
        var jobs = try waitForJobs(t, 2)
        XCTAssertEqual(jobs.count, 2)
        try upload(t, "c")
        Thread.sleep(forTimeInterval: 0.5)
        jobs = try fits(t)
        XCTAssertEqual(jobs.count, 2, "the queued refit is kept (it reads the newest rows when it starts), not joined by another")
        let version = try t.request("GET", "/v1/studies/s").json["data_version"] as? Int
        XCTAssertEqual(jobs.first?["data_version"] as? Int, version, "the waiting refit is moved to the current data")
        release.signal()
        XCTAssertEqual(try t.waitForFit(jobs.first?["id"] as! Int)["status"] as? String, "succeeded")
    }

    func testAPendingRefitSurvivesARestart() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("autofit-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: dir) }
        do {
            let first = try TestService(dir: dir, configure: { $0.autoFitQuiet = 3600 })
            XCTAssertEqual(try first.request("POST", "/v1/studies", body: #"{"name": "s", "auto_fit": {}}"#).status, 201)
            try upload(first, "a")
            first.service.api.autoFit.stop()
            first.close()
        }
        // Pretend the quiet period passed while the server was down.
        do {
            let again = try TestService(dir: dir, configure: { $0.autoFitQuiet = 0.1 })
            try again.service.database.write { c in try c.run("UPDATE study SET auto_fit_due = 1") }
            again.service.api.autoFit.start()
            let jobs = try waitForJobs(again, 1)
            XCTAssertEqual(jobs.first?["auto"] as? Bool, true)
            again.close()
        }
    }

    func testAutoFitOptionsAreCheckedLikeFitOptions() throws {
        let t = try TestService()
        defer { t.close() }
        let bad = try t.request("POST", "/v1/studies", body: #"{"name": "s", "auto_fit": {"bootstrap": -1, "nope": 1}}"#)
        XCTAssertEqual(bad.status, 422)
        XCTAssertEqual(Set(bad.errors.compactMap { $0["field"] as? String }), ["auto_fit.nope"])
        XCTAssertEqual(try t.request("POST", "/v1/studies", body: #"{"name": "s", "auto_fit": 3}"#).status, 422)
        XCTAssertEqual(try t.request("POST", "/v1/studies", body: #"{"name": "s"}"#).status, 201)
        let patch = try t.request("PATCH", "/v1/studies/s", body: #"{"auto_fit": {"form": "cubic"}}"#)
        XCTAssertEqual(patch.status, 422)
        XCTAssertEqual(patch.errors.first?["field"] as? String, "auto_fit.form")
        XCTAssertEqual(try t.request("PATCH", "/v1/studies/s", body: #"{"name": "x"}"#).status, 422)
        XCTAssertEqual(try t.request("PATCH", "/v1/studies/s", body: "{}").status, 422)
        XCTAssertEqual(try t.request("PATCH", "/v1/studies/nope", body: #"{"auto_fit": null}"#).status, 404)
        XCTAssertTrue(try t.request("GET", "/v1/studies/s").json["auto_fit"] is NSNull)
    }
}
