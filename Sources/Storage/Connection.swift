import CSQLite

/// One SQLite connection. Not thread-safe: `Database` hands each to one thread at a time.
///
/// SQL is accepted only as `StaticString`, so statement text is always a literal in the source and
/// every value travels through a bound parameter.
public final class Connection {
    let handle: OpaquePointer
    public let path: String
    private var cache: [String: Statement] = [:]

    /// Process-wide settings, applied once before the first open (see `shim.h`).
    private static let configured: Void = {
        _ = csqlite_disable_memory_statistics()
    }()

    /// Opens (creating if `readOnly` is false) the database at `path`.
    public init(path: String, readOnly: Bool = false) throws {
        _ = Connection.configured
        var db: OpaquePointer?
        let flags = (readOnly ? SQLITE_OPEN_READONLY : (SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE))
            | SQLITE_OPEN_NOMUTEX | SQLITE_OPEN_URI
        let rc = sqlite3_open_v2(path, &db, flags, nil)
        guard rc == SQLITE_OK, let db else {
            let message = db.map { String(cString: sqlite3_errmsg($0)) } ?? "cannot open"
            if let db { sqlite3_close_v2(db) }
            throw SQLiteError(code: rc, message: "\(message): \(path)")
        }
        handle = db
        self.path = path
        sqlite3_extended_result_codes(db, 1)
    }

    deinit {
        cache.removeAll()
        sqlite3_close_v2(handle)
    }

    func error(_ rc: Int32, sql: String?) -> SQLiteError {
        SQLiteError(code: sqlite3_extended_errcode(handle), message: String(cString: sqlite3_errmsg(handle)), sql: sql,
                    systemErrno: sqlite3_system_errno(handle))
    }

    /// Runs a fixed script of one or more statements without parameters (pragmas, migrations).
    public func execute(_ script: StaticString) throws {
        let sql = script.description
        var err: UnsafeMutablePointer<CChar>?
        let rc = sqlite3_exec(handle, sql, nil, nil, &err)
        if rc != SQLITE_OK {
            let message = err.map { String(cString: $0) } ?? "error \(rc)"
            sqlite3_free(err)
            throw SQLiteError(code: sqlite3_extended_errcode(handle), message: message, sql: sql,
                              systemErrno: sqlite3_system_errno(handle))
        }
    }

    /// `PRAGMA user_version = version` (a pragma cannot take a bound parameter; an integer is safe
    /// to write into the statement).
    func setUserVersion(_ version: Int) throws {
        let sql = "PRAGMA user_version = \(version)"
        let rc = sqlite3_exec(handle, sql, nil, nil, nil)
        if rc != SQLITE_OK { throw error(rc, sql: sql) }
    }

    /// The prepared statement for `sql`, compiled once per connection and reused (reset on return).
    public func prepare(_ sql: StaticString) throws -> Statement {
        try compiled(sql.description)
    }

    /// The cached statement for SQL text made only of source literals (see `prepare`, `prepareBatch`).
    private func compiled(_ key: String) throws -> Statement {
        if let s = cache[key] {
            s.reset()
            return s
        }
        var stmt: OpaquePointer?
        let rc = sqlite3_prepare_v3(handle, key, -1, UInt32(SQLITE_PREPARE_PERSISTENT), &stmt, nil)
        guard rc == SQLITE_OK, let stmt else { throw error(rc, sql: key) }
        let s = Statement(handle: stmt, connection: self, sql: key)
        cache[key] = s
        return s
    }

    /// A statement that repeats `row` `count` times after `head`, comma-separated: a multi-row
    /// `INSERT … VALUES (…), (…), …`. One statement per batch of rows instead of one per row saves
    /// SQLite's per-statement work. The text is still made only of literals from the source, so
    /// every value travels through a bound parameter (`?` numbered left to right).
    public func prepareBatch(_ head: StaticString, row: StaticString, count: Int) throws -> Statement {
        guard count >= 1 else { throw SQLiteError(code: SQLITE_MISUSE, message: "a batch holds at least one row, not \(count)") }
        let rowText = row.description
        var key = head.description
        key.reserveCapacity(key.utf8.count + count * (rowText.utf8.count + 2))
        for i in 0..<count {
            key += i == 0 ? " " : ", "
            key += rowText
        }
        return try compiled(key)
    }

    /// Runs a statement that returns no rows.
    public func run(_ sql: StaticString, _ values: SQLValue...) throws {
        let s = try prepare(sql)
        s.bind(values)
        try s.run()
    }

    /// Maps every result row through `row`.
    public func query<T>(_ sql: StaticString, _ values: [SQLValue] = [], row: (Statement) throws -> T) throws -> [T] {
        let s = try prepare(sql)
        defer { s.reset() }
        s.bind(values)
        var out: [T] = []
        while try s.step() { out.append(try row(s)) }
        return out
    }

    /// The first result row through `row`, or nil.
    public func queryOne<T>(_ sql: StaticString, _ values: [SQLValue] = [], row: (Statement) throws -> T) throws -> T? {
        let s = try prepare(sql)
        defer { s.reset() }
        s.bind(values)
        return try s.step() ? try row(s) : nil
    }

    /// Rows changed by the last INSERT/UPDATE/DELETE on this connection.
    public var changes: Int { Int(sqlite3_changes(handle)) }
    public var lastInsertRowID: Int { Int(sqlite3_last_insert_rowid(handle)) }
    public var isInTransaction: Bool { sqlite3_get_autocommit(handle) == 0 }

    /// `PRAGMA user_version`: the schema version migrations have reached.
    public func userVersion() throws -> Int {
        try queryOne("PRAGMA user_version") { $0.int(0) ?? 0 } ?? 0
    }

    /// `PRAGMA data_version`: changes whenever another connection (another process, say) has
    /// committed since this connection last asked. A cache of table contents kept beside the single
    /// writer reads it inside its write transaction to know whether it is still whole.
    public func dataVersion() throws -> Int {
        try queryOne("PRAGMA data_version") { $0.int(0) ?? 0 } ?? 0
    }

    /// Runs `body` in a transaction: committed when it returns, rolled back when it throws.
    /// `immediate` takes the write lock up front, so a writer never fails half-way on SQLITE_BUSY.
    public func transaction<T>(immediate: Bool, _ body: () throws -> T) throws -> T {
        if immediate { try execute("BEGIN IMMEDIATE") } else { try execute("BEGIN") }
        do {
            let value = try body()
            try execute("COMMIT")
            return value
        } catch {
            if isInTransaction { try? execute("ROLLBACK") }
            throw error
        }
    }
}
