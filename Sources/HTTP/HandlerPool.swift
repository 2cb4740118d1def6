import Dispatch
import Synchronization

/// Runs handlers on a concurrent Dispatch queue with at most `limit` at once. Excess work waits in
/// a FIFO instead of blocking Dispatch threads on a semaphore.
final class HandlerPool: Sendable {
    private let queue = DispatchQueue(label: "http.handlers", attributes: .concurrent)
    private let limit: Int
    private let state = Lock<(running: Int, pending: [@Sendable () -> Void], head: Int)>((0, [], 0))

    init(limit: Int) {
        self.limit = max(1, limit)
    }

    func submit(_ work: @escaping @Sendable () -> Void) {
        let runNow = state.withLock { state -> Bool in
            if state.running < limit {
                state.running += 1
                return true
            }
            state.pending.append(work)
            return false
        }
        if runNow { queue.async { self.drain(first: work) } }
    }

    /// Runs `first`, then keeps taking queued work on the same thread until the queue is empty.
    private func drain(first: @escaping @Sendable () -> Void) {
        var next: (@Sendable () -> Void)? = first
        while let work = next {
            work()
            next = state.withLock { state -> (@Sendable () -> Void)? in
                if state.head < state.pending.count {
                    let item = state.pending[state.head]
                    state.head += 1
                    if state.head > 1024 && state.head * 2 > state.pending.count {
                        state.pending.removeFirst(state.head)
                        state.head = 0
                    }
                    return item
                }
                state.pending.removeAll(keepingCapacity: true)
                state.head = 0
                state.running -= 1
                return nil
            }
        }
    }
}
