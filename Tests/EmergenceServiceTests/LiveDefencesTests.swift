import Foundation
import XCTest
@testable import EmergenceService
@testable import HTTP

/// Defences checked on a real server over real sockets.
final class LiveDefencesTests: XCTestCase {
    private func start(_ dir: URL) throws -> EmergenceService {
        var config = ServiceConfiguration()
        config.port = 0
        config.databasePath = dir.appendingPathComponent("live.sqlite").path
        config.workers = 1
        let service = try EmergenceService(configuration: config)
        try service.start()
        return service
    }

    private func tempDir() throws -> URL {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("live-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        return dir
    }

    /// `emergence backup --to DB-wal --force` (and -shm, -journal) is refused while the server
    /// writes, and every row the server acknowledged is there after a restart.
    func testBackupNeverTouchesTheLiveFilesAndEveryAcknowledgedRowSurvives() throws {
        let dir = try tempDir()
        defer { try? FileManager.default.removeItem(at: dir) }
        var service: EmergenceService? = try start(dir)
        let port = try XCTUnwrap(service).port
        let db = dir.appendingPathComponent("live.sqlite").path
        XCTAssertEqual(try WireClient.send(port: port, "POST", "/v1/studies", body: Array(#"{"name": "s"}"#.utf8)).status, 201)
        var acknowledged = 0
        for batch in 0..<12 {
            var csv = "checkpoint,pretrain_loss,setting,shots,accuracy\n"
            for i in 0..<50 { csv += "b\(batch)-\(i),2.5,few_shot,5,0.3\n" }
            let r = try WireClient.send(port: port, "POST", "/v1/studies/s/evaluations", body: Array(csv.utf8),
                                        headers: [("Content-Type", "text/csv")])
            XCTAssertEqual(r.status, 200, r.text)
            if r.status == 200 { acknowledged += (r.json["inserted"] as? Int ?? 0) }
            // Between uploads, a backup aimed at each live file: refused, nothing written.
            let suffix = ["-wal", "-shm", "-journal"][batch % 3]
            XCTAssertThrowsError(try DatabaseBackup.run(database: db, to: db + suffix, overwrite: true)) {
                XCTAssertTrue("\($0)".contains("would overwrite"), "\($0)")
            }
        }
        // A backup to a file of its own works while the server runs.
        let copy = dir.appendingPathComponent("copy.sqlite").path
        XCTAssertNoThrow(try DatabaseBackup.run(database: db, to: copy, overwrite: false))
        XCTAssertFalse(FileManager.default.fileExists(atPath: db + "-journal"), "a refused backup wrote a -journal")
        service?.shutdown()
        service = nil
        let again = try start(dir)
        defer { again.shutdown() }
        let study = try WireClient.send(port: again.port, "GET", "/v1/studies/s")
        XCTAssertEqual(study.json["evaluations"] as? Int, acknowledged)
        XCTAssertEqual(acknowledged, 600)
    }

    /// Every answer carries X-Content-Type-Options: nosniff and a Content-Security-Policy; pages a
    /// strict one (no script; the stylesheet by hash; images from the server) and Referrer-Policy.
    func testSecurityHeadersOnPagesSVGsAndProblems() throws {
        let dir = try tempDir()
        defer { try? FileManager.default.removeItem(at: dir) }
        let service = try start(dir)
        defer { service.shutdown() }
        let port = service.port
        // A name and a description with a bidi override (U+202E): shown isolated.
        XCTAssertEqual(try WireClient.send(port: port, "POST", "/v1/studies", body: Array(#"{"name": "s\u202Eexe.txt"}"#.utf8)).status, 201)
        XCTAssertEqual(try WireClient.send(port: port, "POST", "/v1/studies", body: Array(#"{"name": "s", "description": "read me\u202Etxt.exe"}"#.utf8)).status, 201)
        let csv = "checkpoint,pretrain_loss,setting,shots,finetune_examples,accuracy\nc1,2.5,few_shot,5,,0.3\nc1,2.5,finetuned,5,100,0.4\n"
        XCTAssertEqual(try WireClient.send(port: port, "POST", "/v1/studies/1/evaluations", body: Array(csv.utf8),
                                           headers: [("Content-Type", "text/csv")]).status, 200)
        let pages = [try WireClient.send(port: port, "GET", "/"), try WireClient.send(port: port, "GET", "/studies/1"),
                     try WireClient.send(port: port, "GET", "/studies/nope", headers: [("Accept", "text/html")])]
        for page in pages {
            XCTAssertEqual(page.headers["X-Content-Type-Options"], "nosniff")
            XCTAssertEqual(page.headers["Referrer-Policy"], "no-referrer")
            let csp = try XCTUnwrap(page.headers["Content-Security-Policy"])
            XCTAssertTrue(csp.hasPrefix("default-src 'none';"), csp)
            XCTAssertFalse(csp.contains("unsafe-inline") || csp.contains("script-src"), csp)
            XCTAssertTrue(csp.contains("style-src 'sha256-"), csp)
            XCTAssertFalse(page.text.contains("<script"), "a page carries a script")
            XCTAssertFalse(page.text.contains("style=\""), "an inline style attribute the policy would block")
        }
        // The hash is SHA-256 of the stylesheet exactly as the page carries it (a known vector first).
        XCTAssertEqual(SHA256.base64(SHA256.digest(Array("abc".utf8))), "ungWv48Bz+pBQUDeXa4iI7ADYaOWF3qctBD/YfIAFa0=")
        XCTAssertTrue(pages[1].text.contains("<style>" + PageStyle.css + "</style>"))
        // The bidi override in the name is isolated, never raw between other text.
        XCTAssertTrue(pages[1].text.contains("<h1><bdi>\u{2068}s\u{202E}exe.txt\u{2069}</bdi></h1>"), pages[1].text)
        XCTAssertTrue(pages[0].text.contains(">\u{2068}s\u{202E}exe.txt\u{2069}<"), pages[0].text)
        let described = try WireClient.send(port: port, "GET", "/studies/s")
        XCTAssertTrue(described.text.contains("<p><bdi>\u{2068}read me\u{202E}txt.exe\u{2069}</bdi></p>"), described.text)
        XCTAssertEqual(pages[2].status, 404)

        for (method, target) in [("GET", "/v1/studies/1/plots/fit.svg"), ("GET", "/v1/studies"), ("GET", "/v1/studies/nope"),
                                 ("DELETE", "/"), ("GET", "/no/such/path"), ("GET", "/openapi.json")] {
            let r = try WireClient.send(port: port, method, target)
            XCTAssertEqual(r.headers["X-Content-Type-Options"], "nosniff", "\(method) \(target)")
            XCTAssertEqual(r.headers["Content-Security-Policy"], SecurityHeaders.lockedDown, "\(method) \(target)")
        }
    }
}
