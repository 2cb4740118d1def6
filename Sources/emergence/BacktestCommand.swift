import ArgumentParser
import Charts
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
    @Option(help: "Also write the back-test chart (the paper's Figure 7; the API's /v1/jobs/{id}/plots/backtest.svg) to this SVG file.")
    var svg: String?
    @OptionGroup var fit: FitFlags
    @OptionGroup var columns: ColumnFlags

    func run() throws {
        var o = BacktestOptions()
        o.cutoffs = try WorkflowCommand.numbers(cutoffs, flag: "--cutoffs")
        o.fit = try fit.options()
        o.observeBootstrap = observeBootstrap
        try WorkflowCommand.validate(o.problems(budget: .default))
        // The SVG's folder first: a path that cannot be written fails before fits that may take minutes.
        let svgURL = svg.map { URL(fileURLWithPath: $0) }
        if let svgURL, let svg {
            let folder = svgURL.deletingLastPathComponent().path
            var isFolder: ObjCBool = false
            guard FileManager.default.fileExists(atPath: folder, isDirectory: &isFolder), isFolder.boolValue,
                  FileManager.default.isWritableFile(atPath: folder) else {
                StudyFile.fail(["\(svg): cannot write: \(folder) is not a writable folder"])
            }
        }
        let rows = WorkflowCommand.read(file, rules: columns.rules)
        let result = try WorkflowCommand.emit(file) { try Backtest.run(rows, options: o) }
        if let svgURL, let svg {
            let title = "Back-test: " + URL(fileURLWithPath: file).deletingPathExtension().lastPathComponent
            let picture = BacktestChart.svg(result: result, options: .init(title: title))
            do {
                try Data(picture.utf8).write(to: svgURL, options: .atomic)
            } catch {
                StudyFile.fail(["\(svg): cannot write: \(error.localizedDescription)"])
            }
        }
    }
}
