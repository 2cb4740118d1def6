import XCTest
@testable import HTTP

/// The parser and decoders on their own, fed from byte arrays.
final class ParserTests: XCTestCase {
    private func parse(_ text: String, limits: ParserLimits = ParserLimits()) throws(HTTPParseError) -> RequestHead? {
        var parser = RequestParser(limits: limits)
        let bytes = Array(text.utf8)
        return try bytes.withUnsafeBufferPointer { buffer throws(HTTPParseError) in try parser.parse(buffer)?.0 }
    }

    private func status(_ text: String, limits: ParserLimits = ParserLimits()) -> Int? {
        do {
            _ = try parse(text, limits: limits)
            return nil
        } catch {
            return error.status
        }
    }

    func testParsesRequestLineAndHeaders() throws {
        let head = try XCTUnwrap(parse("POST /a/b?x=1 HTTP/1.1\r\nHost: h\r\ncontent-LENGTH:   12  \r\nX-Empty:\r\n\r\n"))
        XCTAssertEqual(head.method, "POST")
        XCTAssertEqual(head.target, "/a/b?x=1")
        XCTAssertEqual(head.minorVersion, 1)
        XCTAssertEqual(head.headers["Content-Length"], "12")
        XCTAssertEqual(head.headers["x-empty"], "")
        XCTAssertEqual(head.framing, .length(12))
        XCTAssertTrue(head.keepAlive)
        XCTAssertEqual(head.parsedTarget.path, "/a/b")
    }

    func testIncompleteHeadNeedsMoreBytesAtEverySplit() throws {
        let full = Array("GET /x HTTP/1.1\r\nHost: h\r\nA: b\r\n\r\nNEXT".utf8)
        var parser = RequestParser(limits: ParserLimits())
        // Growing prefixes of the same buffer, as a connection would see them.
        for end in 1...full.count {
            let result = try full[0..<end].withUnsafeBufferPointer { buffer throws(HTTPParseError) in try parser.parse(buffer) }
            if end < full.count - 4 {
                XCTAssertNil(result, "complete at \(end)")
            } else {
                XCTAssertEqual(result?.1, full.count - 4)
                XCTAssertEqual(result?.0.headers["A"], "b")
                break
            }
        }
    }

    func testStatusesForBadHeads() {
        XCTAssertEqual(status("GET / HTTP/1.1\r\nHost: h\r\nContent-Length: 1\r\nTransfer-Encoding: chunked\r\n\r\n"), 400)
        XCTAssertEqual(status("GET / HTTP/1.1\r\nHost: h\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n"), 400)
        XCTAssertNil(status("GET / HTTP/1.1\r\nHost: h\r\nContent-Length: 2\r\nContent-Length: 2\r\n\r\n"))
        XCTAssertNil(status("GET / HTTP/1.1\r\nHost: h\r\nContent-Length: 2, 2\r\n\r\n"))
        XCTAssertEqual(status("GET / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked, identity\r\n\r\n"), 400)
        XCTAssertEqual(status("GET / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: gzip, chunked\r\n\r\n"), 501)
        XCTAssertEqual(status("GET / HTTP/1.1\r\nHost: h\r\nA: b\r\n c\r\n\r\n"), 400)
        XCTAssertEqual(status("GET / HTTP/1.1\r\nHost : h\r\n\r\n"), 400)
        XCTAssertEqual(status("GET / HTTP/1.1\r\n\r\n"), 400)
        XCTAssertNil(status("GET / HTTP/1.0\r\n\r\n"))
        XCTAssertEqual(status("GET / HTTP/1.1\r\nHost: a b\r\n\r\n"), 400)
        XCTAssertEqual(status("GET / HTTP/3.0\r\nHost: h\r\n\r\n"), 505)
        XCTAssertNil(status("PURGE / HTTP/1.1\r\nHost: h\r\n\r\n"), "any method token parses; the router answers 404/405")
        XCTAssertEqual(status("GET * HTTP/1.1\r\nHost: h\r\n\r\n"), 400)
        XCTAssertEqual(status("GET /#frag HTTP/1.1\r\nHost: h\r\n\r\n"), 400)
        XCTAssertEqual(status("GET ftp://x/ HTTP/1.1\r\nHost: h\r\n\r\n"), 400)
        XCTAssertEqual(status("GET / HTTP/1.1\r\nHost: h\r\nX: \u{80}ok\r\n\r\n"), nil, "obs-text is allowed in values")
    }

