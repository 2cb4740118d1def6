import XCTest
import Foundation
import CSQLite
import EmergenceService
@testable import Storage

final class DatabaseTests: StorageTestCase {

    private static func insertEvaluation(_ c: Connection, study: Int, checkpoint: String = "c", loss: Double = 2,
                                  setting: String = "few_shot", shots: Int64? = 5, d: Double? = nil,
                                  subset: String? = nil, accuracy: Double = 0.5) throws {
        try c.run("""
            INSERT INTO evaluation (study_id, checkpoint, pretrain_loss, setting, shots, finetune_examples, subset, accuracy)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?)
            """, .integer(Int64(study)), .text(checkpoint), .real(loss), .text(setting),
            shots.map { .integer($0) } ?? .null, d.map { .real($0) } ?? .null, subset.map { .text($0) } ?? .null, .real(accuracy))
    }

    func testFreshFileIsMigratedWithDurableSettings() throws {
        let db = try Database(path: path())
        let s = try db.settings()
        XCTAssertEqual(s.journalMode, "wal")
        XCTAssertEqual(s.synchronous, 2)  // FULL
        XCTAssertTrue(s.foreignKeys)
        XCTAssertEqual(s.userVersion, ServiceSchema.version)
        let tables = try db.read { c in
            try c.query("SELECT name FROM sqlite_schema WHERE type = 'table' ORDER BY name") { $0.text(0)! }
        }
        XCTAssertEqual(tables, ["evaluation", "evaluation_superseded", "fit", "sqlite_sequence", "study"])
        let strict = try db.read { c in try c.query("SELECT name FROM pragma_table_list WHERE strict = 1 ORDER BY name") { $0.text(0)! } }
        XCTAssertEqual(strict, ["evaluation", "evaluation_superseded", "fit", "study"])
    }

    func testMigrationsRunOnceAndInOrder() throws {
        let migrations = [
            Migration(version: 1, script: "CREATE TABLE a (x INTEGER) STRICT; PRAGMA user_version = 1;"),
            Migration(version: 2, script: "ALTER TABLE a ADD COLUMN y TEXT; PRAGMA user_version = 2;"),
        ]
        let c = try Connection(path: path("m.sqlite"))
        XCTAssertEqual(try c.migrate(Array(migrations.prefix(1))), [1])
        XCTAssertEqual(try c.migrate(migrations), [2])
        XCTAssertEqual(try c.migrate(migrations), [])
        XCTAssertEqual(try c.userVersion(), 2)
        try c.run("INSERT INTO a (x, y) VALUES (?, ?)", .integer(1), .text("y"))
    }

    func testFailingMigrationLeavesPreviousVersion() throws {
        let c = try Connection(path: path("m.sqlite"))
        let bad = [
            Migration(version: 1, script: "CREATE TABLE a (x INTEGER) STRICT; PRAGMA user_version = 1;"),
            Migration(version: 2, script: "CREATE TABLE b (x INTEGER); CREATE TABLE a (x INTEGER); PRAGMA user_version = 2;"),
        ]
        XCTAssertThrowsError(try c.migrate(bad))
        XCTAssertEqual(try c.userVersion(), 1)
        let b = try c.queryOne("SELECT count(*) FROM sqlite_schema WHERE name = 'b'") { $0.int(0)! }
        XCTAssertEqual(b, 0, "the half-run migration was rolled back")
    }

    func testNewerDatabaseIsRefused() throws {
        let p = path()
        do {
            let c = try Connection(path: p)
            try c.execute("PRAGMA user_version = 99")
        }
        XCTAssertThrowsError(try Database(path: p)) { e in
            XCTAssertTrue("\(e)".contains("99"))
        }
    }

