import EmergenceCore
import Foundation

/// What a worker needs to run one job of any kind: its kind, its options as stored (canonical JSON),
/// the study's rows and, for a comparison, the second study's rows.
public struct JobWork: Sendable {
    public var kind: JobKind
    public var optionsJSON: String
    public var rows: [Evaluation]
    public var rowsB: [Evaluation]?

    public init(kind: JobKind, optionsJSON: String, rows: [Evaluation], rowsB: [Evaluation]? = nil) {
        self.kind = kind
        self.optionsJSON = optionsJSON
        self.rows = rows
        self.rowsB = rowsB
    }
}

/// Runs one job and returns its result document (compact JSON). Throws `FitError.cancelled` when
/// `isCancelled` turned true (cancel, timeout or shutdown), anything else to fail the job.
public typealias JobRunner = @Sendable (JobWork, @escaping @Sendable (Double) -> Void, @escaping @Sendable () -> Bool) throws -> [UInt8]

/// The job's kind needs a second study's rows and was given none (a stored row that lost its study_b).
struct MissingSecondStudy: Error, CustomStringConvertible {
    var description: String { "the comparison's second study is missing" }
}
