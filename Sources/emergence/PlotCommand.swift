import ArgumentParser
import Charts
import EmergenceCore
import Foundation

/// `emergence plot FILE.csv --out DIR`: the two pictures the API serves for a fit
/// (`…/plots/fit.svg`, `…/plots/emergence-cdf.svg`), drawn offline by the same code.
struct PlotCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "plot",
        abstract: "Fit a study CSV (or read a saved result) and write fit.svg, emergence-cdf.svg and result.json to a folder.")

    @Argument(help: "Study CSV (the header `emergence fit` reads).")
    var file: String

    @Option(help: "Folder to write into (created if absent).")
    var out: String

    @Option(help: "Draw from a saved result (the JSON `emergence fit` prints, or GET /v1/fits/{id}'s document) instead of fitting; the CSV gives the points; give the fit's --max-flops to grey the rows it left out.")
    var result: String?

    @Option(help: "Chart title (default: the CSV's file name).")
    var title: String?

    @Option(help: "The task's chance accuracy, drawn as the floor (default: the fitted floor B).")
    var chance: Double?

    @OptionGroup var fit: FitFlags
    @OptionGroup var columns: ColumnFlags

    func validate() throws {
        if let c = chance, !(c.isFinite && c >= 0 && c < 1) { throw ValidationError("--chance must be a number in [0, 1)") }
    }

    func run() throws {
        let evaluations = try StudyFile.read(file, rules: columns.rules)
        let options = try fit.options()
        // The folder first: a path that cannot be written fails before a fit that may take a minute.
        let folder = URL(fileURLWithPath: out, isDirectory: true)
        do {
            try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        } catch {
            StudyFile.fail(["\(out): cannot create the folder: \(error.localizedDescription)"])
        }
        let fitted: FitResult
        var resultBytes: Data?
        if let path = result {
            guard let data = FileManager.default.contents(atPath: path) else { StudyFile.fail(["\(path): cannot read the file"]) }
            // The bare result (`emergence fit`'s output) or the API's fit document holding it as `result`.
            struct FitDocument: Decodable { var result: FitResult }
            if let bare = try? JSONDecoder().decode(FitResult.self, from: data) {
                fitted = bare
            } else if let document = try? JSONDecoder().decode(FitDocument.self, from: data) {
                fitted = document.result
            } else {
                StudyFile.fail(["\(path): neither a fit result (the JSON `emergence fit` prints) nor a fit document with a `result`"])
            }
        } else {
            do {
                fitted = try EmergenceFit.run(evaluations, options: options)
            } catch let error as FitError {
                StudyFile.fail(["\(file): \(error)"])
            }
            var data = try fitted.jsonData()
            data.append(0x0A)
            resultBytes = data
        }
        let name = title ?? URL(fileURLWithPath: file).deletingPathExtension().lastPathComponent
        let fitSVG = FitChart.svg(result: fitted, evaluations: evaluations,
                                  options: .init(title: name, chance: chance, maxFlops: options.maxFlops))
        let cdfSVG = EmergenceCDFChart.svg(
            result: fitted,
            largestCheckpointFlops: EmergenceCDFChart.largestCheckpointFlops(evaluations, maxFlops: options.maxFlops),
            options: .init(title: name))
        do {
            try Data(fitSVG.utf8).write(to: folder.appendingPathComponent("fit.svg"), options: .atomic)
            try Data(cdfSVG.utf8).write(to: folder.appendingPathComponent("emergence-cdf.svg"), options: .atomic)
            if let resultBytes { try resultBytes.write(to: folder.appendingPathComponent("result.json"), options: .atomic) }
        } catch {
            StudyFile.fail(["\(out): cannot write: \(error.localizedDescription)"])
        }
        let written = ["fit.svg", "emergence-cdf.svg"] + (resultBytes == nil ? [] : ["result.json"])
        print(written.map { folder.appendingPathComponent($0).path }.joined(separator: "\n"))
    }
}
