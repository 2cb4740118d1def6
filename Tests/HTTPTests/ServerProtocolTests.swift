import Foundation
import Glibc
import XCTest
@testable import HTTP

/// RFC 9112/9110 behaviour over real sockets.
final class ServerProtocolTests: XCTestCase {
    var fixture: TestServer!

    override func setUpWithError() throws { fixture = try TestServer() }
    override func tearDown() { fixture.stop() }

    func testSimpleGetCarriesDateAndContentLength() throws {
        let client = try fixture.client()
        try client.send("GET /hello HTTP/1.1\r\nHost: t\r\n\r\n")
        let response = try client.readResponse()
        XCTAssertEqual(response.status, 200)
        XCTAssertEqual(response.text, "hello")
        XCTAssertEqual(response.headers["Content-Length"], "5")
        let date = try XCTUnwrap(response.headers["Date"])
        XCTAssertTrue(date.hasSuffix(" GMT") && date.count == 29, date)
        XCTAssertNil(response.headers["Connection"])
    }

    func testKeepAliveIsTheDefaultInHTTP11() throws {
        let client = try fixture.client()
        for i in 0..<3 {
            try client.send("GET /sleep?tag=\(i) HTTP/1.1\r\nHost: t\r\n\r\n")
            XCTAssertEqual(try client.readResponse().text, "\(i)")
        }
    }

    func testConnectionCloseIsHonoured() throws {
        let client = try fixture.client()
        try client.send("GET /hello HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n")
        let response = try client.readResponse()
        XCTAssertEqual(response.headers["Connection"], "close")
        XCTAssertTrue(try client.isClosedByServer())
    }

    func testHTTP10ClosesByDefaultAndKeepsAliveOnRequest() throws {
        let client = try fixture.client()
        try client.send("GET /hello HTTP/1.0\r\n\r\n")
        XCTAssertEqual(try client.readResponse().status, 200)
        XCTAssertTrue(try client.isClosedByServer())

        let keep = try fixture.client()
        try keep.send("GET /hello HTTP/1.0\r\nConnection: keep-alive\r\n\r\n")
        let first = try keep.readResponse()
        XCTAssertEqual(first.headers["Connection"], "keep-alive")
        try keep.send("GET /hello HTTP/1.0\r\n\r\n")
        XCTAssertEqual(try keep.readResponse().text, "hello")
        XCTAssertTrue(try keep.isClosedByServer())
    }

    func testThreePipelinedRequestsInOneWriteAreAnsweredInOrder() throws {
        let client = try fixture.client()
        // The first handler is the slowest, so out-of-order completion would show.
        try client.send("GET /sleep?ms=150&tag=first HTTP/1.1\r\nHost: t\r\n\r\n"
                        + "POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 6\r\n\r\nsecond"
                        + "GET /sleep?ms=1&tag=third HTTP/1.1\r\nHost: t\r\n\r\n")
        XCTAssertEqual(try client.readResponse().text, "first")
        XCTAssertEqual(try client.readResponse().text, "second")
        XCTAssertEqual(try client.readResponse().text, "third")
    }

    func testRequestArrivingOneBytePerWrite() throws {
        let client = try fixture.client()
        try client.sendSlowly("POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 11\r\n\r\nhello world")
        XCTAssertEqual(try client.readResponse().text, "hello world")
        try client.sendSlowly("POST /echo HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n5;ext=1\r\nhello\r\n6\r\n world\r\n0\r\nTrailer-A: x\r\n\r\n")
        XCTAssertEqual(try client.readResponse().text, "hello world")
    }

    func testThousandSequentialRequestsOnOneConnection() throws {
        let client = try fixture.client()
        for i in 0..<1000 {
            try client.send("GET /v1/fits/\(i) HTTP/1.1\r\nHost: t\r\n\r\n")
            let response = try client.readResponse()
            XCTAssertEqual(response.text, "fit:\(i)")
            if response.status != 200 { break }
        }
    }

