import EmergenceCore
import Foundation
import Ingestion
import HTTP

extension ServiceAPI {
    static let optionNames: Set<String> = ["form", "d0", "delta", "noise", "uncertainty", "bootstrap", "resample",
                                           "mcmc_steps", "mcmc_walkers", "mcmc_burn_in", "seed", "max_flops", "scaling_law", "alpha_prior"]

    /// The largest seed the API takes: 2^53 - 1.
    static let maxJSONSeed = 9_007_199_254_740_991.0

    /// The body of `POST …/fits`: the CLI's options as JSON; an empty body means all defaults.
    static func decodeOptions(_ body: [UInt8]) throws -> FitOptions {
        let isBlank = body.allSatisfy { $0 == 0x20 || $0 == 0x0A || $0 == 0x0D || $0 == 0x09 }
        if isBlank { return FitOptions() }
        func problem(_ field: String, _ reason: String) -> IngestionError {
            IngestionError(problems: [RowProblem(index: -1, field: field, reason: reason)])
        }
        let root: JSONValue
        do { root = try JSONParser.parse(body) } catch let e as JSONSyntaxError {
            throw IngestionError(problems: [RowProblem(index: -1, line: e.line, field: "body",
                                                       reason: "invalid JSON at line \(e.line), column \(e.column): \(e.reason)")])
        }
        guard case .object(let members) = root else { throw problem("body", "expected a JSON object of fit options, got \(root.kindName)") }
        // Unknown keys are refused: a misspelt option silently ignored would give a different fit than asked.
        let unknown = members.map(\.0).filter { !optionNames.contains($0) }
        if !unknown.isEmpty {
            throw IngestionError(problems: unknown.map {
                RowProblem(index: -1, field: $0, reason: "unknown option; expected one of \(optionNames.sorted().joined(separator: ", "))")
            })
        }
        // The same inside scaling_law: a misspelt key must not be dropped on the way to the decoder.
        if let (_, law) = members.first(where: { $0.0 == "scaling_law" }), case .object(let lawMembers) = law {
            let lawUnknown = lawMembers.map(\.0).filter { !["l_inf", "a", "b"].contains($0) }
            if !lawUnknown.isEmpty {
                throw IngestionError(problems: lawUnknown.map {
                    RowProblem(index: -1, field: "scaling_law.\($0)", reason: "unknown field; expected l_inf, a and b")
                })
            }
        }
        if let (_, prior) = members.first(where: { $0.0 == "alpha_prior" }), case .object(let priorMembers) = prior {
            let priorUnknown = priorMembers.map(\.0).filter { !["median", "log_sd"].contains($0) }
            if !priorUnknown.isEmpty {
                throw IngestionError(problems: priorUnknown.map {
                    RowProblem(index: -1, field: "alpha_prior.\($0)", reason: "unknown field; expected median and log_sd")
                })
            }
        }
        // null only where openapi.json allows it (optional values); elsewhere the decoder would
        // silently take the default, accepting a body the schema refuses.
        let nullable: Set<String> = ["d0", "max_flops", "scaling_law", "alpha_prior"]
        let nulls = members.filter { if case .null = $0.1 { return !nullable.contains($0.0) } else { return false } }
        if !nulls.isEmpty {
            throw IngestionError(problems: nulls.map { RowProblem(index: -1, field: $0.0, reason: "must not be null") })
        }
        // Integer options are checked here: Foundation's decoder reports "-1" for a UInt64 as invalid
        // JSON with no field name, which would not tell the client which option was wrong.
        var problems: [RowProblem] = []
        for (key, value) in members where ["seed", "bootstrap", "mcmc_steps", "mcmc_walkers", "mcmc_burn_in"].contains(key) {
            guard case .number(let d) = value else { continue }
            if d.rounded() != d || (key != "seed" && NumberText.integer(d) == nil) {
                problems.append(RowProblem(index: -1, field: key, reason: "must be an integer"))
            } else if d < 0 {
                problems.append(RowProblem(index: -1, field: key, reason: "must be an integer >= 0"))
            } else if key == "seed" && d > Self.maxJSONSeed {
                // JSON numbers are exact integers only up to 2^53 - 1 in most clients; a larger seed
                // would not come back as the number that was sent.
                problems.append(RowProblem(index: -1, field: key, reason: "must be at most 9007199254740991 (2^53 - 1)"))
            }
        }
        if !problems.isEmpty { throw IngestionError(problems: problems) }
        let options: FitOptions
        do {
            options = try JSONDecoder().decode(FitOptions.self, from: Data(body))
        } catch let e as DecodingError {
            throw problem(Self.field(of: e), Self.reason(of: e))
        }
        let optionProblems = options.problems()
        if !optionProblems.isEmpty { throw IngestionError(problems: optionProblems.map { RowProblem(index: -1, field: $0.field, reason: $0.reason) }) }
        return options
    }

