import Foundation
import XCTest
@testable import HTTP

/// The server-wide budget for request bodies held in memory (`maxBufferedBodyBytes`).
final class BodyBudgetTests: XCTestCase {
    func testBodiesPastTheBudgetGet503WithRetryAfterFromTheHead() throws {
        let fixture = try TestServer { $0.maxBufferedBodyBytes = 1000 }
        defer { fixture.stop() }
        fixture.router.add("POST", "/take") { request in .text(200, "got \(request.body.count)") }
        // One client declares 800 bytes and sends only part of them: its reservation is held.
        let first = try fixture.client()
        try first.send("POST /take HTTP/1.1\r\nHost: t\r\nContent-Length: 800\r\n\r\n" + String(repeating: "a", count: 100))
        Thread.sleep(forTimeInterval: 0.1)
        XCTAssertEqual(fixture.server.bufferedBodyBytes, 800)
        // A second body of 300 does not fit: 503 from its head, with Retry-After.
        let second = try fixture.client()
        try second.send("POST /take HTTP/1.1\r\nHost: t\r\nContent-Length: 300\r\nExpect: 100-continue\r\n\r\n")
        let refused = try second.readResponse()
        XCTAssertEqual(refused.status, 503)
        XCTAssertEqual(refused.headers["Retry-After"], "1")
        // A small one still fits.
        let third = try fixture.client()
        try third.send("POST /take HTTP/1.1\r\nHost: t\r\nContent-Length: 100\r\n\r\n" + String(repeating: "b", count: 100))
        XCTAssertEqual(try third.readResponse().text, "got 100")
        // Once the first is answered its bytes are free again.
        try first.send(String(repeating: "a", count: 700))
        XCTAssertEqual(try first.readResponse().text, "got 800")
        XCTAssertEqual(fixture.server.bufferedBodyBytes, 0)
        let retry = try fixture.client()
        try retry.send("POST /take HTTP/1.1\r\nHost: t\r\nContent-Length: 300\r\n\r\n" + String(repeating: "c", count: 300))
        XCTAssertEqual(try retry.readResponse().text, "got 300")
    }

    func testAClientThatGoesAwayMidBodyGivesItsReservationBack() throws {
        let fixture = try TestServer { $0.maxBufferedBodyBytes = 1000 }
        defer { fixture.stop() }
        fixture.router.add("POST", "/take") { request in .text(200, "got \(request.body.count)") }
        let gone = try fixture.client()
        try gone.send("POST /take HTTP/1.1\r\nHost: t\r\nContent-Length: 900\r\n\r\nabc")
        Thread.sleep(forTimeInterval: 0.1)
        XCTAssertEqual(fixture.server.bufferedBodyBytes, 900)
        gone.close()
        let deadline = Date().addingTimeInterval(5)
        while fixture.server.bufferedBodyBytes != 0 && Date() < deadline { Thread.sleep(forTimeInterval: 0.01) }
        XCTAssertEqual(fixture.server.bufferedBodyBytes, 0)
    }

    func testChunkedBodiesReserveAsTheyGrow() throws {
        let fixture = try TestServer { $0.maxBufferedBodyBytes = 1000 }
        defer { fixture.stop() }
        fixture.router.add("POST", "/take") { request in .text(200, "got \(request.body.count)") }
        let client = try fixture.client()
        let chunk = String(repeating: "z", count: 600)
        try client.send("POST /take HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n258\r\n\(chunk)\r\n258\r\n\(chunk)\r\n0\r\n\r\n")
        let response = try client.readResponse()
        XCTAssertEqual(response.status, 503)
        XCTAssertEqual(response.headers["Retry-After"], "1")
    }
}
