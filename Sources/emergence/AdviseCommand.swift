import ArgumentParser
import EmergenceCore
import Foundation

/// `emergence advise FILE.csv`: rank the next experiments by how much they would narrow E*'s interval.
struct AdviseCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "advise",
        abstract: "Rank extra finetuning amounts and checkpoints by the expected 5–95 width of E* (JSON).",
        discussion: "Cost: (1 + candidates) × simulations refits of --refit-bootstrap resamples each, after the base fit.")

    @Argument(help: "Study CSV.") var file: String
    @Option(help: "Simulated data sets per candidate (1 to 50).") var simulations: Int = 8
    @Option(help: "Bootstrap resamples of each simulated refit (20 to 1000).") var refitBootstrap: Int = 100
    @Option(help: "Extra finetuning amounts D, comma-separated (default: a grid around the data's amounts).") var dataAmounts: String?
    @Option(help: "Extra checkpoints' FLOPs, comma-separated (default: three between the largest checkpoint and the prediction).")
    var checkpointFlops: String?
    @OptionGroup var fit: FitFlags
    @OptionGroup var columns: ColumnFlags
    @Flag(help: "No progress lines on stderr.") var quiet = false

    func run() throws {
        var o = AdviceOptions(fit: try fit.options())
        o.simulations = simulations
        o.refitBootstrap = refitBootstrap
        o.dataAmounts = try dataAmounts.map { try WorkflowCommand.numbers($0, flag: "--data-amounts") }
        o.checkpointFlops = try checkpointFlops.map { try WorkflowCommand.numbers($0, flag: "--checkpoint-flops") }
        try WorkflowCommand.validate(o.problems(budget: .default))
        let rows = WorkflowCommand.read(file, rules: columns.rules)
        // Advice.run reports the base fit as the first tenth, then the simulated refits.
        let progress = ProgressLines.callback(quiet: quiet) {
            ProgressLines(command: "advise") { f in
                if f >= 1 { return (100, "done") }
                if f < 0.1 { return (0, "step 1: the fit to the data") }
                let done = Int((f - 0.1) / 0.9 * 10)
                return (1 + done, "step \(2 + done): simulated refits of each candidate design, \(done * 10)% done")
            }
        }
        try WorkflowCommand.emit(file) { try Advice.run(rows, options: o, progress: progress) }
    }
}
