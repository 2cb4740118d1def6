import EmergenceCore
import Foundation
#if canImport(Glibc)
import Glibc
#endif
import Logging
import Storage

/// Runs queued jobs (fits and every other kind, see JobKind) on a bounded pool: a serial Dispatch queue schedules (claims the oldest queued
/// fit whenever a slot is free) and each slot's fit runs on a dedicated low-priority thread.
///
/// The queue itself lives in SQLite (`fit.status = 'queued'`), so it survives restarts; this pool
/// only keeps what is live: which fits run, their progress, and cancel flags. Fits never run on the
/// HTTP handler threads nor on libdispatch's shared workers, so uploads and polls do not wait behind them.
final class FitWorkerPool: @unchecked Sendable {
    /// The fit procedure; tests may substitute one that blocks or fails.
    typealias Runner = @Sendable ([Evaluation], FitOptions, @escaping @Sendable (Double) -> Void,
                                  @escaping @Sendable () -> Bool) throws -> FitResult

    private final class Live: @unchecked Sendable {
        var progress: Double = 0
        var cancelled = false
        /// Wall-clock deadline (`ServiceConfiguration.fitTimeout`), checked with the cancel flag.
        var deadline: Date
        var timedOut = false
        var progressSavedAt = Date.distantPast
        init(deadline: Date) { self.deadline = deadline }
    }

    private let fits: FitStore
    private let evaluations: EvaluationStore
    private let capacity: Int
    /// The longest a fit may run before it is stopped as `timed_out`.
    let timeout: TimeInterval
    /// Runs one job of any kind (JobEngine, or the child-process runner).
    private let runner: JobRunner
    private let logger: Logger
    /// Status changes, for /metrics and the fit log lines.
    let events: FitEvents
    /// One thread per worker slot, made for fits alone. Not libdispatch worker threads: a CPU-bound
    /// fit on one of those counts against the few threads libdispatch lets run at once, and the
    /// HTTP handlers' queue then waits for a thread (seconds, measured) while fits run.
    private let slots: [FitThread]
    private var freeSlots: [Int]
    /// Serialises claiming, so `fill` never starts more than `capacity` fits.
    private let scheduler = DispatchQueue(label: "emergence.fits.scheduler")
    private let lock = NSLock()
    private var live: [Int: Live] = [:]
    private var stopping = false
    private let idle = DispatchGroup()

    /// Progress is persisted off the fit's thread, so a fit never waits for the database's write
    /// lock (an upload may hold it for a second or more): only the latest value per fit is written.
    private let progressWriter = DispatchQueue(label: "emergence.fits.progress", qos: .utility)
    private var pendingProgress: [Int: Double] = [:]

    /// - runner: what runs fits (tests substitute one); other kinds run through `JobEngine`.
    /// - jobRunner: what runs every kind, fits included; when given, `runner` is not used.
    init(database: Database, workers: Int, timeout: TimeInterval, logger: Logger,
         runner: @escaping Runner = FitWorkerPool.emergenceFit, jobRunner: JobRunner? = nil, events: FitEvents? = nil) {
        self.events = events ?? FitEvents(metrics: ServiceMetrics(), logger: logger)
        fits = FitStore(database: database)
        evaluations = EvaluationStore(database: database)
        capacity = max(1, workers)
        self.timeout = timeout
        slots = (0..<max(1, workers)).map { FitThread(name: "emergence.fit.\($0)") }
        freeSlots = Array((0..<max(1, workers)).reversed())
        self.runner = jobRunner ?? JobEngine.runner(fit: runner)
        self.logger = logger
    }

    /// One thread per fit: the pool already runs fits side by side, each on its own slot thread, and
    /// a bootstrap fanning out over every core would take CPU from the HTTP handlers.
    static let emergenceFit: Runner = { rows, options, progress, isCancelled in
        try EmergenceFit.run(rows, options: options, threads: 1, progress: progress, isCancelled: isCancelled)
    }

    /// Requeues fits a previous process left running, then starts working.
    func start() throws {
        let recovered = try fits.recoverInterrupted()
        events.recovered(requeued: recovered.requeued, failed: recovered.failed)
        if recovered.requeued > 0 { logger.info("requeued \(recovered.requeued) fit(s) interrupted by the last shutdown") }
        if recovered.failed > 0 {
            logger.error("failed \(recovered.failed) fit(s) interrupted on their second attempt; they are not retried again")
        }
        wake()
    }

