import Foundation
import Glibc
import Synchronization
import XCTest
@testable import HTTP

/// Refusal from the head, over real sockets: a route's policy (admission, body limits) is applied
/// before any body byte is read or `100 Continue` is sent.
final class RoutePolicyTests: XCTestCase {
    var fixture: TestServer!
    /// Requests that reached a handler of the routes added here.
    let handled = Counter()

    override func setUpWithError() throws {
        fixture = try TestServer()
        let handled = self.handled
        // Admits only "Authorization: Bearer good", given once.
        let admit: @Sendable (HTTPRequest) -> HTTPResponse? = { request in
            let values = request.headers.values("Authorization")
            if values == ["Bearer good"] { return nil }
            return .problem(status: 401, title: "Unauthorized", detail: "\(values.count) Authorization fields",
                            headers: ["WWW-Authenticate": "Bearer"])
        }
        fixture.router.add("POST", "/guarded", policy: RoutePolicy(admit: admit)) { request in
            handled.increment()
            return .text(200, "got \(request.body.count)")
        }
        fixture.router.add("POST", "/limited", policy: RoutePolicy(maxBodyBytes: 64 * 1024)) { request in
            handled.increment()
            return .text(200, "got \(request.body.count)")
        }
        // The admit closure sees the head, path parameters and remote address, and no body.
        fixture.router.add("POST", "/items/{id}", policy: RoutePolicy(admit: { request in
            let seen = "\(request.pathParameters["id"] ?? "-") \(request.body.count) \(request.remoteAddress.isEmpty ? "none" : "remote")"
            return request.pathParameters["id"] == "open" ? nil : .text(403, seen)
        })) { request in .text(200, "item \(request.body.count)") }
    }

    override func tearDown() { fixture.stop() }

    private func head(_ path: String, length: Int, extra: String = "") -> String {
        "POST \(path) HTTP/1.1\r\nHost: t\r\nContent-Length: \(length)\r\n\(extra)\r\n"
    }

    func testRefusalWithExpectContinueNeverSendsContinue() throws {
        let client = try fixture.client()
        try client.send(head("/guarded", length: 4096, extra: "Expect: 100-continue\r\n"))
        let response = try client.readResponse()
        XCTAssertEqual(response.status, 401, "the refusal comes first, never 100 Continue")
        XCTAssertEqual(response.headers["WWW-Authenticate"], "Bearer")
        XCTAssertEqual(response.headers["Connection"], "close")
        XCTAssertTrue(try client.isClosedByServer())
        // Admitted, the same upload gets its 100 Continue and then the answer.
        let admitted = try fixture.client()
        try admitted.send(head("/guarded", length: 5, extra: "Expect: 100-continue\r\nAuthorization: Bearer good\r\n"))
        XCTAssertEqual(try admitted.readResponse().status, 100)
        try admitted.send("hello")
        XCTAssertEqual(try admitted.readResponse().text, "got 5")
        // A second Authorization field is visible to admit (and refused by this one).
        let twice = try fixture.client()
        try twice.send(head("/guarded", length: 0, extra: "Authorization: Bearer good\r\nAuthorization: Bearer good\r\n"))
        let refused = try twice.readResponse()
        XCTAssertEqual(refused.status, 401)
        XCTAssertTrue(refused.text.contains("2 Authorization fields"), refused.text)
        XCTAssertNil(refused.headers["Connection"], "no body on the wire: the connection stays open")
        try twice.send("GET /hello HTTP/1.1\r\nHost: t\r\n\r\n")
        XCTAssertEqual(try twice.readResponse().text, "hello")
        XCTAssertEqual(handled.value, 1)
    }

    func testHugeDeclaredBodyIsRefusedFromTheHead() throws {
        let huge = 250 * 1024 * 1024
        // Only the head is sent: each answer can only have come from the head.
        for (path, extra, status) in [("/guarded", "", 401), ("/echo", "", 413), ("/limited", "", 413),
                                      ("/nowhere", "", 404), ("/hello", "", 405),
                                      ("/guarded", "Authorization: Bearer good\r\nExpect: 100-continue\r\n", 413)] {
            let client = try fixture.client()
            try client.send(head(path, length: huge, extra: extra))
            let response = try client.readResponse()
            XCTAssertEqual(response.status, status, "\(path) \(extra)")
            XCTAssertEqual(response.headers["Connection"], "close", path)
            XCTAssertTrue(try client.isClosedByServer(), path)
        }
        XCTAssertEqual(handled.value, 0)
        try waitUntil { fixture.server.connectionCount == 0 }
        try fixture.assertStillServing()
    }

    func testPerRouteLimitForLengthAndChunkedBodies() throws {
        let limit = 64 * 1024
        var client = try fixture.client()
        try client.send(head("/limited", length: limit + 1))
        XCTAssertEqual(try client.readResponse().status, 413, "from Content-Length alone")
        XCTAssertTrue(try client.isClosedByServer())

        client = try fixture.client()
        try client.send(Array(head("/limited", length: limit).utf8) + [UInt8](repeating: 0x61, count: limit))
        XCTAssertEqual(try client.readResponse().text, "got \(limit)", "exactly the limit is accepted")

        // Chunked: refused once the declared chunk sizes pass the limit, before the data arrives.
        client = try fixture.client()
        let chunk = [UInt8](repeating: 0x62, count: 40 * 1024)
        let chunkHead = Array("POST /limited HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n".utf8)
        try client.send(chunkHead + Array("a000\r\n".utf8) + chunk + Array("\r\na000\r\n".utf8))
        XCTAssertEqual(try client.readResponse().status, 413)
        XCTAssertTrue(try client.isClosedByServer())

        client = try fixture.client()
        try client.send(chunkHead + Array("a000\r\n".utf8) + chunk + Array("\r\n0\r\n\r\n".utf8))
        XCTAssertEqual(try client.readResponse().text, "got \(chunk.count)")
    }

