import EmergenceCore
import Foundation
import HTTP
import Jobs
import Logging
import Storage
import Synchronization

/// The HTTP API: routes, auth, and the handlers that join the stores and the fit pool.
final class ServiceAPI: Sendable {
    let database: Database
    let studies: StudyStore
    let evaluations: EvaluationStore
    let jobs: JobStore
    let pool: JobWorkerPool
    let tokens: TokenSet
    let limits: ServiceConfiguration.BodyLimits
    let uploadSlots: UploadSlots
    let logger: Logger
    /// Queues the refits of studies with `auto_fit` after their uploads' quiet period.
    let autoFit: AutoFitScheduler
    /// Counters and histograms for `GET /metrics`.
    let metrics: ServiceMetrics
    /// The lab's pooled α priors, from the studies' stored fits (PooledPriors.swift).
    let priors: PooledPriors
    /// Encoded documents of succeeded fits (immutable, and ids are never reused), for `/prediction`.
    private let documents = Lock<[Int: [UInt8]]>([:])
    /// Each study's `/prediction` answer, given by the event loop (PredictionIndex).
    let predictions: PredictionIndex

    init(database: Database, evaluations: EvaluationStore, pool: JobWorkerPool, configuration: ServiceConfiguration,
         logger: Logger, metrics: ServiceMetrics, predictions: PredictionIndex) {
        self.database = database
        self.metrics = metrics
        self.predictions = predictions
        studies = StudyStore(database: database)
        self.evaluations = evaluations
        jobs = pool.jobs
        self.pool = pool
        tokens = configuration.tokens
        limits = configuration.bodyLimits
        uploadSlots = UploadSlots(limit: configuration.maxConcurrentUploads)
        self.logger = logger
        let priors = PooledPriors(database: database)
        self.priors = priors
        autoFit = AutoFitScheduler(studies: studies, pool: pool, quiet: configuration.autoFitQuiet, logger: logger, priors: priors)
    }

    /// A route: method, path template, the scope it needs (nil: open even when tokens are
    /// configured), its handler, and whether its body arrives still encoded: an upload inflates a
    /// gzip body on its parsing thread, piece by piece, so that inflating overlaps parsing and storing
    /// (EvaluationUpload), and gets the upload's larger body limits; every other body arrives inflated.
    struct Route {
        var method: String
        var template: String
        var scope: Scope?
        var handler: @Sendable (HTTPRequest) throws -> HTTPResponse
        var encodedBody = false
        /// Answered on the event loop that read the request, with no hop to the handler pool: only for
        /// handlers that touch neither SQLite nor anything else that can block (RoutePolicy.nonBlocking).
        var nonBlocking = false
        /// The answer from memory the event loop gives when it has one (RoutePolicy.fromMemory); nil
        /// from it runs `handler` on the pool.
        var fromMemory: (@Sendable (HTTPRequest) -> HTTPResponse?)?

        init(_ method: String, _ template: String, _ scope: Scope?, encodedBody: Bool = false, nonBlocking: Bool = false,
             fromMemory: (@Sendable (HTTPRequest) -> HTTPResponse?)? = nil,
             _ handler: @escaping @Sendable (HTTPRequest) throws -> HTTPResponse) {
            self.method = method
            self.template = template
            self.scope = scope
            self.encodedBody = encodedBody
            self.nonBlocking = nonBlocking
            self.fromMemory = fromMemory
            self.handler = handler
        }
    }