    func testChecksRejectWhatValidationRejects() throws {
        let db = try Database(path: path())
        let study = try db.write { try Self.insertStudy($0, "s") }
        func rejects(_ label: String, _ body: @escaping (Connection) throws -> Void) {
            XCTAssertThrowsError(try db.write(body), label) { e in
                XCTAssertTrue((e as? SQLiteError)?.isConstraintViolation == true, "\(label): \(e)")
            }
        }
        rejects("loss 0") { try Self.insertEvaluation($0, study: study, loss: 0) }
        rejects("loss inf") { try Self.insertEvaluation($0, study: study, loss: .infinity) }
        rejects("accuracy > 1") { try Self.insertEvaluation($0, study: study, accuracy: 1.01) }
        rejects("accuracy < 0") { try Self.insertEvaluation($0, study: study, accuracy: -0.1) }
        rejects("bad setting") { try Self.insertEvaluation($0, study: study, setting: "zero_shot") }
        rejects("finetuned without D") { try Self.insertEvaluation($0, study: study, setting: "finetuned", shots: nil) }
        rejects("negative shots") { try Self.insertEvaluation($0, study: study, shots: -1) }
        rejects("unknown study") { try Self.insertEvaluation($0, study: study + 100) }
        rejects("empty checkpoint") { try Self.insertEvaluation($0, study: study, checkpoint: "") }
        rejects("text in a REAL column (STRICT)") { c in
            try c.run("INSERT INTO evaluation (study_id, checkpoint, pretrain_loss, setting, accuracy) VALUES (?, 'c', 'two', 'few_shot', 0.5)",
                      .integer(Int64(study)))
        }
        rejects("empty study name") { _ = try Self.insertStudy($0, "") }
        rejects("duplicate study name") { _ = try Self.insertStudy($0, "s") }
        rejects("fit succeeded without result") { c in
            try c.run("INSERT INTO fit (study_id, status, options, data_version, created_at, finished_at) VALUES (?, 'succeeded', '{}', 0, 'now', 'now')",
                      .integer(Int64(study)))
        }
        let count = try db.read { c in try c.queryOne("SELECT count(*) FROM evaluation") { $0.int(0)! } }
        XCTAssertEqual(count, 0)
        try db.write { try Self.insertEvaluation($0, study: study, setting: "finetuned", shots: nil, d: 64) }
        // The largest finite loss passes validation, so the CHECK must take it too.
        try db.write { try Self.insertEvaluation($0, study: study, checkpoint: "max", loss: .greatestFiniteMagnitude) }
    }

    /// Version 2 replaced the unique identity index with a plain index by study, and version 3 put
    /// the unique index back beside it; a version-1 file with rows upgrades in place.
    func testVersionOneFileUpgradesAndKeepsItsRows() throws {
        let p = path()
        do {
            let c = try Connection(path: p)
            try c.execute("PRAGMA foreign_keys = ON")
            try c.migrate(ServiceSchema.migrations.filter { $0.version <= 1 })
            let study = try Self.insertStudy(c, "s")
            for i in 0..<100 { try Self.insertEvaluation(c, study: study, checkpoint: "c\(i)") }
        }
        let db = try Database(path: p)
        XCTAssertEqual(try db.settings().userVersion, ServiceSchema.version)
        let indexes = try db.read { c in
            try c.query("SELECT name FROM sqlite_schema WHERE type = 'index' AND tbl_name = 'evaluation' ORDER BY name") { $0.text(0)! }
        }
        XCTAssertEqual(indexes, ["evaluation_by_study", "evaluation_identity"])
        let plan = try db.read { c in
            try c.query("EXPLAIN QUERY PLAN SELECT id FROM evaluation WHERE study_id = 1 AND id > 5 ORDER BY id LIMIT 10") { $0.text(3)! }
        }
        XCTAssertTrue(plan.joined().contains("evaluation_by_study"), "\(plan)")
        XCTAssertEqual(try db.read { c in try c.queryOne("SELECT count(*) FROM evaluation") { $0.int(0)! } }, 100)
    }