    func testRouteLimitOverridesTheServerDefault() throws {
        let small = try TestServer { $0.maxBodyBytes = 1024 }
        defer { small.stop() }
        small.router.add("POST", "/roomy", policy: RoutePolicy(maxBodyBytes: 100 * 1024)) { .text(200, "got \($0.body.count)") }
        let body = [UInt8](repeating: 0x63, count: 50 * 1024)
        var client = try small.client()
        try client.send(Array(head("/roomy", length: body.count).utf8) + body)
        XCTAssertEqual(try client.readResponse().text, "got \(body.count)")
        client = try small.client()
        try client.send(Array(head("/echo", length: body.count).utf8) + body)
        XCTAssertEqual(try client.readResponse().status, 413, "other routes keep the server default")
    }

    func testAdmitSeesPathParametersAndRemoteButNoBody() throws {
        let client = try fixture.client()
        try client.send(head("/items/shut", length: 3) + "abc")
        let refused = try client.readResponse()
        XCTAssertEqual(refused.status, 403)
        XCTAssertEqual(refused.text, "shut 0 remote")
        let open = try fixture.client()
        try open.send(head("/items/open", length: 3) + "abc")
        XCTAssertEqual(try open.readResponse().text, "item 3")
    }

    func testGzipBombsSentToARefusingRouteCostAlmostNothing() throws {
        // 64 MiB of zeros: about 64 KiB on the wire.
        let bomb = gzip([UInt8](repeating: 0, count: 64 * 1024 * 1024))
        let before = RoutePolicyTests.cpuSeconds()
        for _ in 0..<3 {
            let client = try fixture.client()
            try client.send(Array(head("/guarded", length: bomb.count, extra: "Content-Encoding: gzip\r\n").utf8))
            XCTAssertEqual(try client.readResponse().status, 401)
            // The body may follow; the server drains it unread (or the socket is already closed).
            try? client.send(bomb)
            XCTAssertTrue(try client.isClosedByServer())
        }
        let used = RoutePolicyTests.cpuSeconds() - before
        print("three refused 64 MiB gzip bombs: \(String(format: "%.3f", used)) s CPU for the whole test process (informational)")
        XCTAssertEqual(handled.value, 0)
    }

    func testMethodsAPathLacksAre405AndKeepTheConnection() throws {
        let client = try fixture.client()
        for method in ["TRACE", "PUT", "PATCH", "DELETE", "QUERY", "BREW"] {
            try client.send("\(method) /hello HTTP/1.1\r\nHost: t\r\n\r\n")
            let response = try client.readResponse()
            XCTAssertEqual(response.status, 405, method)
            XCTAssertEqual(response.headers["Allow"], "GET, HEAD, OPTIONS", method)
            XCTAssertEqual(response.headers["Content-Type"], "application/problem+json", method)
        }
        try client.send("BREW /pot HTTP/1.1\r\nHost: t\r\n\r\n")
        XCTAssertEqual(try client.readResponse().status, 404)
        try client.send("OPTIONS /hello HTTP/1.1\r\nHost: t\r\n\r\n")
        let options = try client.readResponse()
        XCTAssertEqual(options.status, 204)
        XCTAssertEqual(options.headers["Allow"], "GET, HEAD, OPTIONS")
        try client.send("HEAD /nowhere HTTP/1.1\r\nHost: t\r\n\r\n")
        let missing = try client.readResponse(bodyless: true)
        XCTAssertEqual(missing.status, 404)
        try client.send("GET /hello HTTP/1.1\r\nHost: t\r\n\r\n")
        XCTAssertEqual(try client.readResponse().text, "hello", "answers from the head keep a body-less connection open")
        // Answers from the head keep pipelined order with answers from handlers.
        try client.send("GET /nowhere HTTP/1.1\r\nHost: t\r\n\r\nGET /sleep?ms=50&tag=slow HTTP/1.1\r\nHost: t\r\n\r\n"
                        + "TRACE /hello HTTP/1.1\r\nHost: t\r\n\r\nGET /hello HTTP/1.1\r\nHost: t\r\n\r\n")
        XCTAssertEqual(try client.readResponse().status, 404)
        XCTAssertEqual(try client.readResponse().text, "slow")
        XCTAssertEqual(try client.readResponse().status, 405)
        XCTAssertEqual(try client.readResponse().text, "hello")
        // With a body on the wire the answer closes the connection.
        try client.send("PATCH /hello HTTP/1.1\r\nHost: t\r\nContent-Length: 3\r\n\r\nabc")
        XCTAssertEqual(try client.readResponse().status, 405)
        XCTAssertTrue(try client.isClosedByServer())
    }

    /// User plus system CPU time of this process.
    static func cpuSeconds() -> Double {
        var usage = rusage()
        getrusage(RUSAGE_SELF.rawValue, &usage)
        func seconds(_ t: timeval) -> Double { Double(t.tv_sec) + Double(t.tv_usec) / 1e6 }
        return seconds(usage.ru_utime) + seconds(usage.ru_stime)
    }
}

/// A count shared between handler threads and the test.
final class Counter: Sendable {
    private let count = Atomic<Int>(0)
    func increment() { count.add(1, ordering: .relaxed) }
    var value: Int { count.load(ordering: .relaxed) }
}
