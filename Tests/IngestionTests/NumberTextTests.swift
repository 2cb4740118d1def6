@testable import Ingestion
import Foundation
import XCTest

/// `NumberText.parse` must give exactly what `strtod` gives (correct rounding), fast path or not.
final class NumberTextTests: XCTestCase {
    private func parse(_ s: String) -> NumberText.Outcome {
        let bytes = Array(s.utf8)
        return bytes.withUnsafeBufferPointer { NumberText.parse($0, 0, $0.count) }
    }

    private func assertMatchesStrtod(_ s: String, file: StaticString = #filePath, line: UInt = #line) {
        let expected = strtod(s, nil)
        guard case .number(let v) = parse(s) else { return XCTFail("\(s) did not parse", file: file, line: line) }
        XCTAssertEqual(v.bitPattern, expected.bitPattern, "\(s): \(v) vs strtod \(expected)", file: file, line: line)
    }

    func testEdgeCasesMatchStrtod() {
        for s in ["0", "-0", "0.0", "-0.0", "0e5", "000123.4500", "0.1", "0.3", "2.13436", "1000000000.0", "6e+19", "6E19",
                  "1e22", "1e23", "1e-22", "1e-23", "9007199254740992", "9007199254740993", "9007199254740991.5",
                  "123456789012345678901", "1234567890123456789", "0.000000000000000000001", "4.9e-324", "2.2250738585072014e-308",
                  "1.7976931348623157e308", "+.5", "5.", ".5e1", "-2.5e-3", "99999999999999999999e-20", "1e0", "1e-0"] {
            assertMatchesStrtod(s)
        }
        XCTAssertEqual(parse("1e999"), .notFinite)
        XCTAssertEqual(parse("nan"), .notFinite)
        XCTAssertEqual(parse("1e"), .notANumber)
        XCTAssertEqual(parse("0x10"), .notANumber)
        XCTAssertEqual(parse("."), .notANumber)
        XCTAssertEqual(parse(""), .notANumber)
        XCTAssertEqual(parse("1e100000000000000000000"), .notFinite)
        if case .number(let v) = parse("1e-100000000000000000000") { XCTAssertEqual(v, 0) } else { XCTFail() }
    }

    func testRandomDecimalsMatchStrtod() {
        var rng = SystemRandomNumberGenerator()
        for _ in 0..<200_000 {
            let intDigits = Int.random(in: 0...12, using: &rng)
            let fracDigits = Int.random(in: 0...12, using: &rng)
            if intDigits + fracDigits == 0 { continue }
            var s = Bool.random(using: &rng) ? "-" : ""
            for _ in 0..<intDigits { s += String(Int.random(in: 0...9, using: &rng)) }
            if fracDigits > 0 || intDigits == 0 {
                s += "."
                for _ in 0..<max(fracDigits, 1) { s += String(Int.random(in: 0...9, using: &rng)) }
            }
            if Int.random(in: 0..<3, using: &rng) == 0 { s += "e\(Int.random(in: -30...30, using: &rng))" }
            assertMatchesStrtod(s)
        }
    }
}
