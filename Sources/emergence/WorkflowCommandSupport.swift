import ArgumentParser
import EmergenceCore
import Foundation
import Ingestion

/// What the workflow commands (observe, backtest, compare, ablate, advise) share: reading a study
/// that may lack finetuned rows, comma-separated number lists, and printing a result or the problems.
enum WorkflowCommand {
    /// A study CSV; unlike `StudyFile.read`, finetuned rows are not required (observe needs only
    /// few-shot rows). Bad input exits 1 with a line per problem.
    /// - requireLoss: every row must have `pretrain_loss` (the workflows that fit); observe passes
    ///   false, so leaderboard files with only FLOPs load.
    static func read(_ path: String, rules: ColumnRules = ColumnRules(), requireLoss: Bool = true) -> [Evaluation] {
        guard let data = FileManager.default.contents(atPath: path) else {
            StudyFile.fail(["\(path): cannot read the file"])
        }
        do {
            return try EvaluationCSV.parse([UInt8](data), rules: rules, requireLoss: requireLoss)
        } catch let error as IngestionError {
            StudyFile.fail(error.description.split(separator: "\n").map { "\(path): \($0)" })
        } catch {
            StudyFile.fail(["\(path): \(error)"])
        }
    }

    /// "5e21,1e22,2e22" → [5e21, 1e22, 2e22]; a bad item is a usage error naming the flag.
    static func numbers(_ text: String, flag: String) throws -> [Double] {
        let items = text.split(separator: ",", omittingEmptySubsequences: false)
            .map { $0.trimmingCharacters(in: .whitespaces) }
        var out: [Double] = []
        for item in items {
            guard let v = Double(item), v.isFinite else {
                throw ValidationError("\(flag) must be comma-separated numbers, not '\(text)' ('\(item)' is not a number)")
            }
            out.append(v)
        }
        return out
    }

    /// Options problems as usage errors, one line each, named like the flags.
    static func validate(_ problems: [Evaluation.Problem]) throws {
        guard !problems.isEmpty else { return }
        throw ValidationError(problems.map { "--\($0.field.replacingOccurrences(of: "_", with: "-")) \($0.reason)" }
            .joined(separator: "\n"))
    }

    /// Prints the result as sorted-key JSON and returns it, or exits 1 with the error (naming `file`).
    @discardableResult
    static func emit<R: WorkflowResult>(_ file: String, _ body: () throws -> R) throws -> R {
        do {
            let result = try body()
            var data = try result.jsonData()
            data.append(0x0A)
            FileHandle.standardOutput.write(data)
            return result
        } catch let error as FitError {
            StudyFile.fail(["\(file): \(error)"])
        }
    }
}
