import ArgumentParser
import EmergenceCore
import Ingestion
import Foundation

/// `emergence fit FILE.csv …`: one fit, offline; prints the same JSON document the API serves.
struct FitCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "fit",
        abstract: "Fit the emergence law to a study CSV and print the prediction as JSON.")

    @Argument(help: "Study CSV (header: checkpoint,model,parameters,tokens,flops,pretrain_loss,setting,shots,finetune_examples,subset,accuracy,n_questions).")
    var file: String

    @OptionGroup var fit: FitFlags
    @OptionGroup var columns: ColumnFlags

    func run() throws {
        let evaluations = try StudyFile.read(file, rules: columns.rules)
        let options = try fit.options()
        if options.noise.isBinomial, let i = evaluations.firstIndex(where: { $0.nQuestions == nil }) {
            let e = evaluations[i]
            let count = evaluations.filter { $0.nQuestions == nil }.count
            StudyFile.fail(["\(file): --noise \(fit.noise) needs n_questions on every row, and \(count) row\(count == 1 ? " has" : "s have") none (the first: data row \(i + 1), checkpoint \(e.checkpoint), setting \(e.setting.rawValue)); add an n_questions column, or fit with --noise gaussian"])
        }
        do {
            let result = try EmergenceFit.run(evaluations, options: options)
            var data = try result.jsonData()
            data.append(0x0A)
            FileHandle.standardOutput.write(data)
        } catch let error as FitError {
            StudyFile.fail(["\(file): \(error)"])
        }
    }
}

/// The fit options as flags, shared by `fit`, `calibrate` and `bench`.
struct FitFlags: ParsableArguments {
    @Option(help: "Keep only checkpoints with flops ≤ F (the prediction setting).") var maxFlops: Double?
    @Option(help: "Emergence law: log-power (default) or power.") var form: String = "log-power"
    @Option(help: "The low-data extrapolation limit D0 (default: the few-shot rows' shots).") var d0: Double?
    @Flag(help: "Do not fit Δ (a separate few-shot floor).") var noDelta = false
    @Option(help: "Noise model: gaussian (default), binomial or quasi-binomial (binomial with an estimated over-dispersion φ; both need n_questions).") var noise: String = "gaussian"
    @Option(help: "Intervals from bootstrap (default), mcmc, both or none.") var uncertainty: String = "bootstrap"
    @Option(help: "Bootstrap resamples.") var bootstrap: Int = 1000
    @Option(help: "Bootstrap resamples checkpoints (default) or rows.") var resample: String = "checkpoints"
    @Option(help: "The most MCMC steps kept per walker after burn-in: the chain stops at the first check (every 500 steps) where, on every coordinate (α included), N ≥ 50 autocorrelation times and split-R̂ ≤ 1.05; a chain that never gets there gives no interval and the fit falls back to the bootstrap.")
    var mcmcSteps: Int = FitOptions.defaultMCMCSteps
    @Option(help: "MCMC walkers (even).") var mcmcWalkers: Int = 32
    @Option(help: "MCMC burn-in steps per walker.") var mcmcBurnIn: Int = 1000
    @Option(help: "Random seed: the same data, options and seed give the same JSON.") var seed: UInt64 = 0
    @Option(help: "A given compute scaling law L(C) = L∞ + a·C^-b as LINF,A,B (default: fitted to the checkpoints).")
    var scalingLaw: String?
    @Option(help: "A prior on the law's curvature: ln α ~ N(ln MEDIAN, LOG_SD²), as MEDIAN,LOG_SD (e.g. 1.4,0.35: α mostly within 0.8–2.5), or pooled:FILE for a lab's prior saved by `emergence pool-alpha --out FILE`. The point estimate becomes the posterior mode. Default: none (plain maximum likelihood).")
    var alphaPrior: String?

