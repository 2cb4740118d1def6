import EmergenceCore
import Foundation

/// Dispatches a job to the engine function of its kind, on the calling thread: what the worker
/// pool runs in-process and what `emergence fit-worker` runs in its child. Options arrive as stored
/// (validated at the edge, canonical JSON) and are decoded again here, so a child needs nothing but
/// the job itself.
public enum JobEngine {
    /// Runs `work` on one thread (the pool already runs jobs side by side, one per slot).
    public static func run(_ work: JobWork, progress: @escaping @Sendable (Double) -> Void,
                           isCancelled: @escaping @Sendable () -> Bool) throws -> [UInt8] {
        try requireLoss(work)
        let options = Data(work.optionsJSON.utf8)
        switch work.kind {
        case .fit:
            let o = try JSONDecoder().decode(FitOptions.self, from: options)
            let result = try EmergenceFit.run(work.rows, options: o, threads: 1, progress: progress, isCancelled: isCancelled)
            return Array(try result.jsonData(pretty: false))
        default:
            return try WorkflowJobs.run(work, progress: progress, isCancelled: isCancelled)
        }
    }

    /// Every kind but an observation fits, and a fit needs every row's loss: a study with rows
    /// uploaded without one fails here, naming the first such row (1-based, in upload order).
    static func requireLoss(_ work: JobWork) throws {
        guard work.kind != .observation else { return }
        try MissingPretrainLoss.check(work.rows, study: work.rowsB == nil ? nil : "study a")
        if let b = work.rowsB { try MissingPretrainLoss.check(b, study: "study b") }
    }

    /// A runner whose fits go through `fit` (a test's stand-in, or the child-process runner) and
    /// whose other kinds run in this process.
    static func runner(fit: @escaping FitWorkerPool.Runner) -> JobRunner {
        { work, progress, isCancelled in
            guard work.kind == .fit else { return try run(work, progress: progress, isCancelled: isCancelled) }
            try requireLoss(work)
            let o = try JSONDecoder().decode(FitOptions.self, from: Data(work.optionsJSON.utf8))
            return Array(try fit(work.rows, o, progress, isCancelled).jsonData(pretty: false))
        }
    }
}
