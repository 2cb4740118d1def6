/// The fit's front door: evaluations + options → the result document.
public enum FitError: Error, Sendable, Equatable, CustomStringConvertible {
    case invalidOptions([Evaluation.Problem])
    case noFinetunedRows
    case noRows
    case cancelled

    public var description: String {
        switch self {
        case .invalidOptions(let p): return "invalid options: " + p.map { "\($0.field) \($0.reason)" }.joined(separator: "; ")
        case .noFinetunedRows: return "no finetuned rows: the emergence law needs finetuned evaluations"
        case .noRows: return "no evaluations to fit (after the max_flops filter)"
        case .cancelled: return "cancelled"
        }
    }
}

public enum EmergenceFit {
    /// Runs the whole procedure (MLE, uncertainty, scaling law, status and warnings).
    /// - progress: called now and then with a fraction in [0, 1].
    /// - isCancelled: polled between steps; when it returns true the fit throws `FitError.cancelled`.
    /// Deterministic: the same evaluations (in any order), options and seed give the same result.
    public static func run(_ evaluations: [Evaluation], options: FitOptions,
                           progress: (@Sendable (Double) -> Void)? = nil,
                           isCancelled: (@Sendable () -> Bool)? = nil) throws -> FitResult {
        fatalError("not implemented yet")
    }
}
