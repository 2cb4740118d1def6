import EmergenceCore
import Foundation

/// Hands parsed rows from the parsing thread to the writing thread in batches, so a large upload is
/// parsed and stored at the same time (each on its own core) instead of one after the other.
/// Bounded: a parser that runs ahead waits, so memory stays at a few batches.
final class RowChannel: @unchecked Sendable {
    private let condition = NSCondition()
    private var queue: [[Evaluation]] = []
    private var pending: [Evaluation] = []
    private var finished = false
    private var cancelled = false
    private(set) var failure: Error?
    private let batchSize: Int
    private let maxQueued: Int

    init(batchSize: Int = 4096, maxQueued: Int = 16) {
        self.batchSize = batchSize
        self.maxQueued = maxQueued
        pending.reserveCapacity(batchSize)
    }

    /// Producer side: one row (buffered into batches).
    func send(_ row: Evaluation) {
        pending.append(row)
        if pending.count >= batchSize { flush() }
    }

    private func flush() {
        guard !pending.isEmpty else { return }
        condition.lock()
        while queue.count >= maxQueued && !cancelled { condition.wait() }
        if !cancelled { queue.append(pending) }
        condition.broadcast()
        condition.unlock()
        pending = []
        pending.reserveCapacity(batchSize)
    }

    /// Producer side: no more rows; `error` when the input as a whole was refused.
    func finish(_ error: Error?) {
        if error == nil { flush() }
        condition.lock()
        failure = error
        finished = true
        condition.broadcast()
        condition.unlock()
    }

    /// Consumer side: waits until the producer has finished or queued `batches` batches. The writer
    /// calls this before it takes the database's write lock, so an upload of up to that many rows is
    /// parsed whole first and a slow or failing parse (a body of mostly white space, a bad row) never
    /// holds up other writers; a larger upload parses and stores side by side from there (a larger
    /// head start would cost that overlap).
    func waitUntilReady(batches: Int = 4) {
        condition.lock()
        while queue.count < min(batches, maxQueued) && !finished && !cancelled { condition.wait() }
        condition.unlock()
    }

    /// Consumer side: the next batch, or nil once the producer has finished (check `failure`).
    func receive() -> [Evaluation]? {
        condition.lock()
        defer { condition.unlock() }
        while queue.isEmpty && !finished { condition.wait() }
        if queue.isEmpty { return nil }
        let batch = queue.removeFirst()
        condition.signal()
        return batch
    }

    /// Consumer side: stop taking rows (the producer drains without blocking).
    func cancel() {
        condition.lock()
        cancelled = true
        queue.removeAll()
        condition.broadcast()
        condition.unlock()
    }
}
