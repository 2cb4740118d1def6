import EmergenceCore
import Foundation

/// Dispatches a job to the engine function of its kind, on the calling thread: what the worker
/// pool runs in-process and what `emergence fit-worker` runs in its child. Options arrive as stored
/// (checked when the job was asked for, canonical JSON) and are decoded here, so a child needs
/// nothing but the job itself.
public enum JobEngine {
    /// Runs `work` on one thread (the pool already runs jobs side by side, one per slot).
    public static func run(_ work: JobWork, progress: @escaping @Sendable (Double) -> Void,
                           isCancelled: @escaping @Sendable () -> Bool) throws -> [UInt8] {
        try run(work, progress: progress, isCancelled: isCancelled) { rows, options, progress, isCancelled in
            try EmergenceFit.run(rows, options: options, threads: 1, progress: progress, isCancelled: isCancelled)
        }
    }

    /// A runner whose fits go through `fit` (a test's stand-in) and whose other kinds run in this process.
    package static func runner(fit: @escaping JobWorkerPool.FitRunner) -> JobRunner {
        { work, progress, isCancelled in try run(work, progress: progress, isCancelled: isCancelled, fit: fit) }
    }

    private static func run(_ work: JobWork, progress: @escaping @Sendable (Double) -> Void,
                            isCancelled: @escaping @Sendable () -> Bool, fit: JobWorkerPool.FitRunner) throws -> [UInt8] {
        try requireLoss(work)
        let json = work.optionsJSON
        switch work.kind {
        case .fit:
            let o = try JobOptions.stored(FitOptions.self, json)
            return Array(try fit(work.rows, o, progress, isCancelled).jsonData(pretty: false))
        case .observation:
            let o = try JobOptions.stored(ObserveOptions.self, json)
            return Array(try Observation.run(work.rows, options: o, progress: progress, isCancelled: isCancelled).jsonData(pretty: false))
        case .backtest:
            let o = try JobOptions.stored(BacktestOptions.self, json)
            // Cutoffs that leave no data or overflow get their own error; the others keep their results.
            let result = try Backtest.run(work.rows, options: o, threads: 1, progress: progress, isCancelled: isCancelled)
            return Array(try BacktestDocument.encode(result, pretty: false))
        case .comparison:
            guard let b = work.rowsB else { throw MissingSecondStudy() }
            let o = try JobOptions.stored(ComparisonOptions.self, json)
            return Array(try Comparison.run(a: work.rows, b: b, options: o, threads: 1, progress: progress, isCancelled: isCancelled)
                .jsonData(pretty: false))
        case .ablation:
            let o = try JobOptions.stored(AblationOptions.self, json)
            return Array(try Ablation.run(work.rows, options: o, threads: 1, progress: progress, isCancelled: isCancelled)
                .jsonData(pretty: false))
        case .advice:
            let o = try JobOptions.stored(AdviceOptions.self, json)
            return Array(try Advice.run(work.rows, options: o, threads: 1, progress: progress, isCancelled: isCancelled)
                .jsonData(pretty: false))
        }
    }

    /// Every kind but an observation fits, and a fit needs every row's loss: a study with rows
    /// uploaded without one fails here, naming the first such row (1-based, in upload order).
    static func requireLoss(_ work: JobWork) throws {
        guard work.kind != .observation else { return }
        try MissingPretrainLoss.check(work.rows, study: work.rowsB == nil ? nil : "study a")
        if let b = work.rowsB { try MissingPretrainLoss.check(b, study: "study b") }
    }
}
