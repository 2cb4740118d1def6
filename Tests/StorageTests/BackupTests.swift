import Foundation
import Glibc
import Synchronization
import XCTest
@testable import Storage

/// `Backup.copy`: SQLite's online backup API on a database another connection keeps writing.
final class BackupTests: XCTestCase {
    private var dir: URL!

    override func setUpWithError() throws {
        dir = FileManager.default.temporaryDirectory.appendingPathComponent("backup-tests-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws {
        try? FileManager.default.removeItem(at: dir)
    }

    private func path(_ name: String) -> String { dir.appendingPathComponent(name).path }

    private static func insertBatch(_ db: Database, study: Int, batch: Int, rows: Int) throws {
        try db.write { c in
            for i in 0..<rows {
                try c.run("""
                    INSERT INTO evaluation (study_id, checkpoint, pretrain_loss, setting, shots, accuracy)
                    VALUES (?, ?, 2.0, 'few_shot', 5, 0.5)
                    """, .integer(Int64(study)), .text("b\(batch)-\(i)"))
            }
        }
    }

    /// The server's own `Database` (holding DB.lock) keeps committing batches while backups run:
    /// each backup passes integrity_check, holds every batch committed before it began, and holds
    /// every batch whole or not at all. A restored copy opens as a database and reads the same rows.
    func testBackupWhileWritingIsConsistentAndRestores() throws {
        let db = try Database(path: path("live.sqlite"))
        let study = try db.write { c -> Int in
            try c.run("INSERT INTO study (name, created_at) VALUES ('s', '2026-01-01T00:00:00Z')")
            return c.lastInsertRowID
        }
        let committed = Mutex<[Int]>([])
        let stop = Atomic<Bool>(false)
        let writer = Thread {
            var n = 0
            while !stop.load(ordering: .relaxed) {
                do { try Self.insertBatch(db, study: study, batch: n, rows: 200) } catch { return }
                committed.withLock { $0.append(n) }
                n += 1
            }
        }
        writer.start()
        defer { stop.store(true, ordering: .relaxed) }
        var last = ""
        for k in 0..<4 {
            while committed.withLock({ $0.count }) < 3 * (k + 1) { Thread.sleep(forTimeInterval: 0.005) }
            let before = Set(committed.withLock { $0 })
            let out = path("backup-\(k).sqlite")
            let report = try Backup.copy(from: path("live.sqlite"), to: out)
            XCTAssertGreaterThan(report.pages, 0)
            XCTAssertFalse(FileManager.default.fileExists(atPath: out + "-wal"))
            XCTAssertFalse(FileManager.default.fileExists(atPath: out + ".partial"))
            let copy = try Connection(path: out, readOnly: true)
            XCTAssertEqual(try copy.query("PRAGMA integrity_check") { $0.text(0) ?? "" }, ["ok"])
            XCTAssertEqual(try copy.queryOne("PRAGMA journal_mode") { $0.text(0) }, "delete")
            let counts = try copy.query("""
                SELECT substr(checkpoint, 2, instr(checkpoint, '-') - 2), count(*) FROM evaluation GROUP BY 1
                """) { (Int($0.text(0) ?? "") ?? -1, $0.int(1) ?? 0) }
            let held = Dictionary(uniqueKeysWithValues: counts)
            for batch in before { XCTAssertEqual(held[batch], 200, "batch \(batch) committed before backup \(k) began") }
            for (batch, n) in held { XCTAssertEqual(n, 200, "batch \(batch) is in backup \(k) only in part") }
            last = out
        }
        stop.store(true, ordering: .relaxed)
        while !writer.isFinished { Thread.sleep(forTimeInterval: 0.005) }
        let expected = try Connection(path: last, readOnly: true).queryOne("SELECT count(*) FROM evaluation") { $0.int(0) ?? 0 } ?? 0

        // Restore: copy the backup to a new path and open it as the server does (lock, WAL, migrations).
        try FileManager.default.copyItem(atPath: last, toPath: path("restored.sqlite"))
        let restored = try Database(path: path("restored.sqlite"))
        XCTAssertEqual(try restored.read { try $0.queryOne("SELECT count(*) FROM evaluation") { $0.int(0) ?? 0 } }, expected)
        XCTAssertEqual(try restored.settings().journalMode, "wal")
        try Self.insertBatch(restored, study: study, batch: 999_999, rows: 1)
        restored.close()
        db.close()
    }

    func testBackupRefusesToOverwriteAndLeavesNothingOnFailure() throws {
        let db = try Database(path: path("live.sqlite"))
        let out = path("out.sqlite")
        _ = try Backup.copy(from: path("live.sqlite"), to: out)
        XCTAssertThrowsError(try Backup.copy(from: path("live.sqlite"), to: out)) {
            XCTAssertTrue("\($0)".contains("exists"), "\($0)")
        }
        XCTAssertNoThrow(try Backup.copy(from: path("live.sqlite"), to: out, overwrite: true))
        XCTAssertThrowsError(try Backup.copy(from: path("live.sqlite"), to: path("live.sqlite"), overwrite: true)) {
            XCTAssertTrue("\($0)".contains("database itself"), "\($0)")
        }
        XCTAssertThrowsError(try Backup.copy(from: path("missing.sqlite"), to: path("x.sqlite")))
        XCTAssertFalse(FileManager.default.fileExists(atPath: path("missing.sqlite")), "a backup never creates its source")
        try Data("this is not a database, just text long enough to have a header".utf8).write(to: dir.appendingPathComponent("text.sqlite"))
        XCTAssertThrowsError(try Backup.copy(from: path("text.sqlite"), to: path("y.sqlite")))
        XCTAssertFalse(FileManager.default.fileExists(atPath: path("y.sqlite")))
        XCTAssertFalse(FileManager.default.fileExists(atPath: path("y.sqlite.partial")))
        db.close()
    }

    /// A backup never writes over any file of a live database, --force or not: the database, its
    /// -wal, -shm and -journal, its lock, and symbolic or hard links to any of them.
    func testBackupRefusesEveryFileOfTheLiveDatabaseAndLinksToThem() throws {
        let db = try Database(path: path("live.sqlite"))
        defer { db.close() }
        let live = path("live.sqlite")
        // The -journal does not exist under WAL; it is refused all the same (a later open would read it).
        for suffix in ["", "-wal", "-shm", "-journal", ".lock"] {
            XCTAssertThrowsError(try Backup.copy(from: live, to: live + suffix, overwrite: true), suffix) {
                XCTAssertTrue("\($0)".contains("would overwrite"), "\($0)")
            }
            // The same file through another spelling of its path.
            XCTAssertThrowsError(try Backup.copy(from: live, to: dir.path + "/./live.sqlite" + suffix, overwrite: true), suffix)
        }
        XCTAssertTrue(FileManager.default.fileExists(atPath: live + "-wal"))
        for suffix in ["-wal", "-shm", "-journal"] {
            let link = path("link\(suffix)")
            try FileManager.default.createSymbolicLink(atPath: link, withDestinationPath: live + suffix)
            XCTAssertThrowsError(try Backup.copy(from: live, to: link, overwrite: true), "symlink to \(suffix)")
        }
        XCTAssertEqual(link(live + "-wal", path("hard-wal")), 0)
        XCTAssertThrowsError(try Backup.copy(from: live, to: path("hard-wal"), overwrite: true), "hard link to -wal")
        // The source named through a link is the same database.
        try FileManager.default.createSymbolicLink(atPath: path("alias.sqlite"), withDestinationPath: live)
        XCTAssertThrowsError(try Backup.copy(from: path("alias.sqlite"), to: live + "-wal", overwrite: true))
        // A file that merely starts with the same name is fine.
        XCTAssertNoThrow(try Backup.copy(from: live, to: live + "-wal.backup", overwrite: true))
    }
}
