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
        let rows = try StudyFile.read(file)
        func time(_ u: FitOptions.Uncertainty) throws -> (Double, FitResult) {
            var o = base
            o.uncertainty = u
            var times: [Double] = []
            var last: FitResult? = nil
            for _ in 0..<max(repeats, 1) {
                let t0 = DispatchTime.now().uptimeNanoseconds
                last = try EmergenceFit.run(rows, options: o)
                times.append(Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e9)
            }
            return (times.sorted()[times.count / 2], last!)
        }
        let (mle, fitted) = try time(.none)
        let (withBootstrap, _) = try time(.bootstrap)
        let (withMCMC, _) = try time(.mcmc)
        let (all, _) = try time(.both)
        var ref: [String: Any] = [:]
        if let reference, let data = FileManager.default.contents(atPath: reference),
           let object = try JSONSerialization.jsonObject(with: data) as? [String: Any] {
            ref = object
        }
        func refTime(_ key: String) -> Double? { ref[key] as? Double }
        let rMLE = refTime("mle_s"), rBoot = refTime("bootstrap_s"), rMCMC = refTime("mcmc_s")
        let rAll = [rMLE, rBoot, rMCMC].allSatisfy { $0 != nil } ? rMLE! + rBoot! + rMCMC! : nil
        let phases: [(String, Double, Double?)] = [
            ("MLE (multi-start, + form check)", mle, rMLE),
            ("bootstrap \(bootstrap) refits", max(withBootstrap - mle, 0), rBoot),
            ("MCMC \(mcmcWalkers) × \(mcmcSteps) (+\(mcmcBurnIn) burn-in)", max(withMCMC - mle, 0), rMCMC),
            ("whole fit (MLE + bootstrap + MCMC)", all, rAll),
        ]
        print("study: \(file)   rows: \(fitted.data.rows)   E* (MLE): \(fitted.emergence.loss.mle.map { String(format: "%.4f", $0) } ?? "-")   RSS: \(fitted.fit.map { String(format: "%.6f", $0.rss) } ?? "-")")
        if let e = ref["e_star"] as? Double, let r = ref["rss"] as? Double {
            print("reference: E* (MLE): \(String(format: "%.4f", e))   RSS: \(String(format: "%.6f", r))")
        }
        print("cores: \(ProcessInfo.processInfo.activeProcessorCount), median of \(repeats)")
        print("")
        print(pad("phase", 44) + pad("emergence (s)", 15) + pad("scipy ref (s)", 15) + "speed-up")
        for (name, t, r) in phases {
            let refText = r.map { String(format: "%.3f", $0) } ?? "-"
            let speedup = r.map { String(format: "%.0f×", $0 / max(t, 1e-9)) } ?? "-"
            print(pad(name, 44) + pad(String(format: "%.3f", t), 15) + pad(refText, 15) + speedup)
        }
    }

    func pad(_ s: String, _ n: Int) -> String { s.count >= n ? s + " " : s + String(repeating: " ", count: n - s.count) }
}
