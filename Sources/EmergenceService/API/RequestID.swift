import HTTP
import Synchronization

/// The id that ties a response to its log lines: the client's `X-Request-Id` when it is a plain token
/// (1–64 of `A-Z a-z 0-9 - _ . :`, so it cannot forge log structure), else a fresh one (`fresh`).
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

    /// 128 bits as 32 hex digits: a counter hashed with SipHash under the process's random key
    /// (Swift's `Hasher`), so ids never repeat within a process and cannot be worked out without
    /// the key, with no system call per response (drawing them from the kernel took two, a
    /// measurable share of a response answered from memory).
    static func fresh() -> String {
        let n = counter.add(1, ordering: .relaxed).newValue
        var a = Hasher(), b = Hasher()
        a.combine(n)
        b.combine(n)
        b.combine(UInt8(1))
        let hi = UInt64(bitPattern: Int64(a.finalize())), lo = UInt64(bitPattern: Int64(b.finalize()))
        return String(unsafeUninitializedCapacity: 32) { out in
            let digits: StaticString = "0123456789abcdef"
            digits.withUTF8Buffer { hex in
                for i in 0..<16 {
                    out[i] = hex[Int((hi >> UInt64(60 - 4 * i)) & 0xF)]
                    out[16 + i] = hex[Int((lo >> UInt64(60 - 4 * i)) & 0xF)]
                }
            }
            return 32
        }
    }

    private static let counter = Atomic<UInt64>(0)
}
