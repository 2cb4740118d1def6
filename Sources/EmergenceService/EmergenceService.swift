import Foundation
import HTTP
import Jobs
import Logging
import Storage

/// The running service: database, fit workers, HTTP server. `emergence serve` and the end-to-end
/// tests start it the same way.
public final class EmergenceService: Sendable {
    public let configuration: ServiceConfiguration
    public let router: Router
    let database: Database
    let pool: JobWorkerPool
    let api: ServiceAPI
    let metrics = ServiceMetrics()
    private let server: HTTPServer
    private let logger: Logger

    /// Opens (creating and migrating) the database and builds the routes; nothing listens yet.
    public convenience init(configuration: ServiceConfiguration, logger: Logger = Logger(label: "emergence")) throws {
        // Every job kind runs where fits do: in a child process of this executable, or on a pool thread.
        let jobs = configuration.fitExecutable.map { JobProcess.jobRunner(executable: $0) }
        try self.init(configuration: configuration, logger: logger, runner: JobWorkerPool.emergenceFit, jobRunner: jobs,
                      requestLines: .standardError)
    }

    /// - requestLines: where the per-request log lines go (in `configuration.logFormat`); nil, as in
    ///   most tests: requests are counted for /metrics but not logged.
    /// - runner: what runs fits; other kinds run in-process through `JobEngine`, unless `jobRunner`
    ///   (which then runs every kind) is given.
    init(configuration: ServiceConfiguration, logger: Logger, runner: @escaping JobWorkerPool.FitRunner,
         jobRunner: JobRunner? = nil, requestLines: LogSink? = nil) throws {
        try configuration.validate()
        // A peer that goes away mid-write (a client, or a fit's child process) must cost an EPIPE,
        // not the process: SIGPIPE's default action is to terminate.
        signal(SIGPIPE, SIG_IGN)
        self.configuration = configuration
        self.logger = logger
        let database = try Database(path: configuration.databasePath, readers: configuration.readers,
                                    migrations: ServiceSchema.migrations)
        self.database = database
        for note in database.migrationNotes { logger.warning("\(note)") }
        let predictions = PredictionIndex(capacityBytes: configuration.predictionCacheBytes)
        let evaluations = EvaluationStore(database: database,
                                          identities: IdentityCache(capacityBytes: configuration.identityCacheBytes))
        let events = JobEventLog(metrics: metrics, logger: logger, predictions: predictions)
        pool = JobWorkerPool(database: database, workers: configuration.workers,
                             limits: JobStore.QueueLimits(overall: configuration.maxQueuedFits,
                                                          perStudy: configuration.maxQueuedFitsPerStudy),
                             timeout: configuration.fitTimeout, logger: logger,
                             runner: jobRunner ?? JobEngine.runner(fit: runner), events: events,
                             rows: { try evaluations.all(studyID: $0).rows })
        let api = ServiceAPI(database: database, evaluations: evaluations, pool: pool, configuration: configuration, logger: logger,
                             metrics: metrics, predictions: predictions)
        self.api = api
        let autoFit = api.autoFit
        events.fitSucceeded.withLock { $0 = { autoFit.noteFitSucceeded(studyID: $0) } }
        router = Router()
        api.register(on: router)
        var http = ServerConfiguration(host: configuration.host, port: configuration.port)
        // Each route declares its own limits (ServiceAPI.register); these apply to none of them.
        http.maxBodyBytes = configuration.bodyLimits.smallBodyBytes
        http.maxDecompressedBodyBytes = configuration.bodyLimits.smallBodyBytes
        http.maxBufferedBodyBytes = configuration.bodyLimits.bufferedBytes
        http.cors = configuration.cors
        let requestLog = RequestLog(metrics: metrics, lines: requestLines.map { (configuration.logFormat, $0) })
        http.onResponse = { requestLog.record($0) }
        let server = HTTPServer(configuration: http, router: router, logger: logger)
        self.server = server
        metrics.countConnections { [weak server] in server?.connectionCount ?? 0 }
    }

    /// Requeues interrupted fits, starts the workers and starts listening.
    public func start() throws {
        try pool.start()
        api.autoFit.start()
        try server.start()
        logger.info("emergence listening on \(configuration.host):\(server.port) (database \(configuration.databasePath), \(configuration.workers) fit worker(s) \(configuration.fitExecutable == nil ? "on threads" : "in child processes"), \(configuration.tokens.isEmpty ? "no auth: loopback only" : "\(configuration.tokens.count) token(s)"))")
    }

    /// The bound port (after `start`).
    public var port: Int { server.port }

    /// Stops accepting, finishes in-flight requests, interrupts fits (they resume on the next start)
    /// and folds the WAL into the database file.
    public func shutdown() {
        server.shutdown(deadline: 10)
        server.waitUntilStopped()
        api.autoFit.stop()
        pool.shutdown(timeout: 10)
        do { try database.checkpointWithoutWaiting() } catch { logger.warning("WAL checkpoint on shutdown failed: \(error)") }
        database.close()
    }

    /// What `emergence serve` runs: logs to stderr (one JSON object per line, or text), starts, blocks until SIGINT/SIGTERM, shuts down.
    public static func serve(_ configuration: ServiceConfiguration) throws {
        // Lines go to stderr through a background writer (LogSink), flushed before returning.
        let format = configuration.logFormat
        LoggingSystem.bootstrap { label in LineLogHandler(label: label, format: format) }
        defer { LogSink.standardError.flush() }
        try EmergenceService(configuration: configuration, logger: Logger(label: "emergence")).run()
    }

    /// Starts, then blocks until SIGINT/SIGTERM, then shuts down cleanly.
    public func run() throws {
        try start()
        server.installSignalHandlers()
        server.waitUntilStopped()
        logger.info("shutting down")
        api.autoFit.stop()
        pool.shutdown(timeout: 10)
        do { try database.checkpointWithoutWaiting() } catch { logger.warning("WAL checkpoint on shutdown failed: \(error)") }
        database.close()
    }
}
