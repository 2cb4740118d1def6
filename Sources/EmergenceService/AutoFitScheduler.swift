import Foundation
import Jobs
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
    private let studies: StudyStore
    private let pool: JobWorkerPool
    /// Seconds without uploads before the refit is queued.
    let quiet: Double
    private let logger: Logger
    private let queue = DispatchQueue(label: "emergence.auto-fit", qos: .utility)
    private let stopped = Lock(false)

    init(studies: StudyStore, pool: JobWorkerPool, quiet: Double, logger: Logger) {
        self.studies = studies
        self.pool = pool
        self.quiet = quiet
        self.logger = logger
    }

    /// Queues refits that came due while the server was down, and schedules the pending ones.
    func start() { schedule(after: 0) }

    func stop() { stopped.withLock { $0 = true } }

    /// After an upload that stored rows: the study's refit is due a quiet period from now (nothing
    /// happens when the study has no `auto_fit`).
    func noteUpload(studyID: Int) {
        do {
            if try studies.markAutoFitDue(studyID: studyID, at: Date().timeIntervalSince1970 + quiet) { schedule(after: quiet) }
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
        var next: Double?
        do {
            for study in try studies.dueAutoFits(at: now) { try queueRefit(study: study, now: now) }
            next = try studies.nextAutoFitDue()
        } catch {
            logger.error("auto refits: \(error); trying again in 1 s")
            next = now + 1
        }
        if let next { schedule(after: next - Date().timeIntervalSince1970) }
    }

    /// In one write transaction: clears the study's due time and queues its refit (or moves the one
    /// still queued to the current data). A full queue leaves the refit due again after the queue's
    /// Retry-After.
    private func queueRefit(study: Int, now: Double) throws {
        let jobs = pool.jobs
        do {
            let queued = try pool.enqueue { [studies] c in
                guard let options = try studies.takeDueAutoFit(c, studyID: study, at: now) else { return nil }
                // A job reads its rows when it starts, so a refit still waiting will see these too.
                if try jobs.moveQueuedAutoRefit(c, studyID: study) { return nil }
                return JobStore.Request(studyID: study, optionsJSON: options, auto: true)
            }
            if let (job, created) = queued, created { logger.info("study \(job.studyID): auto refit \(job.id) queued") }
        } catch let full as JobStore.QueueFull {
            _ = try studies.markAutoFitDue(studyID: study, at: now + Double(full.retryAfter))
            logger.warning("study \(study): auto refit postponed \(full.retryAfter) s: \(full)")
        }
    }
}
