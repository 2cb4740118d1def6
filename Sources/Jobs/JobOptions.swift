import EmergenceCore
import Foundation
import Ingestion

/// A job's options, read once from the request and kept in canonical form (every field, sorted
/// keys), so the same request on unchanged data finds its job. One reader for every kind: the
/// accepted keys are those the kind's canonical encoding writes, so a misspelt option is refused
/// rather than silently ignored, and every problem comes back at once (422 naming each field, from
/// the engine's own `problems(budget:)`).
package struct JobOptions: Sendable {
    package let kind: JobKind
    /// The options as stored and as the engine reads them.
    package let json: String
    /// The decoded options (`FitOptions`, `ObserveOptions`, …, as the kind says).
    package let value: any Sendable

    /// The fit options of a fit job (nil for other kinds).
    package var fit: FitOptions? { value as? FitOptions }

    /// Reads the options of a job of `kind` from a request body (blank: every default).
    package init(_ kind: JobKind, body: [UInt8]) throws {
        let what = kind == .fit ? "a JSON object of fit options" : "a JSON object of options"
        try self.init(kind, members: JSONValue.objectMembers(body, what: what))
    }

    /// Reads the options of a job of `kind` from a body's members; `allowed` are keys the caller
    /// reads itself (a comparison's `a` and `b`), passed over here.
    package init(_ kind: JobKind, members: [(String, JSONValue)], allowed: Set<String> = []) throws {
        self.kind = kind
        // The lab's pooled prior is resolved for fits only (when the service queues one); a workflow
        // job would carry "pooled" unresolved to the engine, which refuses it only when it runs.
        if kind != .fit, members.contains(where: { $0.0 == "alpha_prior" && $0.1 == .string("pooled") }) {
            throw ValidationError(field: "alpha_prior", reason: "\"pooled\" is for fits (POST /v1/studies/{study}/fits); give the prior as {median, log_sd} here (GET /v1/priors/alpha shows the lab's)")
        }
        switch kind {
        case .fit: (value, json) = try Self.read(FitOptions(), members, allowed) { $0.problems() }
        case .observation: (value, json) = try Self.read(ObserveOptions(), members, allowed) { $0.problems(budget: .default) }
        case .backtest: (value, json) = try Self.read(BacktestOptions(), members, allowed) { $0.problems(budget: .default) }
        case .comparison: (value, json) = try Self.read(ComparisonOptions(), members, allowed) { $0.problems(budget: .default) }
        case .ablation: (value, json) = try Self.read(AblationOptions(), members, allowed) { $0.problems(budget: .default) }
        case .advice: (value, json) = try Self.read(AdviceOptions(), members, allowed) { $0.problems(budget: .default) }
        }
    }

    /// Fit options given as a JSON value inside another body (a study's `auto_fit`).
    package static func fit(_ value: JSONValue) throws -> JobOptions {
        guard case .object(let members) = value else {
            throw ValidationError(field: "body", reason: "expected a JSON object of fit options, got \(value.kindName)")
        }
        return try JobOptions(.fit, members: members)
    }

    /// Options as stored (canonical JSON, checked when the job was asked for), for the engine.
    static func stored<O: Decodable>(_ type: O.Type, _ json: String) throws -> O {
        try JSONDecoder().decode(O.self, from: Data(json.utf8))
    }

    /// The canonical text of `options`: equal options give equal text.
    package static func canonicalJSON<Options: Encodable>(_ options: Options) throws -> String {
        let e = JSONEncoder()
        e.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return String(decoding: try e.encode(options), as: UTF8.self)
    }

    /// Keys whose value must be a whole number: Foundation's decoder would report a bad one without
    /// naming the field.
    static let integerKeys: Set<String> = ["seed", "bootstrap", "mcmc_steps", "mcmc_walkers", "mcmc_burn_in",
                                           "observe_bootstrap", "simulations", "refit_bootstrap"]
    /// The largest integer a JSON number carries exactly in most clients (2^53 - 1).
    static let maxJSONInteger = 9_007_199_254_740_991.0
    /// The members of nested objects, which a decoder would otherwise silently drop when misspelt.
    static let nestedKeys: [String: [String]] = ["scaling_law": ["l_inf", "a", "b"], "alpha_prior": ["median", "log_sd"]]

    /// Reads `members` as options of the type of `defaults`, checks them and returns them with their
    /// canonical JSON.
    private static func read<O: Codable & Sendable>(_ defaults: O, _ members: [(String, JSONValue)], _ allowed: Set<String>,
                                                    problems: (O) -> [Evaluation.Problem]) throws -> (O, String) {
        let encoded = ((try? JSONSerialization.jsonObject(with: JSONEncoder().encode(defaults))) as? [String: Any]) ?? [:]
        let known = Set(encoded.keys)
        // Optional values (null in the defaults) may be sent as null; any other null is refused, as
        // openapi.json does, rather than silently read as the default.
        let nullable = Set(encoded.filter { $0.value is NSNull }.keys)
        // Checked in stages, each reported alone: a misspelt key first (what follows may only be its
        // consequence), then misspelt nested keys, then nulls, then whole numbers.
        var unknown: [ValidationError.Problem] = [], nested: [ValidationError.Problem] = []
        var nulls: [ValidationError.Problem] = [], integers: [ValidationError.Problem] = []
        for (key, value) in members {
            guard known.contains(key) else {
                if !allowed.contains(key) {
                    unknown.append(.init(field: key, reason: "unknown option; expected one of \(known.union(allowed).sorted().joined(separator: ", "))"))
                }
                continue
            }
            if case .null = value, !nullable.contains(key) { nulls.append(.init(field: key, reason: "must not be null")) }
            if let expected = nestedKeys[key], case .object(let inner) = value {
                let list = expected.dropLast().joined(separator: ", ") + " and " + (expected.last ?? "")
                for (k, _) in inner where !expected.contains(k) {
                    nested.append(.init(field: "\(key).\(k)", reason: "unknown field; expected \(list)"))
                }
            }
            if integerKeys.contains(key), case .number(let d) = value {
                if d.rounded() != d || (key != "seed" && abs(d) > maxJSONInteger) {
                    integers.append(.init(field: key, reason: "must be an integer"))
                } else if d < 0 {
                    integers.append(.init(field: key, reason: "must be an integer >= 0"))
                } else if d > maxJSONInteger {
                    // A larger seed would not come back as the number that was sent.
                    integers.append(.init(field: key, reason: "must be at most 9007199254740991 (2^53 - 1)"))
                }
            }
        }
        for stage in [unknown, nested, nulls, integers] where !stage.isEmpty { throw ValidationError(stage) }
        let text = "{" + members.filter { known.contains($0.0) }.map { JSONText.string($0.0) + ":" + $0.1.jsonText }
            .joined(separator: ",") + "}"
        let options: O
        do {
            options = try JSONDecoder().decode(O.self, from: Data(text.utf8))
        } catch let e as DecodingError {
            throw ValidationError(field: DecodingProblem.field(of: e), reason: DecodingProblem.reason(of: e))
        }
        let invalid = problems(options)
        if !invalid.isEmpty { throw ValidationError(invalid.map { .init(field: $0.field, reason: $0.reason) }) }
        return (options, try canonicalJSON(options))
    }
}