    var routeTable: [Route] {
        // One line a path, its methods side by side.
        let own: [Route] = [
            // Probes and the description of the API: open, but /metrics needs the read scope.
            // Liveness and the API's description are constant answers, given on the loop: a server
            // whose handler pool is busy with uploads still says it is alive. Readiness reads the
            // database, so it waits its turn on the pool.
            Route("GET", "/healthz", nil, nonBlocking: true, health),
            Route("GET", "/readyz", nil, ready),
            Route("GET", "/openapi.json", nil, nonBlocking: true, openAPI),
            Route("GET", "/metrics", .read, metricsExposition),
            // Studies (StudyRoutes.swift); deleting one is an admin's.
            Route("POST", "/v1/studies", .write, createStudy), Route("GET", "/v1/studies", .read, listStudies),
            Route("GET", "/v1/studies/{study}", .read, getStudy), Route("DELETE", "/v1/studies/{study}", .admin, deleteStudy),
            // Evaluations (EvaluationRoutes.swift): the upload's body arrives still encoded.
            Route("POST", "/v1/studies/{study}/evaluations", .write, encodedBody: true, uploadEvaluations),
            Route("GET", "/v1/studies/{study}/evaluations", .read, listEvaluations),
            // Fits (FitRoutes.swift).
            Route("POST", "/v1/studies/{study}/fits", .write, createFit), Route("GET", "/v1/studies/{study}/fits", .read, listFits),
            // A study's prediction is answered by the loop from memory (PredictionIndex), else on the pool.
            Route("GET", "/v1/studies/{study}/prediction", .read, fromMemory: predictionFromMemory, prediction),
            Route("GET", "/v1/fits/{id}", .read, getFit), Route("DELETE", "/v1/fits/{id}", .write, cancelFit),
            // SVG plots of a succeeded fit, and of a study's newest (PlotRoutes.swift).
            Route("GET", "/v1/fits/{id}/plots/fit.svg", .read, fitPlotSVG),
            Route("GET", "/v1/fits/{id}/plots/emergence-cdf.svg", .read, fitEmergenceCDFSVG),
            Route("GET", "/v1/studies/{study}/plots/fit.svg", .read, studyFitPlotSVG),
            Route("GET", "/v1/studies/{study}/plots/emergence-cdf.svg", .read, studyEmergenceCDFSVG),
            // Pages for people (API/PageRoutes.swift): HTML, same read scope as the JSON.
            Route("GET", "/", .read, homePage),
            Route("GET", "/studies/{study}", .read, studyPage),
        ]
        return own + jobRoutes + jobPlotRoutes + autoFitRoutes + priorRoutes
    }

    func register(on router: Router) {
        // Answers decided from the head (the router's 404/405/OPTIONS, admission refusals) carry the
        // id too, like every handler's.
        router.addToAnswers { headers in [("X-Request-Id", RequestID.of(headers))] }
        for route in routeTable {
            let handler = route.handler
            let scope = route.scope
            let encodedBody = route.encodedBody
            let nonBlocking = route.nonBlocking
            // An answer from memory carries the request id like every handler's.
            var fromMemory: (@Sendable (HTTPRequest) -> HTTPResponse?)? = nil
            if let answer = route.fromMemory {
                fromMemory = { request in
                    guard var response = answer(request) else { return nil }
                    response.headers.set("X-Request-Id", RequestID.of(request))
                    return response
                }
            }
            // Everything decided from the head (credentials, the query's shape, the body's declared
            // size) is decided before a body byte is read: `admit` runs on the I/O thread and is cheap
            // (a constant-time compare of a few tokens, a scan of the query).
            let policy = RoutePolicy(maxBodyBytes: encodedBody ? limits.uploadWireBytes : limits.smallBodyBytes,
                                     maxDecodedBodyBytes: encodedBody ? limits.uploadDecodedBytes : limits.smallBodyBytes,
                                     encodedBody: encodedBody, nonBlocking: nonBlocking,
                                     admit: { [self] request in admission(request, scope: scope) }, fromMemory: fromMemory)
            router.add(route.method, route.template, policy: policy) { [self] request in
                let requestID = RequestID.of(request)
                var response = answer(request, handler: handler, requestID: requestID)
                response.headers.set("X-Request-Id", requestID)
                return response
            }
        }
    }

    /// What is decided from the request head: credentials, then the shape of the query.
    func admission(_ request: HTTPRequest, scope: Scope?) -> HTTPResponse? {
        // Two Authorization fields: which one counts would be a guess between client, proxies and us.
        if request.headers.values("Authorization").count > 1 {
            return .problem(status: 400, title: "Bad Request", detail: "send one Authorization header, not several")
        }
        if let scope {
            switch tokens.authorize(authorization: request.headers["Authorization"], needs: scope) {
            case .allowed: break
            case .unauthenticated(let why):
                return .problem(status: 401, title: "Unauthorized", detail: why,
                                headers: ["WWW-Authenticate": "Bearer realm=\"emergence\""])
            case .forbidden(let why):
                return .problem(status: 403, title: "Forbidden", detail: why)
            }
        }
        var seen = Set<String>()
        for item in request.queryItems {
            // A repeated parameter is refused rather than one copy silently winning.
            if !seen.insert(item.name).inserted {
                return APIError.badParameter(item.name, "is given more than once; give it once").response
            }
            // Control characters never belong in a query value (openapi.json says so for each one).
            if item.value.unicodeScalars.contains(where: { $0.value < 0x20 || $0.value == 0x7F }) {
                return APIError.badParameter(item.name, "must not contain control characters").response
            }
        }
        return nil
    }

    private func answer(_ request: HTTPRequest, handler: (HTTPRequest) throws -> HTTPResponse, requestID: String) -> HTTPResponse {
        do {
            return try handler(request)
        } catch {
            return problemResponse(for: error, requestID: requestID) { message in
                self.logger.error("\(request.method) \(request.path) failed: \(message)", metadata: ["request_id": "\(requestID)"])
            }
        }
    }

