#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Decimal text → Double without building a Swift String per cell (ingestion parses millions).
///
/// Correctly rounded: short values take an exact fast path, the rest the C library's `strtod` on a
/// small NUL-terminated copy (the process never calls `setlocale`, so the decimal point is `.`).
package struct NumberText {
    enum Outcome: Equatable {
        case number(Double)
        case notANumber
        case notFinite
    }

    private static let capacity = 128

    /// Parses the whole of `bytes[start..<end]` (surrounding spaces and tabs ignored). Hex floats and
    /// other strtod extras are refused: only [+-]digits[.digits][e[+-]digits] and nan/inf spellings.
    static func parse(_ bytes: UnsafeBufferPointer<UInt8>, _ start: Int, _ end: Int) -> Outcome {
        var s = start, e = end
        while s < e, bytes[s] == 0x20 || bytes[s] == 0x09 { s += 1 }
        while e > s, bytes[e - 1] == 0x20 || bytes[e - 1] == 0x09 { e -= 1 }
        let n = e - s
        guard n > 0, n < capacity else { return .notANumber }
        var sawDigit = false
        var i = s
        var negative = false
        if bytes[i] == 0x2B || bytes[i] == 0x2D { negative = bytes[i] == 0x2D; i += 1 }  // + -
        if i < e, isLetter(bytes[i]) {
            // nan, inf, infinity in any case: a number, but not a usable one.
            return isNonFiniteWord(bytes, i, e) ? .notFinite : .notANumber
        }
        // The digits as an integer and a power of ten, for the exact fast path below.
        var mantissa: UInt64 = 0
        var digits = 0        // significant digits in `mantissa` (leading zeros skipped)
        var scale = 0         // value = mantissa × 10^(scale + exponent)
        var exact = true      // false once a digit does not fit
        @inline(__always) func take(_ b: UInt8, fraction: Bool) {
            if mantissa == 0 && b == 0x30 {
                if fraction { scale -= 1 }
                return
            }
            if digits < 19 {
                mantissa = mantissa &* 10 &+ UInt64(b &- 0x30)
                digits += 1
                if fraction { scale -= 1 }
            } else {
                exact = false
            }
        }
        while i < e, isDigit(bytes[i]) { take(bytes[i], fraction: false); i += 1; sawDigit = true }
        if i < e, bytes[i] == 0x2E {
            i += 1
            while i < e, isDigit(bytes[i]) { take(bytes[i], fraction: true); i += 1; sawDigit = true }
        }
        guard sawDigit else { return .notANumber }
        var exponent = 0
        if i < e, bytes[i] == 0x65 || bytes[i] == 0x45 {  // e E
            i += 1
            var expNegative = false
            if i < e, bytes[i] == 0x2B || bytes[i] == 0x2D { expNegative = bytes[i] == 0x2D; i += 1 }
            var expDigit = false
            while i < e, isDigit(bytes[i]) {
                if exponent < 100_000 { exponent = exponent * 10 + Int(bytes[i] - 0x30) }
                i += 1
                expDigit = true
            }
            guard expDigit else { return .notANumber }
            if expNegative { exponent = -exponent }
        }
        guard i == e else { return .notANumber }
        // Clinger's fast path: a mantissa below 2^53 and a power of ten up to 10^22 are both exact
        // doubles, so one IEEE multiply or divide rounds the value correctly, as strtod would.
        // Nearly every value in an upload ("2.13436", "1e9", "0.25") takes it.
        let power = scale + exponent
        if exact, mantissa < (1 << 53), power >= -22, power <= 22 {
            let m = Double(mantissa)
            let v = power < 0 ? m / powersOfTen[-power] : m * powersOfTen[power]
            return .number(negative ? -v : v)
        }
        let value: Double = withUnsafeTemporaryAllocation(of: CChar.self, capacity: capacity) { buf in
            for k in 0..<n { buf[k] = CChar(bitPattern: bytes[s + k]) }
            buf[n] = 0
            return strtod(buf.baseAddress!, nil)
        }
        return value.isFinite ? .number(value) : .notFinite  // 1e999 overflows to inf
    }

    /// 10^0 … 10^22: every one an exact double.
    private static let powersOfTen: [Double] = (0...22).map { k in (0..<k).reduce(1.0) { x, _ in x * 10 } }

    @inline(__always) static func isDigit(_ b: UInt8) -> Bool { b >= 0x30 && b <= 0x39 }
    @inline(__always) static func isLetter(_ b: UInt8) -> Bool { (b | 0x20) >= 0x61 && (b | 0x20) <= 0x7A }

    private static func isNonFiniteWord(_ bytes: UnsafeBufferPointer<UInt8>, _ s: Int, _ e: Int) -> Bool {
        var word: [UInt8] = []
        word.reserveCapacity(e - s)
        for k in s..<e { word.append(bytes[k] | 0x20) }
        return word == Array("nan".utf8) || word == Array("inf".utf8) || word == Array("infinity".utf8)
    }

    /// An integral Double as Int (5 and 5.0 both mean five shots); nil when it has a fraction or is huge.
    package static func integer(_ v: Double) -> Int? {
        guard v.rounded() == v, abs(v) < 9.0e15 else { return nil }
        return Int(v)
    }
}
