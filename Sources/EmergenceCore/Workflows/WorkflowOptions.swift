import Foundation

/// What every workflow's options offer the job system (observe, backtest, compare, ablate, advise):
/// Codable from the API's JSON body (snake_case keys, missing fields take their documented defaults;
/// the encoding is canonical, so equal options give equal sorted-key text) and validated against the
/// work budget before any math runs.
public protocol WorkflowOptions: Codable, Sendable, Hashable {
    /// Every bad field as (field, reason); empty when the options are valid and their total work fits
    /// `budget`. The `run` entry points throw `FitError.invalidOptions` with this list.
    func problems(budget: FitBudget) -> [Evaluation.Problem]
}

/// The hard caps on how much a workflow may ask for, whatever the budget: each counted item is a fit
/// (or a simulated refit), so these bound the number of fits one request can start.
public enum WorkflowLimits {
    /// Compute cutoffs of one back-test.
    public static let maxCutoffs = 20
    /// D0 values of one ablation's sweep.
    public static let maxD0Sweep = 20
    /// Candidate experiments of one advice request.
    public static let maxCandidates = 20
    /// Simulated data sets per advice candidate.
    public static let maxSimulations = 50
    /// Bootstrap resamples of each simulated refit in advice.
    public static let maxRefitBootstrap = 1000
}

/// The work of a workflow, summed over all the fits it runs, against the budget of ONE fit: a
/// workflow as a whole may use no more bootstrap resamples and MCMC walker-steps than a single fit
/// may (FitBudget.default: 100,000 resamples, 4,000,000 walker-steps), so no request can occupy a
/// worker for longer than the largest fit would.
struct WorkflowWork {
    var resamples = 0
    var walkerSteps = 0

    /// Adds `count` fits with `options` (only the phases that run count).
    mutating func add(_ options: FitOptions, count: Int = 1) {
        if options.runsBootstrap { resamples = resamples.addingClamped(count.multipliedClamped(options.bootstrap)) }
        if options.runsMCMC {
            let steps = options.mcmcWalkers.multipliedClamped(options.mcmcSteps.addingClamped(options.mcmcBurnIn))
            walkerSteps = walkerSteps.addingClamped(count.multipliedClamped(steps))
        }
    }

    mutating func addResamples(_ n: Int) { resamples = resamples.addingClamped(n) }

    /// The budget problems, naming `field` (the option that multiplies the work).
    func problems(budget: FitBudget, field: String, what: String) -> [Evaluation.Problem] {
        var out: [Evaluation.Problem] = []
        if resamples > budget.maxBootstrapResamples {
            out.append(.init(field: field, reason: "is too large: \(what) needs \(resamples) bootstrap resamples in all, over the work budget of \(budget.maxBootstrapResamples)"))
        }
        if walkerSteps > budget.maxMCMCWalkerSteps {
            out.append(.init(field: field, reason: "is too large: \(what) needs \(walkerSteps) MCMC walker-steps in all, over the work budget of \(budget.maxMCMCWalkerSteps)"))
        }
        return out
    }
}

extension Int {
    func addingClamped(_ o: Int) -> Int { let (r, over) = addingReportingOverflow(o); return over ? .max : r }
    func multipliedClamped(_ o: Int) -> Int {
        let (r, over) = multipliedReportingOverflow(by: o); return over ? .max : Swift.max(r, 0)
    }
}
