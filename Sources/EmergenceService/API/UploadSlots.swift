import Synchronization

/// How many uploads are parsed at once (`ServiceConfiguration.maxConcurrentUploads`). Each parsing
/// upload holds up to 64k rows (~15 MB) while it waits for the single writer, so this, not what
/// clients send, bounds that memory; uploads share one writer anyway, so more at once would not
/// store faster. Taken when the handler starts (its body has already arrived, within the body
/// budget) and given back when it returns, so a client that vanishes cannot leak a slot.
final class UploadSlots: Sendable {
    let limit: Int
    private let inUse = Atomic<Int>(0)

    init(limit: Int) { self.limit = max(1, limit) }

    /// A slot, or nil when all are taken.
    func take() -> Slot? {
        var current = inUse.load(ordering: .relaxed)
        while current < limit {
            let (done, seen) = inUse.compareExchange(expected: current, desired: current + 1, ordering: .acquiringAndReleasing)
            if done { return Slot(owner: self) }
            current = seen
        }
        return nil
    }

    /// Holding one; `release` gives it back (call it once, in a `defer`).
    struct Slot {
        let owner: UploadSlots
        func release() { owner.inUse.subtract(1, ordering: .acquiringAndReleasing) }
    }
}
