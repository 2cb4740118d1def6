import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// A thread that runs submitted jobs one at a time, at nice +10 for its whole life: jobs are
/// CPU-bound and can wait, requests cannot, so uploads and polls keep their latency while jobs use
/// the cores.
final class JobThread: Sendable {
    private struct State: Sendable {
        var work: [@Sendable () -> Void] = []
        var stopping = false
    }

    private let state = WaitableState(State())

    init(name: String) {
        // The thread holds the object until `stop` lets it end.
        let thread = Thread { self.loop() }
        thread.name = name
        thread.stackSize = 8 << 20
        thread.start()
    }

    /// Hands the thread its next job. The pool gives a slot one job at a time; should that ever be
    /// broken, the job waits for the one before it instead of trapping.
    func submit(_ w: @escaping @Sendable () -> Void) {
        state.update { $0.work.append(w) }
    }

    /// Lets the thread end once its current job (if any) returns.
    func stop() {
        state.update { $0.stopping = true }
    }

    private func loop() {
        _ = ThreadPoliteness(nice: 10)
        while true {
            let next = state.wait(until: { !$0.work.isEmpty || $0.stopping }) { s in
                s.work.isEmpty ? nil : s.work.removeFirst()
            }
            guard let next else { return }
            next()
        }
    }
}

/// Lowers the calling thread's CPU priority until `restore`. On Linux the nice value belongs to the
/// thread, and `who = 0` names the calling thread, so only the job's thread is affected.
package struct ThreadPoliteness {
    private let tid: id_t = 0
    private let previous: Int32
    private let changed: Bool

    package init(nice: Int32) {
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
    package func restore() -> Bool {
        #if os(Linux)
        guard changed else { return true }
        return setpriority(__priority_which_t(PRIO_PROCESS.rawValue), tid, previous) == 0
        #else
        return true
        #endif
    }
}
