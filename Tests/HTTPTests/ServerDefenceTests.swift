import Foundation
import Glibc
import XCTest
@testable import HTTP

/// Every malformed request gets the right status, the connection is closed, and the server keeps serving.
final class ServerDefenceTests: XCTestCase {
    var fixture: TestServer!

    override func setUpWithError() throws {
        fixture = try TestServer { config in
            config.maxDecompressedBodyBytes = 1024 * 1024
        }
    }

    override func tearDown() { fixture.stop() }

    private func assertRejected(_ raw: [UInt8], _ status: Int, _ name: String,
                                file: StaticString = #filePath, line: UInt = #line) throws {
        let client = try fixture.client()
        try client.send(raw)
        let response = try client.readResponse()
        XCTAssertEqual(response.status, status, name, file: file, line: line)
        XCTAssertEqual(response.headers["Connection"], "close", name, file: file, line: line)
        XCTAssertEqual(response.headers["Content-Type"], "application/problem+json", name, file: file, line: line)
        XCTAssertNotNil(response.headers["Date"], name, file: file, line: line)
        XCTAssertTrue(try client.isClosedByServer(), "\(name): connection left open", file: file, line: line)
        try fixture.assertStillServing(file: file, line: line)
    }

    private func assertRejected(_ raw: String, _ status: Int, _ name: String,
                                file: StaticString = #filePath, line: UInt = #line) throws {
        try assertRejected(Array(raw.utf8), status, name, file: file, line: line)
    }

    func testFramingAttacksAre400() throws {
        let cases: [(String, String)] = [
            ("Content-Length and Transfer-Encoding",
             "POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n"),
            ("conflicting duplicate Content-Length",
             "POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\nhello!"),
            ("conflicting Content-Length list", "POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 5, 6\r\n\r\nhello!"),
            ("non-numeric Content-Length", "POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: abc\r\n\r\n"),
            ("negative Content-Length", "POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: -1\r\n\r\n"),
            ("coding list not ending in chunked", "POST /echo HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked, gzip\r\n\r\n"),
            ("transfer coding without chunked", "POST /echo HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: gzip\r\n\r\n"),
            ("chunked twice", "POST /echo HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n"),
            ("Transfer-Encoding in HTTP/1.0", "POST /echo HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n"),
            ("obs-fold", "GET /hello HTTP/1.1\r\nHost: t\r\nX-A: one\r\n two\r\n\r\n"),
            ("whitespace before colon", "GET /hello HTTP/1.1\r\nHost : t\r\n\r\n"),
            ("tab before colon", "GET /hello HTTP/1.1\r\nHost: t\r\nX-A\t: b\r\n\r\n"),
            ("NUL in value", "GET /hello HTTP/1.1\r\nHost: t\r\nX-A: a\u{0}b\r\n\r\n"),
            ("bare CR in value", "GET /hello HTTP/1.1\r\nHost: t\r\nX-A: a\rb\r\n\r\n"),
            ("control in value", "GET /hello HTTP/1.1\r\nHost: t\r\nX-A: a\u{1}b\r\n\r\n"),
            ("control in target", "GET /hel\u{1}lo HTTP/1.1\r\nHost: t\r\n\r\n"),
            ("control in method", "G\u{7F}T /hello HTTP/1.1\r\nHost: t\r\n\r\n"),
            ("invalid character in name", "GET /hello HTTP/1.1\r\nHost: t\r\nX(A): b\r\n\r\n"),
            ("empty name", "GET /hello HTTP/1.1\r\nHost: t\r\n: b\r\n\r\n"),
            ("missing Host in 1.1", "GET /hello HTTP/1.1\r\nX-A: b\r\n\r\n"),
            ("repeated Host", "GET /hello HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n"),
            ("bad chunk size", "POST /echo HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nhello\r\n0\r\n\r\n"),
            ("chunk size with space", "POST /echo HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n5 5\r\nhello\r\n0\r\n\r\n"),
            ("chunk without CRLF after data", "POST /echo HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhelloXX0\r\n\r\n"),
            ("bare LF line endings", "GET /hello HTTP/1.1\nHost: t\n\n"),
            ("two spaces in request line", "GET  /hello HTTP/1.1\r\nHost: t\r\n\r\n"),
            ("malformed version", "GET /hello HTTPS/1.1\r\nHost: t\r\n\r\n"),
            ("relative target", "GET hello HTTP/1.1\r\nHost: t\r\n\r\n"),
            ("bad percent-encoding", "GET /v1/fits/%zz HTTP/1.1\r\nHost: t\r\n\r\n"),
            ("percent-encoded NUL", "GET /v1/fits/a%00 HTTP/1.1\r\nHost: t\r\n\r\n"),
            ("invalid gzip body", "POST /echo HTTP/1.1\r\nHost: t\r\nContent-Encoding: gzip\r\nContent-Length: 5\r\n\r\nhello"),
        ]
        for (name, raw) in cases { try assertRejected(raw, 400, name) }
    }

