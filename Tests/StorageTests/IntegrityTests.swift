import XCTest
import Foundation
import CSQLite
import Glibc
import EmergenceService
@testable import Storage

// Extended result codes are C macros Swift does not import (sqlite3.h: primary | (n << 8)).
private let SQLITE_CONSTRAINT_UNIQUE = SQLITE_CONSTRAINT | (8 << 8)
private let SQLITE_CONSTRAINT_CHECK = SQLITE_CONSTRAINT | (1 << 8)
private let SQLITE_IOERR_WRITE = SQLITE_IOERR | (3 << 8)
private let SQLITE_IOERR_FSYNC = SQLITE_IOERR | (4 << 8)
private let SQLITE_BUSY_SNAPSHOT = SQLITE_BUSY | (2 << 8)

/// The database itself keeps one row per identity, one writer per file, and says what
/// kind of failure a storage error is.
final class IntegrityTests: StorageTestCase {

    private func insert(_ c: Connection, study: Int, checkpoint: String = "c", setting: String = "finetuned",
                        shots: Int64? = nil, d: SQLValue = .real(64), subset: String? = nil, accuracy: Double = 0.5) throws {
        try c.run("""
            INSERT INTO evaluation (study_id, checkpoint, pretrain_loss, setting, shots, finetune_examples, subset, accuracy)
            VALUES (?, ?, 2.0, ?, ?, ?, ?, ?)
            """, .integer(Int64(study)), .text(checkpoint), .text(setting), shots.map { .integer($0) } ?? .null, d,
            subset.map { .text($0) } ?? .null, .real(accuracy))
    }

    // MARK: One row per identity

    func testTheDatabaseRefusesASecondRowWithOneIdentity() throws {
        let db = try Database(path: path())
        // Raw SQL on a connection of its own, as the sqlite3 shell or another writer would.
        let shell = try Connection(path: path())
        let s = try Self.insertStudy(shell, "s")
        try insert(shell, study: s)
        func refused(_ label: String, _ body: () throws -> Void) {
            XCTAssertThrowsError(try body(), label) { e in
                XCTAssertEqual((e as? SQLiteError)?.kind, .constraint, "\(label): \(e)")
                XCTAssertEqual((e as? SQLiteError)?.code, SQLITE_CONSTRAINT_UNIQUE, "\(label): \(e)")
            }
        }
        refused("the same row") { try insert(shell, study: s) }
        refused("an empty subset is no subset") { try insert(shell, study: s, subset: "") }
        refused("64 stored as an integer is 64.0") { try insert(shell, study: s, d: .integer(64)) }
        refused("-0.0 is 0") {
            try insert(shell, study: s, checkpoint: "z", setting: "few_shot", d: .real(0))
            try insert(shell, study: s, checkpoint: "z", setting: "few_shot", d: .real(-0.0))
        }
        // Differences in any part of the identity are distinct rows.
        try insert(shell, study: s, shots: 0)                        // shots 0 ≠ no shots
        try insert(shell, study: s, subset: "a")
        try insert(shell, study: s, d: .real(128))
        try insert(shell, study: s, checkpoint: "C")
        try insert(shell, study: s, setting: "few_shot", d: .null)
        try insert(shell, study: s, setting: "few_shot", shots: 5, d: .null)
        try insert(shell, study: try Self.insertStudy(shell, "t"))        // another study
        refused("few-shot, no shots, again") { try insert(shell, study: s, setting: "few_shot", d: .null) }
        // An UPDATE that would make two rows one identity is refused too.
        refused("an update onto an existing identity") {
            try shell.run("UPDATE evaluation SET subset = NULL WHERE subset = 'a'")
        }
        let n = try db.read { c in try c.queryOne("SELECT count(*) FROM evaluation") { $0.int(0)! } }
        XCTAssertEqual(n, 9)
    }

