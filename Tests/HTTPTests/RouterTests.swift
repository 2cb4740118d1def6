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

    /// The policy of the route that answers, as the connection sees it from the head (nil: answered by the router).
    private func policy(_ router: Router, _ method: String, _ rawPath: String) -> RoutePolicy? {
        if case .route(let route, _) = router.resolve(method: method, rawPath: rawPath, path: rawPath) { return route.policy }
        return nil
    }

    func testEncodedBodyIsAskedPerRoute() {
        let router = Router()
        router.add("POST", "/v1/studies/{study}/evaluations", policy: RoutePolicy(encodedBody: true)) { _ in .text(200, "up") }
        router.add("POST", "/v1/studies/{study}/fits") { _ in .text(202, "fit") }
        router.add("POST", "/v1/studies/special/evaluations") { _ in .text(200, "literal wins") }
        XCTAssertEqual(policy(router, "POST", "/v1/studies/s%201/evaluations")?.encodedBody, true)
        XCTAssertEqual(policy(router, "POST", "/v1/studies/s/fits")?.encodedBody, false)
        XCTAssertEqual(policy(router, "POST", "/v1/studies/special/evaluations")?.encodedBody, false, "the literal route answers")
        XCTAssertNil(policy(router, "PUT", "/v1/studies/s/evaluations"))
        XCTAssertNil(policy(router, "POST", "/nowhere"))
        XCTAssertNil(policy(router, "POST", "/v1/studies/%zz/evaluations"))
        XCTAssertNil(policy(router, "OPTIONS", "*"))
    }

    func testHandleInflatesUnlessTheRouteTakesItEncodedAndAppliesThePolicy() throws {
        let router = Router()
        router.add("POST", "/plain", policy: RoutePolicy(maxDecodedBodyBytes: 1000)) { request in
            .text(200, "\(request.bodyIsGzip) \(request.body.count)")
        }
        router.add("POST", "/encoded", policy: RoutePolicy(maxBodyBytes: 100, encodedBody: true)) { request in
            .text(200, "\(request.bodyIsGzip) \(request.maxDecodedBodyBytes)")
        }
        router.add("POST", "/guarded", policy: RoutePolicy(admit: { request in
            request.headers.values("Authorization").count == 1 ? nil : .problem(status: 401, title: "Unauthorized")
        })) { request in .text(200, "in: \(request.body.count)") }
        func post(_ path: String, _ body: [UInt8], gzip isGzip: Bool, headers: HTTPHeaders = [:]) throws -> HTTPResponse {
            var request = try HTTPRequest(method: "POST", target: path, headers: headers, body: body)
            request.bodyIsGzip = isGzip
            return router.handle(request)
        }
        let small = gzip([UInt8](repeating: 7, count: 500)), big = gzip([UInt8](repeating: 7, count: 5000))
        XCTAssertEqual(String(decoding: try post("/plain", small, gzip: true).body, as: UTF8.self), "false 500")
        let bomb = try post("/plain", big, gzip: true)
        XCTAssertEqual(bomb.status, 413)
        XCTAssertTrue(bomb.asksToClose, "a refused body closes the connection")
        XCTAssertEqual(try post("/plain", Array("not gzip".utf8), gzip: true).status, 400)
        XCTAssertEqual(String(decoding: try post("/encoded", small, gzip: true).body, as: UTF8.self), "true \(Int.max)")
        XCTAssertEqual(try post("/encoded", [UInt8](repeating: 1, count: 101), gzip: false).status, 413)
        XCTAssertEqual(try post("/guarded", [1, 2], gzip: false).status, 401)
        XCTAssertEqual(try post("/guarded", [1, 2], gzip: false, headers: HTTPHeaders([("Authorization", "a"), ("authorization", "b")])).status, 401,
                       "a repeated header is visible to admit")
        XCTAssertEqual(String(decoding: try post("/guarded", [1, 2], gzip: false, headers: ["Authorization": "a"]).body, as: UTF8.self), "in: 2")
    }

    func testEveryMethodTokenAPathLacksIs405() throws {
        let router = Router()
        router.add("GET", "/things") { _ in .text(200, "list") }
        for method in ["TRACE", "PUT", "PATCH", "DELETE", "QUERY", "CONNECT", "PROPFIND", "BREW", "get"] {
            let response = router.handle(try request(method, "/things"))
            XCTAssertEqual(response.status, 405, method)
            XCTAssertEqual(response.headers["Allow"], "GET, HEAD, OPTIONS", method)
            XCTAssertEqual(router.handle(try request(method, "/nothing")).status, 404, method)
        }
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
