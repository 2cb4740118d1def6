@testable import Charts
import XCTest

final class ChartPrimitivesTests: XCTestCase {
    func testEscape() {
        XCTAssertEqual(XMLText.escape("a<b>&\"c'"), "a&lt;b&gt;&amp;&quot;c&apos;")
        XCTAssertEqual(XMLText.escape("x\u{0}y\u{9}\u{A}z\u{FFFE}"), "x\u{FFFD}y\u{9}\u{A}z\u{FFFD}")
        XCTAssertEqual(XMLText.escape("Δ α ≤"), "Δ α ≤")
    }

    func testNumbers() {
        XCTAssertEqual(SVGWriter.number(12.5), "12.5")
        XCTAssertEqual(SVGWriter.number(3.0), "3")
        XCTAssertEqual(SVGWriter.number(-0.001), "0")
        XCTAssertEqual(SVGWriter.number(.nan), "0")
        XCTAssertEqual(ChartNumber.flops(7.4e22), "7.4e22")
        XCTAssertEqual(ChartNumber.flops(9.97e22), "1.0e23")
        XCTAssertEqual(ChartNumber.flops(.infinity), "∞")
        XCTAssertEqual(ChartNumber.count(12500), "12,500")
        XCTAssertEqual(ChartNumber.count(100000), "100,000")
        XCTAssertEqual(ChartNumber.fixed(-0.0001, 2), "0.00")
    }

    func testNiceTicks() {
        let t = NiceTicks.linear(1.72, 2.53, target: 8)
        XCTAssertEqual(t.step, 0.1, accuracy: 1e-12)
        XCTAssertEqual(t.lo, 1.7, accuracy: 1e-9)
        XCTAssertEqual(t.hi, 2.6, accuracy: 1e-9)
        XCTAssertEqual(NiceTicks.linear(.nan, .infinity).ticks.count, 6)
        XCTAssertEqual(NiceTicks.linear(0.3, 0.3).ticks.isEmpty, false)
        XCTAssertEqual(NiceTicks.decades(3e21, 5e24), [1e22, 1e23, 1e24])
    }

    func testWrapKeepsWordsAndCutsLongOnes() {
        let lines = ChartLayout.wrap(String(repeating: "word ", count: 60) + String(repeating: "x", count: 400))
        XCTAssertTrue(lines.allSatisfy { $0.count <= 125 })
        XCTAssertEqual(lines.joined(separator: " ").filter { $0 == "x" }.count, 400)
    }
}
