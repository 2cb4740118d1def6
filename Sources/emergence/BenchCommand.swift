import ArgumentParser
import EmergenceCore
import Foundation

/// `emergence bench`: times the fit's phases on one study (release build), optionally beside the
/// scipy reference's timings (bench/core/run.sh runs both).
struct BenchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench",
        abstract: "Time MLE, bootstrap and MCMC on a study; print a table (beside a reference's JSON if given).")

    @Argument(help: "Study CSV.") var file: String
    @Option(help: "Keep only checkpoints with flops ≤ F.") var maxFlops: Double?
    @Option(help: "Bootstrap resamples.") var bootstrap: Int = 1000
    @Option(help: "MCMC steps per walker after burn-in.") var mcmcSteps: Int = 5000
    @Option(help: "MCMC walkers.") var mcmcWalkers: Int = 32
    @Option(help: "MCMC burn-in steps.") var mcmcBurnIn: Int = 1000
    @Option(help: "Repetitions; the median is reported.") var repeats: Int = 3
    @Option(help: "JSON printed by bench/core/reference.py, for the side-by-side column.") var reference: String?
    @Option(help: "Threads for the 'all threads' column (default: every core).")
    var threads: Int = ProcessInfo.processInfo.activeProcessorCount
    @Flag(help: "Only the default-fit table; skip the per-phase one (which runs the MCMC too).") var noPhases = false

    func run() throws {
        guard repeats >= 1 && repeats <= 1000 else { throw ValidationError("--repeats must be in 1...1000") }
        var base = FitOptions()
        base.maxFlops = maxFlops
        base.bootstrap = bootstrap
        base.mcmcSteps = mcmcSteps
        base.mcmcWalkers = mcmcWalkers
        base.mcmcBurnIn = mcmcBurnIn
        // Every phase below runs, so the options must suit both the bootstrap and the chain.
        var every = base
        every.uncertainty = .both
        let problems = every.problems()
        if !problems.isEmpty {
            throw ValidationError(problems.map { "--\($0.field.replacingOccurrences(of: "_", with: "-")) \($0.reason)" }.joined(separator: "\n"))
        }
        guard threads >= 1 && threads <= 1024 else { throw ValidationError("--threads must be in 1...1024") }
        let rows = try StudyFile.read(file)
        /// Median wall-clock seconds and median process CPU seconds of `repeats` fits, and the last result.
        func time(_ u: FitOptions.Uncertainty, threads: Int = threads) throws -> (Double, Double, FitResult) {
            var o = base
            o.uncertainty = u
            var times: [Double] = [], cpu: [Double] = []
            var last: FitResult? = nil
            for _ in 0..<max(repeats, 1) {
                let c0 = processCPUSeconds()
                let t0 = DispatchTime.now().uptimeNanoseconds
                last = try EmergenceFit.run(rows, options: o, threads: threads)
                times.append(Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e9)
                cpu.append(processCPUSeconds() - c0)
            }
            guard let last else { throw ValidationError("no repetitions ran") }
            return (times.sorted()[times.count / 2], cpu.sorted()[cpu.count / 2], last)
        }
        var ref: [String: Any] = [:]
        if let reference, let data = FileManager.default.contents(atPath: reference),
           let object = try JSONSerialization.jsonObject(with: data) as? [String: Any] {
            ref = object
        }
        func refTime(_ key: String) -> Double? { ref[key] as? Double }
        let rMLE = refTime("mle_s"), rBoot = refTime("bootstrap_s"), rMCMC = refTime("mcmc_s")
        let rAll = [rMLE, rBoot, rMCMC].allSatisfy { $0 != nil } ? rMLE! + rBoot! + rMCMC! : nil

        // The default fit (MLE + \(bootstrap) bootstrap refits, no MCMC) on one thread and on all,
        // beside the scipy reference doing the same work (its MLE + bootstrap seconds).
        let (one, oneCPU, fitted) = try time(.bootstrap, threads: 1)
        let (many, _, _) = try time(.bootstrap)
        let rDefault = rMLE.flatMap { m in rBoot.map { m + $0 } }
        print("study: \(file)   rows: \(fitted.data.rows)   E* (MLE): \(fitted.emergence.loss.mle.map { String(format: "%.6f", $0) } ?? "-")   RSS: \(fitted.fit.map { String(format: "%.6f", $0.rss) } ?? "-")   5–95: \(fitted.emergence.loss.percentiles.map { String(format: "%.4f–%.4f", $0["5"] ?? .nan, $0["95"] ?? .nan) } ?? "-")")
        if let e = ref["e_star"] as? Double, let r = ref["rss"] as? Double {
            print("reference: E* (MLE): \(String(format: "%.6f", e))   RSS: \(String(format: "%.6f", r))")
        }
        print("cores: \(ProcessInfo.processInfo.activeProcessorCount), wall-clock median of \(repeats) (1-thread CPU time beside it)")
        print("")
        print(pad("study", 24) + pad("default fit, 1 thread (s)", 27) + pad("\(threads) threads (s)", 15)
              + pad("scipy ref (s)", 15) + "speed-up (1 thread)")
        let study = URL(fileURLWithPath: file).deletingPathExtension().lastPathComponent
        print(pad(study + (maxFlops.map { " ≤\(String(format: "%.0e", $0))" } ?? ""), 24)
              + pad(String(format: "%.3f (CPU %.3f)", one, oneCPU), 27) + pad(String(format: "%.3f", many), 15)
              + pad(rDefault.map { String(format: "%.2f", $0) } ?? "-", 15)
              + (rDefault.map { String(format: "%.0f×", $0 / max(one, 1e-9)) } ?? "-"))
        if noPhases { return }
        print("")

        let (mle, _, _) = try time(.none)
        let (withBootstrap, _, _) = try time(.bootstrap)
        let (withMCMC, _, _) = try time(.mcmc)
        let (all, _, _) = try time(.both)
        let phases: [(String, Double, Double?)] = [
            ("MLE (multi-start, + form check)", mle, rMLE),
            ("bootstrap \(bootstrap) refits", max(withBootstrap - mle, 0), rBoot),
            ("MCMC \(mcmcWalkers) × \(mcmcSteps) (+\(mcmcBurnIn) burn-in)", max(withMCMC - mle, 0), rMCMC),
            ("whole fit (MLE + bootstrap + MCMC)", all, rAll),
        ]
        print(pad("phase (\(threads) threads)", 44) + pad("emergence (s)", 15) + pad("scipy ref (s)", 15) + "speed-up")
        for (name, t, r) in phases {
            let refText = r.map { String(format: "%.3f", $0) } ?? "-"
            let speedup = r.map { String(format: "%.0f×", $0 / max(t, 1e-9)) } ?? "-"
            print(pad(name, 44) + pad(String(format: "%.3f", t), 15) + pad(refText, 15) + speedup)
        }
    }

    /// User + system CPU seconds of this process so far (all threads).
    func processCPUSeconds() -> Double {
        var ts = timespec()
        clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts)
        return Double(ts.tv_sec) + Double(ts.tv_nsec) / 1e9
    }

    func pad(_ s: String, _ n: Int) -> String { s.count >= n ? s + " " : s + String(repeating: " ", count: n - s.count) }
}
