import Foundation

/// Design advice: which next experiment would narrow the 5–95 interval of E* most. `emergence advise
/// FILE.csv …` and the API's advice job. The body is flat: the keys below beside every fit option
/// (FitOptions' keys), which are the base fit's.
///
/// Cost: one base fit, then for the current design and each candidate `simulations` simulated data
/// sets, each refitted with `refit_bootstrap` resamples: (1 + candidates) × simulations refits.
/// Defaults (7 candidates, 8 simulations, 100 resamples): 64 refits, ~6,400 resamples.
public struct AdviceOptions: WorkflowOptions {
    /// The base fit (its MLE is the model the data sets are simulated from).
    public var fit = FitOptions()
    /// Simulated data sets per candidate (R; 1…50, default 8).
    public var simulations: Int = 8
    /// Bootstrap resamples of each simulated refit (default 100; 20…1000).
    public var refitBootstrap: Int = 100
    /// Extra finetuning amounts D to consider; nil = a grid around and between the data's amounts
    /// (below the smallest toward D0, between the smallest two, past the largest).
    public var dataAmounts: [Double]? = nil
    /// Extra checkpoints at these FLOPs to consider; nil = three log-spaced between the largest
    /// checkpoint and the predicted emergence (or up to 8× the largest when that is unknown).
    public var checkpointFlops: [Double]? = nil

    public init() {}
    public init(fit: FitOptions) { self.fit = fit }

    enum CodingKeys: String, CodingKey {
        case simulations
        case refitBootstrap = "refit_bootstrap"
        case dataAmounts = "data_amounts"
        case checkpointFlops = "checkpoint_flops"
    }

    public init(from decoder: Decoder) throws {
        fit = try FitOptions(from: decoder)
        let c = try decoder.container(keyedBy: CodingKeys.self)
        let d = AdviceOptions()
        simulations = try c.decodeIfPresent(Int.self, forKey: .simulations) ?? d.simulations
        refitBootstrap = try c.decodeIfPresent(Int.self, forKey: .refitBootstrap) ?? d.refitBootstrap
        dataAmounts = try c.decodeIfPresent([Double].self, forKey: .dataAmounts)
        checkpointFlops = try c.decodeIfPresent([Double].self, forKey: .checkpointFlops)
    }

    public func encode(to encoder: Encoder) throws {
        try fit.encode(to: encoder)
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(simulations, forKey: .simulations)
        try c.encode(refitBootstrap, forKey: .refitBootstrap)
        try c.encode(dataAmounts, forKey: .dataAmounts)
        try c.encode(checkpointFlops, forKey: .checkpointFlops)
    }

    /// Default number of grid candidates: 4 data amounts + 3 checkpoints.
    static let defaultCandidateCount = 7

    /// The most candidates these options can produce (the grid's size when lists are not given).
    public var candidateCount: Int {
        (dataAmounts?.count ?? 4) + (checkpointFlops?.count ?? 3)
    }

    /// The options of each simulated refit: the base's, with `refit_bootstrap` resamples, bootstrap
    /// only (the MCMC would multiply the cost for the same width), and no `max_flops`: the simulated
    /// rows are the kept ones plus the candidate's, and a candidate checkpoint lies past the cutoff.
    public var refitOptions: FitOptions {
        var o = fit
        o.uncertainty = .bootstrap
        o.bootstrap = refitBootstrap
        o.maxFlops = nil
        return o
    }

    public func problems(budget: FitBudget = .default) -> [Evaluation.Problem] {
        var out = fit.problems(budget: budget)
        func bad(_ f: String, _ r: String) { out.append(.init(field: f, reason: r)) }
        if simulations < 1 || simulations > WorkflowLimits.maxSimulations {
            bad("simulations", "must be in 1...\(WorkflowLimits.maxSimulations)")
        }
        if refitBootstrap < 20 || refitBootstrap > WorkflowLimits.maxRefitBootstrap {
            bad("refit_bootstrap", "must be in 20...\(WorkflowLimits.maxRefitBootstrap) (a 5–95 width needs at least 20 resamples)")
        }
        if fit.uncertainty == .none {
            bad("uncertainty", "must be bootstrap, mcmc or both: advice ranks experiments by the width of E*'s interval")
        }
        for (i, d) in (dataAmounts ?? []).enumerated() where !(d.isFinite && d > 1) {
            bad("data_amounts[\(i)]", "must be a finite number > 1")
        }
        for (i, c) in (checkpointFlops ?? []).enumerated() where !(c.isFinite && c > 0) {
            bad("checkpoint_flops[\(i)]", "must be a finite number > 0")
        }
        if candidateCount < 1 || candidateCount > WorkflowLimits.maxCandidates {
            bad("data_amounts", "with checkpoint_flops must give 1 to \(WorkflowLimits.maxCandidates) candidates (got \(candidateCount))")
        }
        if out.isEmpty {
            var work = WorkflowWork()
            work.add(fit)
            work.add(refitOptions, count: (1 + candidateCount).multipliedClamped(simulations))
            out += work.problems(budget: budget, field: "simulations", what: "the base fit and \((1 + candidateCount) * simulations) simulated refits")
        }
        return out
    }
}
