import ArgumentParser
import EmergenceCore
import Foundation

/// `emergence calibrate`: coverage of the intervals over simulated studies with known truth.
struct CalibrateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "calibrate",
        abstract: "Simulate studies from random truths and report how often the intervals cover the truth.")

    @Option(help: "Number of simulated studies.") var studies: Int = 100
    @Option(help: "Seed of the study generator.") var studySeed: UInt64 = 2024
    @Option(help: "The prediction-setting cutoff in FLOPs.") var cutoff: Double = 2e22
    @Option(help: "Study family: jittered (the named identifiable scenarios with jittered truths), wide (any curvature, shots and amounts) or weak (lift only at the lowest-loss checkpoints, or a small slope A).")
    var family: String = "jittered"
    @Flag(help: "Print one line per study on stderr.") var verbose = false
    @OptionGroup var fit: FitFlags

    func run() throws {
        guard studies >= 1 && studies <= 1_000_000 else { throw ValidationError("--studies must be in 1...1000000") }
        guard cutoff.isFinite && cutoff > 0 else { throw ValidationError("--cutoff must be a finite number > 0") }
        let options = try fit.options()
        guard Calibration.families.contains(family) else { throw ValidationError("--family must be one of \(Calibration.families.joined(separator: ", "))") }
        let report = Calibration.run(studies: studies, seed: studySeed, options: options, maxFlops: cutoff, family: family) { i, truth, result, m in
            guard verbose else { return }
            let p = result?.emergence.loss.percentiles ?? [:]
            let f = { (v: Double?) in v.map { String(format: "%.3f", $0) } ?? "-" }
            // α̂, lifted amounts / all, E*_mle − the few-shot boundary, and the rules that fired.
            let detail = m.map { m in
                String(format: "α̂ %.2f (true %.2f)  lifted %d/%d  E*−boundary %@  headroom %.3f  lift %.1fσ  %@", m.alpha, truth.alpha,
                       m.liftedAmounts.count, m.dataAmounts.count,
                       m.fewShotBoundary.map { String(format: "%+.3f", m.prediction - $0) } ?? "-",
                       m.elbowHeadroom, m.maxLiftSD,
                       m.reasons.map { $0.rawValue }.joined(separator: ","))
            } ?? ""
            let warned = (result?.warnings.map(\.code) ?? []).joined(separator: ",")
            let line = String(format: "%3d truth %.3f  mle %@  5–95 [%@, %@]  bound %@  %@  %@  warnings %@\n", i, truth.emergenceLoss ?? .nan,
                              f(m?.prediction), f(p["5"]), f(p["95"]), f(result?.emergence.loss.upperBound),
                              result?.status.rawValue ?? "error", detail, warned)
            FileHandle.standardError.write(Data(line.utf8))
        }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        FileHandle.standardOutput.write(try encoder.encode(report))
        print("")
    }
}
