import EmergenceCore
import Foundation
import Jobs

/// Hands parsed rows from the parsing thread to the writing thread in batches, so a large upload is
/// parsed and stored at the same time (each on its own core) instead of one after the other.
/// Bounded: a parser that runs ahead waits, so memory stays at a few batches.
///
/// Everything both threads touch, the producer's failure included, is in one `WaitableState`: the
/// consumer learns of a failure only from a read made under its lock (`waitUntilReady`, `receive`,
/// `failure`), never by reading a field the producer may be writing.
final class RowChannel: Sendable {
    private struct Shared: Sendable {
        var queue: [[Evaluation]] = []
        var finished = false
        var cancelled = false
        var failure: (any Error)?
    }

    private let shared = WaitableState(Shared())
    private let maxQueued: Int
    /// Rows per batch the producer sends (`send`): large enough that the lock is taken once per
    /// thousands of rows, small enough that the writer starts early.
    static let batchSize = 4096

    init(maxQueued: Int = 16) {
        self.maxQueued = maxQueued
    }

    /// Producer side: a batch of rows (the producer batches them itself, so no lock is taken per
    /// row). Waits while `maxQueued` batches are queued.
    func send(_ batch: [Evaluation]) {
        guard !batch.isEmpty else { return }
        shared.wait(until: { $0.queue.count < maxQueued || $0.cancelled }) { s in
            if !s.cancelled { s.queue.append(batch) }
        }
    }

    /// Producer side: no more rows (every batch sent); `error` when the input as a whole was refused.
    func finish(_ error: (any Error)?) {
        shared.update { s in
            s.failure = error
            s.finished = true
        }
    }

    /// What the producer failed with, once it has finished (nil while it runs or when it succeeded).
    var failure: (any Error)? {
        shared.read { $0.failure }
    }

    /// Consumer side: waits until the producer has finished or queued `batches` batches, and throws
    /// the producer's error if it has already failed. The writer calls this before it takes the
    /// database's write lock, so an upload of up to that many rows is parsed whole first and a slow
    /// or failing parse (a body of mostly white space, a bad row) never holds up other writers; a
    /// larger upload parses and stores side by side from there (a larger head start would cost that
    /// overlap). The producer may still be running when this returns: its outcome is read by `receive`.
    func waitUntilReady(batches: Int = 4) throws {
        let failure = shared.wait(until: { $0.queue.count >= min(batches, maxQueued) || $0.finished || $0.cancelled }) { $0.failure }
        if let failure { throw failure }
    }

    /// Consumer side: the next batch, or nil once the producer has finished and every batch was
    /// taken; throws the producer's error in place of that nil.
    func receive() throws -> [Evaluation]? {
        let (batch, failure) = shared.wait(until: { !$0.queue.isEmpty || $0.finished }) { s -> ([Evaluation]?, (any Error)?) in
            s.queue.isEmpty ? (nil, s.failure) : (s.queue.removeFirst(), nil)
        }
        if let failure { throw failure }
        return batch
    }

    /// Consumer side: stop taking rows (the producer drains without blocking).
    func cancel() {
        shared.update { s in
            s.cancelled = true
            s.queue.removeAll()
        }
    }
}