    func testTheSqlite3ShellCannotDuplicateAnIdentity() throws {
        let cli = "/usr/bin/sqlite3"
        guard FileManager.default.isExecutableFile(atPath: cli) else { throw XCTSkip("no sqlite3 CLI") }
        let db = try Database(path: path())
        let s = try db.write { c -> Int in
            let s = try Self.insertStudy(c, "s")
            try insert(c, study: s)
            return s
        }
        let p = Process()
        p.executableURL = URL(fileURLWithPath: cli)
        p.arguments = [path(), """
            INSERT INTO evaluation (study_id, checkpoint, pretrain_loss, setting, finetune_examples, subset, accuracy)
            VALUES (\(s), 'c', 2.0, 'finetuned', 64, '', 0.9);
            """]
        let err = Pipe()
        p.standardError = err
        p.standardOutput = Pipe()
        try p.run()
        p.waitUntilExit()
        let message = String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        XCTAssertNotEqual(p.terminationStatus, 0)
        XCTAssertTrue(message.contains("UNIQUE constraint failed"), message)
        let n = try db.read { c in try c.queryOne("SELECT count(*) FROM evaluation") { $0.int(0)! } }
        XCTAssertEqual(n, 1)
    }

    func testAVersion2FileWithDuplicatesMigratesKeepingTheLatestRow() throws {
        let p = path()
        var ids: (s: Int, t: Int) = (0, 0)
        do {
            // Build a v2 file the way a v2 server (plus a second writer) could have left it.
            let c = try Connection(path: p)
            try c.migrate(ServiceSchema.migrations.filter { $0.version <= 2 })
            let s = try Self.insertStudy(c, "s"), t = try Self.insertStudy(c, "t")
            ids = (s, t)
            try insert(c, study: s, accuracy: 0.1)                    // id 1: superseded by 3
            try insert(c, study: s, checkpoint: "other")              // id 2: unique
            try insert(c, study: s, subset: "", accuracy: 0.3)        // id 3: same identity as 1 (subset '' = none)
            try insert(c, study: s, setting: "few_shot", d: .null, accuracy: 0.4)  // 4
            try insert(c, study: s, setting: "few_shot", d: .null, accuracy: 0.5)  // 5: supersedes 4
            try insert(c, study: s, setting: "few_shot", shots: 0, d: .null)       // 6: shots 0 ≠ none: kept
            try insert(c, study: t, accuracy: 0.7)                    // 7: another study: kept
            try insert(c, study: s, subset: nil, accuracy: 0.9)       // 8: supersedes 1 and 3
            try c.run("UPDATE study SET evaluation_count = (SELECT count(*) FROM evaluation WHERE study_id = study.id), data_version = 4")
            XCTAssertEqual(try c.userVersion(), 2)
        }
        let db = try Database(path: p)
        XCTAssertEqual(try db.settings().userVersion, ServiceSchema.version)
        XCTAssertEqual(db.migrationNotes.count, 1)
        XCTAssertTrue(db.migrationNotes.first?.contains("3 evaluation row(s)") == true, "\(db.migrationNotes)")
        let kept = try db.read { c in try c.query("SELECT id, accuracy FROM evaluation ORDER BY id") { [$0.int(0)!, Int($0.double(1)! * 10)] } }
        XCTAssertEqual(kept, [[2, 5], [5, 5], [6, 5], [7, 7], [8, 9]])
        let moved = try db.read { c in try c.query("SELECT id, superseded_by FROM evaluation_superseded ORDER BY id") { [$0.int(0)!, $0.int(1)!] } }
        XCTAssertEqual(moved, [[1, 8], [3, 8], [4, 5]], "nothing is lost: the older copies are kept aside")
        let studies = try db.read { c in try c.query("SELECT id, evaluation_count, data_version FROM study ORDER BY id") { [$0.int(0)!, $0.int(1)!, $0.int(2)!] } }
        XCTAssertEqual(studies, [[ids.s, 4, 5], [ids.t, 1, 4]], "recounted, and a new data version where rows moved")
        // From now on the database refuses copies itself.
        XCTAssertThrowsError(try db.write { try insert($0, study: ids.s) })
        // Deleting a study takes its superseded rows with it.
        try db.write { try $0.run("DELETE FROM study WHERE id = ?", .integer(Int64(ids.s))) }
        XCTAssertEqual(try db.read { c in try c.queryOne("SELECT count(*) FROM evaluation_superseded") { $0.int(0)! } }, 0)
    }

