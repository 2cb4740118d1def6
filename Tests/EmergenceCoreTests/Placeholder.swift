import XCTest
final class PlaceholderTests_EmergenceCoreTests: XCTestCase { func testBuilds() { XCTAssertTrue(true) } }
