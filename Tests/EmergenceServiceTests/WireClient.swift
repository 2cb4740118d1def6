import Foundation
import Glibc
import HTTP

/// A minimal HTTP/1.1 client over a real socket: one request per connection, read to EOF.
/// Every read times out after 30 s, so a hung server fails the test instead of stalling it.
enum WireClient {
    struct Failure: Error, CustomStringConvertible { var description: String }

    /// A TCP socket connected to 127.0.0.1:port (the caller closes it).
    static func connected(port: Int) throws -> Int32 {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw Failure(description: "socket failed") }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = UInt16(port).bigEndian
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let rc = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard rc == 0 else {
            close(fd)
            throw Failure(description: "connect failed")
        }
        return fd
    }

    static func send(port: Int, _ method: String, _ target: String, body: [UInt8] = [],
                     headers: [(String, String)] = []) throws -> Reply {
        let fd = try connected(port: port)
        defer { close(fd) }
        var tv = timeval(tv_sec: 30, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
        var head = "\(method) \(target) HTTP/1.1\r\nHost: 127.0.0.1:\(port)\r\nConnection: close\r\nContent-Length: \(body.count)\r\n"
        for (n, v) in headers { head += "\(n): \(v)\r\n" }
        head += "\r\n"
        let out = Array(head.utf8) + body
        var sent = 0
        while sent < out.count {
            let n = out.withUnsafeBufferPointer { Glibc.send(fd, $0.baseAddress! + sent, out.count - sent, Int32(MSG_NOSIGNAL)) }
            guard n > 0 else { throw Failure(description: "send failed") }
            sent += n
        }
        var data: [UInt8] = []
        var buf = [UInt8](repeating: 0, count: 65536)
        while true {
            let n = buf.withUnsafeMutableBufferPointer { recv(fd, $0.baseAddress, $0.count, 0) }
            if n == 0 { break }
            guard n > 0 else { throw Failure(description: "recv failed or timed out") }
            data += buf[0..<n]
        }
        guard let split = data.firstRange(of: Array("\r\n\r\n".utf8)) else { throw Failure(description: "no header end") }
        let headText = String(decoding: data[..<split.lowerBound], as: UTF8.self)
        var lines = headText.components(separatedBy: "\r\n")
        let statusLine = lines.removeFirst().split(separator: " ")
        guard statusLine.count >= 2, let status = Int(statusLine[1]) else { throw Failure(description: "bad status line") }
        var h = HTTPHeaders()
        for l in lines {
            guard let colon = l.firstIndex(of: ":") else { continue }
            h.add(String(l[..<colon]), String(l[l.index(after: colon)...]).trimmingCharacters(in: .whitespaces))
        }
        var body = Array(data[split.upperBound...])
        if let len = h["Content-Length"].flatMap(Int.init), body.count > len { body = Array(body.prefix(len)) }
        return Reply(status: status, headers: h, body: body)
    }
}
