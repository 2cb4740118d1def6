import Jobs
import EmergenceCore
import Foundation
import HTTP
import Ingestion

/// Jobs of every kind: one queue, one document, one cancel. Each workflow's POST answers
/// 202 with the job and `Location: /v1/jobs/{id}` (200 with the existing job when the same kind and
/// options were already asked on unchanged data), then the client polls.
extension ServiceAPI {
    /// The routes of this file, in `routeTable`.
    var jobRoutes: [Route] {
        [
            Route("POST", "/v1/studies/{study}/observations", .write, { [self] in try createJob(.observation, $0) }),
            Route("POST", "/v1/studies/{study}/backtests", .write, { [self] in try createJob(.backtest, $0) }),
            Route("POST", "/v1/studies/{study}/ablations", .write, { [self] in try createJob(.ablation, $0) }),
            Route("POST", "/v1/studies/{study}/advice", .write, { [self] in try createJob(.advice, $0) }),
            Route("POST", "/v1/comparisons", .write, createComparison),
            Route("GET", "/v1/studies/{study}/jobs", .read, listJobs),
            Route("GET", "/v1/jobs/{id}", .read, getJob),
            Route("DELETE", "/v1/jobs/{id}", .write, cancelJob),
        ]
    }

    func jobID(_ request: HTTPRequest) throws -> Int {
        let raw = request.pathParameters["id"] ?? ""
        guard let id = Int(raw), id > 0, raw.allSatisfy(\.isASCII) else { throw APIError.notFound("no job with id \"\(raw)\"") }
        return id
    }

    func createJob(_ kind: JobKind, _ request: HTTPRequest) throws -> HTTPResponse {
        let s = try study(request)
        let options = try JobOptions(kind, body: request.body)
        if let backtest = options.value as? BacktestOptions { try checkSomeCutoffHasData(study: s, cutoffs: backtest.cutoffs) }
        return try enqueueJob(kind, study: s, studyB: nil, options: options)
    }

    /// A back-test needs at least one cutoff with a checkpoint at or under it (each other cutoff then
    /// gets its own `error` entry in the result): 422 naming `cutoffs` when none has one.
    private func checkSomeCutoffHasData(study s: Study, cutoffs: [Double]) throws {
        guard s.evaluations > 0 else { return }  // enqueueJob's 409 says so
        guard let smallest = try evaluations.smallestFlops(studyID: s.id) else {
            throw ValidationError(field: "cutoffs",
                reason: "no evaluation of the study has flops (or parameters and tokens), so no cutoff leaves any data; upload flops")
        }
        guard cutoffs.contains(where: { $0 >= smallest && $0.isFinite }) else {
            throw ValidationError(field: "cutoffs",
                reason: String(format: "no cutoff leaves any checkpoint: the smallest checkpoint has %.4g FLOPs; give at least one cutoff at or above it", smallest))
        }
    }

    /// `POST /v1/comparisons`: `{"a": study, "b": study, …options}`, a study by id or name.
    func createComparison(_ request: HTTPRequest) throws -> HTTPResponse {
        let body = try ComparisonRequest(body: request.body)
        func find(_ field: String, _ ref: String) throws -> Study {
            guard let s = try studies.find(reference: ref) else { throw ValidationError(field: field, reason: "names no study (\"\(ref)\")") }
            return s
        }
        let sa = try find("a", body.a), sb = try find("b", body.b)
        return try enqueueJob(.comparison, study: sa, studyB: sb, options: body.options)
    }

    private func enqueueJob(_ kind: JobKind, study s: Study, studyB: Study?, options: JobOptions) throws -> HTTPResponse {
        for st in [s] + (studyB.map { [$0] } ?? []) where st.evaluations == 0 {
            throw APIError(status: 409, title: "Conflict",
                           detail: "study \(st.id) has no evaluations yet; upload some before asking for a \(kind.rawValue)")
        }
        let (job, created) = try pool.enqueue(JobStore.Request(studyID: s.id, kind: kind, optionsJSON: options.json, studyBID: studyB?.id))
        var r = HTTPResponse.json(created ? 202 : 200, jobDocument(job, studyName: s.name, studyBName: studyB?.name))
        r.headers.set("Location", "/v1/jobs/\(job.id)")
        return r
    }

    func jobDocument(_ job: Job, studyName: String?, studyBName: String?) -> [UInt8] {
        JobDocument.encode(withResult(job), studyName: studyName, studyBName: studyBName, progress: pool.progress(of: job.id))
    }

    func getJob(_ request: HTTPRequest) throws -> HTTPResponse {
        let id = try jobID(request)
        guard let job = try jobs.find(id: id) else { throw APIError.notFound("no job with id \(id)") }
        let name = try studies.find(id: job.studyID)?.name
        let nameB = try job.studyBID.flatMap { try studies.find(id: $0)?.name }
        return .json(200, jobDocument(job, studyName: name, studyBName: nameB))
    }

    func cancelJob(_ request: HTTPRequest) throws -> HTTPResponse {
        let id = try jobID(request)
        switch try jobs.cancel(id: id) {
        case .notFound:
            throw APIError.notFound("no job with id \(id)")
        case .cancelled(let job):
            pool.events.transition(job, from: .queued, to: .cancelled)
            return .json(200, jobDocument(job, studyName: nil, studyBName: nil))
        case .cancelRequested(let job):
            pool.cancel(id)
            return .json(202, jobDocument(job, studyName: nil, studyBName: nil))
        case .alreadyFinished(let job):
            if job.status == .cancelled { return .json(200, jobDocument(job, studyName: nil, studyBName: nil)) }
            throw APIError(status: 409, title: "Conflict",
                           detail: "job \(id) has already \(job.status.rawValue); only a queued or running job can be cancelled")
        }
    }

    /// A study's jobs, newest first, without results; `kind` and `status` filter. A comparison is
    /// listed under both of its studies.
    func listJobs(_ request: HTTPRequest) throws -> HTTPResponse {
        let s = try study(request)
        let limit = try limit(request, fallback: 50, max: 1000)
        let before = try cursor(request, fallback: Int.max)
        let status = try statusFilter(request)
        var kind: JobKind?
        if let raw = request.query("kind") {
            guard let k = JobKind(rawValue: raw) else { throw APIError.badParameter("kind", "must be one of \(JobKind.names)") }
            kind = k
        }
        let page = try jobs.list(studyID: s.id, kind: kind, status: status, before: before == 0 ? Int.max : before, limit: limit + 1)
        let shown = page.prefix(limit)
        var names: [Int: String] = [s.id: s.name]
        var body = Array("{\"jobs\":[".utf8)
        for (i, job) in shown.enumerated() {
            if i > 0 { body.append(0x2C) }
            for other in [job.studyID, job.studyBID].compactMap({ $0 }) where names[other] == nil {
                names[other] = try studies.find(id: other)?.name
            }
            body += JobDocument.encode(job, studyName: names[job.studyID], studyBName: job.studyBID.flatMap { names[$0] },
                                       progress: pool.progress(of: job.id))
        }
        body += Array("],\"next_cursor\":".utf8)
        body += Array((page.count > limit ? shown.last.map { "\"\($0.id)\"" } ?? "null" : "null").utf8)
        body.append(0x7D)
        return .json(200, body)
    }
}
