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
    @Option(help: "Study family: jittered (the named identifiable scenarios with jittered truths) or wide (any curvature, shots and amounts).")
    var family: String = "jittered"
    @Flag(help: "Print one line per study on stderr.") var verbose = false
    @OptionGroup var fit: FitFlags

    func run() throws {
        guard studies >= 1 && studies <= 1_000_000 else { throw ValidationError("--studies must be in 1...1000000") }
        guard cutoff.isFinite && cutoff > 0 else { throw ValidationError("--cutoff must be a finite number > 0") }
        let options = try fit.options()
        guard ["jittered", "wide"].contains(family) else { throw ValidationError("--family must be jittered or wide") }
        let report = Calibration.run(studies: studies, seed: studySeed, options: options, maxFlops: cutoff, family: family) { i, truth, result in
            guard verbose else { return }
            let p = result?.emergence.loss.percentiles ?? [:]
            let line = String(format: "%3d truth %.3f  mle %@  5–95 [%@, %@]  %@\n", i, truth.emergenceLoss ?? .nan,
                              result?.emergence.loss.mle.map { String(format: "%.3f", $0) } ?? "-",
                              p["5"].map { String(format: "%.3f", $0) } ?? "-", p["95"].map { String(format: "%.3f", $0) } ?? "-",
                              result?.status.rawValue ?? "error")
            FileHandle.standardError.write(line.data(using: .utf8)!)
        }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        FileHandle.standardOutput.write(try encoder.encode(report))
        print("")
    }
}
