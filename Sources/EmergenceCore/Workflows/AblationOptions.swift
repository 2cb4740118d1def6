import Foundation

/// An ablation of the fit's choices (the paper's: form, Δ, D0): `emergence ablate FILE.csv …` and the
/// API's ablation job. The body is flat: `d0_factors` beside every fit option (FitOptions' keys); the
/// fit options are the base: `form` and `delta` are varied, and the D0 sweep uses the base's form and Δ.
public struct AblationOptions: WorkflowOptions {
    public var fit = FitOptions()
    /// D0 = factor × N (N = the few-shot rows' shots) for the sweep; default N/2 to 10N:
    /// 0.5, 1, 2, 5, 10. Empty = no sweep. A D0 ≤ 1 is skipped (ln D0 must be positive).
    public var d0Factors: [Double] = AblationOptions.defaultD0Factors

    public static let defaultD0Factors: [Double] = [0.5, 1, 2, 5, 10]

    public init() {}
    public init(fit: FitOptions, d0Factors: [Double] = AblationOptions.defaultD0Factors) {
        self.fit = fit; self.d0Factors = d0Factors
    }

    enum CodingKeys: String, CodingKey {
        case d0Factors = "d0_factors"
    }

    public init(from decoder: Decoder) throws {
        fit = try FitOptions(from: decoder)
        let c = try decoder.container(keyedBy: CodingKeys.self)
        d0Factors = try c.decodeIfPresent([Double].self, forKey: .d0Factors) ?? AblationOptions.defaultD0Factors
    }

    public func encode(to encoder: Encoder) throws {
        try fit.encode(to: encoder)
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(d0Factors, forKey: .d0Factors)
    }

    /// Four variants (log-power / power × Δ on / off) plus one fit per D0 factor.
    public var fitCount: Int { 4 + d0Factors.count }

    public func problems(budget: FitBudget = .default) -> [Evaluation.Problem] {
        var out = fit.problems(budget: budget)
        func bad(_ f: String, _ r: String) { out.append(.init(field: f, reason: r)) }
        if d0Factors.count > WorkflowLimits.maxD0Sweep {
            bad("d0_factors", "must list at most \(WorkflowLimits.maxD0Sweep) factors (got \(d0Factors.count))")
        }
        for (i, f) in d0Factors.enumerated() where !(f.isFinite && f > 0 && f <= 1000) {
            bad("d0_factors[\(i)]", "must be a finite number in (0, 1000]")
        }
        if fit.d0 != nil && !d0Factors.isEmpty {
            bad("d0", "must be absent when d0_factors sweeps D0 (the sweep is relative to the shots); send d0_factors: [] to fix D0")
        }
        if out.isEmpty {
            var work = WorkflowWork()
            // Δ-off variants have one fewer MCMC dimension; counting all at the base's cost is an upper bound.
            work.add(fit, count: fitCount)
            out += work.problems(budget: budget, field: "bootstrap", what: "\(fitCount) fits")
        }
        return out
    }
}
