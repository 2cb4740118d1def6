import Foundation
import Glibc
import Logging
import XCTest
@testable import HTTP

/// A response as read off the wire by `RawClient`.
struct WireResponse {
    var status: Int
    var headers: HTTPHeaders
    var body: [UInt8]
    var text: String { String(decoding: body, as: UTF8.self) }
}

struct ClientError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

/// A blocking TCP client over raw Glibc sockets, so tests can send any bytes at any pace.
/// Every read has a 5 s timeout so a broken server fails a test instead of hanging it.
final class RawClient {
    let fd: Int32
    private var buffer: [UInt8] = []

    init(port: Int, ipv6: Bool = false, timeout: Int = 5) throws {
        fd = socket(ipv6 ? AF_INET6 : AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw ClientError("socket failed") }
        var tv = timeval(tv_sec: timeout, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
        setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
        var one: Int32 = 1
        setsockopt(fd, Int32(IPPROTO_TCP), TCP_NODELAY, &one, socklen_t(MemoryLayout<Int32>.size))
        let rc: Int32
        if ipv6 {
            var address = sockaddr_in6()
            address.sin6_family = sa_family_t(AF_INET6)
            address.sin6_port = UInt16(port).bigEndian
            address.sin6_addr = in6addr_loopback
            rc = withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in6>.size)) }
            }
        } else {
            var address = sockaddr_in()
            address.sin_family = sa_family_t(AF_INET)
            address.sin_port = UInt16(port).bigEndian
            address.sin_addr.s_addr = inet_addr("127.0.0.1")
            rc = withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
            }
        }
        guard rc == 0 else {
            let message = String(cString: strerror(errno))
            Glibc.close(fd)
            throw ClientError("connect failed: \(message)")
        }
    }

    private var closed = false

    deinit { close() }

    func close() {
        guard !closed else { return }
        closed = true
        Glibc.close(fd)
    }

    func send(_ text: String) throws { try send(Array(text.utf8)) }

    func send(_ bytes: [UInt8]) throws {
        var sent = 0
        while sent < bytes.count {
            let n = bytes.withUnsafeBufferPointer { Glibc.send(fd, $0.baseAddress! + sent, bytes.count - sent, Int32(MSG_NOSIGNAL)) }
            guard n > 0 else { throw ClientError("send failed: \(String(cString: strerror(errno)))") }
            sent += n
        }
    }

    /// Sends each byte in its own write.
    func sendSlowly(_ text: String, pauseMicroseconds: UInt32 = 500) throws {
        for byte in Array(text.utf8) {
            try send([byte])
            usleep(pauseMicroseconds)
        }
    }

    func shutdownWrite() { shutdown(fd, Int32(SHUT_WR)) }

    /// True when bytes (or EOF) become readable within `milliseconds`.
    func isReadable(within milliseconds: Int32) -> Bool {
        if !buffer.isEmpty { return true }
        var descriptor = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
        return poll(&descriptor, 1, milliseconds) > 0
    }

    /// Reads more bytes; false at EOF. Throws on timeout or error.
    @discardableResult
    private func fill() throws -> Bool {
        var chunk = [UInt8](repeating: 0, count: 64 * 1024)
        let n = chunk.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
        if n > 0 {
            buffer.append(contentsOf: chunk[0..<n])
            return true
        }
        if n == 0 { return false }
        if errno == EAGAIN || errno == EWOULDBLOCK { throw ClientError("read timed out") }
        if errno == ECONNRESET { return false }
        throw ClientError("recv failed: \(String(cString: strerror(errno)))")
    }

    /// Reads one response; `bodyless` for answers to HEAD.
    func readResponse(bodyless: Bool = false) throws -> WireResponse {
        var headEnd: Int?
        while headEnd == nil {
            if let range = findCRLFCRLF() { headEnd = range; break }
            guard try fill() else { throw ClientError("connection closed before a response head (got \(buffer.count) bytes)") }
        }
        let headText = String(decoding: buffer[0..<headEnd!], as: UTF8.self)
        buffer.removeFirst(headEnd! + 4)
        var lines = headText.components(separatedBy: "\r\n")
        let statusLine = lines.removeFirst().split(separator: " ")
        guard statusLine.count >= 2, statusLine[0] == "HTTP/1.1", let status = Int(statusLine[1]) else {
            throw ClientError("bad status line in \(headText)")
        }
        var headers = HTTPHeaders()
        for line in lines {
            guard let colon = line.firstIndex(of: ":") else { throw ClientError("bad header line \(line)") }
            headers.add(String(line[..<colon]), line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces))
        }
        var body: [UInt8] = []
        if !bodyless && status >= 200 && status != 204 && status != 304 {
            guard let lengthText = headers["Content-Length"], let length = Int(lengthText) else {
                throw ClientError("response without Content-Length: \(headText)")
            }
            while buffer.count < length {
                guard try fill() else { throw ClientError("connection closed inside a body") }
            }
            body = Array(buffer[0..<length])
            buffer.removeFirst(length)
        }
        return WireResponse(status: status, headers: headers, body: body)
    }

    /// True when the server has closed (EOF or reset) with no further bytes.
    func isClosedByServer() throws -> Bool {
        guard buffer.isEmpty else { return false }
        return try !fill()
    }

    private func findCRLFCRLF() -> Int? {
        guard buffer.count >= 4 else { return nil }
        for i in 0...(buffer.count - 4) where buffer[i] == 13 && buffer[i + 1] == 10 && buffer[i + 2] == 13 && buffer[i + 3] == 10 {
            return i
        }
        return nil
    }
}

