/// What a job does. Every kind shares one table, queue, worker pool, timeout, restart
/// recovery, cancel and dedupe; only how its options are read and what its worker computes differ.
/// The raw value is the name stored in `fit.kind` and used by `GET …/jobs?kind=`.
public enum JobKind: String, Codable, Sendable, CaseIterable {
    /// The emergence fit (`POST /v1/studies/{s}/fits`).
    case fit
    /// The observed emergence point from the few-shot rows alone.
    case observation
    /// Predictions under compute cutoffs, checked against later checkpoints.
    case backtest
    /// Which of two studies emerges first (reads study and study_b).
    case comparison
    /// Functional forms with Δ on and off, and a D0 sweep.
    case ablation
    /// The next experiments ranked by how much they would narrow E*'s interval.
    case advice

    /// Names for an error message.
    public static var names: String { allCases.map(\.rawValue).joined(separator: ", ") }
}