    func testLimits() throws {
        try assertRejected("GET /\(String(repeating: "a", count: 9 * 1024)) HTTP/1.1\r\nHost: t\r\n\r\n", 414, "request line > 8 KiB")
        try assertRejected("GET /hello HTTP/1.1\r\nHost: t\r\nX-Big: \(String(repeating: "b", count: 17 * 1024))\r\n\r\n", 431, "header section > 16 KiB")
        let many = (0..<101).map { "X-F\($0): v\r\n" }.joined()
        try assertRejected("GET /hello HTTP/1.1\r\nHost: t\r\n\(many)\r\n", 431, "more than 100 fields")
        try assertRejected("POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: \(33 * 1024 * 1024)\r\n\r\n", 413, "Content-Length > 32 MiB")
        try assertRejected("POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 99999999999999999999999\r\n\r\n", 413, "Content-Length overflow")
        try assertRejected("POST /echo HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n2100000\r\n", 413, "chunk > 32 MiB")
    }

    func testExactly100FieldsAreAccepted() throws {
        let client = try fixture.client()
        let fields = (0..<99).map { "X-F\($0): v\r\n" }.joined()
        try client.send("GET /hello HTTP/1.1\r\nHost: t\r\n\(fields)\r\n")
        XCTAssertEqual(try client.readResponse().status, 200)
    }

    func testGzipBombIs413() throws {
        // 8 MiB of zeros compress to about 8 KiB; the decompressed limit here is 1 MiB.
        let bomb = gzip([UInt8](repeating: 0, count: 8 * 1024 * 1024))
        XCTAssertLessThan(bomb.count, 16 * 1024)
        let head = "POST /echo HTTP/1.1\r\nHost: t\r\nContent-Encoding: gzip\r\nContent-Length: \(bomb.count)\r\n\r\n"
        try assertRejected(Array(head.utf8) + bomb, 413, "gzip bomb")
    }

    func testUnsupportedVersionEncodingAndExpectation() throws {
        try assertRejected("GET /hello HTTP/2.0\r\nHost: t\r\n\r\n", 505, "HTTP/2.0")
        try assertRejected("GET /hello HTTP/1.2\r\nHost: t\r\n\r\n", 505, "HTTP/1.2")
        try assertRejected("POST /echo HTTP/1.1\r\nHost: t\r\nContent-Encoding: br\r\nContent-Length: 5\r\n\r\nhello", 415, "brotli body")
        try assertRejected("POST /echo HTTP/1.1\r\nHost: t\r\nExpect: teapot\r\nContent-Length: 5\r\n\r\nhello", 417, "unknown expectation")
    }

    func testClientVanishingMidRequestLeavesServerServing() throws {
        for partial in ["GET /hel", "POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 10\r\n\r\nabc",
                        "POST /echo HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nab"] {
            let client = try fixture.client()
            try client.send(partial)
            client.close()
        }
        try waitUntil { fixture.server.connectionCount == 0 }
        try fixture.assertStillServing()
    }

    func testHandlerConcurrencyIsBounded() throws {
        let bounded = try TestServer { $0.handlerConcurrency = 2 }
        defer { bounded.stop() }
        let blocked = try (0..<2).map { _ in try bounded.client() }
        for client in blocked { try client.send("GET /block HTTP/1.1\r\nHost: t\r\n\r\n") }
        usleep(100_000)
        let waiting = try bounded.client()
        try waiting.send("GET /hello HTTP/1.1\r\nHost: t\r\n\r\n")
        // Both handler slots are taken, so this request cannot have been answered yet.
        XCTAssertFalse(waiting.isReadable(within: 300), "more handlers ran than handlerConcurrency allows")
        bounded.gate.signal()
        bounded.gate.signal()
        for client in blocked { XCTAssertEqual(try client.readResponse().text, "unblocked") }
        XCTAssertEqual(try waiting.readResponse().text, "hello")
    }

    func testConnectionLimitAnswers503() throws {
        let limited = try TestServer { $0.maxConnections = 2 }
        defer { limited.stop() }
        let a = try limited.client(), b = try limited.client()
        for client in [a, b] {
            try client.send("GET /hello HTTP/1.1\r\nHost: t\r\n\r\n")
            XCTAssertEqual(try client.readResponse().status, 200)
        }
        let third = try limited.client()
        let refused = try third.readResponse()
        XCTAssertEqual(refused.status, 503)
        XCTAssertEqual(refused.headers["Connection"], "close")
        XCTAssertTrue(try third.isClosedByServer())
        // Once a slot frees up, new connections are served again.
        try a.send("GET /hello HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n")
        _ = try a.readResponse()
        XCTAssertTrue(try a.isClosedByServer())
        a.close()
        try waitUntil { limited.server.connectionCount == 1 }
        try limited.assertStillServing()
    }
}

/// Polls `condition` for up to 5 s; fails (throws) if it never holds.
func waitUntil(_ condition: () -> Bool) throws {
    for _ in 0..<500 {
        if condition() { return }
        usleep(10_000)
    }
    throw ClientError("condition not met within 5 s")
}
