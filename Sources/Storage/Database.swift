import CSQLite
import Foundation
import Synchronization

/// The database file: one writer connection and a small pool of readers.
///
/// WAL lets readers run beside the writer, so polls never wait behind an upload; all writes go through
/// the single writer (SQLite allows one at a time anyway; queueing them here instead of in
/// SQLITE_BUSY retries keeps latency predictable). `synchronous=FULL` makes a committed write durable
/// before the call returns, so an acknowledged upload survives a power cut.
///
/// `@unchecked Sendable`: the connections are not thread-safe (opened NOMUTEX) and are confined by
/// this object, the writer to whoever holds `writerLock`, each reader to the caller that took it
/// from `idleReaders`, the checkpointer to the timer's serial queue.
public final class Database: @unchecked Sendable {
    public let path: String
    /// What migrations run by this open said about existing data (rows moved aside, say), for the log.
    public let migrationNotes: [String]
    /// This process's claim to be the file's only writer (nil when opened with `exclusive: false`).
    private let lock: DatabaseLock?
    private let writer: Connection
    /// Held while the writer is in use; true once `close` has run (writes are then refused).
    private let writerLock = Lock(false)
    private var idleReaders: [Connection]
    private let readersAvailable = NSCondition()

    /// Opens or creates the file and migrates it.
    /// - readers: read connections (≥ 1); readers beyond the CPU count only add memory.
    /// - exclusive: take `path.lock` (see `DatabaseLock`) first, so a second writer on the same
    ///   file fails here with `DatabaseLockError` instead of writing beside this one. Released when
    ///   this object is deinitialised.
    public init(path: String, readers: Int = 4, migrations: [Migration],
                busyTimeoutMilliseconds: Int32 = 5_000, exclusive: Bool = true) throws {
        self.path = path
        lock = exclusive && DatabaseLock.file(ofDatabase: path) != nil ? try DatabaseLock(databasePath: path) : nil
        writer = try Connection(path: path)
        sqlite3_busy_timeout(writer.handle, busyTimeoutMilliseconds)
        try writer.execute("PRAGMA journal_mode = WAL")
        let mode = try writer.queryOne("PRAGMA journal_mode") { $0.text(0) } ?? nil
        guard mode == "wal" else {
            throw SQLiteError(code: SQLITE_ERROR, message: "cannot switch \(path) to WAL mode (got \(mode ?? "nothing"))")
        }
        // A 64 MiB page cache keeps a 200k-row upload's table and index pages in memory until commit.
        // Checkpoints run in the background (below) instead of inside the commit of whichever write
        // crossed the threshold: a durable commit needs only the WAL fsync. Statement journals (a
        // multi-row INSERT keeps one, to undo itself alone if a row fails a CHECK) stay in memory:
        // they live only as long as one statement.
        try writer.execute("""
            PRAGMA synchronous = FULL; PRAGMA foreign_keys = ON; PRAGMA cache_size = -65536;
            PRAGMA wal_autocheckpoint = 0; PRAGMA temp_store = MEMORY;
            """)
        var notes: [String] = []
        try writer.migrate(migrations, notes: &notes)
        migrationNotes = notes

        var readers_: [Connection] = []
        for _ in 0..<max(1, readers) {
            let r = try Connection(path: path)
            sqlite3_busy_timeout(r.handle, busyTimeoutMilliseconds)
            try r.execute("PRAGMA foreign_keys = ON; PRAGMA query_only = ON;")
            readers_.append(r)
        }
        idleReaders = readers_

        checkpointer = try Connection(path: path)
        sqlite3_busy_timeout(checkpointer.handle, busyTimeoutMilliseconds)
        let timer = DispatchSource.makeTimerSource(queue: DispatchQueue(label: "storage.checkpoint", qos: .utility))
        checkpointTimer = timer
        // After each commit SQLite reports the WAL's length in frames (this replaces the
        // autocheckpoint hook, which is off). The context is unretained: the hook belongs to the
        // writer, which this object owns and closes.
        sqlite3_wal_hook(writer.handle, { context, _, _, frames in
            guard let context else { return SQLITE_OK }
            Unmanaged<Database>.fromOpaque(context).takeUnretainedValue().noteWAL(frames: Int(frames))
            return SQLITE_OK
        }, Unmanaged.passUnretained(self).toOpaque())
        timer.schedule(deadline: .now() + checkpointInterval, repeating: checkpointInterval)
        timer.setEventHandler { [weak self] in self?.backgroundCheckpoint() }
        timer.resume()
    }

    deinit {
        checkpointTimer.cancel()
    }

    private let checkpointer: Connection
    private let checkpointTimer: DispatchSourceTimer
    private let checkpointInterval: DispatchTimeInterval = .milliseconds(250)

    /// What the checkpointer knows of the writer.
    private struct Activity {
        var writing = 0
        var lastWriteEnded = DispatchTime.now()
        var walFrames = 1  // unknown at open (migrations may have written): check once
    }
    private let activity = Lock(Activity())

