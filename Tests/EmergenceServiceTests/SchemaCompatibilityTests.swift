import CSQLite
import Foundation
import Storage
import XCTest
@testable import EmergenceService
@testable import Jobs

/// A database made before the schema was split between modules (studies in the service, the job
/// table in Jobs) opens, migrates nothing it need not, and serves what it stored; and a fresh
/// database gets the same tables, indexes and constraints as that one.
final class SchemaCompatibilityTests: XCTestCase {
    private func copyOfFixture() throws -> URL {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("schema-v6-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        try Self.restore(FixtureFiles.url("schema-v6-database.sql"), into: dir.appendingPathComponent("db.sqlite").path)
        return dir
    }

    /// The fixture is kept as SQL text (`sqlite3 FILE .dump`, plus its user_version), not as a database
    /// file: it reads in a diff, and no database is checked in. Run into a fresh file as it was.
    private static func restore(_ script: URL, into path: String) throws {
        let sql = try String(contentsOf: script, encoding: .utf8)
        var handle: OpaquePointer?
        guard sqlite3_open(path, &handle) == SQLITE_OK, let handle else { throw CocoaError(.fileWriteUnknown) }
        defer { sqlite3_close(handle) }
        guard sqlite3_exec(handle, sql, nil, nil, nil) == SQLITE_OK else {
            XCTFail(String(cString: sqlite3_errmsg(handle)))
            throw CocoaError(.fileReadCorruptFile)
        }
    }

    /// Every object in the file with its SQL, whatever order the migrations made them in.
    private static func schema(_ database: Database) throws -> [String] {
        try database.read { c in
            try c.query("SELECT type || ' ' || name || ' ' || tbl_name || ': ' || coalesce(sql, '') FROM sqlite_master ORDER BY type, name") {
                $0.text(0) ?? ""
            }
        }
    }

    func testADatabaseOfTheEarlierBuildOpensAndServesWhatItStored() throws {
        let dir = try copyOfFixture()
        defer { try? FileManager.default.removeItem(at: dir) }
        let t = try TestService(dir: dir)
        defer { t.close() }
        // Migrated to the current version (v7 adds the study's pool tag), and nothing it stored changed.
        XCTAssertEqual(try t.service.database.settings().userVersion, ServiceSchema.version)
        let fit = try t.request("GET", "/v1/fits/1")
        XCTAssertEqual(fit.status, 200)
        XCTAssertEqual(fit.body, try FixtureFiles.bytes("schema-v6-fit-1.json"))
        let jobs = try XCTUnwrap(try t.request("GET", "/v1/studies/mmlu/jobs").json["jobs"] as? [[String: Any]])
        XCTAssertEqual(jobs.compactMap { $0["kind"] as? String }, ["fit", "comparison", "observation", "fit"])
        XCTAssertEqual(jobs.compactMap { $0["status"] as? String }, Array(repeating: "succeeded", count: 4))
        XCTAssertEqual(jobs.first?["auto"] as? Bool, true)
        XCTAssertEqual(try t.request("GET", "/v1/studies/mmlu").json["evaluations"] as? Int, 184)
        // A new job goes on after the old ids.
        let again = try t.request("POST", "/v1/studies/gsm8k/fits", body: #"{"seed": 3}"#)
        XCTAssertEqual(again.status, 202)
        XCTAssertEqual(again.json["id"] as? Int, 5)
    }

    func testAFreshDatabaseHasTheSchemaOfTheEarlierBuild() throws {
        let dir = try copyOfFixture()
        defer { try? FileManager.default.removeItem(at: dir) }
        let old = try Database(path: dir.appendingPathComponent("db.sqlite").path, readers: 1, migrations: ServiceSchema.migrations)
        let fresh = try Database(path: dir.appendingPathComponent("fresh.sqlite").path, readers: 1, migrations: ServiceSchema.migrations)
        defer { old.close(); fresh.close() }
        XCTAssertEqual(try Self.schema(fresh), try Self.schema(old))
        XCTAssertEqual(try fresh.settings().userVersion, ServiceSchema.version)
    }
}
