import EmergenceCore
import Foundation
import Ingestion
import HTTP
import Jobs

extension ServiceAPI {
    func createFit(_ request: HTTPRequest) throws -> HTTPResponse {
        let s = try study(request)
        let options = try JobOptions(.fit, body: request.body)
        if s.evaluations == 0 {
            throw APIError(status: 409, title: "Conflict", detail: "study \(s.id) has no evaluations yet; upload some before fitting")
        }
        if let noise = options.fit?.noise, noise.isBinomial { try checkQuestionCounts(study: s, noise: noise.rawValue) }
        // `alpha_prior: "pooled"`: the prior is fixed now, from the lab's other studies, and stored in the
        // job's options (with where it came from), so the result records exactly which prior it used.
        var json = options.json
        if let fit = options.fit, fit.alphaPriorPooled {
            switch try priors.resolve(fit, study: s) {
            case .success(let resolved): json = resolved
            case .failure(let why): throw APIError(status: 409, title: "Conflict", detail: why.reason, errors: [("alpha_prior", why.reason)])
            }
        }
        let (job, created) = try pool.enqueue(JobStore.Request(studyID: s.id, optionsJSON: json))
        var r = HTTPResponse.json(created ? 202 : 200, document(job, studyName: s.name))
        r.headers.set("Location", "/v1/fits/\(job.id)")
        return r
    }

    /// Binomial noise needs n_questions on every row: refused when asked (422 naming `noise` and the
    /// first stored row without it, by what identifies it), not when the fit runs.
    private func checkQuestionCounts(study s: Study, noise: String) throws {
        guard let missing = try evaluations.withoutQuestionCount(studyID: s.id) else { return }
        let which = "checkpoint \(JSONBody.string(missing.checkpoint)), setting \(missing.setting)" + (missing.subset.map { ", subset \(JSONBody.string($0))" } ?? "")
        throw ValidationError(field: "noise", reason:
            "\(noise) needs n_questions on every row, and \(missing.count) stored row\(missing.count == 1 ? " has" : "s have") none (the first: \(which)); upload those rows again with n_questions, or fit with noise gaussian")
    }

    func listFits(_ request: HTTPRequest) throws -> HTTPResponse {
        let s = try study(request)
        let limit = try limit(request, fallback: 50, max: 1000)
        let before = try cursor(request, fallback: Int.max)
        let status = try statusFilter(request)
        let page = try jobs.list(studyID: s.id, status: status, before: before == 0 ? Int.max : before, limit: limit + 1)
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
        switch try jobs.cancel(id: id) {
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

    /// The newest succeeded fit of a study, with a strong ETag (fit ids are never reused). The answer
    /// fills the prediction index, from which the event loop gives the next ones.
    func prediction(_ request: HTTPRequest) throws -> HTTPResponse {
        // Taken before the first read: a fit that succeeds (or a deletion) after it keeps this answer out.
        let generation = predictions.generation
        let s = try study(request)
        guard let id = try jobs.newestSucceededID(studyID: s.id) else {
            let pending = try jobs.list(studyID: s.id, status: nil, before: Int.max, limit: 1).first
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
            return Self.predictionResponse(request, PredictionIndex.Answer(etag: etag, body: []))
        }
        guard let body = try succeededDocument(id: id, studyName: s.name) else { throw APIError.notFound("the fit was deleted") }
        let answer = PredictionIndex.Answer(etag: etag, body: body)
        // Held under the study's own spellings only (its id, its name), so clients cannot grow the index.
        let reference = request.pathParameters["study"] ?? ""
        if reference == s.name || reference == String(s.id) {
            predictions.store(answer, studyID: s.id, reference: reference, seenAt: generation)
        }
        return Self.predictionResponse(request, answer)
    }

    /// The event loop's answer of `/prediction` when the index holds the study; nil sends the request
    /// to `prediction` on the pool.
    func predictionFromMemory(_ request: HTTPRequest) -> HTTPResponse? {
        guard let reference = request.pathParameters["study"], let answer = predictions.answer(reference: reference) else {
            return nil
        }
        return Self.predictionResponse(request, answer)
    }

    /// 304 when If-None-Match names the answer's ETag, else the document: the same bytes from the
    /// pool and from the loop.
    static func predictionResponse(_ request: HTTPRequest, _ answer: PredictionIndex.Answer) -> HTTPResponse {
        if let inm = request.headers["If-None-Match"], matches(ifNoneMatch: inm, etag: answer.etag) {
            return HTTPResponse(status: 304, headers: ["ETag": answer.etag, "Cache-Control": "no-cache"])
        }
        var r = HTTPResponse.json(200, answer.body)
        r.headers.set("ETag", answer.etag)
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
