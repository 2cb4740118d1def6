import EmergenceCore
import Foundation

/// The one place a back-test's result becomes the chart's points: `emergence backtest --svg` and
/// `GET /v1/jobs/{id}/plots/backtest.svg` both call this, so they draw the same picture.
extension BacktestChart {
    /// Per cutoff: E* at the MLE with its 5th and 95th percentiles, the fit's status, and the
    /// result's own success verdict |E* − E_observed| < threshold where it gave one (it did when it
    /// has an error in nats); otherwise the point is not judged.
    public static func points(result: BacktestResult) -> [Point] {
        result.cutoffs.map { c in
            let loss = c.predicted?.loss
            return Point(maxFlops: c.maxFlops, predicted: loss?.mle,
                         p5: loss?.percentiles?["5"], p95: loss?.percentiles?["95"],
                         status: c.status.rawValue,
                         success: c.errorNats == nil ? nil : c.success)
        }
    }

    /// The chart of a back-test. The observed loss, the tolerance and the first post-emergence
    /// checkpoint come from the result (only when emergence was observed: otherwise nothing is
    /// judged); `options` gives the title and notes, its tolerance and emergence compute are replaced.
    public static func svg(result: BacktestResult, options: Options = Options()) -> String {
        let observed = result.observation.status == .ok ? result.observation : nil
        var o = options
        o.tolerance = result.successThresholdNats
        o.emergenceFlops = observed?.firstEmerged?.flops
        if observed == nil {
            o.notes.insert("Emergence is not observed in the checkpoints (\(result.observation.status.rawValue)).", at: 0)
        }
        return svg(points: points(result: result), observedEmergenceLoss: observed?.emergence.loss?.mle, options: o)
    }
}