    func testTwoHundredConcurrentClients() throws {
        let clients = try (0..<200).map { _ in try fixture.client() }
        for (i, client) in clients.enumerated() {
            try client.send("GET /sleep?ms=5&tag=c\(i) HTTP/1.1\r\nHost: t\r\n\r\n")
        }
        for (i, client) in clients.enumerated() {
            let response = try client.readResponse()
            XCTAssertEqual(response.status, 200)
            XCTAssertEqual(response.text, "c\(i)")
        }
        // All 200 are still open and usable at once.
        for client in clients { try client.send("GET /hello HTTP/1.1\r\nHost: t\r\n\r\n") }
        for client in clients { XCTAssertEqual(try client.readResponse().text, "hello") }
    }

    func testChunkedBodyWithExtensionsAndTrailers() throws {
        let client = try fixture.client()
        try client.send("POST /echo HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n"
                        + "3;name=\"v\"\r\nabc\r\nA\r\n0123456789\r\n0\r\nX-Checksum: 1\r\nX-Other: 2\r\n\r\n")
        XCTAssertEqual(try client.readResponse().text, "abc0123456789")
        // The connection stays usable: the decoder stopped exactly at the end of the body.
        try client.send("GET /hello HTTP/1.1\r\nHost: t\r\n\r\n")
        XCTAssertEqual(try client.readResponse().text, "hello")
    }

    func testExpectContinueGetsInterimResponseBeforeBody() throws {
        let client = try fixture.client()
        try client.send("POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 2048\r\nExpect: 100-continue\r\n\r\n")
        let interim = try client.readResponse()
        XCTAssertEqual(interim.status, 100)
        try client.send([UInt8](repeating: 0x61, count: 2048))
        let final = try client.readResponse()
        XCTAssertEqual(final.status, 200)
        XCTAssertEqual(final.body.count, 2048)
    }

    func testExpectContinueRefusedEarlyWhenTooLarge() throws {
        let client = try fixture.client()
        try client.send("POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: \(64 * 1024 * 1024)\r\nExpect: 100-continue\r\n\r\n")
        let response = try client.readResponse()
        XCTAssertEqual(response.status, 413)
        XCTAssertTrue(try client.isClosedByServer())
    }

    func testHeadHasGetsLengthButNoBody() throws {
        let client = try fixture.client()
        try client.send("GET /big HTTP/1.1\r\nHost: t\r\n\r\n")
        let get = try client.readResponse()
        try client.send("HEAD /big HTTP/1.1\r\nHost: t\r\n\r\n")
        let head = try client.readResponse(bodyless: true)
        XCTAssertEqual(head.status, 200)
        XCTAssertEqual(head.headers["Content-Length"], "\(get.body.count)")
        XCTAssertEqual(head.headers["Content-Type"], "application/json")
        // Had HEAD sent a body, this response would be misread.
        try client.send("GET /hello HTTP/1.1\r\nHost: t\r\n\r\n")
        XCTAssertEqual(try client.readResponse().text, "hello")
    }

    func testOptionsListsAllowedMethods() throws {
        let client = try fixture.client()
        try client.send("OPTIONS /v1/fits/7 HTTP/1.1\r\nHost: t\r\n\r\n")
        let response = try client.readResponse()
        XCTAssertEqual(response.status, 204)
        XCTAssertEqual(response.headers["Allow"], "GET, HEAD, OPTIONS, PUT")
        XCTAssertNil(response.headers["Content-Length"])
        try client.send("OPTIONS * HTTP/1.1\r\nHost: t\r\n\r\n")
        XCTAssertEqual(try client.readResponse().status, 204)
    }

