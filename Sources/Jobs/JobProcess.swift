import Storage
import EmergenceCore
import Foundation
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// Runs each job in a child process: the same executable, started as `emergence fit-worker`.
///
/// Why a process and not only a thread: a trap in the math (a `precondition`, an index out of range,
/// an allocation that fails) ends the process it happens in, and Swift cannot catch it. In a child it
/// costs that one fit, which is failed with what the child printed; the server goes on serving. The
/// wall-clock limit and cancellation become a SIGKILL, which works even if the math never polls,
/// and whatever a fit allocates goes back to the system when its process exits. It costs a process
/// start and a JSON round trip of the rows (a few ms for a study of a few hundred rows).
///
/// Every job kind runs this way (JobKind); the child dispatches on the kind through `JobEngine`.
///
/// The protocol: the parent writes one JSON object `{"kind": JobKind, "options_json": String,
/// "rows": [Evaluation], "rows_b": [Evaluation]?}` (the options as stored, canonical JSON text) to
/// the child's stdin and closes it (`{"options": FitOptions, "rows": …}`, the fit-only form of
/// earlier builds, is still read); the child writes `progress P` lines to stderr while it works,
/// and on success the result document to stdout (exit 0). A fit error is one line on stderr
/// `error MESSAGE` (exit 3). Anything else on stderr is kept for the error message of a child that
/// dies.
public enum JobProcess {
    struct Request: Codable {
        var kind: JobKind?
        var options_json: String?
        var options: FitOptions?
        var rows: [Evaluation]
        var rows_b: [Evaluation]?

        init(_ work: JobWork) {
            kind = work.kind
            options_json = work.optionsJSON
            rows = work.rows
            rows_b = work.rowsB
        }

        /// The job it asks for; a request without `options_json` is a fit with `options`.
        func work() throws -> JobWork {
            let text = try options_json ?? JobOptions.canonicalJSON(options ?? FitOptions())
            return JobWork(kind: kind ?? .fit, optionsJSON: text, rows: rows, rowsB: rows_b)
        }
    }

    static let fitErrorExit: Int32 = 3
    static let cancelledExit: Int32 = 4

    // MARK: Child side

    /// The body of `emergence fit-worker`: reads the request from stdin, runs the job of its kind,
    /// answers on stdout.
    /// Returns the exit status.
    public static func runChild() -> Int32 {
        // Fits are CPU-bound and can wait; requests to the parent cannot.
        _ = setpriority(__priority_which_t(PRIO_PROCESS.rawValue), 0, 10)
        let input = FileHandle.standardInput.readDataToEndOfFile()
        let work: JobWork
        do {
            work = try JSONDecoder().decode(Request.self, from: input).work()
        } catch {
            report("error the job request could not be read: \(error)")
            return fitErrorExit
        }
        do {
            let result = try JobEngine.run(work, progress: { p in report("progress \(p)") }, isCancelled: { false })
            try FileHandle.standardOutput.write(contentsOf: Data(result))
            return 0
        } catch FitError.cancelled {
            return cancelledExit
        } catch {
            report("error \(error)".replacingOccurrences(of: "\n", with: " "))
            return fitErrorExit
        }
    }

    private static func report(_ line: String) {
        try? FileHandle.standardError.write(contentsOf: Data((line + "\n").utf8))
    }

    // MARK: Parent side

    /// The child failed in a way that is not a fit error: it died by a signal or exited oddly.
    struct ChildFailure: Error, CustomStringConvertible {
        var description: String
        /// Everything the child printed (a crash report with its backtrace), for the server's log.
        var details: String = ""
    }

    /// A fit error reported by the child, with its message.
    struct ChildFitError: Error, CustomStringConvertible {
        var description: String
    }

    /// A fit runner for `JobWorkerPool` that starts `executable fit-worker` per fit.
    static func runner(executable: String) -> JobWorkerPool.FitRunner {
        { rows, options, progress, isCancelled in
            try run(executable: executable, rows: rows, options: options, progress: progress, isCancelled: isCancelled)
        }
    }

    /// A runner for every job kind that starts `executable fit-worker` per job.
    package static func jobRunner(executable: String) -> JobRunner {
        { work, progress, isCancelled in
            try run(executable: executable, work: work, progress: progress, isCancelled: isCancelled)
        }
    }

    static func run(executable: String, rows: [Evaluation], options: FitOptions,
                    progress: @escaping @Sendable (Double) -> Void, isCancelled: @escaping @Sendable () -> Bool) throws -> FitResult {
        let work = JobWork(kind: .fit, optionsJSON: try JobOptions.canonicalJSON(options), rows: rows)
        let bytes = try run(executable: executable, work: work, progress: progress, isCancelled: isCancelled)
        do {
            return try JSONDecoder().decode(FitResult.self, from: Data(bytes))
        } catch {
            throw ChildFailure(description: "the fit process answered with a result that could not be read: \(error)")
        }
    }

