import XCTest
@testable import EmergenceService

/// Which routes the event loop answers itself (RoutePolicy.nonBlocking): only constant answers that
/// touch no database, so a slow query or a long upload on the pool can never stall a loop.
final class LoopRoutesTests: XCTestCase {
    func testOnlyConstantAnswersRunOnTheLoop() throws {
        let t = try TestService()
        defer { t.close() }
        let onLoop = t.service.api.routeTable.filter(\.nonBlocking).map { "\($0.method) \($0.template)" }
        XCTAssertEqual(Set(onLoop), ["GET /healthz", "GET /openapi.json"])
        XCTAssertEqual(try t.request("GET", "/healthz").status, 200)
        XCTAssertEqual(try t.request("GET", "/openapi.json").status, 200)
    }
}