    func testNotFoundAndMethodNotAllowedAreProblemDetails() throws {
        let client = try fixture.client()
        try client.send("GET /nope HTTP/1.1\r\nHost: t\r\n\r\n")
        let notFound = try client.readResponse()
        XCTAssertEqual(notFound.status, 404)
        XCTAssertEqual(notFound.headers["Content-Type"], "application/problem+json")
        let json = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(notFound.body)) as? [String: Any])
        XCTAssertEqual(json["status"] as? Int, 404)
        XCTAssertEqual(json["title"] as? String, "Not Found")
        XCTAssertEqual(json["type"] as? String, "about:blank")

        try client.send("DELETE /v1/fits/3 HTTP/1.1\r\nHost: t\r\n\r\n")
        let notAllowed = try client.readResponse()
        XCTAssertEqual(notAllowed.status, 405)
        XCTAssertEqual(notAllowed.headers["Allow"], "GET, HEAD, OPTIONS, PUT")
        XCTAssertEqual(notAllowed.headers["Content-Type"], "application/problem+json")
    }

    func testAbsoluteFormPercentDecodingAndQuery() throws {
        let client = try fixture.client()
        try client.send("GET http://example.org/v1/fits/a%20b HTTP/1.1\r\nHost: example.org\r\n\r\n")
        XCTAssertEqual(try client.readResponse().text, "fit:a b")
        // An encoded slash stays inside its segment.
        try client.send("GET /path/a%2Fb HTTP/1.1\r\nHost: t\r\n\r\n")
        XCTAssertEqual(try client.readResponse().text, "/path/a/b|a/b")
        try client.send("GET /query?q=a+b%26c&flag&x=%C3%A9 HTTP/1.1\r\nHost: t\r\n\r\n")
        XCTAssertEqual(try client.readResponse().text, "q=a b&c;flag=;x=é")
        // Literal segments win over {id}.
        try client.send("GET /v1/fits/latest HTTP/1.1\r\nHost: t\r\n\r\n")
        XCTAssertEqual(try client.readResponse().text, "latest")
    }

    func testLeadingEmptyLinesAreIgnored() throws {
        let client = try fixture.client()
        try client.send("\r\n\r\nGET /hello HTTP/1.1\r\nHost: t\r\n\r\n")
        XCTAssertEqual(try client.readResponse().text, "hello")
    }

    func testHalfClosedClientStillGetsItsResponse() throws {
        let client = try fixture.client()
        try client.send("GET /sleep?ms=50&tag=half HTTP/1.1\r\nHost: t\r\n\r\n")
        client.shutdownWrite()
        XCTAssertEqual(try client.readResponse().text, "half")
        XCTAssertTrue(try client.isClosedByServer())
    }

    func testLargeResponseSurvivesPartialWrites() throws {
        let expected = TestServer.huge  // built before the request, not inside the handler
        let client = try fixture.client()
        try client.send("GET /huge HTTP/1.1\r\nHost: t\r\n\r\n")
        usleep(200_000)  // let the socket buffers fill so the server sees EAGAIN
        let response = try client.readResponse()
        XCTAssertEqual(response.body.count, expected.count)
        XCTAssertTrue(response.body == expected)
    }

    func testSlowHandlerDoesNotStallOtherConnections() throws {
        let blocked = try fixture.client()
        try blocked.send("GET /block HTTP/1.1\r\nHost: t\r\n\r\n")
        usleep(50_000)
        for _ in 0..<5 { try fixture.assertStillServing() }
        fixture.gate.signal()
        XCTAssertEqual(try blocked.readResponse().text, "unblocked")
    }

    func testIPv6Listener() throws {
        let v6 = try TestServer { $0.host = "::1" }
        defer { v6.stop() }
        let client = try v6.client(ipv6: true)
        try client.send("GET /remote HTTP/1.1\r\nHost: [::1]\r\n\r\n")
        let response = try client.readResponse()
        XCTAssertEqual(response.status, 200)
        XCTAssertTrue(response.text.hasPrefix("[::1]:"), response.text)
    }

    func testLocalhostListensOnBothLoopbacksWithOnePort() throws {
        let both = try TestServer { $0.host = "localhost" }
        defer { both.stop() }
        for ipv6 in [false, true] {
            let client = try RawClient(port: both.port, ipv6: ipv6)
            try client.send("GET /hello HTTP/1.1\r\nHost: localhost\r\n\r\n")
            XCTAssertEqual(try client.readResponse().status, 200)
        }
    }

    func testWildcardHostListensOnIPv4AndIPv6WithOnePort() throws {
        let both = try TestServer { $0.host = "*" }
        defer { both.stop() }
        for ipv6 in [false, true] {
            let client = try RawClient(port: both.port, ipv6: ipv6)
            try client.send("GET /remote HTTP/1.1\r\nHost: t\r\n\r\n")
            let response = try client.readResponse()
            XCTAssertEqual(response.status, 200)
            XCTAssertTrue(response.text.hasPrefix(ipv6 ? "[::1]:" : "127.0.0.1:"), response.text)
        }
    }
}
