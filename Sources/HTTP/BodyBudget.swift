import Synchronization

/// The bytes of request bodies the server holds at once, over all connections and loops
/// (`ServerConfiguration.maxBufferedBodyBytes`). A body is reserved when its head is admitted (its
/// Content-Length; a chunked body as it grows) and released once its handler has answered or its
/// connection has closed, so what clients send cannot grow the server past a configured figure:
/// one body more than the budget allows is answered 503 with Retry-After from its head.
final class BodyBudget: Sendable {
    let limit: Int
    private let used = Atomic<Int>(0)

    init(limit: Int) { self.limit = limit }

    /// Takes `bytes` from the budget; false (and nothing taken) when they do not fit.
    func reserve(_ bytes: Int) -> Bool {
        guard bytes > 0 else { return true }
        var current = used.load(ordering: .relaxed)
        while true {
            guard bytes <= limit - current else { return false }
            let (exchanged, original) = used.compareExchange(expected: current, desired: current + bytes, ordering: .acquiringAndReleasing)
            if exchanged { return true }
            current = original
        }
    }

    func release(_ bytes: Int) {
        guard bytes > 0 else { return }
        used.subtract(bytes, ordering: .acquiringAndReleasing)
    }

    var inUse: Int { used.load(ordering: .relaxed) }
}
