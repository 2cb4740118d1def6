import CSQLite
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// A consistent copy of a live database through SQLite's online backup API
/// (https://sqlite.org/backup.html), for `emergence backup`.
///
/// The source is opened read-only and never takes `DB.lock`: a backup is one more reader beside the
/// server (WAL readers never block the writer, nor it them). The whole copy is one
/// `sqlite3_backup_step(-1)`, so it is one read transaction: a snapshot of the last commit before
/// it began, whatever the server writes meanwhile. The copy is written beside the destination,
/// switched to the rollback journal (one self-contained file, no `-wal` to carry), checked with
/// `PRAGMA integrity_check`, synced, and only then renamed into place: `OUT` is either a whole,
/// checked backup or absent.
public enum Backup {
    public struct Report: Sendable {
        public var pages: Int
        public var bytes: Int64
        public var seconds: Double
    }

    public struct Failure: Error, CustomStringConvertible, Sendable {
        public var description: String
    }

    /// Copies `source` to `destination`. Refuses an existing destination unless `overwrite`.
    /// `busyTimeout`: how long to keep retrying while the source is locked (a checkpoint resetting
    /// the WAL, or a writer in the rollback-journal mode of a foreign file).
    public static func copy(from source: String, to destination: String, overwrite: Bool = false,
                            busyTimeout: Double = 30) throws -> Report {
        let started = Date()
        var st = stat()
        guard stat(source, &st) == 0 else {
            throw Failure(description: "cannot read \(source): \(String(cString: strerror(errno)))")
        }
        guard (st.st_mode & S_IFMT) == S_IFREG else { throw Failure(description: "\(source) is not a regular file") }
        var existing = stat()
        if stat(destination, &existing) == 0 {
            if existing.st_dev == st.st_dev && existing.st_ino == st.st_ino {
                throw Failure(description: "the backup would overwrite the database itself (\(destination))")
            }
            guard overwrite else {
                throw Failure(description: "\(destination) exists; choose a new file (or pass --force to replace it)")
            }
        }
        let partial = destination + ".partial"
        unlink(partial)
        unlink(partial + "-journal")
        var renamed = false
        defer { if !renamed { unlink(partial); unlink(partial + "-journal") } }

        let pages: Int
        do {
            // A plain path, not a URI: the read-only flag is what keeps this a reader.
            let from = try Connection(path: source, readOnly: true)
            sqlite3_busy_timeout(from.handle, 1_000)
            // A file that is not a database fails here, before anything is written.
            _ = try from.queryOne("SELECT count(*) FROM sqlite_schema") { $0.int(0) }
            let to = try Connection(path: partial)
            guard let backup = sqlite3_backup_init(to.handle, "main", from.handle, "main") else {
                throw to.error(sqlite3_errcode(to.handle), sql: nil)
            }
            let deadline = Date().addingTimeInterval(busyTimeout)
            var rc: Int32
            repeat {
                rc = sqlite3_backup_step(backup, -1)
                if rc == SQLITE_BUSY || rc == SQLITE_LOCKED {
                    guard Date() < deadline else { break }
                    usleep(50_000)
                }
            } while rc != SQLITE_DONE && (rc == SQLITE_OK || rc == SQLITE_BUSY || rc == SQLITE_LOCKED)
            pages = Int(sqlite3_backup_pagecount(backup))
            sqlite3_backup_finish(backup)
            guard rc == SQLITE_DONE else {
                let message = String(cString: sqlite3_errstr(rc))
                throw Failure(description: "backup of \(source) stopped: \(message) (SQLite code \(rc))")
            }
            // One file: the copy carries the source's WAL flag in its header; a backup is read or
            // copied whole, so it gets the rollback journal, which leaves nothing beside it.
            try to.execute("PRAGMA journal_mode = DELETE")
            let problems = try to.query("PRAGMA integrity_check") { $0.text(0) ?? "" }
            guard problems == ["ok"] else {
                throw Failure(description: "the copy failed integrity_check: \(problems.prefix(5).joined(separator: "; "))")
            }
        }
        // Connections closed (deinit above): make the bytes and the name durable, then publish.
        try syncFile(partial)
        guard rename(partial, destination) == 0 else {
            throw Failure(description: "cannot rename \(partial) to \(destination): \(String(cString: strerror(errno)))")
        }
        renamed = true
        try syncFile((destination as NSString).deletingLastPathComponent.isEmpty ? "." : (destination as NSString).deletingLastPathComponent)
        var out = stat()
        let bytes = stat(destination, &out) == 0 ? Int64(out.st_size) : 0
        return Report(pages: pages, bytes: bytes, seconds: Date().timeIntervalSince(started))
    }

    private static func syncFile(_ path: String) throws {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw Failure(description: "cannot open \(path) to sync it: \(String(cString: strerror(errno)))") }
        defer { close(fd) }
        guard fsync(fd) == 0 else { throw Failure(description: "fsync of \(path) failed: \(String(cString: strerror(errno)))") }
    }
}