    // MARK: Helpers

    func study(_ request: HTTPRequest) throws -> Study {
        let ref = request.pathParameters["study"] ?? ""
        guard let s = try studies.find(reference: ref) else { throw APIError.missingStudy(ref) }
        return s
    }

    func fitID(_ request: HTTPRequest) throws -> Int {
        let raw = request.pathParameters["id"] ?? ""
        guard let id = Int(raw), id > 0, raw.allSatisfy(\.isASCII) else { throw APIError.notFound("no fit with id \"\(raw)\"") }
        return id
    }

    /// The job `id` when it is a fit. Other kinds share the id sequence but live at /v1/jobs/{id}:
    /// every fit route answers them the 404 of a missing fit.
    func fitJob(id: Int) throws -> Job? {
        guard let job = try jobs.find(id: id), job.kind == .fit else { return nil }
        return job
    }

    /// The job with its stored result: listings and enqueue answers carry none, so a succeeded job's
    /// document loads it once.
    func withResult(_ job: Job) -> Job {
        guard job.status == .succeeded, job.resultJSON == nil, let loaded = try? jobs.find(id: job.id) else { return job }
        return loaded
    }

    /// `limit` in 1...max (default `fallback`).
    func limit(_ request: HTTPRequest, fallback: Int, max: Int) throws -> Int {
        guard let raw = request.query("limit") else { return fallback }
        guard let n = Int(raw), n >= 1, n <= max else { throw APIError.badParameter("limit", "must be an integer in 1...\(max)") }
        return n
    }

    /// The `status` filter of a job listing (fits or jobs), or nil when absent.
    func statusFilter(_ request: HTTPRequest) throws -> Job.Status? {
        guard let raw = request.query("status") else { return nil }
        guard let st = Job.Status(rawValue: raw) else {
            throw APIError.badParameter("status", "must be one of queued, running, succeeded, failed, cancelled, timed_out")
        }
        return st
    }

    /// An opaque cursor from a previous page (the last id seen), or `fallback`.
    func cursor(_ request: HTTPRequest, fallback: Int) throws -> Int {
        guard let raw = request.query("cursor"), !raw.isEmpty else { return fallback }
        guard let n = Int(raw), n >= 0 else { throw APIError.badParameter("cursor", "is not a cursor this API returned") }
        return n
    }

    func json<T: Encodable>(_ status: Int, _ value: T, headers: HTTPHeaders = HTTPHeaders()) throws -> HTTPResponse {
        var r = HTTPResponse.json(status, try JSONBody.encode(value))
        for (name, value) in headers { r.headers.set(name, value) }
        return r
    }

    /// The document of a fit, from the cache when it is final.
    func document(_ job: Job, studyName: String?) -> [UInt8] {
        if job.status == .succeeded, let d = documents.withLock({ $0[job.id] }) { return d }
        let full = withResult(job)
        let d = FitDocument.encode(full, studyName: studyName, progress: pool.progress(of: job.id))
        if full.status == .succeeded {
            documents.withLock { cache in
                if cache.count > 1024 { cache.removeAll() }
                cache[job.id] = d
            }
        }
        return d
    }

    /// A succeeded fit's document: from the cache without touching the database when possible.
    func succeededDocument(id: Int, studyName: String?) throws -> [UInt8]? {
        if let cached = documents.withLock({ $0[id] }) { return cached }
        guard let job = try jobs.find(id: id) else { return nil }
        return document(job, studyName: studyName)
    }

    func forgetDocuments() {
        documents.withLock { $0.removeAll() }
    }

    // MARK: Health

    func health(_ request: HTTPRequest) throws -> HTTPResponse {
        .json(200, Array("{\"status\":\"ok\"}".utf8))
    }

    func ready(_ request: HTTPRequest) throws -> HTTPResponse {
        struct Ready: Encodable {
            var status: String
            var schema_version: Int
            var fits_running: Int
            var fits_queued: Int
        }
        do {
            let (version, queued) = try database.read { c in
                (try c.userVersion(), try jobs.queuedCount(c))
            }
            return try json(200, Ready(status: "ready", schema_version: version, fits_running: pool.runningCount, fits_queued: queued))
        } catch {
            logger.error("readiness check failed: \(error)")
            return .problem(status: 503, title: "Service Unavailable", detail: "the database cannot be read")
        }
    }

    func openAPI(_ request: HTTPRequest) throws -> HTTPResponse {
        .json(200, OpenAPISpec.bytes)
    }
}
