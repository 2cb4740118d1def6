import CSQLite
import Glibc

/// A failed SQLite call: the result code and SQLite's own message.
public struct SQLiteError: Error, CustomStringConvertible, Sendable {
    /// The extended result code (e.g. SQLITE_CONSTRAINT_CHECK).
    public var code: Int32
    public var message: String
    /// The statement that failed, when there was one (static SQL, never user data).
    public var sql: String?
    /// The operating system's errno behind an I/O error (`sqlite3_system_errno`), 0 when none.
    public var systemErrno: Int32

    public init(code: Int32, message: String, sql: String? = nil, systemErrno: Int32 = 0) {
        self.code = code
        self.message = message
        self.sql = sql
        self.systemErrno = systemErrno
    }

    /// What went wrong, coarsely enough for a caller to choose an answer (the service: 507 for
    /// `diskFull`, 503 + Retry-After for `busy`, 500 with a request id for `corrupt` and `other`,
    /// 422 for `constraint`).
    public enum Kind: String, Sendable, Equatable {
        /// No room to write: SQLITE_FULL (the disk, or `PRAGMA max_page_count`), or an I/O error
        /// whose errno is ENOSPC or EDQUOT (a full disk seen by write() or fsync()).
        case diskFull = "disk_full"
        /// Another connection holds a lock (SQLITE_BUSY, SQLITE_LOCKED): retrying later may succeed.
        case busy
        /// The file is damaged or is not a database (SQLITE_CORRUPT, SQLITE_NOTADB).
        case corrupt
        /// A row broke a constraint (CHECK, UNIQUE, NOT NULL, FOREIGN KEY).
        case constraint
        /// Anything else (I/O errors other than a full disk, misuse, ...).
        case other
    }

    public var kind: Kind {
        switch primaryCode {
        case SQLITE_FULL: return .diskFull
        case SQLITE_IOERR where systemErrno == ENOSPC || systemErrno == EDQUOT: return .diskFull
        case SQLITE_BUSY, SQLITE_LOCKED: return .busy
        case SQLITE_CORRUPT, SQLITE_NOTADB: return .corrupt
        case SQLITE_CONSTRAINT: return .constraint
        default: return .other
        }
    }

    /// The primary result code (SQLITE_CONSTRAINT for every constraint kind, SQLITE_BUSY, ...).
    public var primaryCode: Int32 { code & 0xFF }
    public var isConstraintViolation: Bool { kind == .constraint }
    public var isBusy: Bool { kind == .busy }
    public var isDiskFull: Bool { kind == .diskFull }
    public var isCorrupt: Bool { kind == .corrupt }

    public var description: String {
        "SQLite error \(code): \(message)" + (systemErrno != 0 ? " (errno \(systemErrno))" : "") + (sql.map { " (in: \($0))" } ?? "")
    }
}