    func testBatchStatementsRepeatTheirRow() throws {
        let db = try Database(path: path())
        let study = try db.write { try Self.insertStudy($0, "s") }
        try db.write { c in
            let s = try c.prepareBatch("INSERT INTO evaluation (study_id, checkpoint, pretrain_loss, setting, accuracy) VALUES",
                                       row: "(?, ?, ?, ?, ?)", count: 3)
            for i in 0..<3 {
                let k = Int32(5 * i)
                s.bind(k + 1, study)
                s.bind(k + 2, "c\(i)")
                s.bind(k + 3, 2.0)
                s.bind(k + 4, static: "few_shot")
                s.bind(k + 5, 0.5)
            }
            try s.runKeepingBindings()
            // Bindings survive runKeepingBindings: the same rows again are one identity twice
            // (refused since schema v3); with new checkpoint names alone, the rest is reused.
            XCTAssertThrowsError(try s.runKeepingBindings())
            for i in 0..<3 { s.bind(Int32(5 * i) + 2, "d\(i)") }
            try s.runKeepingBindings()
        }
        let names = try db.read { c in try c.query("SELECT checkpoint FROM evaluation ORDER BY id") { $0.text(0)! } }
        XCTAssertEqual(names, ["c0", "c1", "c2", "d0", "d1", "d2"])
    }

    func testDataVersionMovesOnlyForOtherConnections() throws {
        let p = path()
        let db = try Database(path: p)
        _ = try db.write { try Self.insertStudy($0, "a") }
        let before = try db.write { try $0.dataVersion() }
        _ = try db.write { try Self.insertStudy($0, "b") }
        XCTAssertEqual(try db.write { try $0.dataVersion() }, before, "the writer's own commits")
        let other = try Connection(path: p)
        try other.run("INSERT INTO study (name, created_at) VALUES ('c', 'now')")
        XCTAssertNotEqual(try db.write { try $0.dataVersion() }, before, "another connection committed")
    }

    func testWriteRollsBackWhenBodyThrows() throws {
        struct Boom: Error {}
        let db = try Database(path: path())
        XCTAssertThrowsError(try db.write { c in
            _ = try Self.insertStudy(c, "a")
            throw Boom()
        })
        let n = try db.read { c in try c.queryOne("SELECT count(*) FROM study") { $0.int(0)! } }
        XCTAssertEqual(n, 0)
    }

    func testValuesAreBoundNeverSpliced() throws {
        let db = try Database(path: path())
        let hostile = "x'); DROP TABLE study; --"
        try db.write { c in _ = try Self.insertStudy(c, hostile) }
        let names = try db.read { c in try c.query("SELECT name FROM study") { $0.text(0)! } }
        XCTAssertEqual(names, [hostile])
        // Empty text binds as text, not NULL.
        try db.write { c in try c.run("UPDATE study SET task = ? WHERE name = ?", .text(""), .text(hostile)) }
        let task = try db.read { c in try c.queryOne("SELECT task IS NULL, task FROM study") { ($0.int(0)!, $0.text(1)) } }
        XCTAssertEqual(task?.0, 0)
        XCTAssertEqual(task?.1, "")
    }

    func testReadersSeeACommittedSnapshotWhileTheWriterWorks() throws {
        let db = try Database(path: path(), readers: 2)
        _ = try db.write { try Self.insertStudy($0, "before") }
        let inWrite = DispatchSemaphore(value: 0)
        let readDone = DispatchSemaphore(value: 0)
        let group = DispatchGroup()
        group.enter()
        DispatchQueue.global().async {
            _ = try? db.write { c -> Int in
                let id = try! Self.insertStudy(c, "during")
                inWrite.signal()
                _ = readDone.wait(timeout: .now() + 10)
                return id
            }
            group.leave()
        }
        XCTAssertEqual(inWrite.wait(timeout: .now() + 10), .success)
        // The writer holds its transaction open; a read still completes and sees only committed rows.
        let seen = try db.read { c in try c.query("SELECT name FROM study ORDER BY id") { $0.text(0)! } }
        readDone.signal()
        XCTAssertEqual(seen, ["before"])
        XCTAssertEqual(group.wait(timeout: .now() + 10), .success)
        let after = try db.read { c in try c.query("SELECT name FROM study ORDER BY id") { $0.text(0)! } }
        XCTAssertEqual(after, ["before", "during"])
    }

