import Foundation
import Synchronization

/// The fit's view of its caller's `isCancelled` closure: sticky, shared by every thread of one fit,
/// and cheap enough to poll from the innermost loops (every Levenberg–Marquardt iteration, every
/// MCMC step).
///
/// The caller's closure may take a lock shared with other fits, so it is consulted at most once per
/// `interval` (10 ms); in between a poll costs one atomic load and one clock read. Once it has
/// answered true the answer stays true, so every phase that polls afterwards stops at once.
/// Cancellation never changes a result: a fit either throws `FitError.cancelled` or returns what it
/// would have returned uncancelled.
final class Cancellation: Sendable {
    private let probe: (@Sendable () -> Bool)?
    private let raised = Atomic<Bool>(false)
    /// Monotonic nanoseconds of the last call to `probe`.
    private let lastProbe = Atomic<UInt64>(0)
    private let interval: UInt64 = 10_000_000

    init(_ probe: (@Sendable () -> Bool)?) {
        self.probe = probe
    }

    /// A fit that nobody can cancel.
    static let never = Cancellation(nil)

    var isCancelled: Bool {
        if raised.load(ordering: .relaxed) { return true }
        guard let probe else { return false }
        let now = DispatchTime.now().uptimeNanoseconds
        let last = lastProbe.load(ordering: .relaxed)
        if now >= last && now - last < interval { return false }
        lastProbe.store(now, ordering: .relaxed)
        if probe() {
            raised.store(true, ordering: .relaxed)
            return true
        }
        return false
    }

    /// Throws `FitError.cancelled` once the caller has asked to stop.
    func check() throws {
        if isCancelled { throw FitError.cancelled }
    }
}