    /// Starts queued fits while there is a free worker. Cheap; call after every enqueue.
    func wake() {
        scheduler.async { self.fill() }
    }

    private func fill() {
        while true {
            lock.lock()
            let full = live.count >= capacity || stopping
            lock.unlock()
            if full { return }
            let job: FitJob?
            do { job = try fits.claimNext() } catch {
                logger.error("cannot claim a queued fit: \(error)")
                // The database may be busy or the disk full; try again shortly rather than stall the queue.
                scheduler.asyncAfter(deadline: .now() + 1) { self.fill() }
                return
            }
            guard let job else { return }
            events.transition(job, from: .queued, to: .running)
            let state = Live(deadline: Date().addingTimeInterval(timeout))
            state.cancelled = job.cancelRequested
            lock.lock()
            live[job.id] = state
            // `live.count < capacity` above guarantees a free slot; the guard keeps a bug from trapping.
            guard let slot = freeSlots.popLast() else {
                live[job.id] = nil
                lock.unlock()
                logger.error("no free fit slot for fit \(job.id) although fewer than \(capacity) run; it stays queued")
                if (try? fits.requeue(id: job.id)) != nil { events.transition(job, from: .running, to: .queued) }
                return
            }
            lock.unlock()
            idle.enter()
            slots[slot].submit { self.run(job, state, slot: slot) }
        }
    }

    private func run(_ job: FitJob, _ state: Live, slot: Int) {
        defer {
            lock.lock()
            live[job.id] = nil
            freeSlots.append(slot)
            lock.unlock()
            idle.leave()
            wake()
        }
        let started = Date()
        do {
            let data = try evaluations.all(studyID: job.studyID)
            var rowsB: [Evaluation]? = nil
            if job.kind == .comparison {
                guard let b = job.studyBID else { throw MissingSecondStudy() }
                rowsB = try evaluations.all(studyID: b).rows
            }
            let work = JobWork(kind: job.kind, optionsJSON: job.optionsJSON, rows: data.rows, rowsB: rowsB)
            let lock = self.lock
            let fits = self.fits
            let result = try runner(work, { [self] p in
                lock.lock()
                state.progress = p
                let save = Date().timeIntervalSince(state.progressSavedAt) > 2
                if save { state.progressSavedAt = Date() }
                lock.unlock()
                // Persist now and then, so a poll after a restart still shows roughly where it was.
                if save { saveProgressLater(id: job.id, p) }
            }, {
                lock.lock()
                defer { lock.unlock() }
                if !state.cancelled && Date() >= state.deadline {
                    state.timedOut = true
                    state.cancelled = true
                }
                return state.cancelled
            })
            try fits.succeed(id: job.id, resultJSON: String(decoding: result, as: UTF8.self))
            events.transition(job, from: .running, to: .succeeded, seconds: Date().timeIntervalSince(started))
        } catch FitError.cancelled {
            lock.lock()
            let shuttingDown = stopping
            let timedOut = state.timedOut
            lock.unlock()
            if timedOut {
                let limit = String(format: "%g", timeout)
                let what = job.kind == .fit ? "fit" : job.kind.rawValue
                let why = "the \(what) ran longer than the server's limit of \(limit) s and was stopped; "
                    + "ask for less work (fewer bootstrap resamples or MCMC steps) or raise EMERGENCE_FIT_TIMEOUT"
                if (try? fits.fail(id: job.id, error: why, status: .timedOut)) != nil {
                    events.transition(job, from: .running, to: .timedOut, seconds: Date().timeIntervalSince(started), error: why)
                }
                return
            }
            // Stopped for a graceful shutdown: back to the queue without counting the attempt, so
            // only a crash (the fit still 'running' at the next start) uses up its one retry.
            if shuttingDown && !isCancelRequested(job.id) {
                do {
                    try fits.requeue(id: job.id)
                    events.transition(job, from: .running, to: .queued)
                    logger.info("fit \(job.id) interrupted by shutdown; it will resume on the next start")
                } catch {
                    logger.warning("fit \(job.id) interrupted by shutdown and left running (\(error)); the next start requeues it")
                }
                return
            }
            if (try? fits.fail(id: job.id, error: "cancelled", status: .cancelled)) != nil {
                events.transition(job, from: .running, to: .cancelled, seconds: Date().timeIntervalSince(started))
            }
        } catch {
            if (try? fits.fail(id: job.id, error: "\(error)", status: .failed)) != nil {
                events.transition(job, from: .running, to: .failed, seconds: Date().timeIntervalSince(started), error: "\(error)")
            } else {
                logger.warning("fit \(job.id) failed: \(error)")
            }
            if let child = error as? FitProcess.ChildFailure, !child.details.isEmpty {
                logger.error("fit \(job.id): what its process printed:\n\(child.details)")
            }
        }
    }

