import XCTest
final class PlaceholderTests_EmergenceServiceTests: XCTestCase { func testBuilds() { XCTAssertTrue(true) } }
