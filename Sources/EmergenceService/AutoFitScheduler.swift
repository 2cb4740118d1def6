import EmergenceCore
import Foundation
import Logging
import Storage
import Synchronization

/// A study with `auto_fit` options refits by itself. An upload that stores rows
/// sets the study's `auto_fit_due` to now + the quiet period (each later upload pushes it back), and
/// when it passes, one refit with those options is queued. At most one waits per study: if an auto
/// refit is still queued (not started) it is kept, and moved to the new data version, since a job
/// reads the study's rows when it starts. The due time lives in SQLite, so a refit pending at a stop
/// is queued after the next start.
final class AutoFitScheduler: Sendable {
    private let database: Database
    private let fits: FitStore
    private let pool: FitWorkerPool
    /// Seconds without uploads before the refit is queued.
    let quiet: Double
    private let limits: FitStore.QueueLimits
    private let workers: Int
    private let logger: Logger
    private let queue = DispatchQueue(label: "emergence.auto-fit", qos: .utility)
    private let stopped = Mutex(false)

    init(database: Database, pool: FitWorkerPool, quiet: Double, limits: FitStore.QueueLimits, workers: Int, logger: Logger) {
        self.database = database
        fits = FitStore(database: database)
        self.pool = pool
        self.quiet = quiet
        self.limits = limits
        self.workers = workers
        self.logger = logger
    }

    /// Queues refits that came due while the server was down, and schedules the pending ones.
    func start() { schedule(after: 0) }

    func stop() { stopped.withLock { $0 = true } }

    /// After an upload that stored rows: the study's refit is due a quiet period from now (nothing
    /// happens when the study has no `auto_fit`).
    func noteUpload(studyID: Int) {
        let due = Date().timeIntervalSince1970 + quiet
        do {
            let pending: Bool = try database.write { c in
                try c.run("UPDATE study SET auto_fit_due = ? WHERE id = ? AND auto_fit IS NOT NULL",
                          .real(due), .integer(Int64(studyID)))
                return c.changes == 1
            }
            if pending { schedule(after: quiet) }
        } catch {
            logger.error("study \(studyID): cannot mark its auto refit due: \(error)")
        }
    }

    private func schedule(after seconds: Double) {
        queue.asyncAfter(deadline: .now() + max(0, seconds)) { [self] in
            if stopped.withLock({ $0 }) { return }
            tick()
        }
    }

    /// Queues every refit that is due, then sleeps until the earliest one still pending.
    private func tick() {
        let now = Date().timeIntervalSince1970
        var queued: [Int] = []
        var next: Double?
        do {
            let due: [Int] = try database.read { c in
                try c.query("SELECT id FROM study WHERE auto_fit_due <= ? ORDER BY auto_fit_due", [.real(now)]) { $0.int(0) ?? 0 }
            }
            for study in due {
                if let id = try queueRefit(study: study, now: now) { queued.append(id) }
            }
            next = try database.read { c in
                try c.queryOne("SELECT min(auto_fit_due) FROM study WHERE auto_fit_due IS NOT NULL") { $0.double(0) } ?? nil
            }
        } catch {
            logger.error("auto refits: \(error); trying again in 1 s")
            next = now + 1
        }
        for id in queued {
            if let job = try? fits.find(id: id) {
                pool.events.transition(job, from: nil, to: .queued)
                logger.info("study \(job.studyID): auto refit \(id) queued")
            }
        }
        if !queued.isEmpty { pool.wake() }
        if let next { schedule(after: next - Date().timeIntervalSince1970) }
    }

    /// In one write transaction: clears the study's due time and queues its refit (or moves the one
    /// still queued to the current data). Returns the id of a job it created. A full queue leaves
    /// the refit due again after the queue's Retry-After.
    private func queueRefit(study: Int, now: Double) throws -> Int? {
        try database.write { c in
            guard let (options, due) = try c.queryOne("SELECT auto_fit, auto_fit_due FROM study WHERE id = ?",
                                                      [.integer(Int64(study))], row: { ($0.text(0), $0.double(1)) }),
                  let options, let due, due <= now else { return nil }
            try c.run("UPDATE study SET auto_fit_due = NULL WHERE id = ?", .integer(Int64(study)))
            // A job reads its rows when it starts, so a refit still waiting will see these too.
            try c.run("""
                UPDATE fit SET data_version = (SELECT data_version FROM study WHERE id = ?1)
                WHERE study_id = ?1 AND kind = 'fit' AND auto = 1 AND status = 'queued'
                """, .integer(Int64(study)))
            if c.changes > 0 { return nil }
            do {
                let (id, created) = try fits.enqueue(c, studyID: study, kind: .fit, optionsJSON: options, studyBID: nil, auto: true,
                                                     limits: limits, workers: workers)
                return created ? id : nil
            } catch let full as FitStore.QueueFull {
                try c.run("UPDATE study SET auto_fit_due = ? WHERE id = ?", .real(now + Double(full.retryAfter)), .integer(Int64(study)))
                logger.warning("study \(study): auto refit postponed \(full.retryAfter) s: \(full)")
                return nil
            }
        }
    }
}
