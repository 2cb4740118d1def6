import Foundation
import XCTest
@testable import HTTP

final class RouterTests: XCTestCase {
    private func request(_ method: String, _ target: String) throws -> HTTPRequest {
        try HTTPRequest(method: method, target: target, headers: ["Host": "t"])
    }

    func testTemplatesParametersAndSpecificity() throws {
        let router = Router()
        router.add("GET", "/v1/fits/{id}") { .text(200, "id=\($0.pathParameters["id"]!)") }
        router.add("GET", "/v1/fits/latest") { _ in .text(200, "latest") }
        router.add("POST", "/v1/studies/{study}/fits/{fit}") { .text(201, "\($0.pathParameters["study"]!)/\($0.pathParameters["fit"]!)") }
        XCTAssertEqual(router.handle(try request("GET", "/v1/fits/42")).body, Array("id=42".utf8))
        XCTAssertEqual(router.handle(try request("GET", "/v1/fits/latest")).body, Array("latest".utf8))
        XCTAssertEqual(router.handle(try request("POST", "/v1/studies/s%201/fits/f")).body, Array("s 1/f".utf8))
        XCTAssertEqual(router.handle(try request("GET", "/v1/fits/")).status, 404, "{id} never matches an empty segment")
        XCTAssertEqual(router.handle(try request("GET", "/v1/fits/1/2")).status, 404)
        XCTAssertEqual(router.routes.map(\.template), ["/v1/fits/{id}", "/v1/fits/latest", "/v1/studies/{study}/fits/{fit}"])
        XCTAssertEqual(router.routes.map(\.method), ["GET", "GET", "POST"])
    }

    func testEncodedBodyIsAskedPerRoute() {
        let router = Router()
        router.add("POST", "/v1/studies/{study}/evaluations", encodedBody: true) { _ in .text(200, "up") }
        router.add("POST", "/v1/studies/{study}/fits") { _ in .text(202, "fit") }
        router.add("POST", "/v1/studies/special/evaluations") { _ in .text(200, "literal wins") }
        XCTAssertTrue(router.takesEncodedBody(method: "POST", rawPath: "/v1/studies/s%201/evaluations"))
        XCTAssertFalse(router.takesEncodedBody(method: "POST", rawPath: "/v1/studies/s/fits"))
        XCTAssertFalse(router.takesEncodedBody(method: "POST", rawPath: "/v1/studies/special/evaluations"), "the literal route answers")
        XCTAssertFalse(router.takesEncodedBody(method: "PUT", rawPath: "/v1/studies/s/evaluations"))
        XCTAssertFalse(router.takesEncodedBody(method: "POST", rawPath: "/nowhere"))
        XCTAssertFalse(router.takesEncodedBody(method: "POST", rawPath: "/v1/studies/%zz/evaluations"))
        XCTAssertFalse(router.takesEncodedBody(method: "OPTIONS", rawPath: "*"))
    }

    func testMethodNotAllowedHeadAndOptions() throws {
        let router = Router()
        router.add("GET", "/things") { _ in .text(200, "list") }
        router.add("POST", "/things") { _ in .text(201, "made") }
        let wrong = router.handle(try request("DELETE", "/things"))
        XCTAssertEqual(wrong.status, 405)
        XCTAssertEqual(wrong.headers["Allow"], "GET, HEAD, OPTIONS, POST")
        let problem = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(wrong.body)) as? [String: Any])
        XCTAssertEqual(problem["status"] as? Int, 405)
        XCTAssertEqual(router.handle(try request("HEAD", "/things")).body, Array("list".utf8), "HEAD runs GET; the server drops the body")
        let options = router.handle(try request("OPTIONS", "/things"))
        XCTAssertEqual(options.status, 204)
        XCTAssertEqual(options.headers["Allow"], "GET, HEAD, OPTIONS, POST")
    }

    func testProblemDetailsShape() throws {
        let response = HTTPResponse.problem(status: 422, title: "Invalid row", detail: "row 3: loss is negative",
                                            type: "https://example.org/invalid-row",
                                            extensions: ["field": "loss", "row": 3, "status": 999])
        XCTAssertEqual(response.status, 422)
        XCTAssertEqual(response.headers["Content-Type"], "application/problem+json")
        let json = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(response.body)) as? [String: Any])
        XCTAssertEqual(json["type"] as? String, "https://example.org/invalid-row")
        XCTAssertEqual(json["title"] as? String, "Invalid row")
        XCTAssertEqual(json["status"] as? Int, 422, "extensions cannot override standard members")
        XCTAssertEqual(json["detail"] as? String, "row 3: loss is negative")
        XCTAssertEqual(json["field"] as? String, "loss")
        XCTAssertEqual(json["row"] as? Int, 3)
    }
}
