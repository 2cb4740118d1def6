import Foundation

/// Back-testing (docs/method.md §8): predict from checkpoints under each compute cutoff, compare with the
/// emergence observed in all checkpoints.
///
/// Per cutoff c (ascending):
///     predicted  = EmergenceFit.run(rows, options.fit with max_flops = c)    (E*, C*, intervals)
///     observed   = Observation.run(all rows)                                  (the same for every c)
///     error_nats = E*_predicted − E_observed,  success = |error_nats| < 0.1
///     horizon(c) = C(first post-emergence checkpoint) / c
/// and the back-test's horizon is the largest horizon(c) among successful cutoffs.
public enum Backtest {
    /// One `EmergenceFit.run` per cutoff (options `options.fitOptions(cutoff:)`) plus one observation
    /// from all checkpoints. Progress is the fraction of those runs done; cancellation is passed to
    /// each. Throws `FitError.invalidOptions` (bad options, budget) before any math.
    public static func run(_ evaluations: [Evaluation], options: BacktestOptions, budget: FitBudget = .default,
                           threads: Int = ProcessInfo.processInfo.activeProcessorCount,
                           progress: (@Sendable (Double) -> Void)? = nil,
                           isCancelled: (@Sendable () -> Bool)? = nil) throws -> BacktestResult {
        let problems = options.problems(budget: budget)
        guard problems.isEmpty else { throw FitError.invalidOptions(problems) }
        let cancel = Cancellation(isCancelled)
        let steps = Double(options.cutoffs.count + 1)
        let observation = try Observation.run(
            evaluations, options: options.observeOptions, budget: budget,
            progress: progress.map { p in { @Sendable f in p(f / steps) } }, isCancelled: isCancelled)
        let observed = observation.emergence
        var warnings: [FitResult.Warning] = []
        if observation.status != .ok {
            warnings.append(.init(code: "not_observed", message:
                "emergence is not observed in the checkpoints (\(observation.status.rawValue)): there is nothing to back-test against, so no errors or successes are given"))
        }
        let firstFlops = observation.status == .ok ? observation.firstEmerged?.flops : nil

        var cutoffs: [BacktestResult.Cutoff] = []
        for (i, c) in options.cutoffs.sorted().enumerated() {
            try cancel.check()
            let base = Double(i + 1)
            let checkpoints = Set(evaluations.filter { ($0.effectiveFlops ?? .infinity) <= c }.map(\.checkpoint)).count
            var entry = BacktestResult.Cutoff(
                maxFlops: c, status: .noData, checkpoints: checkpoints, predicted: nil, observed: observed,
                errorNats: nil, errorLog10Flops: nil, success: false,
                horizon: firstFlops.map { $0 / c }, fit: nil)
            do {
                let fit = try EmergenceFit.run(
                    evaluations, options: options.fitOptions(cutoff: c), budget: budget, threads: threads,
                    progress: progress.map { p in { @Sendable f in p((base + f) / steps) } }, isCancelled: isCancelled)
                entry.fit = fit
                entry.status = BacktestResult.Cutoff.Status(rawValue: fit.status.rawValue) ?? .noData
                entry.predicted = EmergencePoint(fit)
                if observation.status == .ok, let p = fit.emergence.loss.mle, let o = observed.loss?.mle {
                    entry.errorNats = p - o
                    entry.success = abs(p - o) < BacktestResult.successThreshold
                }
                if observation.status == .ok, let p = fit.emergence.flops?.mle, let o = observed.flops?.mle, p > 0, o > 0 {
                    entry.errorLog10Flops = log10(p) - log10(o)
                }
            } catch FitError.noRows, FitError.noFinetunedRows {
                // Nothing to fit under this cutoff: reported as no_data.
            } catch FitError.invalidOptions(let p) where p.contains(where: { $0.field == "d0" }) {
                // No few-shot rows under this cutoff to take D0 from.
                warnings.append(.init(code: "no_few_shot_rows", message: String(format: "no few-shot rows at or under %.3g FLOPs: no D0 to extrapolate to", c)))
            }
            cutoffs.append(entry)
        }
        let horizon = cutoffs.filter(\.success).compactMap(\.horizon).max()
        progress?(1)
        return BacktestResult(cutoffs: cutoffs, horizon: horizon, successThresholdNats: BacktestResult.successThreshold,
                              observation: observation, warnings: warnings)
    }
}
