import Foundation

/// Comparing two studies (docs/method.md §8.4): `emergence compare A.csv B.csv …` and the API's comparison
/// job. The body's options are FitOptions' keys, applied to both fits (the service's `a` and `b`
/// study names travel beside them and are not part of these options). Intervals and
/// `probability_a_first` need samples: `uncertainty` must not be `none`.
public struct ComparisonOptions: WorkflowOptions {
    public var fit = FitOptions()

    public init() {}
    public init(fit: FitOptions) { self.fit = fit }

    public init(from decoder: Decoder) throws {
        fit = try FitOptions(from: decoder)
    }

    public func encode(to encoder: Encoder) throws {
        try fit.encode(to: encoder)
    }

    public func problems(budget: FitBudget = .default) -> [Evaluation.Problem] {
        var out = fit.problems(budget: budget)
        if fit.uncertainty == .none {
            out.append(.init(field: "uncertainty", reason: "must be bootstrap, mcmc or both: the comparison needs the samples of both fits"))
        }
        if out.isEmpty {
            var work = WorkflowWork()
            work.add(fit, count: 2)
            out += work.problems(budget: budget, field: "bootstrap", what: "the two fits")
        }
        return out
    }
}
