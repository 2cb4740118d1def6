import XCTest
final class PlaceholderTests_StorageTests: XCTestCase { func testBuilds() { XCTAssertTrue(true) } }
