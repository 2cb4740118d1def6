import Glibc
import Synchronization

/// Another process (or another `Database` in this one) already writes this file.
public struct DatabaseLockError: Error, CustomStringConvertible, Sendable {
    public var databasePath: String
    public var lockPath: String
    /// The holder's pid as it wrote it into the lock file, when readable.
    public var pid: Int?
    /// errno of a failure other than "held" (cannot create the lock file, say); 0 when held.
    public var systemErrno: Int32

    public var description: String {
        if systemErrno != 0 {
            return "cannot lock \(databasePath): \(lockPath): \(String(cString: strerror(systemErrno)))"
        }
        return "another emergence server is using \(databasePath) (lock \(lockPath) held by pid \(pid.map(String.init) ?? "unknown"))"
    }
}

/// One writer per database file, enforced: an exclusive `flock` on `DB.lock` beside the database,
/// held for the life of this object (the kernel drops it when the process dies, so a crash never
/// leaves a stale lock). Only writers take it: readers (the sqlite3 shell, Litestream, backups)
/// go through SQLite's own locking and are not blocked.
///
/// The identity of evaluations is kept by the single writer (an in-memory table beside the
/// database's unique index), and queueing writes in one process keeps latency predictable; a
/// second server on the same file would defeat both.
///
/// flock locks belong to an open file description, so two `open`s of the lock in one process
/// conflict just as two processes do. The file is never unlinked: removing it while another
/// process waits to open it would let two holders lock two different files.
public final class DatabaseLock: Sendable {
    public let lockPath: String
    /// The locked descriptor; nil once released.
    private let fd: Lock<Int32?>

    /// The file a database name refers to, or nil for one no other connection can share (an
    /// in-memory or temporary database). `file:` URIs (SQLITE_OPEN_URI) name the path before `?`.
    public static func file(ofDatabase name: String) -> String? {
        var path = Substring(name)
        if path.hasPrefix("file:") {
            path = path.dropFirst(5)
            if let q = path.firstIndex(where: { $0 == "?" || $0 == "#" }) { path = path[..<q] }
            if path.hasPrefix("//") { path = path.dropFirst(2) }  // file://localhost/... is not used here
        }
        return path.isEmpty || path == ":memory:" ? nil : String(path)
    }

    /// Takes the lock for `databasePath` or throws `DatabaseLockError` at once (never waits).
    public init(databasePath: String) throws {
        let lockPath = (Self.file(ofDatabase: databasePath) ?? databasePath) + ".lock"
        let fd = open(lockPath, O_RDWR | O_CREAT | O_CLOEXEC, 0o644)
        guard fd >= 0 else {
            throw DatabaseLockError(databasePath: databasePath, lockPath: lockPath, pid: nil, systemErrno: errno)
        }
        var rc: Int32
        repeat { rc = flock(fd, LOCK_EX | LOCK_NB) } while rc != 0 && errno == EINTR
        if rc != 0 {
            let err = errno
            let holder = err == EWOULDBLOCK ? Self.readPID(fd) : nil
            close(fd)
            throw DatabaseLockError(databasePath: databasePath, lockPath: lockPath, pid: holder,
                                    systemErrno: err == EWOULDBLOCK ? 0 : err)
        }
        // Ours now: say who holds it, for the message a second server prints.
        let text = Array("\(getpid())\n".utf8)
        if ftruncate(fd, 0) == 0 {
            _ = text.withUnsafeBytes { pwrite(fd, $0.baseAddress, $0.count, 0) }
        }
        self.fd = Lock(fd)
        self.lockPath = lockPath
    }

    /// Gives the lock up now (idempotent), so another writer may take the file while this object
    /// lives on: a service shutting down releases it without waiting for every reference to go.
    public func release() {
        // Closing the only descriptor of this open file description releases the lock.
        fd.withLock { fd in
            if let open = fd { close(open) }
            fd = nil
        }
    }

    public var isHeld: Bool { fd.withLock { $0 != nil } }

    deinit { release() }

    private static func readPID(_ fd: Int32) -> Int? {
        var buffer = [UInt8](repeating: 0, count: 32)
        let n = buffer.withUnsafeMutableBytes { pread(fd, $0.baseAddress, $0.count, 0) }
        guard n > 0 else { return nil }
        let text = String(decoding: buffer[0..<n], as: UTF8.self).trimmingWhitespace
        return Int(text)
    }
}

private extension String {
    var trimmingWhitespace: String {
        String(unicodeScalars.filter { !$0.properties.isWhitespace })
    }
}