    /// Runs one job in a child; returns its result document as the child wrote it (checked to be JSON).
    static func run(executable: String, work: JobWork,
                    progress: @escaping @Sendable (Double) -> Void, isCancelled: @escaping @Sendable () -> Bool) throws -> [UInt8] {
        let input = try JSONEncoder().encode(Request(work))
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = ["fit-worker"]
        let stdin = Pipe(), stdout = Pipe(), stderr = Pipe()
        process.standardInput = stdin
        process.standardOutput = stdout
        process.standardError = stderr
        try process.run()

        // Each pipe gets its own thread, so a child that writes a lot to one while we feed another
        // never deadlocks; plain threads, not libdispatch workers, since they block.
        let output = Collected()
        let diagnostics = Collected()
        let done = DispatchGroup()
        spawn(done) {
            // A child that dies early closes its end: the write fails (EPIPE; SIGPIPE is ignored by
            // the service) and the exit status tells the rest.
            try? stdin.fileHandleForWriting.write(contentsOf: input)
            try? stdin.fileHandleForWriting.close()
        }
        spawn(done) { output.set(stdout.fileHandleForReading.readDataToEndOfFile()) }
        spawn(done) {
            var pending = Data()
            let handle = stderr.fileHandleForReading
            while true {
                let chunk = handle.availableData
                if chunk.isEmpty { break }
                pending.append(chunk)
                while let nl = pending.firstIndex(of: 0x0A) {
                    let line = String(decoding: pending[pending.startIndex..<nl], as: UTF8.self)
                    pending.removeSubrange(pending.startIndex...nl)
                    if line.hasPrefix("progress "), let p = Double(line.dropFirst(9)) { progress(p) } else { diagnostics.append(line) }
                }
            }
            if !pending.isEmpty { diagnostics.append(String(decoding: pending, as: UTF8.self)) }
        }

        var killed = false
        while process.isRunning {
            if !killed && isCancelled() {
                kill(process.processIdentifier, SIGKILL)
                killed = true
            }
            usleep(20_000)
        }
        process.waitUntilExit()
        done.wait()
        if killed { throw FitError.cancelled }

        let said = diagnostics.text
        switch (process.terminationReason, process.terminationStatus) {
        case (.exit, 0):
            let data = output.data
            guard (try? JSONSerialization.jsonObject(with: data)) is [String: Any] else {
                throw ChildFailure(description: "the job's process answered with a result that is not a JSON object",
                                   details: String(decoding: data.prefix(300), as: UTF8.self))
            }
            return Array(data)
        case (.exit, fitErrorExit):
            let message = said.split(separator: "\n").last { $0.hasPrefix("error ") }.map { String($0.dropFirst(6)) } ?? said
            throw ChildFitError(description: message)
        case (.exit, cancelledExit):
            throw FitError.cancelled
        case (.uncaughtSignal, let signal):
            // The runtime's own one-line reason ("Fatal error: …"), when it printed one.
            let reason = said.split(separator: "\n").first { $0.contains("Fatal error") || $0.contains("Precondition failed") }
            throw ChildFailure(description: "the fit stopped with signal \(signal) (\(signalName(signal))): a defect in the engine, "
                               + "which cost this fit only; please report it with the fit's options"
                               + (reason.map { ". It said: \($0.prefix(300))" } ?? ""),
                               details: said)
        case (_, let status):
            throw ChildFailure(description: "the fit process exited with status \(status)", details: said)
        }
    }

    private static func signalName(_ s: Int32) -> String {
        switch s {
        case SIGILL: return "SIGILL, a trap"
        case SIGTRAP: return "SIGTRAP, a trap"
        case SIGSEGV: return "SIGSEGV"
        case SIGABRT: return "SIGABRT"
        case SIGKILL: return "SIGKILL, perhaps the kernel's out-of-memory killer"
        case SIGBUS: return "SIGBUS"
        case SIGFPE: return "SIGFPE"
        default: return "signal \(s)"
        }
    }

    private static func spawn(_ group: DispatchGroup, _ body: @escaping @Sendable () -> Void) {
        group.enter()
        let t = Thread {
            body()
            group.leave()
        }
        t.stackSize = 1 << 20
        t.start()
    }

    /// Bytes or lines gathered by a reader thread, read once it has finished. Of the lines, the
    /// first 20 (where the runtime states why it stopped) and the last 60 are kept.
    private final class Collected: Sendable {
        private struct State {
            var bytes = Data()
            var head: [String] = []
            var tail: [String] = []
            var dropped = 0
        }
        private let state = Lock(State())

        func set(_ d: Data) { state.withLock { $0.bytes = d } }
        func append(_ line: String) {
            state.withLock { s in
                if s.head.count < 20 { s.head.append(line); return }
                s.tail.append(line)
                if s.tail.count > 60 { s.tail.removeFirst(); s.dropped += 1 }
            }
        }
        var data: Data { state.withLock { $0.bytes } }
        var text: String {
            state.withLock { s in (s.head + (s.dropped > 0 ? ["… \(s.dropped) lines left out …"] : []) + s.tail).joined(separator: "\n") }
        }
    }
}
