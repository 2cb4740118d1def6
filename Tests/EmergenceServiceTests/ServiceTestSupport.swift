@testable import EmergenceCore
import Foundation
@testable import HTTP
import Logging
import XCTest
@testable import EmergenceService
@testable import Jobs

/// A service on a temporary database, driven through its router (no sockets).
final class TestService {
    let dir: URL
    let service: EmergenceService
    var configuration: ServiceConfiguration
    /// Only a directory this object made is removed with it (a restart test reuses one).
    private let ownsDirectory: Bool

    init(dir: URL? = nil, tokens: TokenSet = TokenSet(entries: []), workers: Int = 1,
         configure: (inout ServiceConfiguration) -> Void = { _ in },
         runner: @escaping JobWorkerPool.FitRunner = TestService.quickFit) throws {
        let d = dir ?? FileManager.default.temporaryDirectory.appendingPathComponent("service-tests-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: d, withIntermediateDirectories: true)
        self.dir = d
        ownsDirectory = dir == nil
        var config = ServiceConfiguration()
        config.databasePath = d.appendingPathComponent("db.sqlite").path
        config.port = 0
        config.workers = workers
        config.tokens = tokens
        configure(&config)
        configuration = config
        service = try EmergenceService(configuration: config, logger: Logger(label: "test"), runner: runner)
        try service.pool.start()
    }

    /// A stand-in for the fit: a small, deterministic document built from the rows (real fits are
    /// exercised by the end-to-end test).
    static let quickFit: JobWorkerPool.FitRunner = { rows, options, progress, _ in
        progress(0.5)
        let losses = rows.map(\.pretrainLoss)
        return FitResult(status: .insufficientData, warnings: [], form: options.form, d0: options.d0, delta: options.delta,
                         noise: options.noise, seed: options.seed,
                         data: .init(rows: rows.count, fewShotRows: rows.filter { $0.setting == .fewShot }.count,
                                     finetunedRows: rows.filter { $0.setting == .finetuned }.count,
                                     checkpoints: Set(rows.map(\.checkpoint)).count, dataAmounts: [], excludedRows: 0,
                                     lossRange: [losses.min() ?? 0, losses.max() ?? 0]),
                         parameters: nil, fit: nil,
                         emergence: .init(loss: .init(mle: nil, upperBound: nil, intervalMethod: nil, percentiles: nil),
                                          flops: nil, probabilityEmerged: []),
                         uncertainty: .init(bootstrap: nil, mcmc: nil), scalingLaw: nil)
    }

    func close() {
        service.api.autoFit.stop()
        service.pool.shutdown(timeout: 5)
        service.database.close()  // releases DB.lock now: the pool's timers may hold the database a while
    }

    deinit { if ownsDirectory { try? FileManager.default.removeItem(at: dir) } }

    @discardableResult
    func request(_ method: String, _ target: String, body: String = "", headers: [(String, String)] = []) throws -> Reply {
        try request(method, target, bytes: Array(body.utf8), headers: headers)
    }

    @discardableResult
    func request(_ method: String, _ target: String, bytes: [UInt8], headers: [(String, String)] = []) throws -> Reply {
        let req = try HTTPRequest(method: method, target: target, headers: HTTPHeaders(headers), body: bytes)
        return Reply(service.router.handle(req))
    }

    /// A gzip body as the server hands it to a route that takes bodies encoded (the upload route):
    /// still compressed, flagged, with the server's decompressed-size limit.
    @discardableResult
    func request(_ method: String, _ target: String, gzipped bytes: [UInt8], headers: [(String, String)] = [],
                 limit: Int = 1 << 30) throws -> Reply {
        var req = try HTTPRequest(method: method, target: target, headers: HTTPHeaders(headers + [("Content-Encoding", "gzip")]),
                                  body: gzipCompress(bytes, level: 6)!)
        req.bodyIsGzip = true
        req.maxDecodedBodyBytes = limit
        return Reply(service.router.handle(req))
    }

    /// Polls a fit until it is finished (or 30 s pass).
    func waitForFit(_ id: Int, file: StaticString = #filePath, line: UInt = #line) throws -> [String: Any] {
        let deadline = Date().addingTimeInterval(30)
        while Date() < deadline {
            let r = try request("GET", "/v1/fits/\(id)")
            let status = r.json["status"] as? String
            if let status, Job.Status(rawValue: status)?.isFinished == true { return r.json }
            Thread.sleep(forTimeInterval: 0.02)
        }
        XCTFail("fit \(id) did not finish", file: file, line: line)
        return [:]
    }
}

struct Reply {
    var status: Int
    var headers: HTTPHeaders
    var body: [UInt8]

    init(_ r: HTTPResponse) {
        status = r.status
        headers = r.headers
        body = r.body
    }

    init(status: Int, headers: HTTPHeaders, body: [UInt8]) {
        self.status = status
        self.headers = headers
        self.body = body
    }

    var text: String { String(decoding: body, as: UTF8.self) }
    var json: [String: Any] { (try? JSONSerialization.jsonObject(with: Data(body))) as? [String: Any] ?? [:] }
    var errors: [[String: Any]] { json["errors"] as? [[String: Any]] ?? [] }
}
