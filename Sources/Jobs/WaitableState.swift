import Storage
import Foundation
import Synchronization

/// State shared between threads where one of them must block until the state says it may go on
/// (a worker waiting for work, a writer waiting for parsed rows). The state itself lives in a
/// `Lock` (a `Mutex`), so every read and write of it is checked by the compiler; the `NSCondition` only puts
/// threads to sleep and wakes them. Every change is made, and every wait's predicate is checked,
/// while holding the condition's lock, so a wake-up cannot fall between a check and the sleep.
package final class WaitableState<State: Sendable>: Sendable {
    private let condition = NSCondition()
    private let state: Lock<State>

    package init(_ initial: State) { state = Lock(initial) }

    /// Changes the state and wakes every waiter to look again.
    @discardableResult
    package func update<R>(_ body: (inout State) throws -> R) rethrows -> R {
        condition.lock()
        defer {
            condition.broadcast()
            condition.unlock()
        }
        return try state.withLock { try body(&$0) }
    }

    /// Reads the state.
    package func read<R>(_ body: (State) throws -> R) rethrows -> R {
        try state.withLock { try body($0) }
    }

    /// Blocks until `ready` holds, then runs `body` on the state in the same critical section (and
    /// wakes the other waiters, since `body` may have changed what they wait for).
    package func wait<R>(until ready: (State) -> Bool, then body: (inout State) throws -> R) rethrows -> R {
        condition.lock()
        defer {
            condition.broadcast()
            condition.unlock()
        }
        while !state.withLock({ ready($0) }) { condition.wait() }
        return try state.withLock { try body(&$0) }
    }
}