/// A decoding error as the field it names and a reason a client can act on.
package enum DecodingProblem {
    private static func path(_ ctx: DecodingError.Context) -> String {
        ctx.codingPath.map { $0.intValue.map(String.init) ?? $0.stringValue }.joined(separator: ".")
    }

    package static func field(of e: DecodingError) -> String {
        switch e {
        case .typeMismatch(_, let c), .valueNotFound(_, let c), .dataCorrupted(let c): return path(c).isEmpty ? "body" : path(c)
        case .keyNotFound(let k, let c): return (path(c).isEmpty ? "" : path(c) + ".") + k.stringValue
        @unknown default: return "body"
        }
    }

    package static func reason(of e: DecodingError) -> String {
        switch e {
        case .typeMismatch(let t, _): return "has the wrong type (expected \(t == Double.self ? "a number" : t == Bool.self ? "true or false" : t == String.self ? "a string" : t == Int.self || t == UInt64.self ? "a non-negative integer" : "\(t)"))"
        case .valueNotFound: return "must not be null"
        case .keyNotFound: return "is required"
        case .dataCorrupted(let c):
            let d = c.debugDescription
            if d.contains("enum") || d.contains("Cannot initialize") { return "is not one of the accepted values" }
            return "is not valid: \(d)"
        @unknown default: return "is not valid"
        }
    }
}
