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
        try refuseLiveTarget(source: source, destination: destination)
        var existing = stat()
        if stat(destination, &existing) == 0 {
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

    /// The files SQLite and the server keep beside a database: writing any of them (or a link to one)
    /// corrupts or unlocks the live database, so a backup never targets them, --force or not.
    static let companions = ["", "-wal", "-shm", "-journal", ".lock"]

    /// Refuses a destination that is the database, its -wal, -shm or -journal, its lock, or a link
    /// (symbolic or hard) to any of them: compared by resolved path and by device and inode.
    static func refuseLiveTarget(source: String, destination: String) throws {
        let base = resolved(source)
        let target = resolved(destination)
        var out = stat()
        let targetExists = stat(destination, &out) == 0
        for suffix in companions {
            let live = base + suffix
            var st = stat()
            let sameFile = targetExists && stat(live, &st) == 0 && st.st_dev == out.st_dev && st.st_ino == out.st_ino
            if target == live || sameFile {
                let what = suffix.isEmpty ? "the database itself" : "the live database's \(suffix.dropFirst()) file"
                throw Failure(description: "the backup would overwrite \(what) (\(destination) is \(live)); choose a file that is not part of \(source)")
            }
        }
    }

    /// `path` with every symbolic link resolved, as far as it exists (a missing last component is
    /// kept, under its resolved folder; a dangling link is followed to where it points).
    static func resolved(_ path: String) -> String {
        var p = path
        for _ in 0..<40 {
            var buf = [Int8](repeating: 0, count: Int(PATH_MAX) + 1)
            let n = readlink(p, &buf, buf.count - 1)
            guard n > 0 else { break }
            let link = String(decoding: buf[0..<n].map { UInt8(bitPattern: $0) }, as: UTF8.self)
            p = link.hasPrefix("/") ? link : ((p as NSString).deletingLastPathComponent as NSString).appendingPathComponent(link)
        }
        if let r = realpath(p, nil) {
            defer { free(r) }
            return String(cString: r)
        }
        let folder = (p as NSString).deletingLastPathComponent
        let name = (p as NSString).lastPathComponent
        guard let r = realpath(folder.isEmpty ? "." : folder, nil) else { return p }
        defer { free(r) }
        return (String(cString: r) as NSString).appendingPathComponent(name)
    }

    private static func syncFile(_ path: String) throws {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw Failure(description: "cannot open \(path) to sync it: \(String(cString: strerror(errno)))") }
        defer { close(fd) }
        guard fsync(fd) == 0 else { throw Failure(description: "fsync of \(path) failed: \(String(cString: strerror(errno)))") }
    }
}
