import EmergenceCore
import Ingestion
import Foundation
import XCTest
@testable import EmergenceService
@testable import Jobs

/// Fits in a child process (`emergence fit-worker`): the same result as in the server's own thread,
/// a crash that costs the fit only, and cancellation by SIGKILL.
final class FitProcessTests: XCTestCase {
    /// The `emergence` executable that `swift build --build-tests` (or `swift test`) made beside the tests.
    private func executable() throws -> String {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let candidate = root.appendingPathComponent(".build/debug/emergence").path
        try XCTSkipUnless(FileManager.default.isExecutableFile(atPath: candidate), "no \(candidate); build the package first")
        return candidate
    }

    private func rows() throws -> [Evaluation] {
        try EvaluationCSV.parse(FixtureFiles.bytes("mmlu-like.csv"))
    }

    func testAChildProcessFitEqualsTheInProcessFit() throws {
        var options = FitOptions()
        options.maxFlops = 2e22
        options.seed = 1
        options.bootstrap = 50
        let rows = try rows()
        let progress = ProgressLog()
        let child = try JobProcess.run(executable: try executable(), rows: rows, options: options,
                                       progress: { progress.add($0) }, isCancelled: { false })
        let local = try EmergenceFit.run(rows, options: options, threads: 1)
        XCTAssertEqual(try child.jsonData(pretty: false), try local.jsonData(pretty: false))
        XCTAssertFalse(progress.values.isEmpty, "progress lines from the child reach the parent")
    }

    func testAChildThatDiesBySignalFailsTheFitOnly() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("crash-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        // Stands in for an engine that traps: prints the runtime's kind of line, then dies by SIGILL.
        let script = dir.appendingPathComponent("crashing-worker").path
        try "#!/bin/sh\ncat >/dev/null\necho 'Sources/X.swift:1: Fatal error: index out of range' >&2\nkill -ILL $$\n"
            .write(toFile: script, atomically: true, encoding: .utf8)
        chmod(script, 0o755)
        XCTAssertThrowsError(try JobProcess.run(executable: script, rows: try rows(), options: FitOptions(),
                                                progress: { _ in }, isCancelled: { false })) { error in
            let text = "\(error)"
            XCTAssertTrue(text.contains("signal 4"), text)
            XCTAssertTrue(text.contains("index out of range"), text)
        }
    }

    func testCancellingKillsTheChild() throws {
        var options = FitOptions()
        options.bootstrap = 100_000  // long enough to be still running when cancelled
        let start = Date()
        let cancelAt = start.addingTimeInterval(0.5)
        XCTAssertThrowsError(try JobProcess.run(executable: try executable(), rows: try rows(), options: options,
                                                progress: { _ in }, isCancelled: { Date() > cancelAt })) { error in
            guard case FitError.cancelled = error else { return XCTFail("\(error)") }
        }
    }

    /// Through the service: a fit whose process dies is failed, and the server answers on.
    func testTheServiceSurvivesAFitProcessThatDies() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("crash-svc-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let script = dir.appendingPathComponent("crashing-worker").path
        try "#!/bin/sh\ncat >/dev/null\nkill -SEGV $$\n".write(toFile: script, atomically: true, encoding: .utf8)
        chmod(script, 0o755)
        let t = try TestService(runner: JobProcess.runner(executable: script))
        defer { t.close() }
        XCTAssertEqual(try t.request("POST", "/v1/studies", body: #"{"name": "s"}"#).status, 201)
        XCTAssertEqual(try t.request("POST", "/v1/studies/s/evaluations", bytes: try FixtureFiles.bytes("mmlu-like.csv"),
                                     headers: [("Content-Type", "text/csv")]).status, 200)
        let id = try XCTUnwrap(try t.request("POST", "/v1/studies/s/fits", body: "{}").json["id"] as? Int)
        let done = try t.waitForFit(id)
        XCTAssertEqual(done["status"] as? String, "failed")
        XCTAssertTrue((done["error"] as? String)?.contains("signal 11") == true, "\(done)")
        XCTAssertEqual(try t.request("GET", "/healthz").status, 200)
    }
}

private final class ProgressLog: @unchecked Sendable {
    private let lock = NSLock()
    private var list: [Double] = []
    func add(_ p: Double) { lock.lock(); list.append(p); lock.unlock() }
    var values: [Double] { lock.lock(); defer { lock.unlock() }; return list }
}
