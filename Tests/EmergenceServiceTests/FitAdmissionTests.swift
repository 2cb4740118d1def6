import EmergenceCore
import Foundation
import HTTP
import Storage
import XCTest
@testable import EmergenceService
@testable import Jobs

/// Bounded work and recovery: the fit queue's bounds (429), the wall-clock limit (`timed_out`), one
/// retry after a crash, and what is refused from the request head.
final class FitAdmissionTests: XCTestCase {
    private let csv = "checkpoint,model,parameters,tokens,flops,pretrain_loss,setting,shots,finetune_examples,subset,accuracy,n_questions\n"
        + "a,1b,1e9,1e10,,2.5,few_shot,5,,,0.25,100\n"
        + "a,1b,1e9,1e10,,2.5,finetuned,,64,s0,0.30,100\n"

    private func study(_ t: TestService, _ name: String) throws {
        XCTAssertEqual(try t.request("POST", "/v1/studies", body: #"{"name": "\#(name)"}"#).status, 201)
        XCTAssertEqual(try t.request("POST", "/v1/studies/\(name)/evaluations", body: csv, headers: [("Content-Type", "text/csv")]).status, 200)
    }

    /// A runner that holds its worker until cancelled (or until `release`).
    private static func blocking(_ release: DispatchSemaphore? = nil) -> JobWorkerPool.FitRunner {
        { rows, options, progress, isCancelled in
            while !isCancelled() {
                if let release, release.wait(timeout: .now() + 0.005) == .success { return try TestService.quickFit(rows, options, progress, isCancelled) }
                Thread.sleep(forTimeInterval: 0.002)
            }
            throw FitError.cancelled
        }
    }

    func testQueueBoundsAnswer429WithRetryAfterButIdenticalRequestsStillFindTheirFit() throws {
        let t = try TestService(workers: 1, configure: { $0.maxQueuedFits = 5; $0.maxQueuedFitsPerStudy = 3 }, runner: Self.blocking())
        defer { t.close() }
        try study(t, "a")
        try study(t, "b")
        for seed in 1...3 { XCTAssertEqual(try t.request("POST", "/v1/studies/a/fits", body: #"{"seed": \#(seed)}"#).status, 202) }
        let refused = try t.request("POST", "/v1/studies/a/fits", body: #"{"seed": 4}"#)
        XCTAssertEqual(refused.status, 429, refused.text)
        XCTAssertNotNil(refused.headers["Retry-After"].flatMap(Int.init))
        XCTAssertTrue((refused.json["detail"] as? String)?.contains("this study") == true, refused.text)
        // The same request as an accepted one is answered with that fit, full queue or not.
        XCTAssertEqual(try t.request("POST", "/v1/studies/a/fits", body: #"{"seed": 2}"#).status, 200)
        // The server-wide bound: 3 + 2 = 5.
        for seed in 1...2 { XCTAssertEqual(try t.request("POST", "/v1/studies/b/fits", body: #"{"seed": \#(seed)}"#).status, 202) }
        let full = try t.request("POST", "/v1/studies/b/fits", body: #"{"seed": 3}"#)
        XCTAssertEqual(full.status, 429, full.text)
        XCTAssertTrue((full.json["detail"] as? String)?.contains("the server") == true, full.text)
        // Cancelling frees a place.
        XCTAssertEqual(try t.request("DELETE", "/v1/fits/5").status, 200)
        XCTAssertEqual(try t.request("POST", "/v1/studies/b/fits", body: #"{"seed": 3}"#).status, 202)
    }

    func testAFitPastTheWallClockLimitEndsTimedOut() throws {
        let t = try TestService(workers: 1, configure: { $0.fitTimeout = 1 }, runner: Self.blocking())
        defer { t.close() }
        try study(t, "a")
        let id = try XCTUnwrap(try t.request("POST", "/v1/studies/a/fits", body: "{}").json["id"] as? Int)
        let done = try t.waitForFit(id)
        XCTAssertEqual(done["status"] as? String, "timed_out")
        XCTAssertTrue((done["error"] as? String)?.contains("limit of 1 s") == true, "\(done)")
        XCTAssertTrue(done["finished_at"] is String)
        // Timed out is not reused: the same request queues a new fit.
        XCTAssertEqual(try t.request("POST", "/v1/studies/a/fits", body: "{}").status, 202)
    }

    /// A fit that was running when the process died is retried once; interrupted again, it is failed
    /// and the server starts normally.
    func testACrashedFitIsRetriedOnceThenFailed() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("retry-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let path = dir.appendingPathComponent("db.sqlite").path
        let fitID: Int
        do {
            let db = try Database(path: path, readers: 1, migrations: ServiceSchema.migrations)
            defer { db.close() }
            try db.write { c in
                try c.run("INSERT INTO study (name, created_at) VALUES ('s', 'now')")
                try c.run("INSERT INTO fit (study_id, status, options, data_version, created_at) VALUES (1, 'queued', '{}', 0, 'now')")
            }
            let store = JobStore(database: db)
            fitID = try XCTUnwrap(try store.claimNext()?.id)          // attempt 1 ... the process dies
            XCTAssertEqual(try store.recoverInterrupted().requeued, 1) // next start: retried
            XCTAssertEqual(try store.claimNext()?.attempts, 2)         // attempt 2 ... dies again
            let second = try store.recoverInterrupted()
            XCTAssertEqual(second.requeued, 0)
            XCTAssertEqual(second.failed, 1)
            let job = try XCTUnwrap(try store.find(id: fitID))
            XCTAssertEqual(job.status, .failed)
            XCTAssertTrue(job.error?.contains("not retried again") == true, job.error ?? "")
        }
        // And the service starts on that file and serves.
        let t = try TestService(dir: dir)
        defer { t.close() }
        XCTAssertEqual(try t.request("GET", "/v1/fits/\(fitID)").json["status"] as? String, "failed")
        XCTAssertEqual(try t.request("GET", "/healthz").status, 200)
    }

    func testQueueingForADeletedStudyThrowsInsteadOfTrapping() throws {
        let t = try TestService()
        defer { t.close() }
        let store = JobStore(database: t.service.database)
        XCTAssertThrowsError(try store.enqueue(JobStore.Request(studyID: 9999, optionsJSON: "{}"), limits: .init(overall: 10, perStudy: 10), workers: 1)) { XCTAssertTrue($0 is JobStore.StudyGone) }
    }

    func testRepeatedQueryParametersAndAuthorizationHeadersAre400() throws {
        let token = "0123456789abcdef-reader"
        let t = try TestService(tokens: try TokenSet.parse("\(token):read"))
        defer { t.close() }
        let auth = ("Authorization", "Bearer \(token)")
        XCTAssertEqual(try t.request("GET", "/v1/studies?limit=5", headers: [auth]).status, 200)
        let twice = try t.request("GET", "/v1/studies?limit=5&limit=500", headers: [auth])
        XCTAssertEqual(twice.status, 400, twice.text)
        XCTAssertTrue(twice.text.contains("limit"), twice.text)
        let twoAuth = try t.request("GET", "/v1/studies", headers: [auth, ("Authorization", "Bearer nope-nope-nope-nope")])
        XCTAssertEqual(twoAuth.status, 400, twoAuth.text)
    }

    func testATokenListedTwiceIsRefusedAtStart() {
        XCTAssertThrowsError(try TokenSet.parse("0123456789abcdef-x:read,0123456789abcdef-x:admin")) { error in
            XCTAssertTrue("\(error)".contains("entry 2 repeats"), "\(error)")
            XCTAssertFalse("\(error)".contains("0123456789abcdef"), "the error must not echo a token")
        }
    }

    func testRequestIDsAreEchoedOrMade() throws {
        let t = try TestService()
        defer { t.close() }
        XCTAssertEqual(try t.request("GET", "/healthz", headers: [("X-Request-Id", "ci-run-7:step.3")]).headers["X-Request-Id"], "ci-run-7:step.3")
        let made = try t.request("GET", "/healthz", headers: [("X-Request-Id", "bad id\u{7f}")]).headers["X-Request-Id"] ?? ""
        XCTAssertEqual(made.count, 32)
        XCTAssertTrue(made.allSatisfy(\.isHexDigit))
        // The router's own answers too: an unknown path (404) and a method the path lacks (405).
        let missing = try t.request("GET", "/v1/nowhere", headers: [("X-Request-Id", "lost-1")])
        XCTAssertEqual(missing.status, 404)
        XCTAssertEqual(missing.headers["X-Request-Id"], "lost-1")
        let wrongMethod = try t.request("PUT", "/healthz")
        XCTAssertEqual(wrongMethod.status, 405)
        XCTAssertEqual(wrongMethod.headers["X-Request-Id"]?.count, 32)
    }

    /// A refusal decided from the head (401 without a token) carries the id like any other answer.
    func testHeadRefusalsCarryTheRequestID() throws {
        let t = try TestService(tokens: try TokenSet.parse("0123456789abcdef-r:read"))
        defer { t.close() }
        let refused = try t.request("GET", "/v1/studies", headers: [("X-Request-Id", "no-token-1")])
        XCTAssertEqual(refused.status, 401)
        XCTAssertEqual(refused.headers["X-Request-Id"], "no-token-1")
    }

    /// Schema v4 rebuilds the fit table for `timed_out`: rows, ids and the AUTOINCREMENT mark survive.
    func testTheFitTableMigrationKeepsRowsAndNeverReusesIDs() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("migrate-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let path = dir.appendingPathComponent("db.sqlite").path
        do {
            let old = try Database(path: path, readers: 1, migrations: ServiceSchema.migrations.filter { $0.version <= 3 })
            defer { old.close() }
            try old.write { c in
                try c.run("INSERT INTO study (name, created_at) VALUES ('s', 'now')")
                for _ in 0..<3 {
                    try c.run("INSERT INTO fit (study_id, status, options, data_version, created_at) VALUES (1, 'queued', '{}', 0, 'now')")
                }
                try c.run("DELETE FROM fit WHERE id = 3")
            }
        }
        let db = try Database(path: path, readers: 1, migrations: ServiceSchema.migrations)
        let (ids, next): ([Int], Int) = try db.write { c in
            let ids = try c.query("SELECT id FROM fit ORDER BY id") { $0.int(0) ?? 0 }
            try c.run("INSERT INTO fit (study_id, status, options, data_version, created_at, finished_at) VALUES (1, 'timed_out', '{}', 0, 'now', 'now')")
            return (ids, c.lastInsertRowID)
        }
        XCTAssertEqual(ids, [1, 2])
        XCTAssertEqual(next, 4, "the id of the deleted fit 3 must not be reused")
    }

    /// The spec's bounds and the server's agree at the edges schemathesis probes.
    func testSeedBoundAndUnknownScalingLawFieldsAgreeWithTheSpec() throws {
        let t = try TestService()
        defer { t.close() }
        try study(t, "a")
        XCTAssertEqual(try t.request("POST", "/v1/studies/a/fits", body: #"{"seed": 9007199254740991}"#).status, 202)
        let big = try t.request("POST", "/v1/studies/a/fits", body: #"{"seed": 18446744073709551615}"#)
        XCTAssertEqual(big.status, 422, big.text)
        XCTAssertEqual(big.errors.first?["field"] as? String, "seed")
        let law = try t.request("POST", "/v1/studies/a/fits", body: #"{"scaling_law": {"l_inf": 1.7, "a": 400, "b": 0.1, "c": 1}}"#)
        XCTAssertEqual(law.status, 422, law.text)
        XCTAssertEqual(law.errors.first?["field"] as? String, "scaling_law.c")
    }

    /// Small JSON routes take at most 64 KiB; the limit is the route's, decided from the head.
    func testSmallJSONRoutesTakeAt64KiB() throws {
        let t = try TestService()
        defer { t.close() }
        try study(t, "a")
        let padded = #"{"seed": 1, "bootstrap": 10"# + String(repeating: " ", count: 70 * 1024) + "}"
        XCTAssertEqual(try t.request("POST", "/v1/studies/a/fits", body: padded).status, 413)
        XCTAssertEqual(try t.request("POST", "/v1/studies", body: #"{"name": "b", "description": ""# + String(repeating: "x", count: 70 * 1024) + #""}"#).status, 413)
    }

    /// A full disk answers 507 problem+json; the upload stores nothing and serving goes on.
    func testAFullDiskIs507AndStoresNothing() throws {
        let t = try TestService()
        defer { t.close() }
        try study(t, "a")
        // SQLite answers SQLITE_FULL once the file would pass this many pages (160 KiB), as on a full
        // disk; the study and its two rows fit, the upload below does not.
        try t.service.database.write { c in try c.execute("PRAGMA max_page_count = 40") }
        var rows = "checkpoint,model,parameters,tokens,flops,pretrain_loss,setting,shots,finetune_examples,subset,accuracy,n_questions\n"
        for i in 0..<20_000 { rows += "c\(i)-\(String(repeating: "x", count: 40)),1b,1e9,1e10,,2.5,few_shot,5,,,0.25,100\n" }
        let r = try t.request("POST", "/v1/studies/a/evaluations", body: rows, headers: [("Content-Type", "text/csv")])
        XCTAssertEqual(r.status, 507, r.text)
        XCTAssertEqual(r.json["detail"] as? String, "the database's disk is full; nothing was stored")
        XCTAssertEqual(try t.request("GET", "/v1/studies/a").json["evaluations"] as? Int, 2)
        XCTAssertEqual(try t.request("GET", "/v1/studies/a/evaluations?limit=5").status, 200)
    }

    func testUploadSlotsAreBoundedAndGivenBack() {
        let slots = UploadSlots(limit: 2)
        let a = slots.take(), b = slots.take()
        XCTAssertNotNil(a)
        XCTAssertNotNil(b)
        XCTAssertNil(slots.take(), "a third upload at once is refused")
        a?.release()
        let c = slots.take()
        XCTAssertNotNil(c)
        b?.release()
        c?.release()
        XCTAssertNotNil(slots.take())
    }

    /// openapi.json says `additionalProperties: false` for a study: an unknown key is refused even
    /// when its value is null (schemathesis sent `"": null`).
    func testAnUnknownStudyFieldIsRefusedEvenWhenNull() throws {
        let t = try TestService()
        defer { t.close() }
        let r = try t.request("POST", "/v1/studies", body: #"{"name": "x", "task": null, "": null}"#)
        XCTAssertEqual(r.status, 422, r.text)
        XCTAssertEqual(r.errors.first?["field"] as? String, "")
        XCTAssertEqual(try t.request("POST", "/v1/studies", body: #"{"name": "y", "task": null}"#).status, 201)
    }
}