    func testLimitsAreReportedBeforeTheHeadCompletes() {
        let limits = ParserLimits(maxRequestLineBytes: 32, maxHeaderBytes: 64, maxHeaderCount: 3)
        XCTAssertEqual(status("GET /\(String(repeating: "a", count: 40))", limits: limits), 414)
        XCTAssertEqual(status("GET / HTTP/1.1\r\nHost: h\r\nX: \(String(repeating: "a", count: 80))", limits: limits), 431)
        XCTAssertEqual(status("GET / HTTP/1.1\r\nHost: h\r\nA: 1\r\nB: 2\r\nC: 3\r\n\r\n", limits: limits), 431)
        XCTAssertNil(status("GET / HTTP/1.1\r\nHost: h\r\nA: 1\r\nB: 2\r\n\r\n", limits: limits))
        // Body limits belong to the route: the connection checks Content-Length once the route is known.
        XCTAssertNil(status("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 101\r\n\r\n", limits: limits))
        XCTAssertEqual(try parse("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 99999999999999999999999\r\n\r\n")?.framing,
                       .length(Int.max), "an overflowing length saturates, for the route limit to refuse")
    }

    func testExpectAndConnectionSemantics() throws {
        let expect = try XCTUnwrap(parse("POST / HTTP/1.1\r\nHost: h\r\nExpect: 100-Continue\r\nContent-Length: 3\r\n\r\n"))
        XCTAssertTrue(expect.expectContinue)
        XCTAssertEqual(status("POST / HTTP/1.1\r\nHost: h\r\nExpect: 200-ok\r\nContent-Length: 3\r\n\r\n"), 417)
        let close = try XCTUnwrap(parse("GET / HTTP/1.1\r\nHost: h\r\nConnection: keep-alive, Close\r\n\r\n"))
        XCTAssertFalse(close.keepAlive)
        let old = try XCTUnwrap(parse("GET / HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n"))
        XCTAssertTrue(old.keepAlive)
    }

    private func dechunk(_ text: String, splitEvery step: Int, maxBody: Int = 1 << 20) throws(HTTPParseError) -> ([UInt8], Int) {
        var decoder = ChunkedDecoder(maxBodyBytes: maxBody)
        let bytes = Array(text.utf8)
        var body: [UInt8] = []
        var offset = 0
        while offset < bytes.count && !decoder.isComplete {
            let end = min(offset + step, bytes.count)
            let consumed = try bytes[offset..<end].withUnsafeBufferPointer { buffer throws(HTTPParseError) in
                try decoder.decode(buffer, into: &body)
            }
            offset += consumed
            if consumed < end - offset + consumed { break }
        }
        XCTAssertTrue(decoder.isComplete)
        return (body, offset)
    }

    func testChunkedDecoderAtEverySplitSize() throws {
        let message = "4\r\nWiki\r\n5;a=b;c=\"d\"\r\npedia\r\nE\r\n in\r\n\r\nchunks.\r\n0\r\nExpires: never\r\n\r\nGET"
        for step in 1...20 {
            let (body, consumed) = try dechunk(message, splitEvery: step)
            XCTAssertEqual(String(decoding: body, as: UTF8.self), "Wikipedia in\r\n\r\nchunks.", "step \(step)")
            XCTAssertEqual(consumed, message.utf8.count - 3, "step \(step)")
        }
    }

    func testChunkedDecoderRejects() {
        for bad in ["x\r\n", "5\nhello\r\n0\r\n\r\n", "5\r\nhelloX\r\n", "5 \r\nhello\r\n0\r\n\r\n", "\r\n", "0\r\nbad trailer\u{1}\r\n\r\n", "0\r\n\r\r"] {
            XCTAssertThrowsError(try dechunk(bad, splitEvery: 100), bad.debugDescription) { error in
                XCTAssertEqual((error as? HTTPParseError)?.status, 400, bad.debugDescription)
            }
        }
        XCTAssertThrowsError(try dechunk("65\r\n", splitEvery: 100, maxBody: 100)) { error in
            XCTAssertEqual((error as? HTTPParseError)?.status, 413)
        }
        XCTAssertThrowsError(try dechunk("ffffffffffffffffffffffff\r\n", splitEvery: 100)) { error in
            XCTAssertEqual((error as? HTTPParseError)?.status, 413)
        }
        XCTAssertNoThrow(try dechunk("5 ; ext\r\nhello\r\n0\r\n\r\n", splitEvery: 3), "BWS before an extension is allowed")
    }

    func testManySmallChunksAreNotMetadataAbuse() throws {
        // 5,000 one-byte chunks: about 30 KB of size lines, more than the 16 KiB extension budget.
        let message = String(repeating: "1\r\na\r\n", count: 5000) + "0\r\n\r\n"
        let (body, _) = try dechunk(message, splitEvery: 4096)
        XCTAssertEqual(body.count, 5000)
    }

    func testExtensionAndTrailerBudget() {
        let longExtension = "1;" + String(repeating: "x", count: 20_000) + "\r\na\r\n0\r\n\r\n"
        XCTAssertThrowsError(try dechunk(longExtension, splitEvery: 512)) { error in
            XCTAssertEqual((error as? HTTPParseError)?.status, 431)
        }
        let manyTrailers = "0\r\n" + String(repeating: "X-T: 1\r\n", count: 3000) + "\r\n"
        XCTAssertThrowsError(try dechunk(manyTrailers, splitEvery: 512)) { error in
            XCTAssertEqual((error as? HTTPParseError)?.status, 431)
        }
        XCTAssertThrowsError(try dechunk(String(repeating: "0", count: 40) + "1\r\na\r\n0\r\n\r\n", splitEvery: 512)) { error in
            XCTAssertEqual((error as? HTTPParseError)?.status, 400)
        }
    }

