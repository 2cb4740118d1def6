import Foundation
import Ingestion
import XCTest
@testable import EmergenceService
@testable import Jobs

/// Every numeric bound openapi.json states for a request (minimum, maximum, exclusiveMinimum,
/// exclusiveMaximum, of a property or of an array's items) is the server's: a value at an inclusive
/// bound (or just inside an exclusive one) is not refused for that field, and a value just past it
/// is refused naming it. Form-dependent bounds (alpha_prior.median) are checked per form.
final class SpecBoundsTests: XCTestCase {
    private func spec() throws -> [String: Any] {
        try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(OpenAPISpec.bytes)) as? [String: Any])
    }

    /// The fields a body is refused for ([] when accepted).
    private func refused(_ validate: ([UInt8]) throws -> Void, _ body: [String: Any]) -> [String] {
        let bytes = [UInt8]((try? JSONSerialization.data(withJSONObject: body)) ?? Data())
        do {
            try validate(bytes)
            return []
        } catch let e as IngestionError {
            return e.problems.map { $0.reason.contains("work budget") ? "\($0.field) (work budget)" : $0.field }
        } catch let e as ValidationError {
            return e.problems.map { $0.reason.contains("work budget") ? "\($0.field) (work budget)" : $0.field }
        } catch let e as APIError {
            return ((e.extensions["errors"] as? [[String: Any]]) ?? []).compactMap { $0["field"] as? String } + ["status \(e.status)"]
        } catch {
            return ["\(error)"]
        }
    }

    private func names(_ fields: [String], _ field: String) -> Bool {
        fields.contains { $0 == field || $0.hasPrefix(field + "[") || $0.hasPrefix(field + ".") || $0.hasPrefix(field + " (") }
    }

    /// Other members a bound needs to be reachable at all (the joint work budget counts them), and
    /// which other field a budget refusal names.
    private static var context: [String: [String: Any]] { [
        "BacktestOptions.bootstrap": ["observe_bootstrap": 0],
        "BacktestOptions.observe_bootstrap": ["bootstrap": 0],
        "AblationOptions.bootstrap": ["d0_factors": [Any]()],
        "AblationOptions.d0": ["d0_factors": [Any]()],
        "AdviceOptions.bootstrap": ["simulations": 1, "refit_bootstrap": 20, "data_amounts": [100], "checkpoint_flops": [Any]()],
    ] }
    private static let budgetField: [String: String] = [
        "BacktestOptions": "cutoffs", "AdviceOptions": "simulations",
    ]

    private struct Target {
        var schema: String
        var base: [String: Any]
        /// Where the schema's object sits in the body (nil: the body itself).
        var nest: String?
        var validate: ([UInt8]) throws -> Void
    }

    func testEveryNumericBoundInTheSpecIsTheServers() throws {
        let schemas = try XCTUnwrap((try spec()["components"] as? [String: Any])?["schemas"] as? [String: [String: Any]])
        let options: (JobKind) -> ([UInt8]) throws -> Void = { kind in { _ = try JobOptions(kind, body: $0) } }
        let row: [String: Any] = ["checkpoint": "c", "pretrain_loss": 2.5, "setting": "few_shot", "accuracy": 0.5]
        let targets = [
            Target(schema: "StudyCreate", base: ["name": "s"], nest: nil, validate: { _ = try StudyDraft.decode($0) }),
            Target(schema: "EvaluationInput", base: row, nest: nil, validate: { _ = try EvaluationJSON.parse(Array("[".utf8) + $0 + Array("]".utf8)) }),
            Target(schema: "FitOptions", base: [:], nest: nil, validate: options(.fit)),
            Target(schema: "ScalingLaw", base: ["l_inf": 1.5, "a": 1e3, "b": 0.1], nest: "scaling_law", validate: options(.fit)),
            Target(schema: "AlphaPrior", base: ["median": 1.4, "log_sd": 0.35], nest: "alpha_prior", validate: options(.fit)),
            Target(schema: "ObserveOptions", base: [:], nest: nil, validate: options(.observation)),
            Target(schema: "BacktestOptions", base: ["cutoffs": [2e22]], nest: nil, validate: options(.backtest)),
            Target(schema: "AblationOptions", base: [:], nest: nil, validate: options(.ablation)),
            Target(schema: "AdviceOptions", base: [:], nest: nil, validate: options(.advice)),
            Target(schema: "ComparisonCreate", base: ["a": "x", "b": "y"], nest: nil, validate: { _ = try ComparisonRequest(body: $0) }),
        ]
        var checked = 0
        for t in targets {
            let schema = try XCTUnwrap(schemas[t.schema], t.schema)
            let properties = try XCTUnwrap(schema["properties"] as? [String: [String: Any]], t.schema)
            for (name, property) in properties {
                var variants: [(schema: [String: Any], wrap: (Double) -> Any)] = [(property, { $0 })]
                if let items = property["items"] as? [String: Any] { variants = [(items, { [$0] })] }
                if let alternatives = property["oneOf"] as? [[String: Any]] { variants = alternatives.map { ($0, { $0 }) } }
                for (s, wrap) in variants {
                    let types = (s["type"] as? [String]) ?? [(s["type"] as? String) ?? "number"]
                    let integer = types.contains("integer")
                    for bound in ["minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum"] {
                        guard let edge = (s[bound] as? NSNumber)?.doubleValue else { continue }
                        let step = integer ? 1 : max(abs(edge) * 1e-6, 1e-6)
                        let upward = bound.hasPrefix("min") || bound == "exclusiveMinimum"
                        let inside = bound.hasPrefix("exclusive") ? (upward ? edge + step : edge - step) : edge
                        let outside = bound.hasPrefix("exclusive") ? edge : (upward ? edge - step : edge + step)
                        let field = t.nest.map { "\($0).\(name)" } ?? name
                        func body(_ v: Double) -> [String: Any] {
                            var inner = t.base
                            for (k, value) in Self.context["\(t.schema).\(name)"] ?? [:] { inner[k] = value }
                            inner[name] = wrap(v)
                            // The power form reaches α down to 0.005, the log-power form up to 6.
                            if t.schema == "AlphaPrior" && name == "median" && v < 0.05 { return ["form": "power", "alpha_prior": inner] }
                            if t.schema == "AlphaPrior" && name == "median" && v > 1.5 { return ["form": "log_power", "alpha_prior": inner] }
                            return t.nest.map { [$0: inner] } ?? inner
                        }
                        // At the edge the whole body is taken (no other field's rule in the way either).
                        let atEdge = refused(t.validate, body(inside))
                        XCTAssertEqual(atEdge, [], "\(t.schema).\(name) = \(inside) (\(bound) \(edge)) is refused")
                        let past = refused(t.validate, body(outside))
                        let budget = Self.budgetField[t.schema].map { names(past, $0 + " (work budget)") } ?? false
                        XCTAssertTrue(names(past, field) || budget || (t.schema == "ComparisonCreate" && !past.isEmpty),
                                      "\(t.schema).\(name) = \(outside) (past \(bound) \(edge)) is not refused for \(field): \(past)")
                        checked += 1
                    }
                }
            }
        }
        XCTAssertGreaterThan(checked, 50)
    }

    /// alpha_prior.median's bounds depend on the form, as its description says: log_power 0.05...6,
    /// power 0.005...1.5, each checked at and just past its edge.
    func testAlphaPriorMedianBoundsPerForm() throws {
        let fit: ([UInt8]) throws -> Void = { _ = try JobOptions(.fit, body: $0) }
        for (form, lo, hi) in [("log_power", 0.05, 6.0), ("power", 0.005, 1.5)] {
            func fields(_ median: Double) -> [String] {
                refused(fit, ["form": form, "alpha_prior": ["median": median, "log_sd": 0.35]])
            }
            XCTAssertEqual(fields(lo), [], "\(form) \(lo)")
            XCTAssertEqual(fields(hi), [], "\(form) \(hi)")
            XCTAssertEqual(fields(lo * (1 - 1e-9)), ["alpha_prior.median"], "\(form) just under \(lo)")
            XCTAssertEqual(fields(hi * (1 + 1e-9)), ["alpha_prior.median"], "\(form) just over \(hi)")
        }
        let described = try XCTUnwrap(((((try spec()["components"] as? [String: Any])?["schemas"] as? [String: Any])?["AlphaPrior"] as? [String: Any])?["properties"] as? [String: Any])?["median"] as? [String: Any])
        let text = try XCTUnwrap(described["description"] as? String)
        XCTAssertTrue(text.contains("log_power 0.05 to 6") && text.contains("power 0.005 to 1.5"), text)
    }

    /// The `limit` query parameter's bounds, through the router.
    func testLimitParameterBounds() throws {
        let t = try TestService()
        defer { t.close() }
        XCTAssertEqual(try t.request("GET", "/v1/studies?limit=1").status, 200)
        XCTAssertEqual(try t.request("GET", "/v1/studies?limit=1000").status, 200)
        XCTAssertEqual(try t.request("GET", "/v1/studies?limit=0").status, 400)
        XCTAssertEqual(try t.request("GET", "/v1/studies?limit=1001").status, 400)
    }
}
