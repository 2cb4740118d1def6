import Foundation
import XCTest
@testable import HTTP

final class CompressionTests: XCTestCase {
    var fixture: TestServer!

    override func setUpWithError() throws { fixture = try TestServer() }
    override func tearDown() { fixture.stop() }

    private func get(_ path: String, _ extra: String) throws -> WireResponse {
        let client = try fixture.client()
        try client.send("GET \(path) HTTP/1.1\r\nHost: t\r\n\(extra)\r\n")
        return try client.readResponse()
    }

    func testGzipResponseWhenAccepted() throws {
        let response = try get("/big", "Accept-Encoding: deflate, gzip;q=0.5\r\n")
        XCTAssertEqual(response.headers["Content-Encoding"], "gzip")
        XCTAssertEqual(response.headers["Vary"], "Accept-Encoding")
        XCTAssertLessThan(response.body.count, TestServer.bigJSON.count)
        XCTAssertEqual(try gunzip(response.body), TestServer.bigJSON)
    }

    func testNoGzipWhenRefusedOrNotOffered() throws {
        for extra in ["Accept-Encoding: gzip;q=0\r\n", "Accept-Encoding: *;q=0\r\n", "", "Accept-Encoding: br\r\n"] {
            let response = try get("/big", extra)
            XCTAssertNil(response.headers["Content-Encoding"], extra)
            XCTAssertEqual(response.headers["Vary"], "Accept-Encoding", extra)
            XCTAssertEqual(response.body, TestServer.bigJSON, extra)
        }
        let wildcard = try get("/big", "Accept-Encoding: *\r\n")
        XCTAssertEqual(wildcard.headers["Content-Encoding"], "gzip")
    }

    func testSmallBodiesAreNotCompressed() throws {
        let response = try get("/hello", "Accept-Encoding: gzip\r\n")
        XCTAssertNil(response.headers["Content-Encoding"])
        XCTAssertNil(response.headers["Vary"])
        XCTAssertEqual(response.text, "hello")
    }

    func testGzipRequestBodyIsDecoded() throws {
        let original = Array(String(repeating: "emergence ", count: 500).utf8)
        let compressed = gzip(original)
        let client = try fixture.client()
        try client.send(Array("POST /echo HTTP/1.1\r\nHost: t\r\nContent-Encoding: gzip\r\nContent-Length: \(compressed.count)\r\n\r\n".utf8) + compressed)
        XCTAssertEqual(try client.readResponse().body, original)
        // The same body chunked, in 7-byte chunks.
        var chunked: [UInt8] = []
        var i = 0
        while i < compressed.count {
            let piece = compressed[i..<min(i + 7, compressed.count)]
            chunked += Array(String(piece.count, radix: 16).utf8) + [13, 10] + piece + [13, 10]
            i += 7
        }
        chunked += Array("0\r\n\r\n".utf8)
        try client.send(Array("POST /echo HTTP/1.1\r\nHost: t\r\nContent-Encoding: gzip\r\nTransfer-Encoding: chunked\r\n\r\n".utf8) + chunked)
        XCTAssertEqual(try client.readResponse().body, original)
    }

    func testRouteCanTakeItsGzipBodyEncoded() throws {
        let original = Array(String(repeating: "emergence ", count: 500).utf8)
        let compressed = gzip(original)
        let client = try fixture.client()
        // The route asked for the body encoded: it arrives compressed, and the handler's own
        // piecewise inflation gives back the original.
        try client.send(Array("POST /echo-encoded HTTP/1.1\r\nHost: t\r\nContent-Encoding: gzip\r\nContent-Length: \(compressed.count)\r\n\r\n".utf8) + compressed)
        var r = try client.readResponse()
        XCTAssertEqual(r.status, 200)
        XCTAssertEqual(r.headers["X-Was-Gzip"], "yes")
        XCTAssertEqual(r.body, original)
        try client.send("POST /echo-encoded HTTP/1.1\r\nHost: t\r\nContent-Length: 5\r\n\r\nhello")
        r = try client.readResponse()
        XCTAssertEqual(r.headers["X-Was-Gzip"], "no")
        XCTAssertEqual(r.text, "hello")
        // A bomb (the limit here is 1 MiB) and a corrupt body get the statuses the server itself would give.
        let limited = try TestServer { $0.maxDecompressedBodyBytes = 1 << 20 }
        defer { limited.stop() }
        let bomb = gzip([UInt8](repeating: 0, count: 8 * 1024 * 1024))
        let limitedClient = try limited.client()
        try limitedClient.send(Array("POST /echo-encoded HTTP/1.1\r\nHost: t\r\nContent-Encoding: gzip\r\nContent-Length: \(bomb.count)\r\n\r\n".utf8) + bomb)
        XCTAssertEqual(try limitedClient.readResponse().status, 413)
        var corrupt = compressed
        corrupt[corrupt.count / 2] ^= 0xFF
        try client.send(Array("POST /echo-encoded HTTP/1.1\r\nHost: t\r\nContent-Encoding: gzip\r\nContent-Length: \(corrupt.count)\r\n\r\n".utf8) + corrupt)
        XCTAssertEqual(try client.readResponse().status, 400)
        let truncated = Array(compressed.prefix(compressed.count - 9))
        try client.send(Array("POST /echo-encoded HTTP/1.1\r\nHost: t\r\nContent-Encoding: gzip\r\nContent-Length: \(truncated.count)\r\n\r\n".utf8) + truncated)
        XCTAssertEqual(try client.readResponse().status, 400)
    }

    func testAcceptEncodingParsing() {
        XCTAssertTrue(ContentNegotiation.acceptsGzip(["Accept-Encoding": "gzip"]))
        XCTAssertTrue(ContentNegotiation.acceptsGzip(["Accept-Encoding": "br;q=1.0, GZIP ; q=0.1"]))
        XCTAssertTrue(ContentNegotiation.acceptsGzip(["Accept-Encoding": "x-gzip"]))
        XCTAssertFalse(ContentNegotiation.acceptsGzip(["Accept-Encoding": "gzip;q=0"]))
        XCTAssertFalse(ContentNegotiation.acceptsGzip(["Accept-Encoding": "gzip;q=0.000, *"]))
        XCTAssertFalse(ContentNegotiation.acceptsGzip(["Accept-Encoding": "identity"]))
        XCTAssertFalse(ContentNegotiation.acceptsGzip([:]))
    }
}
