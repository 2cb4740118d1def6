import EmergenceCore
import Foundation
#if canImport(FoundationXML)
import FoundationXML
#endif
import HTTP
import XCTest
@testable import EmergenceService
@testable import Jobs

/// The SVG plot routes: content type, content-hash ETag and 304, no-cache, 404 and 409, read scope.
final class PlotRoutesTests: XCTestCase {
    /// A runner that returns a real fit's result (mmlu-like, max_flops 2e22) without fitting.
    private static let fixtureFit: JobWorkerPool.FitRunner = { _, _, _, _ in
        try JSONDecoder().decode(FitResult.self, from: Data(try FixtureFiles.bytes("mmlu-like-2e22.result.json")))
    }

    private func studyWithFit(_ t: TestService, headers: [(String, String)] = []) throws -> Int {
        XCTAssertEqual(try t.request("POST", "/v1/studies", body: #"{"name": "mmlu", "chance": 0.25, "shots": 5}"#, headers: headers).status, 201)
        let upload = try t.request("POST", "/v1/studies/mmlu/evaluations", bytes: try FixtureFiles.bytes("mmlu-like.csv"),
                                   headers: headers + [("Content-Type", "text/csv")])
        XCTAssertEqual(upload.status, 200, upload.text)
        let fit = try t.request("POST", "/v1/studies/mmlu/fits", body: #"{"max_flops": 2e22, "seed": 1}"#, headers: headers)
        let id = try XCTUnwrap(fit.json["id"] as? Int, fit.text)
        // Polled with the same credentials (TestService.waitForFit sends none).
        let deadline = Date().addingTimeInterval(30)
        var status = ""
        while Date() < deadline {
            status = try t.request("GET", "/v1/fits/\(id)", headers: headers).json["status"] as? String ?? ""
            if status != "queued" && status != "running" { break }
            Thread.sleep(forTimeInterval: 0.02)
        }
        XCTAssertEqual(status, "succeeded")
        return id
    }

    private func assertWellFormed(_ body: [UInt8], file: StaticString = #filePath, line: UInt = #line) {
        let parser = XMLParser(data: Data(body))
        XCTAssertTrue(parser.parse(), "not well-formed: \(String(describing: parser.parserError))", file: file, line: line)
    }

    func testPlotsOfAFitAndOfTheStudyAreTheSameSVGWithAHashETag() throws {
        let t = try TestService(runner: Self.fixtureFit)
        defer { t.close() }
        let id = try studyWithFit(t)
        for name in ["fit.svg", "emergence-cdf.svg"] {
            let own = try t.request("GET", "/v1/fits/\(id)/plots/\(name)")
            XCTAssertEqual(own.status, 200, own.text)
            XCTAssertEqual(own.headers["Content-Type"], "image/svg+xml")
            XCTAssertEqual(own.headers["Cache-Control"], "no-cache")
            assertWellFormed(own.body)
            XCTAssertTrue(own.text.contains("<title id=\"chart-title\">mmlu: "))
            let etag = try XCTUnwrap(own.headers["ETag"])
            XCTAssertTrue(etag.hasPrefix("\"svg-") && etag.count == 38, etag)
            XCTAssertEqual(etag, "\"svg-\(ServiceAPI.contentHash(own.body))\"", "the tag is a hash of the bytes")

            let newest = try t.request("GET", "/v1/studies/mmlu/plots/\(name)")
            XCTAssertEqual(newest.status, 200)
            XCTAssertEqual(newest.body, own.body, "the study's plot is its newest succeeded fit's")
            XCTAssertEqual(newest.headers["ETag"], etag)
            XCTAssertEqual(try t.request("GET", "/v1/studies/mmlu/plots/\(name)", headers: [("If-None-Match", etag)]).status, 304)
            XCTAssertEqual(try t.request("GET", "/v1/fits/\(id)/plots/\(name)", headers: [("If-None-Match", "\"x\", W/\(etag)")]).status, 304)
            XCTAssertEqual(try t.request("GET", "/v1/fits/\(id)/plots/\(name)", headers: [("If-None-Match", "\"svg-0\"")]).status, 200)
        }
        let fit = try t.request("GET", "/v1/fits/\(id)/plots/fit.svg")
        XCTAssertTrue(fit.text.contains("chance 0.25"), "the study's chance is the floor")
        XCTAssertTrue(fit.text.contains("Hollow grey points: checkpoints above max_flops = 2.0e22"), "the fit's max_flops marks unused rows")
        let cdf = try t.request("GET", "/v1/fits/\(id)/plots/emergence-cdf.svg")
        XCTAssertTrue(cdf.text.contains("you are here: "))

        // New rows change the picture, and so the tag, and the caption says the fit is older.
        let etag = try XCTUnwrap(fit.headers["ETag"])
        let extra = "checkpoint,pretrain_loss,setting,finetune_examples,accuracy\nlate,2.2,finetuned,390,0.3\n"
        XCTAssertEqual(try t.request("POST", "/v1/studies/mmlu/evaluations", body: extra, headers: [("Content-Type", "text/csv")]).status, 200)
        let after = try t.request("GET", "/v1/fits/\(id)/plots/fit.svg", headers: [("If-None-Match", etag)])
        XCTAssertEqual(after.status, 200)
        XCTAssertNotEqual(after.headers["ETag"], etag)
        XCTAssertTrue(after.text.contains("the fit used data version 1"))
    }

    func testMissingAndUnfinishedFits() throws {
        let release = DispatchSemaphore(value: 0)
        let t = try TestService(runner: { rows, options, progress, isCancelled in
            while !isCancelled() {
                if release.wait(timeout: .now() + 0.005) == .success { throw FitError.noRows }
            }
            throw FitError.cancelled
        })
        defer { t.close() }
        XCTAssertEqual(try t.request("GET", "/v1/fits/999/plots/fit.svg").status, 404)
        XCTAssertEqual(try t.request("GET", "/v1/fits/abc/plots/fit.svg").status, 404)
        XCTAssertEqual(try t.request("GET", "/v1/studies/nope/plots/fit.svg").status, 404)
        XCTAssertEqual(try t.request("POST", "/v1/studies", body: #"{"name": "s"}"#).status, 201)
        let none = try t.request("GET", "/v1/studies/s/plots/emergence-cdf.svg")
        XCTAssertEqual(none.status, 404)
        XCTAssertEqual(none.headers["Content-Type"], "application/problem+json")
        XCTAssertTrue((none.json["detail"] as? String)?.contains("no succeeded fit") == true)

        XCTAssertEqual(try t.request("POST", "/v1/studies/s/evaluations", bytes: try FixtureFiles.bytes("mmlu-like.csv"),
                                     headers: [("Content-Type", "text/csv")]).status, 200)
        let id = try XCTUnwrap(try t.request("POST", "/v1/studies/s/fits", body: "{}").json["id"] as? Int)
        let pending = try t.request("GET", "/v1/fits/\(id)/plots/fit.svg")
        XCTAssertEqual(pending.status, 409, pending.text)
        XCTAssertTrue((pending.json["detail"] as? String)?.contains("poll /v1/fits/\(id)") == true, pending.text)
        release.signal()
        XCTAssertEqual(try t.waitForFit(id)["status"] as? String, "failed")
        let failed = try t.request("GET", "/v1/fits/\(id)/plots/emergence-cdf.svg")
        XCTAssertEqual(failed.status, 409)
        XCTAssertTrue((failed.json["detail"] as? String)?.contains("ended failed") == true, failed.text)
        XCTAssertEqual(try t.request("GET", "/v1/studies/s/plots/fit.svg").status, 404)
    }

    func testPlotsNeedTheReadScope() throws {
        let tokens = try TokenSet.parse("reader-0123456789abcdef:read,admin-0123456789abcdef:admin")
        let t = try TestService(tokens: tokens, runner: Self.fixtureFit)
        defer { t.close() }
        let id = try studyWithFit(t, headers: [("Authorization", "Bearer admin-0123456789abcdef")])
        XCTAssertEqual(try t.request("GET", "/v1/fits/\(id)/plots/fit.svg").status, 401)
        XCTAssertEqual(try t.request("GET", "/v1/studies/mmlu/plots/emergence-cdf.svg").status, 401)
        XCTAssertEqual(try t.request("GET", "/v1/fits/\(id)/plots/fit.svg", headers: [("Authorization", "Bearer reader-0123456789abcdef")]).status, 200)
    }
}
