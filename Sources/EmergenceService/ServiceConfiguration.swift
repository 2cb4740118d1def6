import Foundation
import HTTP

/// Everything `emergence serve` needs; each field has a flag and an environment variable.
public struct ServiceConfiguration: Sendable {
    public var host: String = "127.0.0.1"
    public var port: Int = 8080
    public var databasePath: String = "./emergence.sqlite"
    /// Fit threads; fits are CPU-bound, so more than the core count only adds waiting.
    public var workers: Int = max(1, ProcessInfo.processInfo.activeProcessorCount - 1)
    public var tokens: TokenSet = TokenSet(entries: [])
    /// Read connections to SQLite.
    public var readers: Int = 4
    /// Wall-clock limit of one fit in seconds; past it the fit ends as `timed_out`
    /// (`EMERGENCE_FIT_TIMEOUT`). The default leaves room for the largest fit the work budget
    /// admits on one core, with margin for a busy machine.
    public var fitTimeout: Double = 600
    /// Fits queued or running at once, over the whole server and per study (`EMERGENCE_MAX_QUEUED_FITS`,
    /// `EMERGENCE_MAX_QUEUED_FITS_PER_STUDY`); a new fit past either is answered 429 with Retry-After.
    public var maxQueuedFits: Int = 1_000
    public var maxQueuedFitsPerStudy: Int = 100
    /// Where fits run: in a child process of this executable (`emergence fit-worker`), so a defect in
    /// the math costs one fit and never the server, or on a thread of the server (tests, and
    /// `EMERGENCE_FIT_ISOLATION=thread`). nil = thread.
    public var fitExecutable: String? = nil

    /// Seconds without new evaluations before a study with `auto_fit` queues its refit
    /// (`--auto-fit-quiet`, `EMERGENCE_AUTO_FIT_QUIET`); each upload in the meantime restarts the wait.
    public var autoFitQuiet: Double = 10

    /// Uploads parsed at once; one more is answered 503 with Retry-After (see UploadSlots).
    public var maxConcurrentUploads = 4

    /// The most memory the writer's cache of evaluation identities may take (least recently used
    /// studies are dropped first; a dropped study's identities are re-read from the database).
    public var identityCacheBytes = IdentityCache.defaultCapacityBytes

    /// The most memory the event loop's answers of `/prediction` may take (documents of the newest
    /// succeeded fit by study; a study left out is answered from the database, on the handler pool).
    public var predictionCacheBytes = PredictionIndex.defaultCapacityBytes

    /// The most either cache may be given (64 GiB): past that a setting is a typo, not a plan.
    static let maximumCacheBytes = 64 << 30

    /// The server log on stderr: one JSON object per line (the default, for log collectors) or text
    /// (`--log-format`, `EMERGENCE_LOG_FORMAT`). Request and fit lines carry the same fields in both.
    public var logFormat: LogFormat = .json

    /// Origins whose browser pages may read the API (`EMERGENCE_CORS_ORIGINS`: comma-separated exact
    /// origins, or `*` only when no tokens are set). nil: no CORS headers at all.
    public var cors: CORSPolicy? = nil

    /// Sets `cors` from `EMERGENCE_CORS_ORIGINS` text (`CORSPolicy.parse`); throws on a malformed origin.
    public mutating func allowCORSOrigins(_ text: String) throws {
        cors = try CORSPolicy.parse(text)
    }

    /// Request body limits, checked from the request head (413 beyond).
    public struct BodyLimits: Sendable {
        /// Studies and fit options: small JSON documents.
        public var smallBodyBytes = 64 * 1024
        /// An upload as sent (gzip or not). 200k rows of CSV are ~20 MB, of NDJSON ~45 MB.
        public var uploadWireBytes = 256 * 1024 * 1024
        /// An upload after gzip decoding. It is parsed as it inflates, so this bounds work, not memory.
        public var uploadDecodedBytes = 1024 * 1024 * 1024
        /// Request-body bytes held at once over all connections (503 + Retry-After beyond): with the
        /// limits above, the most memory clients' bodies can take.
        public var bufferedBytes = ServerConfiguration().maxBufferedBodyBytes
        public init() {}
    }
    public var bodyLimits = BodyLimits()

    public init() {}

    public struct Invalid: Error, CustomStringConvertible {
        public var description: String
    }

    /// Refuses set-ups that would expose the service by accident.
    public func validate() throws {
        guard (0...65535).contains(port) else { throw Invalid(description: "port must be in 0...65535 (got \(port))") }
        guard workers >= 1 && workers <= 256 else { throw Invalid(description: "workers must be in 1...256 (got \(workers))") }
        guard fitTimeout.isFinite && fitTimeout >= 1 && fitTimeout <= 7 * 86_400 else {
            throw Invalid(description: "fit timeout must be in 1...604800 seconds (got \(fitTimeout))")
        }
        guard autoFitQuiet.isFinite && autoFitQuiet >= 0 && autoFitQuiet <= 86_400 else {
            throw Invalid(description: "auto-fit quiet period must be in 0...86400 seconds (got \(autoFitQuiet))")
        }
        for (name, bytes) in [("prediction cache", predictionCacheBytes), ("identity cache", identityCacheBytes)] {
            guard (0...Self.maximumCacheBytes).contains(bytes) else {
                let got = bytes == .max ? "" : " (got \(bytes / (1 << 20)) MiB)"
                throw Invalid(description: "\(name) must be in 0...\(Self.maximumCacheBytes >> 20) MiB\(got)")
            }
        }
        guard (1...1_000_000).contains(maxQueuedFits) else {
            throw Invalid(description: "max queued fits must be in 1...1000000 (got \(maxQueuedFits))")
        }
        guard (1...maxQueuedFits).contains(maxQueuedFitsPerStudy) else {
            throw Invalid(description: "max queued fits per study must be in 1...\(maxQueuedFits) (got \(maxQueuedFitsPerStudy))")
        }
        if cors?.origins == .any && !tokens.isEmpty {
            throw Invalid(description: """
                EMERGENCE_CORS_ORIGINS=* is refused when EMERGENCE_TOKENS is set: any web page could then \
                read the API with a token a visitor's browser holds. List the dashboards' exact origins \
                (https://dash.example.com,http://localhost:3000).
                """)
        }
        if tokens.isEmpty && !Self.isLoopback(host) {
            throw Invalid(description: """
                refusing to listen on \(host) without authentication: with no EMERGENCE_TOKENS set the API is open, \
                so it only binds a loopback address (127.0.0.1, ::1, localhost). Set EMERGENCE_TOKENS \
                (TOKEN:read|write|admin, comma-separated) to serve other hosts.
                """)
        }
    }

    static func isLoopback(_ host: String) -> Bool {
        let h = host.lowercased()
        if h == "localhost" || h == "::1" || h == "[::1]" { return true }
        let parts = h.split(separator: ".")
        return parts.count == 4 && parts[0] == "127" && parts.allSatisfy { UInt8($0) != nil }
    }
}
