import ArgumentParser
import Charts
import EmergenceCore
import EmergenceService
import Jobs
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
    @Flag(help: "No progress lines on stderr.") var quiet = false

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
        // As the API: a back-test needs one cutoff with a checkpoint at or under it.
        let smallest = rows.compactMap(\.effectiveFlops).min()
        guard let smallest, o.cutoffs.contains(where: { $0 >= smallest }) else {
            StudyFile.fail([smallest.map { String(format: "--cutoffs: no cutoff leaves any checkpoint: the smallest checkpoint has %.4g FLOPs; give at least one cutoff at or above it", $0) }
                            ?? "--cutoffs: no row of \(file) has flops (or parameters and tokens), so no cutoff leaves any data"])
        }
        let sorted = o.cutoffs.sorted()
        let steps = ["the observation from all checkpoints"] + sorted.map { String(format: "the fit at cutoff %g FLOPs", $0) }
        let progress = ProgressLines.callback(quiet: quiet) {
            ProgressLines(command: "backtest") { f in
                let i = min(Int(f * Double(steps.count)), steps.count - 1)
                return f >= 1 ? (steps.count, "done") : (i, "step \(i + 1) of \(steps.count): \(steps[i])")
            }
        }
        let result: BacktestResult
        do {
            result = try Backtest.run(rows, options: o, progress: progress)
        } catch let error as FitError {
            StudyFile.fail(["\(file): \(error)"])
        }
        // Cutoffs that leave no data or overflow carry their own error; the others their results.
        var data = try BacktestDocument.encode(result, pretty: true)
        data.append(0x0A)
        FileHandle.standardOutput.write(data)
        let errors = BacktestDocument.errors(result)
        for e in errors where !quiet {
            FileHandle.standardError.write(Data(String(format: "emergence backtest: cutoff %g: %@\n", e.cutoff, e.reason).utf8))
        }
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
