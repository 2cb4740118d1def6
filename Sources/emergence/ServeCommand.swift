import ArgumentParser
import EmergenceService
import Foundation

/// `emergence serve`: the HTTP service. Each flag falls back to an environment variable, then to a default.
struct ServeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve",
        abstract: "Run the HTTP API (studies, evaluation uploads, fits, predictions) on a SQLite file.",
        discussion: """
        Environment: EMERGENCE_HOST, EMERGENCE_PORT, EMERGENCE_DB, EMERGENCE_WORKERS, and EMERGENCE_TOKENS \
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

    func run() throws {
        let env = ProcessInfo.processInfo.environment
        var config = ServiceConfiguration()
        config.host = host ?? env["EMERGENCE_HOST"] ?? config.host
        if let p = port { config.port = p } else if let raw = env["EMERGENCE_PORT"] {
            guard let p = Int(raw) else { throw ValidationError("EMERGENCE_PORT must be an integer (got \(raw))") }
            config.port = p
        }
        config.databasePath = db ?? env["EMERGENCE_DB"] ?? config.databasePath
        if let w = workers { config.workers = w } else if let raw = env["EMERGENCE_WORKERS"] {
            guard let w = Int(raw) else { throw ValidationError("EMERGENCE_WORKERS must be an integer (got \(raw))") }
            config.workers = w
        }
        if let raw = env["EMERGENCE_TOKENS"], !raw.isEmpty {
            do { config.tokens = try TokenSet.parse(raw) } catch { throw ValidationError("\(error)") }
        }
        do { try config.validate() } catch { throw ValidationError("\(error)") }
        try EmergenceService.serve(config)
    }
}
