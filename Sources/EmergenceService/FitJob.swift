import EmergenceCore
import Foundation

/// A job as stored: its kind, the request, its lifecycle, and (once succeeded) the result document.
/// The name is from when every job was a fit; a fit is the job of kind `.fit`.
public struct FitJob: Sendable, Equatable {
    public enum Status: String, Codable, Sendable {
        case queued, running, succeeded, failed, cancelled
        /// Ran past the per-fit wall-clock limit (`ServiceConfiguration.fitTimeout`) and was stopped.
        case timedOut = "timed_out"

        public var isFinished: Bool { self != .queued && self != .running }
    }

    public var id: Int
    public var studyID: Int
    public var status: Status
    public var progress: Double
    /// Canonical FitOptions JSON (sorted keys, defaults filled in).
    public var optionsJSON: String
    public var dataVersion: Int
    public var cancelRequested: Bool
    public var attempts: Int
    public var createdAt: String
    public var startedAt: String?
    public var finishedAt: String?
    /// The `emergence fit` JSON, compact.
    public var resultJSON: [UInt8]?
    public var error: String?
    /// What the job computes; the options and result are that kind's.
    public var kind: JobKind = .fit
    /// The second study of a comparison, and the data version of it the job saw.
    public var studyBID: Int? = nil
    public var dataVersionB: Int? = nil
    /// Queued by the study's `auto_fit` option rather than by a request.
    public var auto: Bool = false

    /// The options in canonical form (FitOptions writes every field): equal options give equal text,
    /// which is how a repeated request on unchanged data finds the fit it already made.
    public static func canonicalJSON<Options: Encodable>(_ options: Options) throws -> String {
        let e = JSONEncoder()
        e.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return String(decoding: try e.encode(options), as: UTF8.self)
    }
}
