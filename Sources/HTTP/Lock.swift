import Synchronization

/// A `Mutex` whose hand-over the thread sanitizer can see: the lock of this module.
///
/// On Linux a contended `Mutex` passes to the next thread inside the kernel (`FUTEX_LOCK_PI`,
/// `FUTEX_UNLOCK_PI`), where the sanitizer sees no release and acquire, so under
/// `swift test --sanitize=thread` it reports the next holder's reads of the protected value as races
/// with the last holder's writes (the loops' mailboxes and the handler pool's queue, which loops and
/// handler threads share, drew such reports). An atomic store-release before each unlock and a
/// load-acquire after each lock state the same order where the sanitizer sees it; on x86-64 both are
/// plain moves, and the lock is otherwise `Mutex` itself. (Storage has the same type for its own
/// locks; this module depends on nothing of the package's, so it keeps its own.)
struct Lock<Value: ~Copyable>: ~Copyable, Sendable {
    private let mutex: Mutex<Value>
    private let handOver = Atomic<UInt8>(0)

    init(_ initialValue: consuming sending Value) {
        mutex = Mutex(initialValue)
    }

    borrowing func withLock<Result: ~Copyable, E: Error>(
        _ body: (inout sending Value) throws(E) -> sending Result
    ) throws(E) -> sending Result {
        try mutex.withLock { (value: inout sending Value) throws(E) -> sending Result in
            _ = handOver.load(ordering: .acquiring)
            defer { handOver.store(0, ordering: .releasing) }
            return try body(&value)
        }
    }
}
