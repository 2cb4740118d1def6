import HTTP

/// The id that ties a response to its log lines: the client's `X-Request-Id` when it is a plain token
/// (1–64 of `A-Z a-z 0-9 - _ . :`, so it cannot forge log structure), else a fresh random one.
enum RequestID {
    static func of(_ request: HTTPRequest) -> String { of(request.headers) }

    static func of(_ headers: HTTPHeaders) -> String {
        if let given = headers["X-Request-Id"], isWellFormed(given) { return given }
        return fresh()
    }

    static func isWellFormed(_ s: String) -> Bool {
        guard (1...64).contains(s.utf8.count) else { return false }
        return s.utf8.allSatisfy { b in
            (b >= 0x30 && b <= 0x39) || (b >= 0x41 && b <= 0x5A) || (b >= 0x61 && b <= 0x7A) || b == 0x2D || b == 0x5F || b == 0x2E || b == 0x3A
        }
    }

    /// 128 random bits as 32 hex digits.
    static func fresh() -> String {
        var g = SystemRandomNumberGenerator()
        let hi = g.next() as UInt64, lo = g.next() as UInt64
        let h = String(hi, radix: 16), l = String(lo, radix: 16)
        return String(repeating: "0", count: 16 - h.count) + h + String(repeating: "0", count: 16 - l.count) + l
    }
}
