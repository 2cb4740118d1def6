import EmergenceCore
import Foundation
import Ingestion

/// The workflow kinds (observation, backtest, comparison, ablation, advice): how each reads its
/// options at the edge and which engine function runs it. Options are checked once, when the job is
/// asked for (422 naming each bad field, from the engine's own `problems(budget:)`), and stored in
/// canonical form (every field, sorted keys), so the same request on unchanged data finds its job.
enum WorkflowJobs {
    /// Keys whose value must be a whole number: Foundation's decoder would report a bad one without
    /// naming the field.
    static let integerKeys: Set<String> = ["seed", "bootstrap", "mcmc_steps", "mcmc_walkers", "mcmc_burn_in",
                                           "observe_bootstrap", "simulations", "refit_bootstrap"]

    /// The canonical options of a job of `kind` from a request body (blank: every default).
    static func canonicalOptions(_ kind: JobKind, body: [UInt8]) throws -> String {
        switch kind {
        case .fit: return try FitJob.canonicalJSON(ServiceAPI.decodeOptions(body))
        case .observation: return try canonical(ObserveOptions(), try members(body))
        case .backtest: return try canonical(BacktestOptions(), try members(body))
        case .comparison: return try canonical(ComparisonOptions(), try members(body))
        case .ablation: return try canonical(AblationOptions(), try members(body))
        case .advice: return try canonical(AdviceOptions(), try members(body))
        }
    }

    /// `POST /v1/comparisons`: the two studies (`a`, `b`: id or name) and the comparison's options
    /// beside them.
    static func comparisonBody(_ body: [UInt8]) throws -> (a: String, b: String, options: String) {
        let all = try members(body)
        var problems: [RowProblem] = []
        func reference(_ key: String) -> String {
            switch all.first(where: { $0.0 == key })?.1 {
            case .string(let s)? where !s.isEmpty && !s.contains("/")
                && !s.unicodeScalars.contains(where: { $0.value < 0x20 || $0.value == 0x7F }): return s
            case .number(let d)? where d >= 1 && d.rounded() == d && d <= 9_007_199_254_740_991: return String(Int64(d))
            case nil: problems.append(RowProblem(index: -1, field: key, reason: "is required: a study id or name"))
            default: problems.append(RowProblem(index: -1, field: key, reason: "must be a study id or name"))
            }
            return ""
        }
        let a = reference("a"), b = reference("b")
        if problems.isEmpty && a == b { problems.append(RowProblem(index: -1, field: "b", reason: "must name another study than a")) }
        // The options' own problems are reported with these, in one answer.
        var options = ""
        do {
            options = try canonical(ComparisonOptions(), all.filter { $0.0 != "a" && $0.0 != "b" }, allowed: ["a", "b"])
        } catch let e as IngestionError {
            problems += e.problems
        }
        if !problems.isEmpty { throw IngestionError(problems: problems) }
        return (a, b, options)
    }

    /// The body's members; a blank body is an empty object.
    private static func members(_ body: [UInt8]) throws -> [(String, JSONValue)] {
        if body.allSatisfy({ $0 == 0x20 || $0 == 0x0A || $0 == 0x0D || $0 == 0x09 }) { return [] }
        let root: JSONValue
        do { root = try JSONParser.parse(body) } catch let e as JSONSyntaxError {
            throw IngestionError(problems: [RowProblem(index: -1, line: e.line, field: "body",
                                                       reason: "invalid JSON at line \(e.line), column \(e.column): \(e.reason)")])
        }
        guard case .object(let members) = root else {
            throw IngestionError(problems: [RowProblem(index: -1, field: "body", reason: "expected a JSON object of options, got \(root.kindName)")])
        }
        return members
    }

