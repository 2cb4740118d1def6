import ArgumentParser
import EmergenceCore
import Foundation

/// `emergence calibrate`: how honest are the intervals, on simulated studies with known truth.
struct CalibrateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "calibrate",
        abstract: "Simulate studies with known truth, fit each, and score the answers (coverage, interval score, CRPS, bounds).",
        discussion: """
        Families: jittered (the named identifiable scenarios with jittered truths), wide (any curvature, \
        shots and amounts), weak (lift only at the lowest-loss checkpoints, or a small slope), designs \
        (the study design itself drawn per study: scaling law, sizes, checkpoints, amounts, subsets, noise). \
        Rules are tuned on the development split only; report the held-out split (the default). \
        To score another engine on the same studies: --export DIR writes study-N.csv; fit each into \
        DIR/result-N.json (with --max-flops and --seed N); then --results DIR scores them. \
        --lab coherent|incoherent simulates labs of --lab-size studies whose α share one distribution \
        and fits each study plain and with the prior pooled from the lab's other studies (leave-one-out), \
        scoring both on the same studies. See docs/calibration.md.
        """)

    @Option(help: "Number of simulated studies.") var studies: Int = 100
    @Option(help: "Study family: jittered, wide, weak or designs.") var family: String = "jittered"
    @Option(help: "Which fixed set of studies: held-out (reported) or development (where rules are tuned).")
    var split: String = Calibration.Split.heldOut.rawValue
    @Option(help: "A study generator seed of your own instead of the split's (reported as split \"custom\").")
    var studySeed: UInt64?
    @Option(help: "Write each study as DIR/study-N.csv (and its truth as DIR/truth-N.json) and do not fit.") var export: String?
    @Option(help: "Score result documents DIR/result-N.json (from any engine) instead of fitting.") var results: String?
    @Option(help: "Also write each fit's result document as DIR/result-N.json.") var saveResults: String?
    @Option(help: "Also re-simulate each study's design this many times under fresh noise and refit each with the plain MLE: the studies whose replicate error (RMSE) is under 0.05 nats are reported as pinned_by_replicates, a yardstick beside the Cramér–Rao one (R times the fits).")
    var replicates: Int = 0
    @Option(help: "Simulated labs instead of single studies: coherent (the lab's α agree) or incoherent (two clusters).")
    var lab: String?
    @Option(help: "Studies per lab (with --lab).") var labSize: Int = 10
    @Option(help: "Number of labs (with --lab).") var labs: Int = 40
    @Option(help: "With --lab: the scale of the half-normal prior on τ in the pooled prior (0: flat), to measure how much the figures depend on it; default the engine's.")
    var tauPriorScale: Double?
    @Option(help: "With --lab: the prior handed out, mixture (the predictive scale mixture over τ, the engine's), normal (one moment-matched normal, to measure what the mixture changes) or exact (the lab's true distribution of α and no pooling, to measure the interval a fit with a right prior gives).")
    var pooledPrior: String = "mixture"
    @Flag(help: "Print one line per study on stderr.") var verbose = false
    @Flag(help: "No progress lines on stderr.") var quiet = false
    @OptionGroup var fit: FitFlags

    func run() throws {
        guard studies >= 1 && studies <= 1_000_000 else { throw ValidationError("--studies must be in 1...1000000") }
        guard Calibration.families.contains(family) else {
            throw ValidationError("--family must be one of \(Calibration.families.joined(separator: ", ")), not '\(family)'")
        }
        guard let chosen = Calibration.Split(rawValue: split) else {
            throw ValidationError("--split must be held-out or development, not '\(split)'")
        }
        var options = try fit.options()
        let maxFlops = options.maxFlops ?? 2e22
        guard maxFlops.isFinite && maxFlops > 0 else { throw ValidationError("--max-flops must be a finite number > 0") }
        guard replicates >= 0 && replicates <= 1000 else { throw ValidationError("--replicates must be in 0...1000") }
        guard replicates == 0 || (export == nil && results == nil && lab == nil) else {
            throw ValidationError("--replicates refits this engine's studies in-process; it cannot be combined with --export, --results or --lab")
        }
        options.maxFlops = maxFlops
        let seed = studySeed ?? chosen.seed
        let splitName = studySeed == nil ? chosen.rawValue : "custom"
        let started = Date()
        if let lab {
            guard let kind = Calibration.LabKind(rawValue: lab) else {
                throw ValidationError("--lab must be coherent or incoherent, not '\(lab)'")
            }
            guard labSize >= 4 && labSize <= 1000 else { throw ValidationError("--lab-size must be in 4...1000 (a study's prior needs 3 others)") }
            guard labs >= 1 && labs <= 100_000 else { throw ValidationError("--labs must be in 1...100000") }
            guard export == nil && results == nil else { throw ValidationError("--lab cannot be combined with --export or --results") }
            let total = labs * labSize
            var done = 0
            if let t = tauPriorScale, !(t.isFinite && t >= 0 && t <= 10) { throw ValidationError("--tau-prior-scale must be in 0...10") }
            guard let handedOut = Calibration.LabPrior(rawValue: pooledPrior) else {
                throw ValidationError("--pooled-prior must be mixture, normal or exact, not '\(pooledPrior)'")
            }
            let scale = tauPriorScale.map { $0 == 0 ? nil : $0 } ?? PooledAlphaPrior.tauPriorScale
            let report = Calibration.runLabs(kind: kind, size: labSize, labs: labs, seed: seed, options: options,
                                             maxFlops: maxFlops, split: splitName, tauPriorScale: scale,
                                             prior: handedOut) { lab, i, plain, pooled in
                done += 1
                if verbose {
                    let f = { (r: FitResult?) in
                        String(format: "%@ %@ [%@, %@] α %@", r?.status.rawValue ?? "error",
                               r?.emergence.loss.mle.map { String(format: "%.3f", $0) } ?? "-",
                               r?.emergence.loss.percentiles?["5"].map { String(format: "%.3f", $0) } ?? "-",
                               r?.emergence.loss.percentiles?["95"].map { String(format: "%.3f", $0) } ?? "-",
                               r?.parameters.map { String(format: "%.2f", $0.alpha) } ?? "-")
                    }
                    FileHandle.standardError.write(Data("lab \(lab) study \(i): plain \(f(plain))  pooled \(f(pooled))\n".utf8))
                }
                if !quiet && (done % 10 == 0 || done == total) {
                    FileHandle.standardError.write(Data(String(format: "calibrate: %d/%d studies of %@ labs of %d (%@), %.0f s\n",
                        done, total, kind.rawValue, labSize, splitName, Date().timeIntervalSince(started)).utf8))
                }
            }
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
            FileHandle.standardOutput.write(try encoder.encode(report))
            print("")
            return
        }
        let progress = { (done: Int) in
            guard !quiet, done % 10 == 0 || done == studies else { return }
            let line = String(format: "calibrate: %d/%d %@ studies (%@), %.0f s\n", done, studies, family, splitName,
                              Date().timeIntervalSince(started))
            FileHandle.standardError.write(Data(line.utf8))
        }

        if let export {
            try FileManager.default.createDirectory(atPath: export, withIntermediateDirectories: true)
            var generator = Calibration.Generator(family: family, seed: seed, maxFlops: maxFlops)
            for i in 0..<studies {
                let study = generator.next()
                try Data(Simulator.csv(study.evaluations).utf8).write(to: URL(fileURLWithPath: "\(export)/study-\(i).csv"))
                try JSONEncoder().encode(study.truth).write(to: URL(fileURLWithPath: "\(export)/truth-\(i).json"))
                progress(i + 1)
            }
            return
        }

        let report: Calibration.Report
        if let results {
            var generator = Calibration.Generator(family: family, seed: seed, maxFlops: maxFlops)
            var records: [Calibration.Record] = []
            for i in 0..<studies {
                let study = generator.next()
                let url = URL(fileURLWithPath: "\(results)/result-\(i).json")
                let result = (try? Data(contentsOf: url)).flatMap { try? JSONDecoder().decode(FitResult.self, from: $0) }
                records.append(Calibration.Record(study: study, result: result))
                if verbose { FileHandle.standardError.write(Data(Self.line(study, result, nil).utf8)) }
                progress(i + 1)
            }
            report = Calibration.score(records, family: family, split: splitName, seed: seed, options: options)
        } else {
            var done = 0
            if let saveResults { try FileManager.default.createDirectory(atPath: saveResults, withIntermediateDirectories: true) }
            report = Calibration.run(studies: studies, seed: seed, options: options, maxFlops: maxFlops, family: family,
                                     split: splitName, replicates: replicates) { study, result, m, spread in
                done += 1
                if let saveResults, let data = try? result?.jsonData() {
                    try? data.write(to: URL(fileURLWithPath: "\(saveResults)/result-\(study.index).json"))
                }
                if verbose { FileHandle.standardError.write(Data(Self.line(study, result, m, spread).utf8)) }
                progress(done)
            }
        }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        FileHandle.standardOutput.write(try encoder.encode(report))
        print("")
    }

    /// One study: truth, answer, and what the identifiability rules measured.
    static func line(_ study: Calibration.Study, _ result: FitResult?, _ m: Identifiability.Measures?,
                     _ spread: Calibration.ReplicateSpread? = nil) -> String {
        let truth = study.truth
        let p = result?.emergence.loss.percentiles ?? [:]
        let f = { (v: Double?) in v.map { String(format: "%.3f", $0) } ?? "-" }
        // α̂, lifted amounts / all, E*_mle − the few-shot boundary, and the rules that fired.
        let detail = m.map { m in
            String(format: "profile [%@, %@]  α̂ %.2f (true %.2f)  lifted %d/%d  E*−boundary %@  lift %.1fσ (rows jointly %.1fσ)  %@",
                   f(m.profileLower), f(m.profileUpper), m.alpha, truth.alpha,
                   m.liftedAmounts.count, m.dataAmounts.count,
                   m.fewShotBoundary.map { String(format: "%+.3f", m.prediction - $0) } ?? "-",
                   m.maxLiftSD, m.liftSNR, m.reasons.map { $0.rawValue }.joined(separator: ","))
        } ?? ""
        var warned = (result?.warnings.map(\.code) ?? []).joined(separator: ",")
        if let spread {
            warned += String(format: "  replicates %d/%d rmse %@", spread.estimated, spread.replicates, f(spread.rmse))
        }
        return String(format: "%3d truth %.3f  cr_sd %@  true_lift %.1fσ  mle %@  5–95 [%@, %@]  bound %@  %@  %@  warnings %@\n", study.index,
                      truth.emergenceLoss ?? .nan, f(study.cramerRaoSD), study.liftSD, f(result?.emergence.loss.mle), f(p["5"]), f(p["95"]),
                      f(result?.emergence.loss.upperBound), result?.status.rawValue ?? "error", detail, warned)
    }
}
