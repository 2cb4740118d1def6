import ArgumentParser
import EmergenceCore
import Foundation

/// `emergence backtest FILE.csv --cutoffs 5e21,1e22,2e22`: predict under each cutoff, compare with the
/// emergence observed in all checkpoints.
struct BacktestCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "backtest",
        abstract: "Back-test: fit under each compute cutoff and compare with the observed emergence (JSON).",
        discussion: "Each cutoff's fit is exactly `emergence fit FILE --max-flops CUTOFF` with the same flags.")

    @Argument(help: "Study CSV.") var file: String
    @Option(help: "Compute cutoffs in FLOPs, comma-separated (1 to 20).") var cutoffs: String
    @Option(help: "Bootstrap resamples of the observed emergence.") var observeBootstrap: Int = 1000
    @OptionGroup var fit: FitFlags

    func run() throws {
        var o = BacktestOptions()
        o.cutoffs = try WorkflowCommand.numbers(cutoffs, flag: "--cutoffs")
        o.fit = try fit.options()
        o.observeBootstrap = observeBootstrap
        try WorkflowCommand.validate(o.problems(budget: .default))
        let rows = WorkflowCommand.read(file)
        try WorkflowCommand.emit(file) { try Backtest.run(rows, options: o) }
    }
}
