import XCTest
@testable import Charts
final class PlaceholderTests: XCTestCase { func testNothing() {} }
