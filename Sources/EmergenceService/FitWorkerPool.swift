import EmergenceCore
import Foundation
#if canImport(Glibc)
import Glibc
#endif
import Logging
import Storage

/// Runs queued fits on a bounded pool: a serial Dispatch queue schedules (claims the oldest queued
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
        var progressSavedAt = Date.distantPast
    }

    private let fits: FitStore
    private let evaluations: EvaluationStore
    private let capacity: Int
    private let runner: Runner
    private let logger: Logger
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

    init(database: Database, workers: Int, logger: Logger, runner: @escaping Runner = FitWorkerPool.emergenceFit) {
        fits = FitStore(database: database)
        evaluations = EvaluationStore(database: database)
        capacity = max(1, workers)
        slots = (0..<max(1, workers)).map { FitThread(name: "emergence.fit.\($0)") }
        freeSlots = Array((0..<max(1, workers)).reversed())
        self.runner = runner
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
        if recovered > 0 { logger.info("requeued \(recovered) fit(s) interrupted by the last shutdown") }
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
            let state = Live()
            state.cancelled = job.cancelRequested
            lock.lock()
            live[job.id] = state
            let slot = freeSlots.removeLast()
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
            let options = try JSONDecoder().decode(FitOptions.self, from: Data(job.optionsJSON.utf8))
            let data = try evaluations.all(studyID: job.studyID)
            let lock = self.lock
            let fits = self.fits
            let result = try runner(data.rows, options, { p in
                lock.lock()
                state.progress = p
                let save = Date().timeIntervalSince(state.progressSavedAt) > 2
                if save { state.progressSavedAt = Date() }
                lock.unlock()
                // Persist now and then, so a poll after a restart still shows roughly where it was.
                if save { try? fits.saveProgress(id: job.id, p) }
            }, {
                lock.lock()
                defer { lock.unlock() }
                return state.cancelled
            })
            let json = String(decoding: try result.jsonData(pretty: false), as: UTF8.self)
            try fits.succeed(id: job.id, resultJSON: json)
            logger.info("fit \(job.id) succeeded in \(String(format: "%.2f", Date().timeIntervalSince(started))) s")
        } catch FitError.cancelled {
            lock.lock()
            let shuttingDown = stopping
            lock.unlock()
            // Stopped for a shutdown: leave it 'running' so the next start requeues it.
            if shuttingDown && !isCancelRequested(job.id) {
                logger.info("fit \(job.id) interrupted by shutdown; it will resume on the next start")
                return
            }
            try? fits.fail(id: job.id, error: "cancelled", cancelled: true)
            logger.info("fit \(job.id) cancelled")
        } catch {
            try? fits.fail(id: job.id, error: "\(error)", cancelled: false)
            logger.warning("fit \(job.id) failed: \(error)")
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

    func submit(_ w: @escaping () -> Void) {
        condition.lock()
        precondition(work == nil, "a fit slot was given two fits")
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