    /// Queues a progress write on `progressWriter`, coalescing writes for the same fit.
    private func saveProgressLater(id: Int, _ p: Double) {
        lock.lock()
        let first = pendingProgress.updateValue(p, forKey: id) == nil
        lock.unlock()
        guard first else { return }
        progressWriter.async { [self] in
            lock.lock()
            let latest = pendingProgress.removeValue(forKey: id)
            lock.unlock()
            if let latest { try? fits.saveProgress(id: id, latest) }
        }
    }

    private func isCancelRequested(_ id: Int) -> Bool {
        (try? fits.find(id: id))?.cancelRequested ?? false
    }

    /// Live progress of a running fit (nil when not running here).
    func progress(of id: Int) -> Double? {
        lock.lock()
        defer { lock.unlock() }
        return live[id]?.progress
    }

    var runningCount: Int {
        lock.lock()
        defer { lock.unlock() }
        return live.count
    }

    /// Asks a running fit to stop; it ends as `cancelled`.
    func cancel(_ id: Int) {
        lock.lock()
        live[id]?.cancelled = true
        lock.unlock()
    }

    /// Stops claiming, interrupts running fits (they stay queued in the database for the next start)
    /// and waits up to `timeout` for workers to return.
    func shutdown(timeout: TimeInterval = 10) {
        lock.lock()
        stopping = true
        for state in live.values { state.cancelled = true }
        lock.unlock()
        _ = idle.wait(timeout: .now() + timeout)
        for t in slots { t.stop() }
    }
}

/// A thread that runs submitted fits one at a time, at nice +10 for its whole life: fits are
/// CPU-bound and can wait, requests cannot, so uploads and polls keep their latency while fits use
/// the cores.
final class FitThread: @unchecked Sendable {
    private let condition = NSCondition()
    private var work: (() -> Void)?
    private var stopping = false

    init(name: String) {
        // The thread holds the object until `stop` lets it end.
        let thread = Thread { self.loop() }
        thread.name = name
        thread.stackSize = 8 << 20
        thread.start()
    }

    /// Hands the thread its next fit. The pool gives a slot one fit at a time; should that ever be
    /// broken, the fit waits for the slot instead of trapping.
    func submit(_ w: @escaping () -> Void) {
        condition.lock()
        while work != nil { condition.wait() }
        work = w
        condition.signal()
        condition.unlock()
    }

    /// Lets the thread end once its current fit (if any) returns.
    func stop() {
        condition.lock()
        stopping = true
        condition.signal()
        condition.unlock()
    }

    private func loop() {
        _ = ThreadPoliteness(nice: 10)
        while true {
            condition.lock()
            while work == nil && !stopping { condition.wait() }
            guard let w = work else { condition.unlock(); return }
            work = nil
            condition.broadcast()
            condition.unlock()
            w()
        }
    }
}

/// Lowers the calling thread's CPU priority until `restore`. On Linux the nice value belongs to the
/// thread, and `who = 0` names the calling thread, so only the fit's thread is affected.
struct ThreadPoliteness {
    private let tid: id_t = 0
    private let previous: Int32
    private let changed: Bool

    init(nice: Int32) {
        #if os(Linux)
        errno = 0
        let current = getpriority(__priority_which_t(PRIO_PROCESS.rawValue), tid)
        previous = errno == 0 ? current : 0
        changed = setpriority(__priority_which_t(PRIO_PROCESS.rawValue), tid, nice) == 0
        #else
        previous = 0
        changed = false
        #endif
    }

    /// Puts the priority back (raising it back needs CAP_SYS_NICE or RLIMIT_NICE headroom). False
    /// when that was refused, leaving the pooled thread polite for whatever it runs next.
    func restore() -> Bool {
        #if os(Linux)
        guard changed else { return true }
        return setpriority(__priority_which_t(PRIO_PROCESS.rawValue), tid, previous) == 0
        #else
        return true
        #endif
    }
}
