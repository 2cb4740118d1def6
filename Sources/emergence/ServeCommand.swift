import ArgumentParser
import EmergenceService
import Foundation

/// `emergence serve`: the HTTP service. Each flag falls back to an environment variable, then to a default.
struct ServeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve",
        abstract: "Run the HTTP API (studies, evaluation uploads, fits, predictions) on a SQLite file.",
        discussion: """
        Environment: EMERGENCE_HOST, EMERGENCE_PORT, EMERGENCE_DB, EMERGENCE_WORKERS, EMERGENCE_FIT_TIMEOUT, \
        EMERGENCE_MAX_QUEUED_FITS, EMERGENCE_MAX_QUEUED_FITS_PER_STUDY, EMERGENCE_FIT_ISOLATION, EMERGENCE_AUTO_FIT_QUIET, EMERGENCE_LOG_FORMAT, \
        EMERGENCE_PREDICTION_CACHE_MIB, EMERGENCE_IDENTITY_CACHE_MIB, EMERGENCE_CORS_ORIGINS \
        (origins whose pages may read the API: exact origins, comma-separated, or * without tokens), and EMERGENCE_TOKENS \
        (TOKEN:read|write|admin, comma-separated). Without tokens the API is open and binds loopback only.
        """)

    @Option(help: "Address to listen on (env EMERGENCE_HOST; default 127.0.0.1).")
    var host: String?

    @Option(help: "TCP port, 0 for any free one (env EMERGENCE_PORT; default 8080).")
    var port: Int?

    @Option(help: "SQLite database file, created on first run (env EMERGENCE_DB; default ./emergence.sqlite).")
    var db: String?

    @Option(help: "Fit worker threads (env EMERGENCE_WORKERS; default: cores - 1, at least 1).")
    var workers: Int?

    @Option(help: "Seconds a fit may run before it ends as timed_out (env EMERGENCE_FIT_TIMEOUT; default 600).")
    var fitTimeout: Double?

    @Option(help: "Fits queued or running at once before new ones get 429 (env EMERGENCE_MAX_QUEUED_FITS; default 1000).")
    var maxQueuedFits: Int?

    @Option(help: "The same, per study (env EMERGENCE_MAX_QUEUED_FITS_PER_STUDY; default 100).")
    var maxQueuedFitsPerStudy: Int?

    @Option(help: "Where fits run: process (a child process per fit; a crash costs one fit) or thread (env EMERGENCE_FIT_ISOLATION; default process).")
    var fitIsolation: String?

    @Option(help: "Seconds without uploads before a study with auto_fit queues its refit (env EMERGENCE_AUTO_FIT_QUIET; default 10).")
    var autoFitQuiet: Double?

    @Option(help: "Server log on stderr: json (one object per line) or text (env EMERGENCE_LOG_FORMAT; default json).")
    var logFormat: String?

    @Option(help: "MiB the cached answers of /prediction may take; 0 answers every one from the database (env EMERGENCE_PREDICTION_CACHE_MIB; default 64).")
    var predictionCacheMib: Int?

    @Option(help: "MiB the upload writer's cache of evaluation identities may take; 0 re-reads a study's from the database on every upload (env EMERGENCE_IDENTITY_CACHE_MIB; default 64).")
    var identityCacheMib: Int?

    /// The flag, else the environment variable (which must parse), else nil.
    private static func setting<T: LosslessStringConvertible>(_ flag: T?, _ name: String, _ env: [String: String]) throws -> T? {
        if let flag { return flag }
        guard let raw = env[name] else { return nil }
        guard let value = T(raw) else { throw ValidationError("\(name) must be a \(T.self == Double.self ? "number" : "whole number") (got \(raw))") }
        return value
    }

    func run() throws {
        let env = ProcessInfo.processInfo.environment
        var config = ServiceConfiguration()
        config.host = host ?? env["EMERGENCE_HOST"] ?? config.host
        config.port = try Self.setting(port, "EMERGENCE_PORT", env) ?? config.port
        config.databasePath = db ?? env["EMERGENCE_DB"] ?? config.databasePath
        config.workers = try Self.setting(workers, "EMERGENCE_WORKERS", env) ?? config.workers
        config.fitTimeout = try Self.setting(fitTimeout, "EMERGENCE_FIT_TIMEOUT", env) ?? config.fitTimeout
        config.maxQueuedFits = try Self.setting(maxQueuedFits, "EMERGENCE_MAX_QUEUED_FITS", env) ?? config.maxQueuedFits
        config.maxQueuedFitsPerStudy = try Self.setting(maxQueuedFitsPerStudy, "EMERGENCE_MAX_QUEUED_FITS_PER_STUDY", env)
            ?? config.maxQueuedFitsPerStudy
        config.autoFitQuiet = try Self.setting(autoFitQuiet, "EMERGENCE_AUTO_FIT_QUIET", env) ?? config.autoFitQuiet
        // MiB in, bytes in the configuration; a count past the range is refused by validate(), not wrapped.
        let mib = { (value: Int) in value.multipliedReportingOverflow(by: 1 << 20).overflow ? Int.max : value << 20 }
        if let m = try Self.setting(predictionCacheMib, "EMERGENCE_PREDICTION_CACHE_MIB", env) { config.predictionCacheBytes = mib(m) }
        if let m = try Self.setting(identityCacheMib, "EMERGENCE_IDENTITY_CACHE_MIB", env) { config.identityCacheBytes = mib(m) }
        switch fitIsolation ?? env["EMERGENCE_FIT_ISOLATION"] ?? "process" {
        case "process":
            // This very executable, even if the file is replaced by an upgrade while it runs.
            config.fitExecutable = "/proc/self/exe"
        case "thread":
            config.fitExecutable = nil
        case let other:
            throw ValidationError("fit isolation must be process or thread (got \(other))")
        }
        let format = logFormat ?? env["EMERGENCE_LOG_FORMAT"] ?? "json"
        guard let chosen = LogFormat(rawValue: format) else { throw ValidationError("log format must be json or text (got \(format))") }
        config.logFormat = chosen
        if let raw = env["EMERGENCE_TOKENS"], !raw.isEmpty {
            do { config.tokens = try TokenSet.parse(raw) } catch { throw ValidationError("\(error)") }
        }
        if let raw = env["EMERGENCE_CORS_ORIGINS"], !raw.isEmpty {
            do { try config.allowCORSOrigins(raw) } catch { throw ValidationError("EMERGENCE_CORS_ORIGINS: \(error)") }
        }
        do { try config.validate() } catch { throw ValidationError("\(error)") }
        try EmergenceService.serve(config)
    }
}
