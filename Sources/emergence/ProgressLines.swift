import Foundation
import Synchronization

/// Progress of a long command on stderr, a line per step (`--quiet` turns it off); stdout keeps
/// only the JSON. The engines report a fraction done, from several threads: each new step is
/// printed once, in order.
final class ProgressLines: Sendable {
    private let command: String
    private let label: @Sendable (Double) -> (step: Int, text: String)
    private let last = Mutex(-1)

    /// - label: the step a fraction falls in, and how to say it.
    init(command: String, label: @escaping @Sendable (Double) -> (step: Int, text: String)) {
        self.command = command
        self.label = label
    }

    func report(_ fraction: Double) {
        let (step, text) = label(min(max(fraction, 0), 1))
        let fresh = last.withLock { seen -> Bool in
            guard step > seen else { return false }
            seen = step
            return true
        }
        if fresh { FileHandle.standardError.write(Data("emergence \(command): \(text)\n".utf8)) }
    }

    /// The callback to hand an engine, or nil when quiet.
    static func callback(quiet: Bool, _ make: () -> ProgressLines) -> (@Sendable (Double) -> Void)? {
        if quiet { return nil }
        let lines = make()
        return { lines.report($0) }
    }
}