    func testACleanMigrationSaysNothing() throws {
        let db = try Database(path: path())
        XCTAssertEqual(db.migrationNotes, [])
    }

    func testPerStudyReadsStillUseTheStudyIndex() throws {
        let db = try Database(path: path())
        let plan = try db.read { c in
            try c.query("EXPLAIN QUERY PLAN SELECT id FROM evaluation WHERE study_id = 1 ORDER BY id") { $0.text(3) ?? "" }
        }
        XCTAssertTrue(plan.joined().contains("evaluation_by_study"), "\(plan)")
        XCTAssertFalse(plan.joined().contains("TEMP B-TREE"), "\(plan)")
    }

    // MARK: One writer per file

    func testASecondWriterOnTheSameFileIsRefusedUntilTheFirstCloses() throws {
        var first: Database? = try Database(path: path())
        XCTAssertNotNil(first)
        XCTAssertThrowsError(try Database(path: path())) { e in
            guard let e = e as? DatabaseLockError else { return XCTFail("\(e)") }
            XCTAssertEqual(e.pid, Int(getpid()))
            XCTAssertEqual(e.description, "another emergence server is using \(self.path()) (lock \(self.path()).lock held by pid \(getpid()))")
        }
        // Readers take no part in it: a plain connection (the sqlite3 shell, a backup) still reads.
        let reader = try Connection(path: path(), readOnly: true)
        XCTAssertEqual(try reader.userVersion(), ServiceSchema.version)
        first = nil
        let again = try Database(path: path())
        XCTAssertEqual(try again.settings().userVersion, ServiceSchema.version)
    }

    func testTheLockIsSeenByOtherProcesses() throws {
        let tool = "/usr/bin/flock"
        guard FileManager.default.isExecutableFile(atPath: tool) else { throw XCTSkip("no flock(1)") }
        func otherProcessCanLock() throws -> Bool {
            let p = Process()
            p.executableURL = URL(fileURLWithPath: tool)
            p.arguments = ["-n", path() + ".lock", "true"]
            try p.run()
            p.waitUntilExit()
            return p.terminationStatus == 0
        }
        do {
            let db = try Database(path: path())
            XCTAssertFalse(try otherProcessCanLock(), "held while \(db.path) is open")
        }
        XCTAssertTrue(try otherProcessCanLock(), "released when the database closes")

        // And the other way round: another process holds it, so this one may not write.
        let holder = Process()
        holder.executableURL = URL(fileURLWithPath: tool)
        holder.arguments = [path() + ".lock", "sleep", "3"]
        try holder.run()
        // flock(1) holds the lock for its child's life, so wait for that rather than signal it.
        defer { holder.waitUntilExit() }
        var refused = false
        for _ in 0..<100 where !refused {
            do { _ = try Database(path: path()) } catch is DatabaseLockError { refused = true }
            if !refused { Thread.sleep(forTimeInterval: 0.05) }  // until flock(1) has taken it
        }
        XCTAssertTrue(refused)
    }

    func testTheLockNamesTheFileBehindAURIAndSkipsPrivateDatabases() throws {
        XCTAssertEqual(DatabaseLock.file(ofDatabase: "/a/db.sqlite"), "/a/db.sqlite")
        XCTAssertEqual(DatabaseLock.file(ofDatabase: "file:/a/db.sqlite?mode=rwc"), "/a/db.sqlite")
        XCTAssertNil(DatabaseLock.file(ofDatabase: ":memory:"))
        XCTAssertNil(DatabaseLock.file(ofDatabase: ""))
        let first = try Database(path: path())
        XCTAssertThrowsError(try Database(path: "file:\(path())?mode=rwc"), "\(first.path) is the same file") { e in
            XCTAssertEqual((e as? DatabaseLockError)?.lockPath, path() + ".lock")
        }
    }

