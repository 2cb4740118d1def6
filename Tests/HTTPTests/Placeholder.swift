import XCTest
final class PlaceholderTests_HTTPTests: XCTestCase { func testBuilds() { XCTAssertTrue(true) } }
