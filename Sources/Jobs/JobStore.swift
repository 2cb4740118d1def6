import Storage

/// Jobs (fits and the other kinds) in the database: every statement on the job table. The table
/// keeps its first name, `fit`, and is the queue: workers claim the oldest queued row, whatever its kind.
package struct JobStore: Sendable {
    package let database: Database

    package init(database: Database) { self.database = database }

    private static func row(_ s: Statement) -> Job {
        // Columns are NOT NULL in the schema; the fallbacks only keep a corrupt row from trapping.
        Job(id: s.int(0) ?? 0, studyID: s.int(1) ?? 0, status: Job.Status(rawValue: s.text(2) ?? "") ?? .failed,
               progress: s.double(3) ?? 0, optionsJSON: s.text(4) ?? "{}", dataVersion: s.int(5) ?? 0,
               cancelRequested: s.int(6) == 1, attempts: s.int(7) ?? 0, createdAt: s.text(8) ?? "", startedAt: s.text(9),
               finishedAt: s.text(10), resultJSON: s.textBytes(11), error: s.text(12),
               kind: JobKind(rawValue: s.text(13) ?? "") ?? .fit, studyBID: s.int(14), dataVersionB: s.int(15), auto: s.int(16) == 1)
    }

    /// How many fits may wait or run at once; past either bound `enqueue` throws `QueueFull`.
    package struct QueueLimits: Sendable {
        package var overall: Int
        package var perStudy: Int

        package init(overall: Int, perStudy: Int) {
            self.overall = overall
            self.perStudy = perStudy
        }
    }

    /// The queue is at a bound: answered 429 with `Retry-After`.
    package struct QueueFull: Error, CustomStringConvertible {
        package var scope: String
        package var limit: Int
        /// Seconds until a slot is likely free, from how long recent fits took.
        package var retryAfter: Int
        package var description: String {
            "\(scope) already has \(limit) jobs (fits and other kinds) queued or running (the limit); retry after about \(retryAfter) s"
        }
    }

    /// The study went away between its lookup and the write (a concurrent DELETE).
    package struct StudyGone: Error {}

    /// What a job is asked to do, before it has an id.
    package struct Request: Sendable {
        package var studyID: Int
        package var kind: JobKind
        package var optionsJSON: String
        /// The second study of a comparison.
        package var studyBID: Int?
        /// Queued by a study's `auto_fit` option rather than by a request.
        package var auto: Bool

        package init(studyID: Int, kind: JobKind = .fit, optionsJSON: String, studyBID: Int? = nil, auto: Bool = false) {
            self.studyID = studyID
            self.kind = kind
            self.optionsJSON = optionsJSON
            self.studyBID = studyBID
            self.auto = auto
        }
    }

    /// Queues a job, or returns the one already made for the same kind and options on the same data
    /// (queued, running or succeeded; a failed, cancelled or timed-out one is retried). `created`
    /// says which. An identical request is answered even when the queue is full; a new one past
    /// `limits` throws `QueueFull`, decided inside the same write transaction as the insert. Every
    /// kind counts against the same bounds. A comparison names its second study in `studyBID`.
    package func enqueue(_ request: Request, limits: QueueLimits, workers: Int) throws -> (job: Job, created: Bool) {
        guard let queued = try enqueue(limits: limits, workers: workers, { _ in request }) else { throw StudyGone() }
        return queued
    }

    /// `enqueue` of the request `decide` makes inside the same write transaction (reading and changing
    /// what it needs first); when it makes none, nothing is queued (nil) and its changes commit.
    package func enqueue(limits: QueueLimits, workers: Int,
                         _ decide: (Connection) throws -> Request?) throws -> (job: Job, created: Bool)? {
        let queued: (Int, Bool)? = try database.write { c in
            guard let request = try decide(c) else { return nil }
            return try enqueue(c, request, limits: limits, workers: workers)
        }
        guard let (id, created) = queued else { return nil }
        // A concurrent DELETE of the study may remove the job between the write and this read.
        guard let job = try find(id: id) else { throw StudyGone() }
        return (job, created)
    }

    private func enqueue(_ c: Connection, _ request: Request, limits: QueueLimits, workers: Int) throws -> (Int, Bool) {
        let (studyID, kind, optionsJSON, studyBID) = (request.studyID, request.kind, request.optionsJSON, request.studyBID)
        guard let version = try c.queryOne("SELECT data_version FROM study WHERE id = ?", [.integer(Int64(studyID))],
                                           row: { $0.int(0) ?? 0 }) else { throw StudyGone() }
        var versionB: Int? = nil
        if let b = studyBID {
            guard let v = try c.queryOne("SELECT data_version FROM study WHERE id = ?", [.integer(Int64(b))],
                                         row: { $0.int(0) ?? 0 }) else { throw StudyGone() }
            versionB = v
        }
        let bValue: SQLValue = studyBID.map { .integer(Int64($0)) } ?? .null
        let vbValue: SQLValue = versionB.map { .integer(Int64($0)) } ?? .null
        if let existing = try c.queryOne("""
            SELECT id FROM fit
            WHERE study_id = ?1 AND kind = ?2 AND data_version = ?3 AND options = ?4
              AND study_b_id IS ?5 AND data_version_b IS ?6
              AND status IN ('queued', 'running', 'succeeded') AND cancel_requested = 0
            ORDER BY id DESC LIMIT 1
            """, [.integer(Int64(studyID)), .text(kind.rawValue), .integer(Int64(version)), .text(optionsJSON), bValue, vbValue],
            row: { $0.int(0) ?? 0 }) {
            return (existing, false)
        }
        let overall = try c.queryOne("SELECT count(*) FROM fit WHERE status IN ('queued', 'running')", row: { $0.int(0) ?? 0 }) ?? 0
        let mine = try c.queryOne("SELECT count(*) FROM fit WHERE status IN ('queued', 'running') AND study_id = ?",
                                  [.integer(Int64(studyID))], row: { $0.int(0) ?? 0 }) ?? 0
        if overall >= limits.overall || mine >= limits.perStudy {
            // Expected wait for one slot: the queue ahead, spread over the workers, at the recent
            // mean job duration (1 s when nothing has finished yet); at least 1 s, at most an hour.
            let mean = try c.queryOne("""
                SELECT avg((julianday(finished_at) - julianday(started_at)) * 86400.0) FROM
                (SELECT started_at, finished_at FROM fit WHERE status = 'succeeded' AND started_at IS NOT NULL
                 ORDER BY id DESC LIMIT 20)
                """, row: { $0.double(0) }) ?? nil
            let ahead = Double(overall >= limits.overall ? overall - limits.overall + 1 : mine - limits.perStudy + 1)
            let wait = (mean ?? 1) * max(1, ahead) / Double(max(1, workers))
            let retry = Int(min(3600, max(1, wait.rounded(.up))))
            if overall >= limits.overall { throw QueueFull(scope: "the server", limit: limits.overall, retryAfter: retry) }
            throw QueueFull(scope: "this study", limit: limits.perStudy, retryAfter: retry)
        }
        try c.run("""
            INSERT INTO fit (study_id, status, options, data_version, created_at, kind, study_b_id, data_version_b, auto)
            VALUES (?, 'queued', ?, ?, strftime('%Y-%m-%dT%H:%M:%fZ', 'now'), ?, ?, ?, ?)
            """, .integer(Int64(studyID)), .text(optionsJSON), .integer(Int64(version)), .text(kind.rawValue), bValue, vbValue,
            .integer(request.auto ? 1 : 0))
        return (c.lastInsertRowID, true)
    }

    package func find(id: Int) throws -> Job? {
        try database.read { c in
            try c.queryOne("""
                SELECT id, study_id, status, progress, options, data_version, cancel_requested, attempts, created_at,
                       started_at, finished_at, result, error, kind, study_b_id, data_version_b, auto
                FROM fit WHERE id = ?
                """, [.integer(Int64(id))], row: Self.row)
        }
    }

    /// A study's fits, newest first, before the id `before`; optionally only one status.
    package func list(studyID: Int, status: Job.Status?, before: Int, limit: Int) throws -> [Job] {
        try list(studyID: studyID, kind: .fit, status: status, before: before, limit: limit)
    }

    /// A study's jobs of one kind (all kinds when nil), newest first, before the id `before`;
    /// optionally only one status. A comparison is listed under both of its studies. Listed without
    /// their results, so a page stays small.
    package func list(studyID: Int, kind: JobKind?, status: Job.Status?, before: Int, limit: Int) throws -> [Job] {
        try database.read { c in
            try c.query("""
                SELECT id, study_id, status, progress, options, data_version, cancel_requested, attempts, created_at,
                       started_at, finished_at, NULL, error, kind, study_b_id, data_version_b, auto
                FROM fit WHERE (study_id = ?1 OR study_b_id = ?1) AND id < ?2 AND (?3 IS NULL OR status = ?3)
                  AND (?5 IS NULL OR kind = ?5)
                ORDER BY id DESC LIMIT ?4
                """, [.integer(Int64(studyID)), .integer(Int64(before)), status.map { .text($0.rawValue) } ?? .null,
                      .integer(Int64(limit)), kind.map { .text($0.rawValue) } ?? .null], row: Self.row)
        }
    }

    /// The id of the newest succeeded fit of a study (what `/prediction` serves).
    package func newestSucceededID(studyID: Int) throws -> Int? {
        try database.read { c in
            try c.queryOne("""
                SELECT id FROM fit WHERE study_id = ? AND kind = 'fit' AND status = 'succeeded' ORDER BY id DESC LIMIT 1
                """, [.integer(Int64(studyID))]) { $0.int(0) ?? 0 }
        }
    }

    /// Marks the oldest queued fit running and returns it; nil when the queue is empty.
    package func claimNext() throws -> Job? {
        let id: Int? = try database.write { c in
            guard let id = try c.queryOne("SELECT id FROM fit WHERE status = 'queued' ORDER BY id LIMIT 1", row: { $0.int(0) ?? 0 }) else {
                return nil
            }
            try c.run("""
                UPDATE fit SET status = 'running', started_at = strftime('%Y-%m-%dT%H:%M:%fZ', 'now'), attempts = attempts + 1
                WHERE id = ?
                """, .integer(Int64(id)))
            return id
        }
        return try id.flatMap { try find(id: $0) }
    }

    /// After a restart: fits left running by the previous process go back to the queue once. A fit
    /// that was already on its `maxAttempts`-th attempt is failed instead, so a fit whose work takes
    /// the process down costs one fit, not a crash loop. Cancel requests are honoured.
    package func recoverInterrupted(maxAttempts: Int = 2) throws -> (requeued: Int, failed: Int) {
        try database.write { c in
            try c.run("""
                UPDATE fit SET status = 'cancelled', finished_at = strftime('%Y-%m-%dT%H:%M:%fZ', 'now')
                WHERE status = 'running' AND cancel_requested = 1
                """)
            try c.run("""
                UPDATE fit SET status = 'failed', finished_at = strftime('%Y-%m-%dT%H:%M:%fZ', 'now'),
                               error = 'the server stopped while this fit ran, on each of its ' || attempts ||
                                       ' attempts; it is not retried again (a fit that ends the process is a defect: please report it with its options)'
                WHERE status = 'running' AND attempts >= ?
                """, .integer(Int64(maxAttempts)))
            let failed = c.changes
            try c.run("UPDATE fit SET status = 'queued', started_at = NULL, progress = 0 WHERE status = 'running'")
            return (c.changes, failed)
        }
    }

    /// Puts a claimed fit back in the queue without counting the attempt.
    package func requeue(id: Int) throws {
        try database.write { c in
            try c.run("""
                UPDATE fit SET status = 'queued', started_at = NULL, attempts = max(0, attempts - 1)
                WHERE id = ? AND status = 'running'
                """, .integer(Int64(id)))
        }
    }

    package func succeed(id: Int, resultJSON: String) throws {
        try database.write { c in
            try c.run("""
                UPDATE fit SET status = 'succeeded', progress = 1, result = ?, error = NULL,
                               finished_at = strftime('%Y-%m-%dT%H:%M:%fZ', 'now')
                WHERE id = ? AND status = 'running'
                """, .text(resultJSON), .integer(Int64(id)))
        }
    }

    /// Ends a running fit as `failed`, `cancelled` or `timed_out`.
    package func fail(id: Int, error: String, status: Job.Status) throws {
        try database.write { c in
            try c.run("""
                UPDATE fit SET status = ?, error = ?, finished_at = strftime('%Y-%m-%dT%H:%M:%fZ', 'now')
                WHERE id = ? AND status = 'running'
                """, .text(status.rawValue), .text(error), .integer(Int64(id)))
        }
    }

    package func saveProgress(id: Int, _ p: Double) throws {
        try database.write { c in
            try c.run("UPDATE fit SET progress = ? WHERE id = ? AND status = 'running'", .real(min(1, max(0, p))), .integer(Int64(id)))
        }
    }

    package enum CancelOutcome { case cancelled(Job), cancelRequested(Job), alreadyFinished(Job), notFound }

    /// Cancels a queued fit at once; for a running one records the request (the worker stops it).
    package func cancel(id: Int) throws -> CancelOutcome {
        let outcome: Int = try database.write { c in
            guard let status = try c.queryOne("SELECT status FROM fit WHERE id = ?", [.integer(Int64(id))], row: { $0.text(0) ?? "" }) else {
                return 0
            }
            switch status {
            case "queued":
                try c.run("""
                    UPDATE fit SET status = 'cancelled', cancel_requested = 1, error = 'cancelled before it started',
                                   finished_at = strftime('%Y-%m-%dT%H:%M:%fZ', 'now')
                    WHERE id = ?
                    """, .integer(Int64(id)))
                return 1
            case "running":
                try c.run("UPDATE fit SET cancel_requested = 1 WHERE id = ?", .integer(Int64(id)))
                return 2
            default:
                return 3
            }
        }
        guard outcome != 0, let job = try find(id: id) else { return .notFound }
        switch outcome {
        case 1: return .cancelled(job)
        case 2: return .cancelRequested(job)
        default: return .alreadyFinished(job)
        }
    }

    /// How many jobs wait in the queue (for /readyz and /metrics).
    package func queuedCount(_ c: Connection) throws -> Int {
        try c.queryOne("SELECT count(*) FROM fit WHERE status = 'queued'") { $0.int(0) ?? 0 } ?? 0
    }

    package func queuedCount() throws -> Int {
        try database.read { try queuedCount($0) }
    }

    /// Moves a study's auto refit that is still queued (not started) to the study's current data
    /// version, since a job reads the study's rows when it starts. True when there was one.
    package func moveQueuedAutoRefit(_ c: Connection, studyID: Int) throws -> Bool {
        try c.run("""
            UPDATE fit SET data_version = (SELECT data_version FROM study WHERE id = ?1)
            WHERE study_id = ?1 AND kind = 'fit' AND auto = 1 AND status = 'queued'
            """, .integer(Int64(studyID)))
        return c.changes > 0
    }

    /// E* at the MLE and the result status of a study's newest jobs with a result, by id, read inside
    /// SQLite (json_extract) so a page need not decode every stored result.
    package func resultSummaries(studyID: Int, before: Int, limit: Int) throws -> [Int: (loss: Double?, status: String?)] {
        let rows: [(Int, Double?, String?)] = try database.read { c in
            try c.query("""
                SELECT id, json_extract(result, '$.emergence.loss.mle'), json_extract(result, '$.status')
                FROM fit WHERE study_id = ?1 AND id < ?2 AND result IS NOT NULL ORDER BY id DESC LIMIT ?3
                """, [.integer(Int64(studyID)), .integer(Int64(before)), .integer(Int64(limit))]) { ($0.int(0) ?? 0, $0.double(1), $0.text(2)) }
        }
        var out: [Int: (loss: Double?, status: String?)] = [:]
        for (id, loss, status) in rows { out[id] = (loss, status) }
        return out
    }
}