    private static func path(_ ctx: DecodingError.Context) -> String {
        ctx.codingPath.map { $0.intValue.map(String.init) ?? $0.stringValue }.joined(separator: ".")
    }

    static func field(of e: DecodingError) -> String {
        switch e {
        case .typeMismatch(_, let c), .valueNotFound(_, let c), .dataCorrupted(let c): return path(c).isEmpty ? "body" : path(c)
        case .keyNotFound(let k, let c): return (path(c).isEmpty ? "" : path(c) + ".") + k.stringValue
        @unknown default: return "body"
        }
    }

    static func reason(of e: DecodingError) -> String {
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

    func createFit(_ request: HTTPRequest) throws -> HTTPResponse {
        let s = try study(request)
        let options = try Self.decodeOptions(request.body)
        if s.evaluations == 0 {
            throw APIError(status: 409, title: "Conflict", detail: "study \(s.id) has no evaluations yet; upload some before fitting")
        }
        if options.noise.isBinomial { try checkQuestionCounts(study: s, noise: options.noise.rawValue) }
        let (job, created) = try fits.enqueue(studyID: s.id, optionsJSON: try FitJob.canonicalJSON(options),
                                              limits: queueLimits, workers: workers)
        if created {
            pool.events.transition(job, from: nil, to: .queued)
            pool.wake()
        }
        var r = HTTPResponse.json(created ? 202 : 200, document(job, studyName: s.name))
        r.headers.set("Location", "/v1/fits/\(job.id)")
        return r
    }

    /// Binomial noise needs n_questions on every row: refused when asked (422 naming `noise` and the
    /// first stored row without it, by what identifies it), not when the fit runs.
    private func checkQuestionCounts(study s: Study, noise: String) throws {
        let missing: (count: Int, checkpoint: String, setting: String, subset: String?)? = try database.read { c in
            try c.queryOne("""
                SELECT (SELECT count(*) FROM evaluation WHERE study_id = ?1 AND n_questions IS NULL), checkpoint, setting, subset
                FROM evaluation WHERE study_id = ?1 AND n_questions IS NULL ORDER BY id LIMIT 1
                """, [.integer(Int64(s.id))]) { ($0.int(0) ?? 0, $0.text(1) ?? "", $0.text(2) ?? "", $0.text(3)) }
        }
        guard let missing else { return }
        let which = "checkpoint \(JSONBody.string(missing.checkpoint)), setting \(missing.setting)" + (missing.subset.map { ", subset \(JSONBody.string($0))" } ?? "")
        throw IngestionError(problems: [RowProblem(index: -1, field: "noise", reason:
            "\(noise) needs n_questions on every row, and \(missing.count) stored row\(missing.count == 1 ? " has" : "s have") none (the first: \(which)); upload those rows again with n_questions, or fit with noise gaussian")])
    }

    func listFits(_ request: HTTPRequest) throws -> HTTPResponse {
        let s = try study(request)
        let limit = try limit(request, fallback: 50, max: 1000)
        let before = try cursor(request, fallback: Int.max)
        let status = try statusFilter(request)
        let page = try fits.list(studyID: s.id, status: status, before: before == 0 ? Int.max : before, limit: limit + 1)
        let shown = page.prefix(limit)
        // Listed without their results (fetch one fit for its result), so a page stays small.
        var body = Array("{\"fits\":[".utf8)
        for (i, job) in shown.enumerated() {
            if i > 0 { body.append(0x2C) }
            body += FitDocument.encode(job, studyName: s.name, progress: pool.progress(of: job.id))
        }
        body += Array("],\"next_cursor\":".utf8)
        body += Array((page.count > limit ? shown.last.map { "\"\($0.id)\"" } ?? "null" : "null").utf8)
        body.append(0x7D)
        return .json(200, body)
    }

    func getFit(_ request: HTTPRequest) throws -> HTTPResponse {
        let id = try fitID(request)
        // Another kind of job has an id in the same sequence but is no fit: it lives at /v1/jobs/{id}.
        guard let job = try fitJob(id: id) else { throw APIError.notFound("no fit with id \(id)") }
        let name = try studies.find(id: job.studyID)?.name
        return .json(200, document(job, studyName: name))
    }

    func cancelFit(_ request: HTTPRequest) throws -> HTTPResponse {
        let id = try fitID(request)
        guard try fitJob(id: id) != nil else { throw APIError.notFound("no fit with id \(id)") }
        switch try fits.cancel(id: id) {
        case .notFound:
            throw APIError.notFound("no fit with id \(id)")
        case .cancelled(let job):
            pool.events.transition(job, from: .queued, to: .cancelled)
            return .json(200, document(job, studyName: nil))
        case .cancelRequested(let job):
            pool.cancel(id)
            // The worker stops at its next check; the fit reads `cancelled` shortly after.
            return .json(202, document(job, studyName: nil))
        case .alreadyFinished(let job):
            if job.status == .cancelled { return .json(200, document(job, studyName: nil)) }
            throw APIError(status: 409, title: "Conflict", detail: "fit \(id) has already \(job.status.rawValue); only a queued or running fit can be cancelled")
        }
    }

    /// The newest succeeded fit of a study, with a strong ETag (fit ids are never reused).
    func prediction(_ request: HTTPRequest) throws -> HTTPResponse {
        let s = try study(request)
        guard let id = try fits.newestSucceededID(studyID: s.id) else {
            let pending = try fits.list(studyID: s.id, status: nil, before: Int.max, limit: 1).first
            var detail = "study \(s.id) has no succeeded fit yet"
            if let p = pending {
                detail += "; its newest fit (\(p.id)) is \(p.status.rawValue)" + (p.status.isFinished ? "" : ": poll /v1/fits/\(p.id)")
            } else {
                detail += "; request one with POST /v1/studies/\(s.id)/fits"
            }
            throw APIError.notFound(detail)
        }
        let etag = "\"fit-\(id)\""
        if let inm = request.headers["If-None-Match"], Self.matches(ifNoneMatch: inm, etag: etag) {
            return HTTPResponse(status: 304, headers: ["ETag": etag, "Cache-Control": "no-cache"])
        }
        guard let body = try succeededDocument(id: id, studyName: s.name) else { throw APIError.notFound("the fit was deleted") }
        var r = HTTPResponse.json(200, body)
        r.headers.set("ETag", etag)
        r.headers.set("Cache-Control", "no-cache")
        return r
    }

    /// RFC 9110 §13.1.2: `*`, or a list of entity tags compared weakly.
    static func matches(ifNoneMatch header: String, etag: String) -> Bool {
        if header.trimmingASCIISpaces() == "*" { return true }
        for raw in header.split(separator: ",") {
            var tag = String(raw).trimmingASCIISpaces()
            if tag.hasPrefix("W/") { tag.removeFirst(2) }
            if tag == etag { return true }
        }
        return false
    }
}
