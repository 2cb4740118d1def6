import EmergenceCore
import Foundation

/// A back-test's result as JSON, with each impossible cutoff reported on its own instead of failing
/// the whole document: a cutoff that leaves no checkpoint, or whose numbers overflow (a cutoff of
/// 1e-300 FLOPs makes its look-ahead, first post-emergence FLOPs / cutoff, infinite), carries an
/// `error` saying so, and the other cutoffs keep their results. Used by the API's back-test jobs and
/// by `emergence backtest`, so both print the same document.
public enum BacktestDocument {
    /// One cutoff: the engine's entry (numbers that cannot be written dropped) and its error.
    struct Entry: Encodable {
        var cutoff: BacktestResult.Cutoff
        var error: String?

        enum Keys: String, CodingKey { case error }

        func encode(to encoder: Encoder) throws {
            try cutoff.encode(to: encoder)
            var c = encoder.container(keyedBy: Keys.self)
            try c.encodeIfPresent(error, forKey: .error)
        }
    }

    struct Document: Encodable {
        var cutoffs: [Entry]
        var horizon: Double?
        var successThresholdNats: Double
        var observation: ObservationResult
        var warnings: [FitResult.Warning]

        enum CodingKeys: String, CodingKey {
            case cutoffs, horizon, observation, warnings
            case successThresholdNats = "success_threshold_nats"
        }
    }

    /// The cutoffs that failed: (cutoff, reason).
    public static func errors(_ result: BacktestResult) -> [(cutoff: Double, reason: String)] {
        entries(result).compactMap { e in e.error.map { (e.cutoff.maxFlops, $0) } }
    }

    static func entries(_ result: BacktestResult) -> [Entry] {
        let probe = FitResult.makeEncoder(pretty: false)
        return result.cutoffs.map { c in
            var c = c
            var problems: [String] = []
            if c.status == .noData {
                problems.append(String(format: "no checkpoint has at most %.3g FLOPs, so there is nothing to fit under this cutoff; choose a cutoff at or above your smallest checkpoint's FLOPs", c.maxFlops))
            }
            if let h = c.horizon, !h.isFinite {
                c.horizon = nil
                problems.append(String(format: "the look-ahead (first post-emergence FLOPs / %.3g) overflows", c.maxFlops))
            }
            if (try? probe.encode(Entry(cutoff: c, error: nil))) == nil {
                // Some other number of this cutoff's fit is not finite: keep what can be written.
                c.fit = nil
                c.predicted = nil
                c.errorNats = nil
                c.errorLog10Flops = nil
                c.success = false
                problems.append("its fit produced numbers too large to write (non-finite)")
            }
            return Entry(cutoff: c, error: problems.isEmpty ? nil : problems.joined(separator: "; "))
        }
    }

    /// The document's bytes. The back-test's horizon is recomputed over the cutoffs that survived.
    public static func encode(_ result: BacktestResult, pretty: Bool) throws -> Data {
        let list = entries(result)
        let horizon = list.filter { $0.error == nil && $0.cutoff.success }.compactMap(\.cutoff.horizon).filter(\.isFinite).max()
        let doc = Document(cutoffs: list, horizon: horizon, successThresholdNats: result.successThresholdNats,
                           observation: result.observation, warnings: result.warnings)
        return try FitResult.makeEncoder(pretty: pretty).encode(doc)
    }
}
