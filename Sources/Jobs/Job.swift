/// A job as stored: its kind, the request, its lifecycle, and (once succeeded) the result document.
/// A fit is the job of kind `.fit`.
public struct Job: Sendable, Equatable {
    public enum Status: String, Codable, Sendable {
        case queued, running, succeeded, failed, cancelled
        /// Ran past the per-job wall-clock limit (`JobWorkerPool.timeout`) and was stopped.
        case timedOut = "timed_out"

        public var isFinished: Bool { self != .queued && self != .running }
    }

    public var id: Int
    public var studyID: Int
    public var status: Status
    public var progress: Double
    /// The options as canonical JSON (`JobOptions`: sorted keys, defaults filled in).
    public var optionsJSON: String
    public var dataVersion: Int
    public var cancelRequested: Bool
    public var attempts: Int
    public var createdAt: String
    public var startedAt: String?
    public var finishedAt: String?
    /// The result document (for a fit, the `emergence fit` JSON), compact.
    public var resultJSON: [UInt8]?
    public var error: String?
    /// What the job computes; the options and result are that kind's.
    public var kind: JobKind = .fit
    /// The second study of a comparison, and the data version of it the job saw.
    public var studyBID: Int? = nil
    public var dataVersionB: Int? = nil
    /// Queued by the study's `auto_fit` option rather than by a request.
    public var auto: Bool = false
}