    func options() throws -> FitOptions {
        var o = FitOptions()
        guard let f = FitOptions.Form(rawValue: form.replacingOccurrences(of: "-", with: "_")) else {
            throw ValidationError("--form must be log-power or power, not '\(form)'")
        }
        o.form = f
        guard let n = FitOptions.Noise(rawValue: noise.replacingOccurrences(of: "-", with: "_")) else {
            throw ValidationError("--noise must be gaussian, binomial or quasi-binomial, not '\(noise)'")
        }
        o.noise = n
        guard let u = FitOptions.Uncertainty(rawValue: uncertainty) else {
            throw ValidationError("--uncertainty must be bootstrap, mcmc, both or none, not '\(uncertainty)'")
        }
        o.uncertainty = u
        guard let r = FitOptions.Resample(rawValue: resample) else { throw ValidationError("--resample must be checkpoints or rows") }
        o.resample = r
        o.d0 = d0
        o.delta = !noDelta
        o.bootstrap = bootstrap
        o.mcmcSteps = mcmcSteps
        o.mcmcWalkers = mcmcWalkers
        o.mcmcBurnIn = mcmcBurnIn
        o.seed = seed
        o.maxFlops = maxFlops
        if let s = scalingLaw {
            let parts = s.split(separator: ",").map { Double($0.trimmingCharacters(in: .whitespaces)) }
            guard parts.count == 3, let l = parts[0], let a = parts[1], let b = parts[2] else {
                throw ValidationError("--scaling-law must be three numbers LINF,A,B, not '\(s)'")
            }
            o.scalingLaw = ScalingLaw(lInf: l, a: a, b: b)
        }
        if let s = alphaPrior, s.hasPrefix("pooled:") {
            o.alphaPrior = try PoolAlphaCommand.prior(from: String(s.dropFirst("pooled:".count)), form: o.form)
            o.alphaPriorPooled = true
        } else if let s = alphaPrior {
            let parts = s.split(separator: ",").map { Double($0.trimmingCharacters(in: .whitespaces)) }
            guard parts.count == 2, let median = parts[0], let sd = parts[1] else {
                throw ValidationError("--alpha-prior must be two numbers MEDIAN,LOG_SD, not '\(s)'")
            }
            o.alphaPrior = AlphaPrior(median: median, logSD: sd)
        }
        let problems = o.problems()
        if !problems.isEmpty {
            throw ValidationError(problems.map { "--\($0.field.replacingOccurrences(of: "_", with: "-")) \($0.reason)" }.joined(separator: "\n"))
        }
        return o
    }
}

/// Which extra columns a study CSV may carry (the upload's `?ignore=`): the same rules as the server's,
/// so a file the server refuses is refused here with the same message.
struct ColumnFlags: ParsableArguments {
    @Option(help: "Comma-separated CSV columns to leave out on purpose. Any other column that is not an evaluation field is an error naming the closest field (columns named extra_… are always left out), as on upload.")
    var ignore: String?

    var rules: ColumnRules { ColumnRules(ignoring: ColumnRules.names(ignore ?? "")) }
}

/// Reading a study CSV for the offline commands; bad input exits non-zero with a line per problem.
enum StudyFile {
    static func read(_ path: String, rules: ColumnRules = ColumnRules()) throws -> [Evaluation] {
        guard let data = FileManager.default.contents(atPath: path) else {
            fail(["\(path): cannot read the file"])
        }
        do {
            // A fit needs every row's loss: a row without it is a problem of its line.
            let evaluations = try EvaluationCSV.parse([UInt8](data), rules: rules, requireLoss: true)
            if !evaluations.contains(where: { $0.setting == .finetuned }) {
                fail(["\(path): no finetuned rows: the emergence law needs evaluations with setting=finetuned"])
            }
            return evaluations
        } catch let error as IngestionError {
            fail(error.description.split(separator: "\n").map { "\(path): \($0)" })
        }
    }

    static func fail(_ lines: [String]) -> Never {
        FileHandle.standardError.write((lines.joined(separator: "\n") + "\n").data(using: .utf8)!)
        Foundation.exit(1)
    }
}
