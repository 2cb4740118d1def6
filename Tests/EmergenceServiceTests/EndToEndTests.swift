import EmergenceCore
import Foundation
import XCTest
import Ingestion
@testable import EmergenceService
@testable import HTTP

/// The service as a client sees it: a real server on an ephemeral port, real sockets, the real fit.
final class EndToEndTests: XCTestCase {
    func testUploadFitPollPredictMatchesTheCLIFit() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("e2e-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        var config = ServiceConfiguration()
        config.port = 0
        config.databasePath = dir.appendingPathComponent("e2e.sqlite").path
        config.workers = 1
        let service = try EmergenceService(configuration: config)
        try service.start()
        defer { service.shutdown() }
        let port = service.port
        func call(_ method: String, _ target: String, _ body: [UInt8] = [], _ headers: [(String, String)] = []) throws -> Reply {
            try WireClient.send(port: port, method, target, body: body, headers: headers)
        }

        XCTAssertEqual(try call("GET", "/healthz").status, 200)
        let created = try call("POST", "/v1/studies", Array(#"{"name": "mmlu-like", "task": "mmlu", "chance": 0.25}"#.utf8))
        XCTAssertEqual(created.status, 201, created.text)
        XCTAssertEqual(created.headers["Location"], "/v1/studies/\(created.json["id"] as! Int)")

        // The simulated study: first half as gzip CSV, second half as NDJSON.
        let csvBytes = try FixtureFiles.bytes("mmlu-like.csv")
        let all = try EvaluationCSV.parse(csvBytes)
        // The fixture has CRLF line ends (a grapheme of its own in Swift Strings).
        let lines = String(decoding: csvBytes, as: UTF8.self).replacingOccurrences(of: "\r\n", with: "\n")
            .components(separatedBy: "\n").filter { !$0.isEmpty }
        let half = all.count / 2
        let firstCSV = ([lines[0]] + lines[1...half]).joined(separator: "\n") + "\n"
        var r = try call("POST", "/v1/studies/mmlu-like/evaluations", gzipCompress(Array(firstCSV.utf8), level: 6)!,
                         [("Content-Type", "text/csv"), ("Content-Encoding", "gzip")])
        XCTAssertEqual(r.status, 200, r.text)
        XCTAssertEqual(r.json["inserted"] as? Int, half)
        let encoder = JSONEncoder()
        let ndjson = try all[half...].map { String(decoding: try encoder.encode($0), as: UTF8.self) }.joined(separator: "\n")
        r = try call("POST", "/v1/studies/mmlu-like/evaluations", Array(ndjson.utf8), [("Content-Type", "application/x-ndjson")])
        XCTAssertEqual(r.status, 200, r.text)
        XCTAssertEqual(r.json["inserted"] as? Int, all.count - half)

        // A bad upload over the wire: 422 naming the row and field; nothing stored.
        let bad = firstCSV.replacingOccurrences(of: ",few_shot,", with: ",fewshot,")
        r = try call("POST", "/v1/studies/mmlu-like/evaluations", Array(bad.utf8), [("Content-Type", "text/csv")])
        XCTAssertEqual(r.status, 422)
        XCTAssertEqual(r.headers["Content-Type"], "application/problem+json")
        XCTAssertEqual(r.errors.first?["field"] as? String, "setting")
        let count = try call("GET", "/v1/studies/mmlu-like").json["evaluations"] as? Int
        XCTAssertEqual(count, all.count)

        // A Pythia lm-evaluation-harness file, into a study of its own.
        XCTAssertEqual(try call("POST", "/v1/studies", Array(#"{"name": "pythia-arc"}"#.utf8)).status, 201)
        r = try call("POST", "/v1/studies/pythia-arc/evaluations?task=arc_easy&pretrain_loss=2.43",
                     try FixtureFiles.bytes("pythia-160m-5shot-step143000.json"), [("Content-Type", "application/json")])
        XCTAssertEqual(r.status, 200, r.text)
        let stored = try call("GET", "/v1/studies/pythia-arc/evaluations").json["evaluations"] as? [[String: Any]]
        XCTAssertEqual(stored?.first?["checkpoint"] as? String, "EleutherAI/pythia-v1.1-160m@step143000")
        XCTAssertEqual(stored?.first?["shots"] as? Int, 5)

        // The fit, as a curl session asks for it (a small bootstrap keeps the debug build quick).
        let optionsJSON = #"{"max_flops": 2e22, "seed": 1, "bootstrap": 40}"#
        r = try call("POST", "/v1/studies/mmlu-like/fits", Array(optionsJSON.utf8), [("Content-Type", "application/json")])
        XCTAssertEqual(r.status, 202, r.text)
        let location = try XCTUnwrap(r.headers["Location"])
        var fit: [String: Any] = [:]
        let deadline = Date().addingTimeInterval(300)
        repeat {
            Thread.sleep(forTimeInterval: 0.1)
            fit = try call("GET", location).json
        } while ["queued", "running"].contains(fit["status"] as? String ?? "") && Date() < deadline
        XCTAssertEqual(fit["status"] as? String, "succeeded", String(describing: fit["error"]))

        let prediction = try call("GET", "/v1/studies/mmlu-like/prediction")
        XCTAssertEqual(prediction.status, 200)
        let etag = try XCTUnwrap(prediction.headers["ETag"])
        XCTAssertEqual(try call("GET", "/v1/studies/mmlu-like/prediction", [], [("If-None-Match", etag)]).status, 304)

        // `result` is exactly what `emergence fit` computes on the same rows, options and seed.
        let served = try XCTUnwrap(prediction.json["result"] as? [String: Any])
        let servedResult = try JSONDecoder().decode(FitResult.self, from: try JSONSerialization.data(withJSONObject: served))
        let options = try JSONDecoder().decode(FitOptions.self, from: Data(optionsJSON.utf8))
        let direct = try EmergenceFit.run(all, options: options)
        XCTAssertEqual(servedResult, direct)
        XCTAssertEqual(try servedResult.jsonData(), try direct.jsonData())
    }
}