    func testCloseReleasesTheLockAndRefusesWritesButKeepsReads() throws {
        let first = try Database(path: path())
        try first.write { _ = try Self.insertStudy($0, "s") }
        first.close()
        first.close()
        XCTAssertThrowsError(try first.write { _ = try Self.insertStudy($0, "t") })
        XCTAssertEqual(try first.read { c in try c.queryOne("SELECT count(*) FROM study") { $0.int(0)! } }, 1)
        let second = try Database(path: path())
        try second.write { _ = try Self.insertStudy($0, "t") }
    }

    func testAFailedOpenReleasesTheLock() throws {
        do {
            let c = try Connection(path: path())
            try c.execute("PRAGMA user_version = 99")
        }
        XCTAssertThrowsError(try Database(path: path())) { XCTAssertTrue($0 is MigrationError, "\($0)") }
        XCTAssertNoThrow(try DatabaseLock(databasePath: path()), "the refused open did not keep the lock")
    }

    func testNonExclusiveOpenSkipsTheLock() throws {
        let first = try Database(path: path())
        let second = try Database(path: path(), exclusive: false)
        XCTAssertEqual(try second.settings().userVersion, try first.settings().userVersion)
    }

    // MARK: Error classification

    func testErrorsAreClassified() {
        XCTAssertEqual(SQLiteError(code: SQLITE_FULL, message: "").kind, .diskFull)
        XCTAssertEqual(SQLiteError(code: SQLITE_IOERR_WRITE, message: "", systemErrno: ENOSPC).kind, .diskFull)
        XCTAssertEqual(SQLiteError(code: SQLITE_IOERR_FSYNC, message: "", systemErrno: EDQUOT).kind, .diskFull)
        XCTAssertEqual(SQLiteError(code: SQLITE_IOERR_WRITE, message: "", systemErrno: EIO).kind, .other)
        XCTAssertEqual(SQLiteError(code: SQLITE_BUSY_SNAPSHOT, message: "").kind, .busy)
        XCTAssertEqual(SQLiteError(code: SQLITE_LOCKED, message: "").kind, .busy)
        XCTAssertEqual(SQLiteError(code: SQLITE_CORRUPT, message: "").kind, .corrupt)
        XCTAssertEqual(SQLiteError(code: SQLITE_NOTADB, message: "").kind, .corrupt)
        XCTAssertEqual(SQLiteError(code: SQLITE_CONSTRAINT_CHECK, message: "").kind, .constraint)
        XCTAssertEqual(SQLiteError(code: SQLITE_MISUSE, message: "").kind, .other)
    }

    func testAFullDatabaseRollsBackWholeAndKeepsWorking() throws {
        let db = try Database(path: path())
        let s = try db.write { try Self.insertStudy($0, "s") }
        try db.write { c in
            let pages = try c.queryOne("PRAGMA page_count") { $0.int(0)! } ?? 0
            // max_page_count takes no bound parameter; it is one connection's setting (the writer's).
            try c.execute("PRAGMA max_page_count = 1")  // clamps to the current size
            XCTAssertEqual(try c.queryOne("PRAGMA max_page_count") { $0.int(0)! }, pages)
        }
        XCTAssertThrowsError(try db.write { c in
            for i in 0..<5_000 { try insert(c, study: s, checkpoint: "c\(i)-" + String(repeating: "x", count: 100)) }
        }) { e in
            XCTAssertEqual((e as? SQLiteError)?.kind, .diskFull, "\(e)")
            XCTAssertEqual((e as? SQLiteError)?.isDiskFull, true)
        }
        XCTAssertEqual(try db.read { c in try c.queryOne("SELECT count(*) FROM evaluation") { $0.int(0)! } }, 0,
                       "nothing partial was stored")
        try db.write { try $0.execute("PRAGMA max_page_count = 1073741823") }
        try db.write { c in for i in 0..<5_000 { try insert(c, study: s, checkpoint: "c\(i)") } }
        XCTAssertEqual(try db.read { c in try c.queryOne("SELECT count(*) FROM evaluation") { $0.int(0)! } }, 5_000)
    }
}
