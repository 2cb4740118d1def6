import Foundation

/// A back-test (docs/method.md §8): `emergence backtest FILE.csv --cutoffs …` and the API's backtest job.
/// The JSON body is flat: `cutoffs`, `observe_bootstrap` and every fit option (FitOptions' keys)
/// side by side; each cutoff's fit runs with those options and `max_flops` = the cutoff.
public struct BacktestOptions: WorkflowOptions {
    /// Compute cutoffs in FLOPs (1 to 20, finite, > 0; reported in ascending order).
    public var cutoffs: [Double] = []
    /// The fit options of every cutoff's fit (`max_flops` must be absent: the cutoffs set it).
    public var fit = FitOptions()
    /// Bootstrap resamples of the observed emergence from all checkpoints (default 1,000).
    public var observeBootstrap: Int = 1000

    public init() {}
    public init(cutoffs: [Double], fit: FitOptions = FitOptions()) { self.cutoffs = cutoffs; self.fit = fit }

    enum CodingKeys: String, CodingKey {
        case cutoffs
        case observeBootstrap = "observe_bootstrap"
    }

    public init(from decoder: Decoder) throws {
        fit = try FitOptions(from: decoder)
        let c = try decoder.container(keyedBy: CodingKeys.self)
        cutoffs = try c.decodeIfPresent([Double].self, forKey: .cutoffs) ?? []
        observeBootstrap = try c.decodeIfPresent(Int.self, forKey: .observeBootstrap) ?? 1000
    }

    public func encode(to encoder: Encoder) throws {
        try fit.encode(to: encoder)
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(cutoffs, forKey: .cutoffs)
        try c.encode(observeBootstrap, forKey: .observeBootstrap)
    }

    /// The observation's options: all checkpoints, the fit's seed and scaling law.
    public var observeOptions: ObserveOptions {
        var o = ObserveOptions()
        o.bootstrap = observeBootstrap
        o.seed = fit.seed
        o.scalingLaw = fit.scalingLaw
        return o
    }

    /// The fit options at one cutoff: exactly what `emergence fit --max-flops CUTOFF` with the same
    /// flags would use, so the back-test at a cutoff agrees with that fit.
    public func fitOptions(cutoff: Double) -> FitOptions {
        var o = fit
        o.maxFlops = cutoff
        return o
    }

    public func problems(budget: FitBudget = .default) -> [Evaluation.Problem] {
        var out = fit.problems(budget: budget)
        func bad(_ f: String, _ r: String) { out.append(.init(field: f, reason: r)) }
        if fit.maxFlops != nil { bad("max_flops", "must be absent: each cutoff sets it") }
        if cutoffs.isEmpty || cutoffs.count > WorkflowLimits.maxCutoffs {
            bad("cutoffs", "must list 1 to \(WorkflowLimits.maxCutoffs) compute cutoffs (got \(cutoffs.count))")
        }
        for (i, c) in cutoffs.enumerated() where !(c.isFinite && c > 0) { bad("cutoffs[\(i)]", "must be a finite number > 0") }
        if Set(cutoffs).count != cutoffs.count { bad("cutoffs", "must not repeat a cutoff") }
        if observeBootstrap < 0 || observeBootstrap > 100_000 { bad("observe_bootstrap", "must be in 0...100000") }
        if out.isEmpty {
            var work = WorkflowWork()
            work.add(fit, count: cutoffs.count)
            work.addResamples(observeBootstrap)
            out += work.problems(budget: budget, field: "cutoffs", what: "\(cutoffs.count) fits and the observation")
        }
        return out
    }
}
