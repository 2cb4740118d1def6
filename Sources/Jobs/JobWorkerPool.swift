import EmergenceCore
import Foundation
import Logging
import Storage
import Synchronization

/// Runs queued jobs (fits and every other kind, see JobKind) on a bounded pool: a serial Dispatch
/// queue schedules (claims the oldest queued job whenever a slot is free) and each slot's job runs on
/// a dedicated low-priority thread.
///
/// The queue itself lives in SQLite (`status = 'queued'`), so it survives restarts; this pool only
/// keeps what is live: which jobs run, their progress, and cancel flags. Jobs never run on the HTTP
/// handler threads nor on libdispatch's shared workers, so uploads and polls do not wait behind them.
package final class JobWorkerPool: Sendable {
    /// The fit procedure; tests may substitute one that blocks or fails.
    package typealias FitRunner = @Sendable ([Evaluation], FitOptions, @escaping @Sendable (Double) -> Void,
                                             @escaping @Sendable () -> Bool) throws -> FitResult

    /// A running job's live state.
    private struct Live {
        var progress: Double = 0
        var cancelled = false
        /// Wall-clock deadline (`timeout` after it started), checked with the cancel flag.
        var deadline: Date
        var timedOut = false
        var progressSavedAt = Date.distantPast
    }

    private struct State {
        var live: [Int: Live] = [:]
        var freeSlots: [Int]
        var stopping = false
        /// Progress waiting to be written, the latest value per job.
        var pendingProgress: [Int: Double] = [:]
    }

    package let jobs: JobStore
    /// A study's rows, as a job reads them when it starts.
    private let rows: @Sendable (_ studyID: Int) throws -> [Evaluation]
    private let capacity: Int
    private let limits: JobStore.QueueLimits
    /// The longest a job may run before it is stopped as `timed_out`.
    package let timeout: TimeInterval
    /// Runs one job of any kind (JobEngine, or the child-process runner).
    private let runner: JobRunner
    private let logger: Logger
    /// Status changes, for /metrics and the job log lines.
    package let events: any JobEvents
    /// One thread per worker slot, made for jobs alone. Not libdispatch worker threads: a CPU-bound
    /// job on one of those counts against the few threads libdispatch lets run at once, and the
    /// HTTP handlers' queue then waits for a thread (seconds, measured) while jobs run.
    private let slots: [JobThread]
    private let state: Lock<State>
    /// Serialises claiming, so `fill` never starts more than `capacity` jobs.
    private let scheduler = DispatchQueue(label: "emergence.jobs.scheduler")
    private let idle = DispatchGroup()
    /// Progress is persisted off the job's thread, so a job never waits for the database's write
    /// lock (an upload may hold it for a second or more): only the latest value per job is written.
    private let progressWriter = DispatchQueue(label: "emergence.jobs.progress", qos: .utility)

    /// - rows: a study's evaluations, read when a job starts.
    /// - runner: what runs every kind (`JobEngine.runner(fit:)`, or the child-process runner).
    package init(database: Database, workers: Int, limits: JobStore.QueueLimits, timeout: TimeInterval, logger: Logger,
                 runner: @escaping JobRunner, events: any JobEvents,
                 rows: @escaping @Sendable (_ studyID: Int) throws -> [Evaluation]) {
        self.events = events
        jobs = JobStore(database: database)
        self.rows = rows
        capacity = max(1, workers)
        self.limits = limits
        self.timeout = timeout
        slots = (0..<max(1, workers)).map { JobThread(name: "emergence.job.\($0)") }
        state = Lock(State(freeSlots: Array((0..<max(1, workers)).reversed())))
        self.runner = runner
        self.logger = logger
    }

    /// One thread per fit: the pool already runs jobs side by side, each on its own slot thread, and
    /// a bootstrap fanning out over every core would take CPU from the HTTP handlers.
    package static let emergenceFit: FitRunner = { rows, options, progress, isCancelled in
        try EmergenceFit.run(rows, options: options, threads: 1, progress: progress, isCancelled: isCancelled)
    }

    /// Requeues jobs a previous process left running, then starts working.
    package func start() throws {
        let recovered = try jobs.recoverInterrupted()
        events.recovered(requeued: recovered.requeued, failed: recovered.failed)
        if recovered.requeued > 0 { logger.info("requeued \(recovered.requeued) job(s) interrupted by the last shutdown") }
        if recovered.failed > 0 {
            logger.error("failed \(recovered.failed) job(s) interrupted on their second attempt; they are not retried again")
        }
        wake()
    }

    /// Queues a job (or finds the one already made for the same request, see `JobStore.enqueue`),
    /// records its `queued` event and wakes the pool: how every job enters the queue.
    package func enqueue(_ request: JobStore.Request) throws -> (job: Job, created: Bool) {
        guard let queued = try enqueue({ _ in request }) else { throw JobStore.StudyGone() }
        return queued
    }

    /// `enqueue` of the request `decide` makes inside the queue's write transaction (nil: none, and
    /// nothing is queued).
    package func enqueue(_ decide: (Connection) throws -> JobStore.Request?) throws -> (job: Job, created: Bool)? {
        guard let (job, created) = try jobs.enqueue(limits: limits, workers: capacity, decide) else { return nil }
        if created {
            events.transition(job, from: nil, to: .queued)
            wake()
        }
        return (job, created)
    }

    /// Starts queued jobs while there is a free worker. Cheap.
    package func wake() {
        scheduler.async { self.fill() }
    }

    private func fill() {
        while true {
            if state.withLock({ $0.live.count >= capacity || $0.stopping }) { return }
            let job: Job?
            do { job = try jobs.claimNext() } catch {
                logger.error("cannot claim a queued job: \(error)")
                // The database may be busy or the disk full; try again shortly rather than stall the queue.
                scheduler.asyncAfter(deadline: .now() + 1) { self.fill() }
                return
            }
            guard let job else { return }
            events.transition(job, from: .queued, to: .running)
            let live = Live(cancelled: job.cancelRequested, deadline: Date().addingTimeInterval(timeout))
            // `live.count < capacity` above guarantees a free slot; the nil keeps a bug from trapping.
            let slot: Int? = state.withLock { s in
                guard let slot = s.freeSlots.popLast() else { return nil }
                s.live[job.id] = live
                return slot
            }
            guard let slot else {
                logger.error("no free job slot for job \(job.id) although fewer than \(capacity) run; it stays queued")
                if (try? jobs.requeue(id: job.id)) != nil { events.transition(job, from: .running, to: .queued) }
                return
            }
            idle.enter()
            slots[slot].submit { self.run(job, slot: slot) }
        }
    }

    private func run(_ job: Job, slot: Int) {
        defer {
            state.withLock { s in
                s.live[job.id] = nil
                s.freeSlots.append(slot)
            }
            idle.leave()
            wake()
        }
        let started = Date()
        do {
            var rowsB: [Evaluation]? = nil
            let rowsA = try rows(job.studyID)
            if job.kind == .comparison {
                guard let b = job.studyBID else { throw MissingSecondStudy() }
                rowsB = try rows(b)
            }
            let work = JobWork(kind: job.kind, optionsJSON: job.optionsJSON, rows: rowsA, rowsB: rowsB)
            let result = try runner(work, { [self] p in
                let save: Bool = state.withLock { s in
                    guard s.live[job.id] != nil else { return false }
                    s.live[job.id]?.progress = p
                    let due = Date().timeIntervalSince(s.live[job.id]?.progressSavedAt ?? .distantPast) > 2
                    if due { s.live[job.id]?.progressSavedAt = Date() }
                    return due
                }
                // Persist now and then, so a poll after a restart still shows roughly where it was.
                if save { saveProgressLater(id: job.id, p) }
            }, { [self] in
                state.withLock { s in
                    guard var live = s.live[job.id] else { return true }
                    if !live.cancelled && Date() >= live.deadline {
                        live.timedOut = true
                        live.cancelled = true
                        s.live[job.id] = live
                    }
                    return live.cancelled
                }
            })
            try events.committing(job, to: .succeeded) {
                try jobs.succeed(id: job.id, resultJSON: String(decoding: result, as: UTF8.self))
            }
            events.transition(job, from: .running, to: .succeeded, seconds: Date().timeIntervalSince(started), error: nil)
        } catch FitError.cancelled {
            stopped(job, started: started)
        } catch {
            if (try? jobs.fail(id: job.id, error: "\(error)", status: .failed)) != nil {
                events.transition(job, from: .running, to: .failed, seconds: Date().timeIntervalSince(started), error: "\(error)")
            } else {
                logger.warning("job \(job.id) failed: \(error)")
            }
            if let child = error as? JobProcess.ChildFailure, !child.details.isEmpty {
                logger.error("job \(job.id): what its process printed:\n\(child.details)")
            }
        }
    }

    /// A job that stopped on its cancel flag: timed out, interrupted by a shutdown, or cancelled.
    private func stopped(_ job: Job, started: Date) {
        let (shuttingDown, timedOut) = state.withLock { ($0.stopping, $0.live[job.id]?.timedOut ?? false) }
        if timedOut {
            let limit = String(format: "%g", timeout)
            let what = job.kind == .fit ? "fit" : job.kind.rawValue
            let why = "the \(what) ran longer than the server's limit of \(limit) s and was stopped; "
                + "ask for less work (fewer bootstrap resamples or MCMC steps) or raise EMERGENCE_FIT_TIMEOUT"
            if (try? jobs.fail(id: job.id, error: why, status: .timedOut)) != nil {
                events.transition(job, from: .running, to: .timedOut, seconds: Date().timeIntervalSince(started), error: why)
            }
            return
        }
        // Stopped for a graceful shutdown: back to the queue without counting the attempt, so
        // only a crash (the job still 'running' at the next start) uses up its one retry.
        if shuttingDown && !isCancelRequested(job.id) {
            do {
                try jobs.requeue(id: job.id)
                events.transition(job, from: .running, to: .queued)
                logger.info("job \(job.id) interrupted by shutdown; it will resume on the next start")
            } catch {
                logger.warning("job \(job.id) interrupted by shutdown and left running (\(error)); the next start requeues it")
            }
            return
        }
        if (try? jobs.fail(id: job.id, error: "cancelled", status: .cancelled)) != nil {
            events.transition(job, from: .running, to: .cancelled, seconds: Date().timeIntervalSince(started), error: nil)
        }
    }

    /// Queues a progress write on `progressWriter`, coalescing writes for the same job.
    private func saveProgressLater(id: Int, _ p: Double) {
        let first = state.withLock { $0.pendingProgress.updateValue(p, forKey: id) == nil }
        guard first else { return }
        progressWriter.async { [self] in
            if let latest = state.withLock({ $0.pendingProgress.removeValue(forKey: id) }) { try? jobs.saveProgress(id: id, latest) }
        }
    }

    private func isCancelRequested(_ id: Int) -> Bool {
        (try? jobs.find(id: id))?.cancelRequested ?? false
    }

    /// Live progress of a running job (nil when not running here).
    package func progress(of id: Int) -> Double? {
        state.withLock { $0.live[id]?.progress }
    }

    package var runningCount: Int {
        state.withLock { $0.live.count }
    }

    /// Asks a running job to stop; it ends as `cancelled`.
    package func cancel(_ id: Int) {
        state.withLock { $0.live[id]?.cancelled = true }
    }

    /// Stops claiming, interrupts running jobs (they stay queued in the database for the next start)
    /// and waits up to `timeout` for workers to return.
    package func shutdown(timeout: TimeInterval = 10) {
        state.withLock { s in
            s.stopping = true
            for id in s.live.keys { s.live[id]?.cancelled = true }
        }
        _ = idle.wait(timeout: .now() + timeout)
        for t in slots { t.stop() }
    }
}