    func testGzipInflaterLimitAndTruncation() throws {
        let original = [UInt8](repeating: 7, count: 100_000)
        let compressed = gzip(original)
        XCTAssertEqual(try gunzip(compressed), original)

        let small = try GzipInflater(maxOutputBytes: 50_000)
        var out: [UInt8] = []
        XCTAssertThrowsError(try compressed.withUnsafeBufferPointer { try small.feed($0, into: &out) }) { error in
            XCTAssertEqual((error as? HTTPParseError)?.status, 413)
        }

        let truncated = try GzipInflater(maxOutputBytes: 1 << 20)
        var partial: [UInt8] = []
        try compressed.dropLast(4).withUnsafeBufferPointer { try truncated.feed($0, into: &partial) }
        XCTAssertThrowsError(try truncated.finish())

        let trailing = try GzipInflater(maxOutputBytes: 1 << 20)
        XCTAssertThrowsError(try (compressed + [1, 2, 3]).withUnsafeBufferPointer { try trailing.feed($0, into: &partial) })
    }

    func testPercentDecoding() throws {
        XCTAssertEqual(try percentDecode("a%20b%2Fc", plusAsSpace: false), "a b/c")
        XCTAssertEqual(try percentDecode("a+b", plusAsSpace: false), "a+b")
        XCTAssertEqual(try percentDecode("a+b%2B", plusAsSpace: true), "a b+")
        XCTAssertEqual(try percentDecode("%e2%82%ac", plusAsSpace: false), "€")
        XCTAssertThrowsError(try percentDecode("%4", plusAsSpace: false))
        XCTAssertThrowsError(try percentDecode("%ff", plusAsSpace: false), "invalid UTF-8")
        XCTAssertThrowsError(try percentDecode("%00", plusAsSpace: false))
    }

    func testHeadersAreOrderedAndCaseInsensitive() {
        var headers = HTTPHeaders()
        headers.add("Set-Cookie", "a=1")
        headers.add("content-type", "text/plain")
        headers.add("SET-COOKIE", "b=2")
        XCTAssertEqual(headers["Content-Type"], "text/plain")
        XCTAssertEqual(headers.values("set-cookie"), ["a=1", "b=2"])
        headers.set("Set-Cookie", "c=3")
        XCTAssertEqual(headers.map(\.name), ["Set-Cookie", "content-type"])
        XCTAssertEqual(headers.values("Set-Cookie"), ["c=3"])
        headers.remove("CONTENT-TYPE")
        XCTAssertNil(headers["content-type"])
        XCTAssertEqual(headers.count, 1)
    }

    func testResponseSerializerRefusesHeaderInjection() {
        var response = HTTPResponse.text(200, "x")
        response.headers.add("X-Bad", "a\r\nSet-Cookie: evil=1")
        response.headers.add("Content-Length", "999")
        let text = String(decoding: ResponseSerializer.serialize(response, headOnly: false, keepAlive: true, echoKeepAlive: false), as: UTF8.self)
        XCTAssertFalse(text.contains("evil"))
        XCTAssertFalse(text.contains("999"))
        XCTAssertTrue(text.contains("Content-Length: 1\r\n"))
    }

    func testCharacterClassTestsAgreeWithTheTables() {
        for value in 0...255 {
            let byte = UInt8(value)
            XCTAssertEqual(CharacterClasses.isToken(byte), CharacterClasses.token[value], "token \(value)")
            XCTAssertEqual(CharacterClasses.isFieldValue(byte), CharacterClasses.fieldValue[value], "field value \(value)")
            XCTAssertEqual(CharacterClasses.isTarget(byte), CharacterClasses.target[value], "target \(value)")
        }
    }

    func testConstantResponseLinesAgreeWithTheirSources() {
        let policy = ResponseSerializer.policyLine
        XCTAssertEqual(String(decoding: UnsafeBufferPointer(start: policy.utf8Start, count: policy.utf8CodeUnitCount), as: UTF8.self),
                       "Content-Security-Policy: \(SecurityHeaders.lockedDown)\r\n")
        for status in 100...599 {
            guard let line = ResponseSerializer.staticStatusLine(status) else { continue }
            XCTAssertEqual(String(decoding: UnsafeBufferPointer(start: line.utf8Start, count: line.utf8CodeUnitCount), as: UTF8.self),
                           "HTTP/1.1 \(status) \(StatusPhrase.phrase(status))\r\n")
        }
    }

    func testHTTPDateFormat() {
        XCTAssertEqual(HTTPDate.format(784111777), "Sun, 06 Nov 1994 08:49:37 GMT")
    }
}