    /// Reads `members` as options of the type of `defaults`, checks them and returns their canonical
    /// JSON. The accepted keys are those the canonical encoding writes (every field), so a misspelt
    /// option is refused rather than silently ignored; `allowed` are keys the caller reads itself.
    private static func canonical<O: WorkflowOptions>(_ defaults: O, _ members: [(String, JSONValue)],
                                                      allowed: Set<String> = []) throws -> String {
        let encoded = ((try? JSONSerialization.jsonObject(with: JSONEncoder().encode(defaults))) as? [String: Any]) ?? [:]
        let known = Set(encoded.keys)
        // Optional values (null in the defaults) may be sent as null; any other null is refused, as
        // openapi.json does, rather than silently read as the default.
        let nullable = Set(encoded.filter { $0.value is NSNull }.keys)
        var problems: [RowProblem] = []
        for (key, value) in members {
            if !known.contains(key) {
                if !allowed.contains(key) {
                    problems.append(RowProblem(index: -1, field: key, reason: "unknown option; expected one of \((known.union(allowed)).sorted().joined(separator: ", "))"))
                }
                continue
            }
            if case .null = value, !nullable.contains(key) {
                problems.append(RowProblem(index: -1, field: key, reason: "must not be null"))
            }
            if key == "scaling_law", case .object(let law) = value {
                for (k, _) in law where !["l_inf", "a", "b"].contains(k) {
                    problems.append(RowProblem(index: -1, field: "scaling_law.\(k)", reason: "unknown field; expected l_inf, a and b"))
                }
            }
            if key == "alpha_prior", case .object(let prior) = value {
                for (k, _) in prior where !["median", "log_sd"].contains(k) {
                    problems.append(RowProblem(index: -1, field: "alpha_prior.\(k)", reason: "unknown field; expected median and log_sd"))
                }
            }
            if integerKeys.contains(key), case .number(let d) = value {
                if d.rounded() != d || abs(d) > 9_007_199_254_740_991 {
                    problems.append(RowProblem(index: -1, field: key, reason: key == "seed" ? "must be an integer in 0...9007199254740991" : "must be an integer"))
                } else if d < 0 {
                    problems.append(RowProblem(index: -1, field: key, reason: "must be an integer >= 0"))
                }
            }
        }
        if !problems.isEmpty { throw IngestionError(problems: problems) }
        let text = "{" + members.map { JSONBody.string($0.0) + ":" + $0.1.jsonText }.joined(separator: ",") + "}"
        let options: O
        do {
            options = try JSONDecoder().decode(O.self, from: Data(text.utf8))
        } catch let e as DecodingError {
            throw IngestionError(problems: [RowProblem(index: -1, field: ServiceAPI.field(of: e), reason: ServiceAPI.reason(of: e))])
        }
        let found = options.problems(budget: .default)
        if !found.isEmpty { throw IngestionError(problems: found.map { RowProblem(index: -1, field: $0.field, reason: $0.reason) }) }
        return try FitJob.canonicalJSON(options)
    }

    /// Runs a workflow job on the calling thread (one thread: the pool runs jobs side by side).
    static func run(_ work: JobWork, progress: @escaping @Sendable (Double) -> Void,
                    isCancelled: @escaping @Sendable () -> Bool) throws -> [UInt8] {
        let text = Data(work.optionsJSON.utf8)
        let d = JSONDecoder()
        switch work.kind {
        case .fit:
            return try JobEngine.run(work, progress: progress, isCancelled: isCancelled)
        case .observation:
            let o = try d.decode(ObserveOptions.self, from: text)
            return Array(try Observation.run(work.rows, options: o, progress: progress, isCancelled: isCancelled).jsonData(pretty: false))
        case .backtest:
            let o = try d.decode(BacktestOptions.self, from: text)
            // Cutoffs that leave no data or overflow get their own error; the others keep their results.
            let result = try Backtest.run(work.rows, options: o, threads: 1, progress: progress, isCancelled: isCancelled)
            return Array(try BacktestDocument.encode(result, pretty: false))
        case .comparison:
            guard let b = work.rowsB else { throw MissingSecondStudy() }
            let o = try d.decode(ComparisonOptions.self, from: text)
            return Array(try Comparison.run(a: work.rows, b: b, options: o, threads: 1, progress: progress, isCancelled: isCancelled)
                .jsonData(pretty: false))
        case .ablation:
            let o = try d.decode(AblationOptions.self, from: text)
            return Array(try Ablation.run(work.rows, options: o, threads: 1, progress: progress, isCancelled: isCancelled)
                .jsonData(pretty: false))
        case .advice:
            let o = try d.decode(AdviceOptions.self, from: text)
            return Array(try Advice.run(work.rows, options: o, threads: 1, progress: progress, isCancelled: isCancelled)
                .jsonData(pretty: false))
        }
    }
}
