import ArgumentParser
import EmergenceCore
import Foundation

/// `emergence ablate FILE.csv`: the law's form × Δ, with AIC/BIC weights, and a D0 sweep.
struct AblateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ablate",
        abstract: "Fit log-power and power forms with Δ on and off (AIC, BIC, Akaike weights) and sweep D0 (JSON).")

    @Argument(help: "Study CSV.") var file: String
    @Option(help: "D0 = factor × shots for the sweep, comma-separated; 'none' for no sweep.") var d0Factors: String = "0.5,1,2,5,10"
    @OptionGroup var fit: FitFlags
    @OptionGroup var columns: ColumnFlags

    func run() throws {
        let factors = d0Factors == "none" ? [] : try WorkflowCommand.numbers(d0Factors, flag: "--d0-factors")
        let o = AblationOptions(fit: try fit.options(), d0Factors: factors)
        try WorkflowCommand.validate(o.problems(budget: .default))
        let rows = WorkflowCommand.read(file, rules: columns.rules)
        try WorkflowCommand.emit(file) { try Ablation.run(rows, options: o) }
    }
}