    /// How long the writer must have been idle before a checkpoint runs.
    let checkpointQuietPeriod = 1.0
    /// WAL frames (pages) past which a checkpoint runs even while writes continue: 32,768 frames
    /// are 128 MiB at the default page size. This bounds the WAL under a steady stream of writes.
    let checkpointFrameLimit = 32_768

    private func noteWAL(frames: Int) {
        activity.withLock { $0.walFrames = frames }
    }

    /// Copies committed WAL frames into the database file without blocking readers or the writer
    /// (PASSIVE), so the WAL stays small; runs on the timer's queue, the only user of `checkpointer`.
    ///
    /// It waits for a lull: a checkpoint reads the WAL, writes the file and fsyncs it, and beside a
    /// bulk upload (parsing on one core, inserting on the other) it cost that upload a third of its
    /// speed, and its fsync queued behind the upload's own. So it runs once the writer has been idle
    /// for `checkpointQuietPeriod`, or when the WAL has grown past `checkpointFrameLimit` frames.
    private func backgroundCheckpoint() {
        let due = activity.withLock { a in
            let idle = a.writing == 0
                && Double(DispatchTime.now().uptimeNanoseconds - a.lastWriteEnded.uptimeNanoseconds) / 1e9 >= checkpointQuietPeriod
            return a.walFrames > 0 && (idle || a.walFrames >= checkpointFrameLimit)
        }
        guard due else { return }
        let frames = try? checkpointer.queryOne("PRAGMA wal_checkpoint(PASSIVE)") { ($0.int(0) ?? 1, $0.int(1) ?? -1, $0.int(2) ?? -1) }
        // Every frame copied: nothing left to do until the next commit says otherwise.
        if let (busy, log, done) = frames ?? nil, busy == 0, log == done {
            activity.withLock { if $0.walFrames == log { $0.walFrames = 0 } }
        }
    }

    /// Runs `body` in an immediate transaction on the writer; committed (durably) when it returns.
    public func write<T>(_ body: (Connection) throws -> T) throws -> T {
        try onWriter { writer in
            activity.withLock { $0.writing += 1 }
            defer {
                activity.withLock {
                    $0.writing -= 1
                    $0.lastWriteEnded = DispatchTime.now()
                }
            }
            return try writer.transaction(immediate: true) { try body(writer) }
        }
    }

    /// Runs `body` with the writer, holding `writerLock`. The result leaves through a local rather
    /// than as `withLock`'s (`sending`) result, so `T` need not be Sendable.
    private func onWriter<T>(_ body: (Connection) throws -> T) throws -> T {
        var result: Result<T, any Error>?
        writerLock.withLock { closed in
            result = closed ? .failure(SQLiteError(code: SQLITE_MISUSE, message: "\(path) is closed for writing"))
                            : Result { try body(writer) }
        }
        guard let result else { throw SQLiteError(code: SQLITE_MISUSE, message: "writer produced no result") }
        return try result.get()
    }

    /// Runs `body` on a reader inside one read transaction (a consistent snapshot).
    public func read<T>(_ body: (Connection) throws -> T) throws -> T {
        readersAvailable.lock()
        while idleReaders.isEmpty { readersAvailable.wait() }
        let r = idleReaders.removeLast()
        readersAvailable.unlock()
        defer {
            readersAvailable.lock()
            idleReaders.append(r)
            readersAvailable.signal()
            readersAvailable.unlock()
        }
        return try r.transaction(immediate: false) { try body(r) }
    }

    /// Ends this object's life as the file's writer: waits for a write in progress, refuses later
    /// ones, and releases `DB.lock`, so another server (or a restart in this process) may open the
    /// file at once even while references to this object linger. Reads keep working. Idempotent.
    public func close() {
        writerLock.withLock { closed in
            closed = true
            lock?.release()
        }
    }

    /// Folds the WAL back into the main file (on shutdown, so the file alone is complete).
    public func checkpoint() throws {
        try onWriter { try $0.execute("PRAGMA wal_checkpoint(TRUNCATE)") }
    }

    /// Folds what it can of the WAL into the database without waiting for readers: for shutdown,
    /// where a TRUNCATE checkpoint would wait out the busy timeout behind a reader that keeps a
    /// read transaction open (Litestream does) and make a stop take seconds. What it leaves in the
    /// WAL is as durable there and is folded in by the next start.
    public func checkpointWithoutWaiting() throws {
        try onWriter { try $0.execute("PRAGMA wal_checkpoint(PASSIVE)") }
    }

    /// The pragmas in force on the writer, for `/readyz` and tests.
    public func settings() throws -> (journalMode: String, synchronous: Int, foreignKeys: Bool, userVersion: Int) {
        try onWriter { writer in
            let mode = try writer.queryOne("PRAGMA journal_mode") { $0.text(0) ?? "" } ?? ""
            let sync = try writer.queryOne("PRAGMA synchronous") { $0.int(0) ?? -1 } ?? -1
            let fk = try writer.queryOne("PRAGMA foreign_keys") { $0.int(0) ?? 0 } ?? 0
            return (mode, sync, fk == 1, try writer.userVersion())
        }
    }
}
