import CSQLite

/// SQLite's "copy this buffer now" destructor, which Swift cannot spell directly.
let transientDestructor = unsafeBitCast(OpaquePointer(bitPattern: -1), to: sqlite3_destructor_type.self)

/// A prepared statement. Values only ever reach SQL through `bind`, never through the SQL text.
///
/// Belongs to one `Connection` and shares its thread confinement. Parameters and columns are 1-based
/// and 0-based respectively, as in SQLite.
public final class Statement {
    let handle: OpaquePointer
    unowned let connection: Connection
    public let sql: String

    init(handle: OpaquePointer, connection: Connection, sql: String) {
        self.handle = handle
        self.connection = connection
        self.sql = sql
    }

    deinit { sqlite3_finalize(handle) }

    /// Clears bindings and rewinds, ready for the next use.
    public func reset() {
        sqlite3_reset(handle)
        sqlite3_clear_bindings(handle)
    }

    // MARK: Binding

    public func bind(_ index: Int32, _ value: Int?) {
        if let value { sqlite3_bind_int64(handle, index, Int64(value)) } else { sqlite3_bind_null(handle, index) }
    }

    public func bind(_ index: Int32, _ value: Int64?) {
        if let value { sqlite3_bind_int64(handle, index, value) } else { sqlite3_bind_null(handle, index) }
    }

    public func bind(_ index: Int32, _ value: Double?) {
        if let value { sqlite3_bind_double(handle, index, value) } else { sqlite3_bind_null(handle, index) }
    }

    public func bind(_ index: Int32, _ value: Bool?) {
        bind(index, value.map { $0 ? 1 : 0 } as Int?)
    }

    public func bind(_ index: Int32, _ value: String?) {
        guard let value else { sqlite3_bind_null(handle, index); return }
        var v = value
        v.withUTF8 { u in
            u.withMemoryRebound(to: CChar.self) { c in
                // An empty String may have no storage; "" must still bind as text, not NULL.
                if let base = c.baseAddress {
                    _ = sqlite3_bind_text(handle, index, base, Int32(c.count), transientDestructor)
                } else {
                    _ = sqlite3_bind_text(handle, index, "", 0, transientDestructor)
                }
            }
        }
    }

    /// Binds text that lives for the whole process (a literal), so SQLite need not copy it.
    public func bind(_ index: Int32, static text: StaticString) {
        text.withUTF8Buffer { bind(index, unsafeStatic: $0) }
    }

    /// Binds UTF-8 text without SQLite copying it. The caller keeps `text` alive and unmoved until
    /// the statement has run and this parameter is bound again (a bulk insert binds a batch's
    /// strings from one buffer it holds across the run, instead of one malloc and copy per value).
    public func bind(_ index: Int32, unsafeStatic text: UnsafeBufferPointer<UInt8>) {
        text.withMemoryRebound(to: CChar.self) { c in
            if let base = c.baseAddress {
                _ = sqlite3_bind_text(handle, index, base, Int32(c.count), nil)  // nil: SQLITE_STATIC
            } else {
                _ = sqlite3_bind_text(handle, index, "", 0, transientDestructor)  // "" copied: nothing to keep alive
            }
        }
    }

    public func bind(_ index: Int32, blob: [UInt8]?) {
        guard let blob else { sqlite3_bind_null(handle, index); return }
        blob.withUnsafeBytes { raw in
            _ = sqlite3_bind_blob(handle, index, raw.baseAddress ?? UnsafeRawPointer(bitPattern: 1)!, Int32(raw.count), transientDestructor)
        }
    }

    public func bind(_ index: Int32, _ value: SQLValue) {
        switch value {
        case .null: sqlite3_bind_null(handle, index)
        case .integer(let i): sqlite3_bind_int64(handle, index, i)
        case .real(let d): sqlite3_bind_double(handle, index, d)
        case .text(let s): bind(index, s)
        case .blob(let b): bind(index, blob: b)
        }
    }

    /// Binds `values` to parameters 1, 2, ... in order.
    public func bind(_ values: [SQLValue]) {
        for (i, v) in values.enumerated() { bind(Int32(i + 1), v) }
    }

    // MARK: Stepping

    /// Advances; true when a row is ready to read, false when done.
    @discardableResult
    public func step() throws -> Bool {
        let rc = sqlite3_step(handle)
        if rc == SQLITE_ROW { return true }
        if rc == SQLITE_DONE { return false }
        throw connection.error(rc, sql: sql)
    }

    /// Runs to completion (for INSERT/UPDATE/DELETE), then resets.
    public func run() throws {
        defer { reset() }
        while try step() {}
    }

    /// Like `run`, but keeps the bindings: for a statement whose every parameter is bound again
    /// before each run (a bulk insert), clearing them first is wasted work.
    public func runKeepingBindings() throws {
        defer { sqlite3_reset(handle) }
        while try step() {}
    }

    // MARK: Columns

    public func isNull(_ column: Int32) -> Bool { sqlite3_column_type(handle, column) == SQLITE_NULL }

    public func int(_ column: Int32) -> Int? {
        isNull(column) ? nil : Int(sqlite3_column_int64(handle, column))
    }

    public func double(_ column: Int32) -> Double? {
        isNull(column) ? nil : sqlite3_column_double(handle, column)
    }

    public func text(_ column: Int32) -> String? {
        guard let p = sqlite3_column_text(handle, column) else { return nil }
        let n = Int(sqlite3_column_bytes(handle, column))
        return String(decoding: UnsafeBufferPointer(start: p, count: n), as: UTF8.self)
    }

    public func blob(_ column: Int32) -> [UInt8]? {
        if isNull(column) { return nil }
        let n = Int(sqlite3_column_bytes(handle, column))
        guard n > 0, let p = sqlite3_column_blob(handle, column) else { return [] }
        return Array(UnsafeRawBufferPointer(start: p, count: n))
    }

    /// Column text as bytes, without a String on the way (for JSON documents stored as TEXT).
    public func textBytes(_ column: Int32) -> [UInt8]? {
        guard let p = sqlite3_column_text(handle, column) else { return nil }
        let n = Int(sqlite3_column_bytes(handle, column))
        return Array(UnsafeBufferPointer(start: p, count: n))
    }
}

/// A dynamically typed SQL value, for statements whose parameters are assembled at run time.
public enum SQLValue: Sendable, Equatable {
    case null
    case integer(Int64)
    case real(Double)
    case text(String)
    case blob([UInt8])
}
