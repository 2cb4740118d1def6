import XCTest
@testable import EmergenceService

/// Which routes the event loop answers itself (RoutePolicy.nonBlocking): only constant answers that
/// touch no database, so a slow query or a long upload on the pool can never stall a loop; and which
/// it answers from memory when it can (RoutePolicy.fromMemory).
final class LoopRoutesTests: XCTestCase {
    func testOnlyConstantAnswersRunOnTheLoop() throws {
        let t = try TestService()
        defer { t.close() }
        let onLoop = t.service.api.routeTable.filter(\.nonBlocking).map { "\($0.method) \($0.template)" }
        XCTAssertEqual(Set(onLoop), ["GET /healthz", "GET /openapi.json"])
        // A held prediction is answered from memory on the loop; a study not held goes to the pool.
        let fromMemory = t.service.api.routeTable.filter { $0.fromMemory != nil }.map { "\($0.method) \($0.template)" }
        XCTAssertEqual(fromMemory, ["GET /v1/studies/{study}/prediction"])
        XCTAssertEqual(try t.request("GET", "/healthz").status, 200)
        XCTAssertEqual(try t.request("GET", "/openapi.json").status, 200)
    }
}

/// The study list page holds at most 100 studies and links to the next page by cursor, so it costs
/// the same at 100,000 studies as at 10.
final class HomePagePagingTests: XCTestCase {
    func testTheListPagesThroughStudiesAHundredAtATime() throws {
        let t = try TestService()
        defer { t.close() }
        for i in 1...101 { XCTAssertEqual(try t.request("POST", "/v1/studies", body: #"{"name": "s\#(i)"}"#).status, 201) }
        let first = try t.request("GET", "/")
        XCTAssertEqual(first.status, 200)
        let html = String(decoding: first.body, as: UTF8.self)
        XCTAssertEqual(html.components(separatedBy: "<tr data-study=").count - 1, 100)
        XCTAssertTrue(html.contains("100 studies on this page"), html)
        let link = try XCTUnwrap(html.range(of: #"href="/?cursor="#))
        let cursor = String(html[link.upperBound...].prefix { $0.isNumber })
        let second = String(decoding: try t.request("GET", "/?cursor=\(cursor)").body, as: UTF8.self)
        XCTAssertEqual(second.components(separatedBy: "<tr data-study=").count - 1, 1)
        XCTAssertTrue(second.contains(#"data-study="s101""#))
        XCTAssertFalse(second.contains("rel=\"next\""))
        XCTAssertTrue(second.contains(#"<a href="/">First page</a>"#))
        XCTAssertEqual(try t.request("GET", "/?cursor=x").status, 400)
    }
}
