import Foundation
import Glibc
import XCTest
@testable import HTTP

/// Timeouts, with short configured values. Assertions are about what happens, never how fast.
final class ServerTimeoutTests: XCTestCase {
    var fixture: TestServer!

    override func setUpWithError() throws {
        fixture = try TestServer { config in
            config.headerReadTimeout = 0.3
            config.idleTimeout = 0.3
            config.bodyStallTimeout = 0.3
        }
    }

    override func tearDown() { fixture.stop() }

    func testSlowHeadGets408AndClose() throws {
        let client = try fixture.client()
        try client.send("GET /hello HTTP/1.1\r\nHost: t\r\n")
        let response = try client.readResponse()
        XCTAssertEqual(response.status, 408)
        XCTAssertTrue(try client.isClosedByServer())
        try fixture.assertStillServing()
    }

    func testSilentNewConnectionGets408() throws {
        let client = try fixture.client()
        XCTAssertEqual(try client.readResponse().status, 408)
        XCTAssertTrue(try client.isClosedByServer())
    }

    func testIdleKeepAliveConnectionIsClosedSilently() throws {
        let client = try fixture.client()
        try client.send("GET /hello HTTP/1.1\r\nHost: t\r\n\r\n")
        XCTAssertEqual(try client.readResponse().status, 200)
        // No 408 here: nothing was pending, so the server just closes.
        XCTAssertTrue(try client.isClosedByServer())
    }

    func testStalledBodyGets408() throws {
        let client = try fixture.client()
        try client.send("POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 10\r\n\r\nabc")
        let response = try client.readResponse()
        XCTAssertEqual(response.status, 408)
        XCTAssertTrue(try client.isClosedByServer())
        try fixture.assertStillServing()
    }

    func testSlowButSteadyBodyIsNotAStall() throws {
        let client = try fixture.client()
        try client.send("POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 6\r\n\r\n")
        for byte in Array("steady".utf8) {
            usleep(50_000)
            try client.send([byte])
        }
        XCTAssertEqual(try client.readResponse().text, "steady")
    }
}
