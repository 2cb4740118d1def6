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
///
/// A study whose `auto_fit` asks for `alpha_prior: "pooled"` gets its prior resolved when its refit
/// is queued, and is refitted too when the lab's pooled prior it would get has changed materially
/// since its newest fit (PooledPriors.materially): after any fit of the lab succeeds, the studies
/// that pool with it are checked.
final class AutoFitScheduler: Sendable {
    private let studies: StudyStore
    private let priors: PooledPriors
    private let pool: JobWorkerPool
    /// Seconds without uploads before the refit is queued.
    let quiet: Double
    private let logger: Logger
    private let queue = DispatchQueue(label: "emergence.auto-fit", qos: .utility)
    private let stopped = Lock(false)

    init(studies: StudyStore, pool: JobWorkerPool, quiet: Double, logger: Logger, priors: PooledPriors) {
        self.studies = studies
        self.priors = priors
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

    /// After a fit of `studyID` succeeded: its profile may have moved the pooled prior of the studies
    /// that pool with it (its own pool's, and the untagged studies', which pool with every study).
    func noteFitSucceeded(studyID: Int) {
        queue.async { [self] in
            if stopped.withLock({ $0 }) { return }
            do {
                guard let fitted = try studies.find(id: studyID) else { return }
                try checkPooledPriors(affectedBy: [fitted.pool])
            } catch {
                logger.error("pooled prior check after a fit of study \(studyID): \(error)")
            }
        }
    }

    /// After a study left pool `old` for `new`, or was deleted (`new` nil): both pools' studies may get
    /// another prior now.
    func notePoolChanged(from old: String?, to new: String?) {
        queue.async { [self] in
            if stopped.withLock({ $0 }) { return }
            do { try checkPooledPriors(affectedBy: [old, new]) } catch { logger.error("pooled prior check after a pool change: \(error)") }
        }
    }

    /// Makes due the studies with a pooled `auto_fit` in the pools touched whose prior would now
    /// differ materially from the one their newest fit used (or that have none yet and can get one).
    private func checkPooledPriors(affectedBy pools: [String?]) throws {
        var seen = Set<Int>()
        for pool in pools {
            for (id, used) in try priors.pooledAutoFitStudies(affectedBy: pool) where seen.insert(id).inserted {
                guard let study = try studies.find(id: id), let now = try priors.prior(for: study).0 else { continue }
                guard used.map({ PooledPriors.materially($0, now) }) ?? true else { continue }
                logger.info("study \(id): the lab's pooled α prior moved; auto refit due")
                if try studies.markAutoFitDue(studyID: id, at: Date().timeIntervalSince1970 + quiet) { schedule(after: quiet) }
            }
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
        // A pooled prior is resolved before the write transaction (it reads the other studies' fits);
        // nil when the study's auto_fit asks for none, or the pool cannot give one yet.
        let (resolved, unresolved): ((from: String, to: String)?, Bool) = try {
            guard let s = try studies.find(id: study), let options = s.autoFit, options.alphaPriorPooled else { return (nil, false) }
            switch try priors.resolve(options, study: s) {
            case .success(let text): return ((try JobOptions.canonicalJSON(options), text), false)
            case .failure(let why):
                logger.warning("study \(study): auto refit with the pooled α prior skipped: \(why.reason)")
                return (nil, true)
            }
        }()
        do {
            let queued = try pool.enqueue { [studies] c in
                guard let stored = try studies.takeDueAutoFit(c, studyID: study, at: now) else { return nil }
                // Never a plain fit in place of a pooled one: without a prior the refit waits for the next change.
                if unresolved { return nil }
                let options = resolved.map { stored == $0.from ? $0.to : stored } ?? stored
                if options.contains(#""alpha_prior":"pooled""#) { return nil }
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
