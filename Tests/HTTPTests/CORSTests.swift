import XCTest
@testable import HTTP

/// CORS over real sockets: preflights answered before routing, headers on actual responses, and
/// nothing at all for origins that are not allowed.
final class CORSTests: XCTestCase {
    private let dashboard = "https://dash.example.com"

    private func server(_ text: String = "https://dash.example.com, http://localhost:3000") throws -> TestServer {
        let policy = try CORSPolicy.parse(text)
        let s = try TestServer { $0.cors = policy }
        // A route whose admission refuses everything, as a token check would for a preflight
        // (browsers send no Authorization on one): the preflight must never reach it.
        s.router.add("GET", "/guarded", policy: RoutePolicy(admit: { _ in .problem(status: 401, title: "Unauthorized") })) { _ in .text(200, "secret") }
        return s
    }

    private func exchange(_ s: TestServer, _ head: String) throws -> WireResponse {
        let c = try s.client()
        defer { c.close() }
        try c.send(head)
        return try c.readResponse(bodyless: head.hasPrefix("OPTIONS"))
    }

    func testPreflightFromAnAllowedOriginIsAnsweredBeforeAdmission() throws {
        let s = try server()
        defer { s.stop() }
        let r = try exchange(s, "OPTIONS /guarded HTTP/1.1\r\nHost: t\r\nOrigin: \(dashboard)\r\nAccess-Control-Request-Method: GET\r\nAccess-Control-Request-Headers: authorization\r\n\r\n")
        XCTAssertEqual(r.status, 204)
        XCTAssertEqual(r.headers["Access-Control-Allow-Origin"], dashboard)
        XCTAssertEqual(r.headers["Access-Control-Allow-Methods"], "GET, HEAD, OPTIONS")
        XCTAssertEqual(r.headers["Access-Control-Allow-Headers"], "Authorization, Content-Type, Content-Encoding, If-None-Match, X-Request-Id")
        XCTAssertEqual(r.headers["Access-Control-Max-Age"], "600")
        XCTAssertTrue(r.headers.listValues("Vary").contains("Origin"))
        XCTAssertNil(r.headers["Access-Control-Allow-Credentials"])
    }

    func testPreflightFromAnotherOriginGetsNoCORSHeaders() throws {
        let s = try server()
        defer { s.stop() }
        let r = try exchange(s, "OPTIONS /hello HTTP/1.1\r\nHost: t\r\nOrigin: https://evil.example\r\nAccess-Control-Request-Method: GET\r\n\r\n")
        XCTAssertEqual(r.status, 204, "answered as a plain OPTIONS")
        XCTAssertEqual(r.headers["Allow"], "GET, HEAD, OPTIONS")
        for name in ["Access-Control-Allow-Origin", "Access-Control-Allow-Methods", "Access-Control-Allow-Headers", "Access-Control-Expose-Headers"] {
            XCTAssertNil(r.headers[name], name)
        }
    }

    func testActualResponsesCarryAllowOriginAndExposedHeadersOnlyForAllowedOrigins() throws {
        let s = try server()
        defer { s.stop() }
        let ok = try exchange(s, "GET /hello HTTP/1.1\r\nHost: t\r\nOrigin: http://localhost:3000\r\n\r\n")
        XCTAssertEqual(ok.status, 200)
        XCTAssertEqual(ok.headers["Access-Control-Allow-Origin"], "http://localhost:3000")
        XCTAssertEqual(ok.headers["Access-Control-Expose-Headers"], "ETag, Location, Retry-After, X-Request-Id")
        XCTAssertTrue(ok.headers.listValues("Vary").contains("Origin"))
        // A refusal from the head is readable by the allowed page too (it can show "log in").
        let refused = try exchange(s, "GET /guarded HTTP/1.1\r\nHost: t\r\nOrigin: \(dashboard)\r\n\r\n")
        XCTAssertEqual(refused.status, 401)
        XCTAssertEqual(refused.headers["Access-Control-Allow-Origin"], dashboard)
        XCTAssertEqual(refused.headers["Cache-Control"], "no-store", "problems are never cached")
        let other = try exchange(s, "GET /hello HTTP/1.1\r\nHost: t\r\nOrigin: https://evil.example\r\n\r\n")
        XCTAssertEqual(other.status, 200)
        XCTAssertNil(other.headers["Access-Control-Allow-Origin"])
        XCTAssertNil(other.headers["Access-Control-Expose-Headers"])
        XCTAssertTrue(other.headers.listValues("Vary").contains("Origin"), "a shared cache must key on Origin")
        let none = try exchange(s, "GET /hello HTTP/1.1\r\nHost: t\r\n\r\n")
        XCTAssertNil(none.headers["Access-Control-Allow-Origin"])
    }

    func testWildcardAnswersStarWithoutVary() throws {
        let s = try server("*")
        defer { s.stop() }
        let pre = try exchange(s, "OPTIONS /hello HTTP/1.1\r\nHost: t\r\nOrigin: https://anything.example\r\nAccess-Control-Request-Method: GET\r\n\r\n")
        XCTAssertEqual(pre.status, 204)
        XCTAssertEqual(pre.headers["Access-Control-Allow-Origin"], "*")
        let r = try exchange(s, "GET /hello HTTP/1.1\r\nHost: t\r\nOrigin: https://anything.example\r\n\r\n")
        XCTAssertEqual(r.headers["Access-Control-Allow-Origin"], "*")
        XCTAssertFalse(r.headers.listValues("Vary").contains("Origin"))
    }

    func testWithoutAPolicyNothingChanges() throws {
        let s = try TestServer()
        defer { s.stop() }
        let r = try exchange(s, "OPTIONS /hello HTTP/1.1\r\nHost: t\r\nOrigin: \(dashboard)\r\nAccess-Control-Request-Method: GET\r\n\r\n")
        XCTAssertEqual(r.status, 204)
        XCTAssertNil(r.headers["Access-Control-Allow-Origin"])
        XCTAssertNil(r.headers["Vary"])
    }

    func testParseAcceptsExactOriginsAndRefusesTheRest() throws {
        XCTAssertEqual(try CORSPolicy.parse("https://A.example.com:8443 , http://[::1]:3000").origins,
                       .exact(["https://a.example.com:8443", "http://[::1]:3000"]))
        XCTAssertEqual(try CORSPolicy.parse("*").origins, .any)
        for bad in ["", "https://a.example/", "https://a.example/path", "ftp://a.example", "a.example", "https://*.example",
                    "*,https://a.example", "https://a.example,,https://b.example", "null"] {
            XCTAssertThrowsError(try CORSPolicy.parse(bad), bad)
        }
        let p = try CORSPolicy.parse("https://a.example")
        XCTAssertTrue(p.allows("https://a.example"))
        XCTAssertTrue(p.allows("HTTPS://A.EXAMPLE"))
        XCTAssertFalse(p.allows("https://a.example.evil"))
        XCTAssertFalse(p.allows("null"))
    }
}
