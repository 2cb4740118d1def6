import EmergenceCore
import Foundation
import HTTP
import XCTest
@testable import EmergenceService

/// Bounded memory at the upload route: every format is read piece by piece (gzip inflated piece by piece),
/// so no body can take memory past a record's bound, and nothing is changed silently.
final class UploadLimitsTests: XCTestCase {
    private let header = "checkpoint,setting,pretrain_loss,accuracy\n"

    private func service() throws -> TestService {
        let t = try TestService()
        let r = try t.request("POST", "/v1/studies", body: #"{"name": "mmlu", "task": "mmlu", "chance": 0.25, "shots": 5}"#)
        XCTAssertEqual(r.status, 201, r.text)
        return t
    }

    private func stored(_ t: TestService) throws -> Int? {
        try t.request("GET", "/v1/studies/mmlu").json["evaluations"] as? Int
    }

    func testHundredKilobyteCheckpointIs422() throws {
        let t = try service()
        defer { t.close() }
        let body = header + "ok,few_shot,2,0.5\n" + String(repeating: "x", count: 100_000) + ",few_shot,2,0.5\n"
        let r = try t.request("POST", "/v1/studies/mmlu/evaluations", body: body, headers: [("Content-Type", "text/csv")])
        XCTAssertEqual(r.status, 422, r.text)
        XCTAssertEqual(r.errors.map { $0["field"] as? String }, ["checkpoint"])
        XCTAssertEqual(r.errors.first?["line"] as? Int, 3)
        XCTAssertTrue((r.errors.first?["reason"] as? String)?.contains("at most \(Evaluation.maxTextBytes) bytes") == true, r.text)
        XCTAssertEqual(try stored(t), 0)
    }

    func testInvalidUTF8AndForeignCharsetsAreRefused() throws {
        let t = try service()
        defer { t.close() }
        // q\xff and q\xfe would both have become "q\u{FFFD}": one identity, the second overwriting the first.
        let body = Array(header.utf8) + Array("q".utf8) + [0xFF] + Array(",few_shot,2,0.5\nq".utf8) + [0xFE] + Array(",few_shot,2,0.6\n".utf8)
        for gzip in [false, true] {
            let r = gzip ? try t.request("POST", "/v1/studies/mmlu/evaluations", gzipped: body, headers: [("Content-Type", "text/csv")])
                : try t.request("POST", "/v1/studies/mmlu/evaluations", bytes: body, headers: [("Content-Type", "text/csv")])
            XCTAssertEqual(r.status, 422, r.text)
            XCTAssertEqual(r.errors.map { $0["line"] as? Int }, [2, 3])
            XCTAssertTrue((r.errors.first?["reason"] as? String)?.contains("column 2") == true, r.text)
        }
        let r = try t.request("POST", "/v1/studies/mmlu/evaluations", body: header + "c,few_shot,2,0.5\n",
                              headers: [("Content-Type", "text/csv; charset=iso-8859-1")])
        XCTAssertEqual(r.status, 422, r.text)
        XCTAssertEqual(r.errors.map { $0["field"] as? String }, ["charset"])
        XCTAssertEqual(try stored(t), 0)
    }

    /// Bodies that inflate to far more than any record: cut at the record bound, naming the line.
    func testGzipBodiesThatNeverEndARecordAreCutAtTheBound() throws {
        let t = try service()
        defer { t.close() }
        let filler = String(repeating: "a", count: 8 << 20)
        for (body, type, line) in [
            (header + "c,few_shot,2,0.5\n\"" + filler, "text/csv", 3),
            ("[{\"checkpoint\": \"c\", \"pretrain_loss\": 2, \"setting\": \"few_shot\", \"accuracy\": 0.5},\n{\"checkpoint\": \"" + filler, "application/json", 2),
            ("{\"results\": \"" + String(repeating: "a", count: 20 << 20), "application/json", 1),
        ] {
            let r = try t.request("POST", "/v1/studies/mmlu/evaluations", gzipped: Array(body.utf8), headers: [("Content-Type", type)])
            XCTAssertEqual(r.status, 422, r.text)
            XCTAssertEqual(r.errors.last?["line"] as? Int, line, r.text)
        }
        // Whitespace between rows is read and dropped, however much of it: the rows are taken.
        let spaced = "[{\"checkpoint\": \"c\", \"pretrain_loss\": 2, \"setting\": \"few_shot\", \"accuracy\": 0.5}"
            + String(repeating: " ", count: 16 << 20) + "]"
        let r = try t.request("POST", "/v1/studies/mmlu/evaluations", gzipped: Array(spaced.utf8), headers: [("Content-Type", "application/json")])
        XCTAssertEqual(r.json["inserted"] as? Int, 1, r.text)
        let csv = header + "d,few_shot,2,0.5\n" + String(repeating: "\n", count: 16 << 20) + "e,few_shot,2,0.5\n"
        let c = try t.request("POST", "/v1/studies/mmlu/evaluations", gzipped: Array(csv.utf8), headers: [("Content-Type", "text/csv")])
        XCTAssertEqual(c.json["inserted"] as? Int, 2, c.text)
        XCTAssertEqual(c.json["format"] as? String, "csv")
    }
}
