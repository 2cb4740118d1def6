import Foundation
import XCTest
import EmergenceService
@testable import Storage

/// Schema v5: the fit table becomes the table of every job kind, and a v4 file keeps its fits.
final class JobSchemaTests: StorageTestCase {
    func testAVersion4FileOpensWithItsFitsAsFitJobs() throws {
        let p = path()
        var study = 0
        do {
            let c = try Connection(path: p)
            try c.migrate(ServiceSchema.migrations.filter { $0.version <= 4 })
            study = try Self.insertStudy(c, "s")
            try c.run("""
                INSERT INTO fit (study_id, status, options, data_version, created_at, finished_at, result)
                VALUES (?, 'succeeded', '{"seed":1}', 3, '2026-01-01T00:00:00Z', '2026-01-01T00:00:01Z', '{"status":"ok"}')
                """, .integer(Int64(study)))
            try c.run("""
                INSERT INTO fit (study_id, status, options, data_version, created_at) VALUES (?, 'queued', '{}', 3, '2026-01-01T00:00:02Z')
                """, .integer(Int64(study)))
            // A deleted fit's id stays used: the sequence must survive v5 as it survived v4.
            try c.run("INSERT INTO fit (study_id, status, options, data_version, created_at) VALUES (?, 'queued', '{}', 3, 'x')",
                      .integer(Int64(study)))
            try c.run("DELETE FROM fit WHERE id = 3")
            XCTAssertEqual(try c.userVersion(), 4)
        }
        let db = try Database(path: p)
        XCTAssertEqual(try db.settings().userVersion, ServiceSchema.version)
        let rows = try db.read { c in
            try c.query("SELECT id, kind, status, options, result, study_b_id, auto FROM fit ORDER BY id") {
                [String($0.int(0)!), $0.text(1)!, $0.text(2)!, $0.text(3)!, $0.text(4) ?? "-", $0.int(5).map(String.init) ?? "-", String($0.int(6)!)]
            }
        }
        XCTAssertEqual(rows, [["1", "fit", "succeeded", "{\"seed\":1}", "{\"status\":\"ok\"}", "-", "0"],
                              ["2", "fit", "queued", "{}", "-", "-", "0"]])
        let next: Int = try db.write { c in
            try c.run("INSERT INTO fit (study_id, status, options, data_version, created_at, kind) VALUES (?, 'queued', '{}', 0, 'x', 'backtest')",
                      .integer(Int64(study)))
            return c.lastInsertRowID
        }
        XCTAssertEqual(next, 4, "ids are never reused")
        let autoFit = try db.read { c in try c.queryOne("SELECT auto_fit, auto_fit_due FROM study") { [$0.text(0), $0.text(1)] } }
        XCTAssertEqual(autoFit, [nil, nil], "existing studies have auto-refit off")
    }

    func testTheDatabaseRefusesAnUnknownKindAndCascadesTheSecondStudy() throws {
        let db = try Database(path: path())
        let (a, b): (Int, Int) = try db.write { c in (try Self.insertStudy(c, "a"), try Self.insertStudy(c, "b")) }
        XCTAssertThrowsError(try db.write { c in
            try c.run("INSERT INTO fit (study_id, status, options, data_version, created_at, kind) VALUES (?, 'queued', '{}', 0, 'x', 'nonsense')",
                      .integer(Int64(a)))
        })
        try db.write { c in
            try c.run("""
                INSERT INTO fit (study_id, status, options, data_version, created_at, kind, study_b_id, data_version_b)
                VALUES (?, 'queued', '{}', 0, 'x', 'comparison', ?, 0)
                """, .integer(Int64(a)), .integer(Int64(b)))
            try c.run("DELETE FROM study WHERE id = ?", .integer(Int64(b)))
        }
        XCTAssertEqual(try db.read { c in try c.queryOne("SELECT count(*) FROM fit") { $0.int(0)! } }, 0,
                       "deleting a comparison's second study removes the comparison")
    }
}
