import Storage
import Dispatch
import Foundation
#if canImport(Glibc)
import Glibc
#endif
import Synchronization

/// Where log lines go: appended to a buffer under a mutex and written to a file descriptor by one
/// background queue, so a request's log line never makes an I/O thread wait on a slow stderr (a full
/// pipe to journald or docker). The writer runs `batchDelay` after the first line of a batch, so a
/// busy server pays one write(2) and one wake-up per few milliseconds, not per line (measured: a
/// wake-up per line halved /healthz throughput on two cores). Past `maxPendingBytes` lines are dropped
/// and counted, and the count is written once the writer catches up: memory stays bounded whatever
/// the reader does.
final class LogSink: Sendable {
    private struct Pending {
        var bytes: [UInt8] = []
        var scheduled = false
        var dropped = 0
    }

    private let fd: Int32
    private let maxPendingBytes: Int
    private let pending = Lock(Pending())
    private let queue = DispatchQueue(label: "emergence.log", qos: .utility)
    private let batchDelay: DispatchTimeInterval

    static let standardError = LogSink(fd: 2)

    init(fd: Int32, maxPendingBytes: Int = 8 << 20, batchDelay: DispatchTimeInterval = .milliseconds(5)) {
        self.fd = fd
        self.maxPendingBytes = maxPendingBytes
        self.batchDelay = batchDelay
    }

    func write(_ line: [UInt8]) {
        let schedule = pending.withLock { p -> Bool in
            if p.bytes.count + line.count > maxPendingBytes {
                p.dropped += 1
                return false
            }
            p.bytes.append(contentsOf: line)
            if p.scheduled { return false }
            p.scheduled = true
            return true
        }
        if schedule { queue.asyncAfter(deadline: .now() + batchDelay) { self.drain() } }
    }

    /// Waits until everything written so far is on the descriptor (at shutdown, before exit).
    func flush() {
        queue.sync { self.drain() }
    }

    private func drain() {
        while true {
            let (bytes, dropped) = pending.withLock { p -> ([UInt8], Int) in
                let taken = (p.bytes, p.dropped)
                p.bytes = []
                p.dropped = 0
                if taken.0.isEmpty && taken.1 == 0 { p.scheduled = false }
                return taken
            }
            if bytes.isEmpty && dropped == 0 { return }
            writeAll(bytes)
            if dropped > 0 {
                writeAll(Array("{\"level\":\"warning\",\"message\":\"\(dropped) log line(s) dropped: the log's reader fell behind\"}\n".utf8))
            }
        }
    }

    private func writeAll(_ bytes: [UInt8]) {
        var offset = 0
        while offset < bytes.count {
            let n = bytes.withUnsafeBytes { buffer in
                Glibc.write(fd, buffer.baseAddress.map { $0 + offset }, bytes.count - offset)
            }
            if n > 0 { offset += n } else if n < 0 && errno == EINTR { continue } else { return }
        }
    }
}
