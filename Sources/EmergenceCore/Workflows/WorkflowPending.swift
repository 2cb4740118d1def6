/// Placeholder while the entry points are being filled in (removed when all are implemented).
enum WorkflowPending {
    static func error(_ kind: String) -> FitError {
        .invalidOptions([.init(field: "kind", reason: "\(kind) is not implemented yet")])
    }
}