    func testBackgroundCheckpointMovesTheWALIntoTheFile() throws {
        let p = path()
        let db = try Database(path: p)
        let s = try db.write { try Self.insertStudy($0, "s") }
        try db.write { c in for i in 0..<2000 { try Self.insertEvaluation(c, study: s, checkpoint: "c\(i)") } }
        let wal = { (try? FileManager.default.attributesOfItem(atPath: p + "-wal")[.size] as? Int) ?? 0 }
        XCTAssertGreaterThan(wal(), 0)
        // Within a few timer ticks the frames are in the main file: a fresh connection that ignores
        // the WAL (immutable=1 reads the file alone) sees the rows.
        let deadline = Date().addingTimeInterval(10)
        var seen = 0
        while Date() < deadline {
            // Before the first checkpoint even the schema is only in the WAL: "no such table" then.
            let c = try Connection(path: "file:\(p)?immutable=1", readOnly: true)
            seen = (try? c.queryOne("SELECT count(*) FROM evaluation") { $0.int(0)! }) ?? 0
            if seen == 2000 { break }
            Thread.sleep(forTimeInterval: 0.2)
        }
        XCTAssertEqual(seen, 2000)
    }

    func testCommittedWritesSurviveReopening() throws {
        let p = path()
        do {
            let db = try Database(path: p)
            let s = try db.write { try Self.insertStudy($0, "kept") }
            try db.write { try Self.insertEvaluation($0, study: s) }
        }
        let db = try Database(path: p)
        let n = try db.read { c in try c.queryOne("SELECT count(*) FROM evaluation JOIN study ON study.id = study_id WHERE name = 'kept'") { $0.int(0)! } }
        XCTAssertEqual(n, 1)
    }

    func testDeletingAStudyCascades() throws {
        let db = try Database(path: path())
        let s = try db.write { try Self.insertStudy($0, "s") }
        try db.write { c in
            try Self.insertEvaluation(c, study: s)
            try c.run("INSERT INTO fit (study_id, status, options, data_version, created_at) VALUES (?, 'queued', '{}', 0, 'now')", .integer(Int64(s)))
            try c.run("DELETE FROM study WHERE id = ?", .integer(Int64(s)))
        }
        let left = try db.read { c in
            try c.queryOne("SELECT (SELECT count(*) FROM evaluation) + (SELECT count(*) FROM fit)") { $0.int(0)! }
        }
        XCTAssertEqual(left, 0)
    }

    func testManyConcurrentReadersAndWritersDoNotCollide() throws {
        let db = try Database(path: path(), readers: 3)
        let s = try db.write { try Self.insertStudy($0, "s") }
        let errors = LockedCounter()
        DispatchQueue.concurrentPerform(iterations: 8) { worker in
            for i in 0..<25 {
                do {
                    if worker % 2 == 0 {
                        try db.write { try Self.insertEvaluation($0, study: s, checkpoint: "w\(worker)-\(i)") }
                    } else {
                        _ = try db.read { c in try c.queryOne("SELECT count(*) FROM evaluation") { $0.int(0)! } }
                    }
                } catch { errors.add() }
            }
        }
        XCTAssertEqual(errors.value, 0)
        let n = try db.read { c in try c.queryOne("SELECT count(*) FROM evaluation") { $0.int(0)! } }
        XCTAssertEqual(n, 4 * 25)
    }
}

final class LockedCounter: @unchecked Sendable {
    private let lock = NSLock()
    private var n = 0
    func add() { lock.lock(); n += 1; lock.unlock() }
    var value: Int { lock.lock(); defer { lock.unlock() }; return n }
}
