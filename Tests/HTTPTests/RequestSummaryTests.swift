import Foundation
import Synchronization
import XCTest
@testable import HTTP

/// `ServerConfiguration.onResponse` sees every answered request once, with what a metrics or
/// request-log consumer needs.
final class RequestSummaryTests: XCTestCase {
    final class Collected: Sendable {
        private let items = Mutex<[RequestSummary]>([])
        func add(_ summary: RequestSummary) { items.withLock { $0.append(summary) } }
        var all: [RequestSummary] { items.withLock { $0 } }
    }

    func testEveryAnsweredRequestIsSummarisedOnce() throws {
        let collected = Collected()
        let fixture = try TestServer { $0.onResponse = { collected.add($0) } }
        defer { fixture.stop() }
        fixture.router.add("POST", "/refused", policy: RoutePolicy(admit: { _ in .problem(status: 401, title: "Unauthorized") })) { _ in
            .text(200, "never")
        }
        let client = try fixture.client()
        let echoHead = "POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 5\r\n\r\n"
        try client.send(echoHead + "hello")
        let echoed = try client.readResponse()
        try client.send("GET /v1/fits/7 HTTP/1.1\r\nHost: t\r\n\r\n")
        _ = try client.readResponse()
        try client.send("GET /nowhere HTTP/1.1\r\nHost: t\r\n\r\n")
        XCTAssertEqual(try client.readResponse().status, 404)
        try client.send("DELETE /hello HTTP/1.1\r\nHost: t\r\n\r\n")
        XCTAssertEqual(try client.readResponse().status, 405)
        try client.send("POST /refused HTTP/1.1\r\nHost: t\r\nContent-Length: 1000000\r\n\r\n")
        XCTAssertEqual(try client.readResponse().status, 401)
        let bad = try fixture.client()
        try bad.send("GET /hello HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n")
        XCTAssertEqual(try bad.readResponse().status, 400)

        // The hook runs before a response is queued, so every one is in by now.
        let all = collected.all
        XCTAssertEqual(all.map(\.status), [200, 200, 404, 405, 401, 400])
        XCTAssertEqual(all.map(\.method), ["POST", "GET", "GET", "DELETE", "POST", ""])
        XCTAssertEqual(all.map(\.route), ["/echo", "/v1/fits/{id}", nil, nil, "/refused", nil])
        XCTAssertEqual(all.map(\.path), ["/echo", "/v1/fits/7", "/nowhere", "/hello", "/refused", ""])
        XCTAssertEqual(all[0].bytesIn, echoHead.utf8.count + 5)
        XCTAssertGreaterThan(all[0].bytesOut, echoed.body.count)
        XCTAssertEqual(all[4].bytesIn, "POST /refused HTTP/1.1\r\nHost: t\r\nContent-Length: 1000000\r\n\r\n".utf8.count,
                       "a refusal from the head read no body")
        XCTAssertEqual(all[5].bytesIn, "GET /hello HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n".utf8.count)
        for summary in all {
            XCTAssertTrue(summary.remoteAddress.contains("127.0.0.1"), summary.remoteAddress)
            XCTAssertGreaterThanOrEqual(summary.duration, 0)
        }
    }

    /// The summary carries the response's X-Request-Id, from a handler's answer or an answer from the
    /// head, so a request log line shows the id the client saw; a protocol error has none.
    func testSummaryCarriesTheResponsesRequestID() throws {
        let collected = Collected()
        let fixture = try TestServer { $0.onResponse = { collected.add($0) } }
        defer { fixture.stop() }
        fixture.router.add("GET", "/tagged") { _ in
            var r = HTTPResponse.text(200, "ok")
            r.headers.set("X-Request-Id", "from-handler")
            return r
        }
        fixture.router.add("GET", "/refused-tagged", policy: RoutePolicy(admit: { _ in
            var r = HTTPResponse.problem(status: 401, title: "Unauthorized")
            r.headers.set("X-Request-Id", "from-admit")
            return r
        })) { _ in .text(200, "never") }
        let client = try fixture.client()
        try client.send("GET /tagged HTTP/1.1\r\nHost: t\r\n\r\n")
        XCTAssertEqual(try client.readResponse().status, 200)
        try client.send("GET /refused-tagged HTTP/1.1\r\nHost: t\r\n\r\n")
        XCTAssertEqual(try client.readResponse().status, 401)
        try client.send("GET /hello HTTP/1.1\r\nHost: t\r\n\r\n")
        _ = try client.readResponse()
        let bad = try fixture.client()
        try bad.send("GET /hello HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n")
        XCTAssertEqual(try bad.readResponse().status, 400)
        XCTAssertEqual(collected.all.map(\.requestID), ["from-handler", "from-admit", nil, nil])
    }
}
