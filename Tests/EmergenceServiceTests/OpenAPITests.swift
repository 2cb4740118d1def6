import XCTest
import Foundation
@testable import EmergenceService

final class OpenAPITests: XCTestCase {
    private func spec() throws -> [String: Any] {
        try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(OpenAPISpec.bytes)) as? [String: Any])
    }

    func testRouterRoutesAndSpecPathsAreTheSameSet() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("openapi-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        var config = ServiceConfiguration()
        config.databasePath = dir.appendingPathComponent("db.sqlite").path
        config.port = 0
        let service = try EmergenceService(configuration: config)
        let routes = Set(service.router.routes.map { "\($0.method) \($0.template)" })

        let paths = try XCTUnwrap(try spec()["paths"] as? [String: [String: Any]])
        let methods: Set<String> = ["get", "put", "post", "delete", "patch", "head", "options", "trace"]
        var documented = Set<String>()
        for (path, item) in paths {
            for key in item.keys where methods.contains(key) { documented.insert("\(key.uppercased()) \(path)") }
        }
        XCTAssertEqual(routes, documented, "routes not documented: \(routes.subtracting(documented)); documented but not routed: \(documented.subtracting(routes))")
        // Not a literal count (every branch that adds routes would change it): no route twice.
        XCTAssertEqual(service.router.routes.count, routes.count, "a route is registered twice")
    }

    func testEveryOperationDocumentsItsErrorsAsProblems() throws {
        let paths = try XCTUnwrap(try spec()["paths"] as? [String: [String: Any]])
        for (path, item) in paths {
            for (method, op) in item where method != "parameters" {
                let responses = try XCTUnwrap((op as? [String: Any])?["responses"] as? [String: Any], "\(method) \(path)")
                XCTAssertNotNil(responses["default"], "\(method) \(path) has no default (problem) response")
                XCTAssertNotNil(responses["400"], "\(method) \(path)")
                XCTAssertTrue(responses.keys.contains { $0.hasPrefix("2") }, "\(method) \(path) has no success response")
            }
        }
    }

    /// Every response the spec describes says it carries `X-Request-Id`, as every response the
    /// server sends does (FitAdmissionTests checks the server's side, 404 and 405 included).
    func testEveryResponseDocumentsItsRequestID() throws {
        let root = try spec()
        let components = try XCTUnwrap(root["components"] as? [String: Any])
        XCTAssertNotNil((components["headers"] as? [String: Any])?["X-Request-Id"])
        func check(_ response: Any, _ place: String) {
            guard let r = response as? [String: Any], r["$ref"] == nil else { return }
            XCTAssertNotNil((r["headers"] as? [String: Any])?["X-Request-Id"], place)
        }
        for (name, r) in try XCTUnwrap(components["responses"] as? [String: Any]) { check(r, "components.responses.\(name)") }
        for (path, item) in try XCTUnwrap(root["paths"] as? [String: [String: Any]]) {
            for (method, op) in item where method != "parameters" {
                for (code, r) in ((op as? [String: Any])?["responses"] as? [String: Any]) ?? [:] { check(r, "\(method) \(path) \(code)") }
            }
        }
    }

    /// The served copy is the repository's openapi.json, byte for byte.
    func testServedSpecIsTheRepositoryFile() throws {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let file = root.appendingPathComponent("openapi.json")
        let onDisk = try String(contentsOf: file, encoding: .utf8)
        XCTAssertEqual(onDisk, OpenAPISpec.text, "the embedded spec differs from openapi.json: rebuild")
        XCTAssertEqual(try spec()["openapi"] as? String, "3.1.0")
    }
}