/// Fixture: a server on an ephemeral port with the test routes, stopped after `body`.
final class TestServer: Sendable {
    let server: HTTPServer
    let router: Router
    var port: Int { server.port }
    /// Lets `/block` handlers proceed.
    let gate = DispatchSemaphore(value: 0)

    init(_ configure: (inout ServerConfiguration) -> Void = { _ in }) throws {
        var configuration = ServerConfiguration(host: "127.0.0.1", port: 0)
        configuration.eventLoopCount = 2
        configure(&configuration)
        router = Router()
        server = HTTPServer(configuration: configuration, router: router, logger: Logger(label: "http-test"))
        TestServer.addRoutes(router, gate: gate)
        try server.start()
    }

    func stop() { server.shutdown(deadline: 2) }

    func client(ipv6: Bool = false) throws -> RawClient { try RawClient(port: port, ipv6: ipv6) }

    /// A fresh connection still gets answered: the check run after every malformed request.
    func assertStillServing(file: StaticString = #filePath, line: UInt = #line) throws {
        let client = try self.client()
        try client.send("GET /hello HTTP/1.1\r\nHost: t\r\n\r\n")
        let response = try client.readResponse()
        XCTAssertEqual(response.status, 200, file: file, line: line)
        XCTAssertEqual(response.text, "hello", file: file, line: line)
    }

    static let bigJSON: [UInt8] = {
        var text = "["
        for i in 0..<200 { text += (i == 0 ? "" : ",") + "{\"index\":\(i),\"name\":\"item number \(i)\"}" }
        return Array((text + "]").utf8)
    }()

    /// 4 MiB of a non-repeating byte pattern, so a misplaced or lost chunk shows.
    static let huge: [UInt8] = {
        var bytes = [UInt8](repeating: 0, count: 4 * 1024 * 1024)
        var state: UInt32 = 2463534242
        bytes.withUnsafeMutableBufferPointer { buffer in
            for i in 0..<buffer.count {
                state ^= state << 13; state ^= state >> 17; state ^= state << 5
                buffer[i] = UInt8(truncatingIfNeeded: state)
            }
        }
        return bytes
    }()

    static func addRoutes(_ router: Router, gate: DispatchSemaphore) {
        router.add("GET", "/hello") { _ in .text(200, "hello") }
        router.add("POST", "/echo") { request in
            var response = HTTPResponse(status: 200, body: request.body)
            response.headers.add("Content-Type", "application/octet-stream")
            return response
        }
        // Takes a gzip body still encoded and inflates it itself, in 100-byte pieces of input.
        router.add("POST", "/echo-encoded", policy: RoutePolicy(encodedBody: true)) { request in
            var body = request.body
            if request.bodyIsGzip {
                body = []
                do {
                    let decoder = try GzipBodyDecoder(request)
                    while try decoder.next(into: &body, inputBytes: 100) {}
                } catch let failure as GzipBodyDecoder.Failure {
                    return .problem(status: failure.status, title: "Refused", detail: failure.detail)
                } catch {
                    return .problem(status: 500, title: "Unexpected", detail: "\(error)")
                }
            }
            var response = HTTPResponse(status: 200, body: body)
            response.headers.add("X-Was-Gzip", request.bodyIsGzip ? "yes" : "no")
            return response
        }
        router.add("GET", "/big") { _ in .json(200, bigJSON) }
        router.add("GET", "/huge") { _ in HTTPResponse(status: 200, body: huge) }
        router.add("GET", "/sleep") { request in
            let ms = Int(request.query("ms") ?? "0") ?? 0
            usleep(UInt32(ms * 1000))
            return .text(200, request.query("tag") ?? "\(ms)")
        }
        router.add("GET", "/block") { _ in
            gate.wait()
            return .text(200, "unblocked")
        }
        router.add("GET", "/v1/fits/{id}") { request in .text(200, "fit:\(request.pathParameters["id"] ?? "?")") }
        router.add("PUT", "/v1/fits/{id}") { request in .text(200, "put:\(request.pathParameters["id"] ?? "?")") }
        router.add("GET", "/v1/fits/latest") { _ in .text(200, "latest") }
        router.add("GET", "/query") { request in
            .text(200, request.queryItems.map { "\($0.name)=\($0.value)" }.joined(separator: ";"))
        }
        router.add("GET", "/path/{rest}") { request in .text(200, "\(request.path)|\(request.pathParameters["rest"] ?? "")") }
        router.add("GET", "/remote") { request in .text(200, request.remoteAddress) }
    }
}

func gunzip(_ bytes: [UInt8]) throws -> [UInt8] {
    let inflater = try GzipInflater(maxOutputBytes: 1 << 30)
    var out: [UInt8] = []
    try bytes.withUnsafeBufferPointer { try inflater.feed($0, into: &out) }
    try inflater.finish()
    return out
}

func gzip(_ bytes: [UInt8]) -> [UInt8] { gzipCompress(bytes, level: 6)! }
