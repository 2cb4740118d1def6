import ArgumentParser
import EmergenceCore
import Foundation

/// `emergence compare A.csv B.csv`: which study reaches the capability at less compute.
struct CompareCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "compare",
        abstract: "Fit two studies with the same options and print both predictions and P(A emerges first) as JSON.")

    @Argument(help: "Study A's CSV.") var a: String
    @Argument(help: "Study B's CSV.") var b: String
    @OptionGroup var fit: FitFlags
    @OptionGroup var columns: ColumnFlags

    func run() throws {
        let o = ComparisonOptions(fit: try fit.options())
        try WorkflowCommand.validate(o.problems(budget: .default))
        let rowsA = WorkflowCommand.read(a, rules: columns.rules)
        let rowsB = WorkflowCommand.read(b, rules: columns.rules)
        try WorkflowCommand.emit("\(a), \(b)") { try Comparison.run(a: rowsA, b: rowsB, options: o) }
    }
}
