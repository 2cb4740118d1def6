import Foundation
import XCTest
@testable import EmergenceService
@testable import HTTP

/// CORS through the real server with tokens on: a dashboard's preflight is answered before auth.
final class CORSServiceTests: XCTestCase {
    func testPreflightBeforeAuthAndHeadersOnAnswers() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("cors-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        var config = ServiceConfiguration()
        config.port = 0
        config.databasePath = dir.appendingPathComponent("cors.sqlite").path
        config.workers = 1
        config.tokens = TokenSet(entries: [("dashboard-read-token-01", .read)])
        try config.allowCORSOrigins("https://dash.example.com")
        let service = try EmergenceService(configuration: config)
        try service.start()
        defer { service.shutdown() }
        let allowed = ("Origin", "https://dash.example.com")

        let preflight = try WireClient.send(port: service.port, "OPTIONS", "/v1/studies/mmlu/prediction",
                                            headers: [allowed, ("Access-Control-Request-Method", "GET"),
                                                      ("Access-Control-Request-Headers", "authorization")])
        XCTAssertEqual(preflight.status, 204)
        XCTAssertEqual(preflight.headers["Access-Control-Allow-Origin"], "https://dash.example.com")
        XCTAssertEqual(preflight.headers["Access-Control-Allow-Methods"], "GET, HEAD, OPTIONS")
        XCTAssertTrue(preflight.headers["Access-Control-Allow-Headers"]?.contains("Authorization") == true)

        let other = try WireClient.send(port: service.port, "OPTIONS", "/v1/studies/mmlu/prediction",
                                        headers: [("Origin", "https://elsewhere.example"), ("Access-Control-Request-Method", "GET")])
        XCTAssertNil(other.headers["Access-Control-Allow-Origin"])
        XCTAssertNil(other.headers["Access-Control-Allow-Methods"])

        let refused = try WireClient.send(port: service.port, "GET", "/v1/studies", headers: [allowed])
        XCTAssertEqual(refused.status, 401)
        XCTAssertEqual(refused.headers["Access-Control-Allow-Origin"], "https://dash.example.com")
        XCTAssertEqual(refused.headers["Cache-Control"], "no-store")

        let read = try WireClient.send(port: service.port, "GET", "/v1/studies",
                                       headers: [allowed, ("Authorization", "Bearer dashboard-read-token-01")])
        XCTAssertEqual(read.status, 200)
        XCTAssertEqual(read.headers["Access-Control-Allow-Origin"], "https://dash.example.com")
        XCTAssertEqual(read.headers["Access-Control-Expose-Headers"], "ETag, Location, Retry-After, X-Request-Id")
    }

    func testWildcardIsRefusedWithTokens() throws {
        var config = ServiceConfiguration()
        config.tokens = TokenSet(entries: [("dashboard-read-token-01", .read)])
        try config.allowCORSOrigins("*")
        XCTAssertThrowsError(try config.validate()) { XCTAssertTrue("\($0)".contains("EMERGENCE_CORS_ORIGINS=* is refused")) }
        config.tokens = TokenSet(entries: [])
        XCTAssertNoThrow(try config.validate())
        XCTAssertThrowsError(try config.allowCORSOrigins("https://dash.example.com/"))
    }
}
