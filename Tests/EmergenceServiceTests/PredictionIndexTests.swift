import Foundation
import Glibc
@testable import HTTP
import Logging
import XCTest
@testable import EmergenceService

/// `/prediction` from the event loop's memory (PredictionIndex): the same bytes as the pool's answer,
/// never a superseded fit, bounded by configuration, and given while the handler pool is full.
final class PredictionIndexTests: XCTestCase {
    private let csv = """
        checkpoint,model,parameters,tokens,flops,pretrain_loss,setting,shots,finetune_examples,subset,accuracy,n_questions
        a,1b,1e9,1e10,,2.5,few_shot,5,,,0.25,100
        a,1b,1e9,1e10,,2.5,finetuned,,64,s0,0.30,100
        b,1b,1e9,2e10,,2.3,finetuned,,64,s0,0.35,100

        """

    /// A study with rows and one succeeded fit; returns (study id, fit id).
    private func studyWithFit(_ t: TestService, _ name: String = "mmlu") throws -> (Int, Int) {
        let study = try t.request("POST", "/v1/studies", body: #"{"name": "\#(name)"}"#).json["id"] as! Int
        XCTAssertEqual(try t.request("POST", "/v1/studies/\(name)/evaluations", body: csv, headers: [("Content-Type", "text/csv")]).status, 200)
        let fit = try t.request("POST", "/v1/studies/\(name)/fits", body: "{}").json["id"] as! Int
        XCTAssertEqual(try t.waitForFit(fit)["status"] as? String, "succeeded")
        return (study, fit)
    }

    private func get(_ t: TestService, _ target: String, _ headers: [(String, String)] = []) throws -> HTTPRequest {
        var request = try HTTPRequest(method: "GET", target: target, headers: HTTPHeaders(headers))
        request.pathParameters = ["study": String(target.split(separator: "/")[2])]
        return request
    }

    func testTheLoopsAnswerIsThePoolsByteForByte() throws {
        let t = try TestService()
        defer { t.close() }
        let (study, fit) = try studyWithFit(t)
        let api = t.service.api
        for reference in ["mmlu", "\(study)"] {
            let target = "/v1/studies/\(reference)/prediction"
            XCTAssertNil(api.predictionFromMemory(try get(t, target)), "nothing held before the first answer")
            let pool = try api.prediction(try get(t, target))
            let loop = try XCTUnwrap(api.predictionFromMemory(try get(t, target)), "the pool's answer fills the index")
            XCTAssertEqual(loop.status, 200)
            XCTAssertEqual(loop.body, pool.body)
            XCTAssertEqual(loop.headers.map { "\($0.name): \($0.value)" }, pool.headers.map { "\($0.name): \($0.value)" })
            XCTAssertEqual(loop.headers["ETag"], "\"fit-\(fit)\"")
            XCTAssertEqual(loop.body, try t.request("GET", "/v1/fits/\(fit)").body)
            // 304 from both, alike.
            let conditional = [("If-None-Match", "W/\"x\", \"fit-\(fit)\"")]
            let pool304 = try api.prediction(try get(t, target, conditional))
            let loop304 = try XCTUnwrap(api.predictionFromMemory(try get(t, target, conditional)))
            XCTAssertEqual(loop304.status, 304)
            XCTAssertEqual(pool304.status, 304)
            XCTAssertEqual(loop304.body, [])
            XCTAssertEqual(loop304.headers.map { "\($0.name): \($0.value)" }, pool304.headers.map { "\($0.name): \($0.value)" })
        }
        XCTAssertEqual(api.predictions.usage.studies, 1, "one entry, reached by id and by name")
        // Another spelling of the id is answered, from the pool, and not held.
        XCTAssertEqual(try t.request("GET", "/v1/studies/00\(study)/prediction").status, 200)
        XCTAssertNil(api.predictionFromMemory(try get(t, "/v1/studies/00\(study)/prediction")))
        // Through the router, with the request id on both paths.
        let routed = try t.request("GET", "/v1/studies/mmlu/prediction", headers: [("X-Request-Id", "abc-1")])
        XCTAssertEqual(routed.headers["X-Request-Id"], "abc-1")
        XCTAssertEqual(routed.headers["ETag"], "\"fit-\(fit)\"")
    }

    func testANewFitOrADeletionChangesTheAnswerAtOnce() throws {
        let t = try TestService()
        defer { t.close() }
        let (_, first) = try studyWithFit(t)
        let api = t.service.api
        XCTAssertEqual(try t.request("GET", "/v1/studies/mmlu/prediction").json["id"] as? Int, first)
        XCTAssertNotNil(api.predictionFromMemory(try get(t, "/v1/studies/mmlu/prediction")))
        let second = try t.request("POST", "/v1/studies/mmlu/fits", body: #"{"seed": 7}"#).json["id"] as! Int
        XCTAssertEqual(try t.waitForFit(second)["status"] as? String, "succeeded")
        // The moment the fit reads succeeded, the loop no longer holds the first.
        XCTAssertNil(api.predictionFromMemory(try get(t, "/v1/studies/mmlu/prediction")))
        let now = try t.request("GET", "/v1/studies/mmlu/prediction")
        XCTAssertEqual(now.json["id"] as? Int, second)
        XCTAssertEqual(try t.request("GET", "/v1/studies/mmlu/prediction", headers: [("If-None-Match", "\"fit-\(first)\"")]).status, 200)
        XCTAssertEqual(try XCTUnwrap(api.predictionFromMemory(try get(t, "/v1/studies/mmlu/prediction"))).headers["ETag"], "\"fit-\(second)\"")
        // Deleted: 404, and a new study of the same name has no prediction.
        XCTAssertEqual(try t.request("DELETE", "/v1/studies/mmlu").status, 204)
        XCTAssertNil(api.predictionFromMemory(try get(t, "/v1/studies/mmlu/prediction")))
        XCTAssertEqual(try t.request("GET", "/v1/studies/mmlu/prediction").status, 404)
        XCTAssertEqual(try t.request("POST", "/v1/studies", body: #"{"name": "mmlu"}"#).status, 201)
        XCTAssertEqual(try t.request("GET", "/v1/studies/mmlu/prediction").status, 404)
        XCTAssertEqual(api.predictions.usage.studies, 0)
    }

    func testAHeldAnswerStillNeedsTheReadScope() throws {
        let reader = ("Authorization", "Bearer prediction-read-token-01")
        let writer = ("Authorization", "Bearer prediction-write-token-1")
        let t = try TestService(tokens: TokenSet(entries: [("prediction-read-token-01", .read), ("prediction-write-token-1", .write)]))
        defer { t.close() }
        XCTAssertEqual(try t.request("POST", "/v1/studies", body: #"{"name": "mmlu"}"#, headers: [writer]).status, 201)
        XCTAssertEqual(try t.request("POST", "/v1/studies/mmlu/evaluations", body: csv, headers: [writer, ("Content-Type", "text/csv")]).status, 200)
        let fit = try t.request("POST", "/v1/studies/mmlu/fits", body: "{}", headers: [writer]).json["id"] as! Int
        let deadline = Date().addingTimeInterval(30)
        while try t.request("GET", "/v1/fits/\(fit)", headers: [reader]).json["status"] as? String != "succeeded", Date() < deadline {
            Thread.sleep(forTimeInterval: 0.02)
        }
        XCTAssertEqual(try t.request("GET", "/v1/studies/mmlu/prediction", headers: [reader]).status, 200)
        XCTAssertEqual(t.service.api.predictions.usage.studies, 1, "held")
        XCTAssertEqual(try t.request("GET", "/v1/studies/mmlu/prediction").status, 401)
        XCTAssertEqual(try t.request("GET", "/v1/studies/mmlu/prediction", headers: [("Authorization", "Bearer wrong-token-000000000")]).status, 401)
        XCTAssertEqual(try t.request("GET", "/v1/studies/mmlu/prediction", headers: [reader]).json["id"] as? Int, fit)
    }

    func testAnAnswerReadBeforeAChangeIsNeverHeldAfterIt() {
        let index = PredictionIndex(capacityBytes: 1 << 20)
        let old = PredictionIndex.Answer(etag: "\"fit-1\"", body: Array("old".utf8))
        // A reader took the generation, then a fit succeeded before it stored what it read.
        let before = index.generation
        index.changing(studyID: 1) {}
        index.store(old, studyID: 1, reference: "s", seenAt: before)
        XCTAssertNil(index.answer(reference: "s"))
        // While the write is under way nothing is held for the study, whatever the generation.
        index.changing(studyID: 1) {
            index.store(old, studyID: 1, reference: "s", seenAt: index.generation)
            XCTAssertNil(index.answer(reference: "s"))
        }
        index.store(old, studyID: 1, reference: "s", seenAt: index.generation)
        XCTAssertEqual(index.answer(reference: "s")?.body, Array("old".utf8))
    }

    func testTheIndexStaysWithinItsConfiguredBytes() {
        let capacity = 64 * 1024
        let index = PredictionIndex(capacityBytes: capacity)
        let body = [UInt8](repeating: 0x7B, count: 4000)
        for id in 1...1000 {
            index.store(.init(etag: "\"fit-\(id)\"", body: body), studyID: id, reference: "\(id)", seenAt: index.generation)
            XCTAssertLessThanOrEqual(index.usage.bytes, capacity)
        }
        XCTAssertGreaterThan(index.usage.studies, 10)
        XCTAssertNotNil(index.answer(reference: "1000"), "the newest answer is held")
        // A document larger than the whole bound is answered from the pool, never held.
        index.store(.init(etag: "\"fit-9\"", body: [UInt8](repeating: 0, count: capacity)), studyID: 5000, reference: "5000",
                    seenAt: index.generation)
        XCTAssertNil(index.answer(reference: "5000"))
        let none = PredictionIndex(capacityBytes: 0)
        none.store(.init(etag: "\"fit-1\"", body: []), studyID: 1, reference: "1", seenAt: none.generation)
        XCTAssertEqual(none.usage.studies, 0)
    }

    /// Over real sockets: with every pool handler blocked, a held prediction is still answered (by the
    /// loop) while a route that needs the pool waits.
    func testAFullHandlerPoolDoesNotStopHeldPredictions() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("prediction-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        var config = ServiceConfiguration()
        config.port = 0
        config.databasePath = dir.appendingPathComponent("p.sqlite").path
        config.workers = 1
        let service = try EmergenceService(configuration: config, logger: Logger(label: "test"), runner: TestService.quickFit)
        try service.start()
        defer { service.shutdown() }
        let port = service.port
        let gate = DispatchSemaphore(value: 0)
        service.router.add("GET", "/test/block") { _ in
            gate.wait()
            return .text(200, "unblocked")
        }
        XCTAssertEqual(try WireClient.send(port: port, "POST", "/v1/studies", body: Array(#"{"name": "s"}"#.utf8)).status, 201)
        XCTAssertEqual(try WireClient.send(port: port, "POST", "/v1/studies/s/evaluations", body: Array(csv.utf8),
                                           headers: [("Content-Type", "text/csv")]).status, 200)
        let fit = try WireClient.send(port: port, "POST", "/v1/studies/s/fits", body: Array("{}".utf8)).json["id"] as! Int
        let deadline = Date().addingTimeInterval(30)
        while try WireClient.send(port: port, "GET", "/v1/fits/\(fit)").json["status"] as? String != "succeeded", Date() < deadline {
            usleep(20_000)
        }
        let fromPool = try WireClient.send(port: port, "GET", "/v1/studies/s/prediction", headers: [("X-Request-Id", "same")])
        XCTAssertEqual(fromPool.status, 200)

        // Every handler of the pool blocked, and one more request queued behind them.
        let handlers = ServerConfiguration(host: "127.0.0.1", port: 0).handlerConcurrency
        var held: [Int32] = []
        defer { for fd in held { Glibc.close(fd) } }
        for _ in 0..<handlers { held.append(try sendOnly(port: port, "GET /test/block HTTP/1.1\r\nHost: t\r\n\r\n")) }
        let queued = try sendOnly(port: port, "GET /readyz HTTP/1.1\r\nHost: t\r\n\r\n")
        held.append(queued)
        for _ in 0..<20 {
            let fromLoop = try WireClient.send(port: port, "GET", "/v1/studies/s/prediction", headers: [("X-Request-Id", "same")])
            XCTAssertEqual(fromLoop.status, 200)
            XCTAssertEqual(fromLoop.body, fromPool.body)
            var a = fromLoop.headers, b = fromPool.headers
            a.remove("Date")
            b.remove("Date")
            XCTAssertEqual(a.description, b.description)
        }
        XCTAssertEqual(try WireClient.send(port: port, "GET", "/v1/studies/s/prediction",
                                           headers: [("If-None-Match", "\"fit-\(fit)\"")]).status, 304)
        XCTAssertFalse(isReadable(queued, within: 200), "the pool is full: /readyz waits")
        for _ in 0..<handlers { gate.signal() }
        XCTAssertTrue(isReadable(queued, within: 10_000), "/readyz is answered once the pool frees up")
    }

    /// Connects and sends `request` without reading the answer.
    private func sendOnly(port: Int, _ request: String) throws -> Int32 {
        let fd = try WireClient.connected(port: port)
        let bytes = Array(request.utf8)
        guard bytes.withUnsafeBufferPointer({ Glibc.send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }) == bytes.count else {
            Glibc.close(fd)
            throw WireClient.Failure(description: "send failed")
        }
        return fd
    }

    private func isReadable(_ fd: Int32, within milliseconds: Int32) -> Bool {
        var p = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
        return poll(&p, 1, milliseconds) == 1
    }
}
