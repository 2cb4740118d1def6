import XCTest
@testable import Charts

/// User text with bidi controls cannot reorder the SVG around it.
final class BidiTextTests: XCTestCase {
    func testBidiControlsAreIsolated() {
        XCTAssertEqual(XMLText.escape("plain <name>"), "plain &lt;name&gt;")
        XCTAssertEqual(XMLText.escape("ckpt\u{202E}gpj.exe"), "\u{2068}ckpt\u{202E}gpj.exe\u{2069}")
        // A PDI inside could close the wrapper early: it is replaced, and an isolate it opens is closed.
        XCTAssertEqual(BidiText.isolated("a\u{2069}\u{202E}b"), "\u{2068}a\u{FFFD}\u{202E}b\u{2069}")
        XCTAssertEqual(BidiText.isolated("\u{2067}x"), "\u{2068}\u{2067}x\u{2069}\u{2069}")
    }
}
