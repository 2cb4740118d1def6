import ArgumentParser
import EmergenceCore
import Foundation

/// `emergence pool-alpha A.csv B.csv …`: the lab's pooled prior on α from several studies' own data
/// (PooledAlphaPrior: each study's profile likelihood of ln α, pooled by marginal likelihood), as
/// JSON; `--out FILE` saves it for `emergence fit X.csv --alpha-prior pooled:FILE`.
struct PoolAlphaCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "pool-alpha",
        abstract: "Estimate the lab's pooled prior on the curvature α from several study CSVs, as JSON.",
        discussion: """
        Each study is fitted plainly (no intervals) and its profile likelihood of ln α measured; the \
        distribution ln α ~ N(μ, τ²) across studies is estimated by marginal likelihood, and the prior a \
        new study gets is its predictive distribution. Use the saved file with \
        `emergence fit X.csv --alpha-prior pooled:FILE`; a study that fed the pool should not get it \
        (its data would count twice): leave it out of the files. See docs/method.md.
        """)

    @Argument(help: "Study CSVs, one per study (at least 3).") var files: [String]
    @Option(help: "Keep only checkpoints with flops ≤ F (the prediction setting), as for fit.") var maxFlops: Double?
    @Option(help: "Also write the estimate to FILE.") var out: String?
    @OptionGroup var columns: ColumnFlags

    /// What `--out` writes and `fit --alpha-prior pooled:FILE` reads.
    struct Document: Codable {
        var estimatedAt: String
        var files: [String]
        var estimate: PooledAlphaPrior.Estimate
        enum CodingKeys: String, CodingKey {
            case files, estimate
            case estimatedAt = "estimated_at"
        }
    }

    func run() throws {
        guard files.count >= PooledAlphaPrior.minimumStudies else {
            throw ValidationError("give at least \(PooledAlphaPrior.minimumStudies) study files (got \(files.count))")
        }
        var options = FitOptions()
        options.uncertainty = .none
        options.maxFlops = maxFlops
        var members: [PooledAlphaPrior.Member] = []
        for file in files {
            let rows = try StudyFile.read(file, rules: columns.rules)
            let result = try? EmergenceFit.run(rows, options: options)
            members.append(.init(study: file, status: result?.status.rawValue, profile: result?.alphaProfile))
        }
        guard let estimate = PooledAlphaPrior.estimate(members) else {
            let why = members.compactMap { m in PooledAlphaPrior.exclusion(m, form: .logPower).map { "\(m.study): \($0)" } }
            StudyFile.fail(["too few studies can feed a pooled prior (need \(PooledAlphaPrior.minimumStudies))"] + why)
        }
        let f = ISO8601DateFormatter()
        let document = Document(estimatedAt: f.string(from: Date()), files: files, estimate: estimate)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        var data = try encoder.encode(document)
        data.append(0x0A)
        if let out { try data.write(to: URL(fileURLWithPath: out)) }
        FileHandle.standardOutput.write(data)
    }

    /// The prior saved in `path` by `--out`, with where it came from.
    static func prior(from path: String, form: FitOptions.Form) throws -> AlphaPrior {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw ValidationError("--alpha-prior pooled:\(path): cannot read the file")
        }
        do {
            let d = try JSONDecoder().decode(Document.self, from: data)
            guard d.estimate.form == form else {
                throw ValidationError("--alpha-prior pooled:\(path): the prior is of the \(d.estimate.form.rawValue) form's α, and this fit's form is \(form.rawValue)")
            }
            return d.estimate.resolved(estimatedAt: d.estimatedAt)
        } catch let e as ValidationError {
            throw e
        } catch {
            throw ValidationError("--alpha-prior pooled:\(path): not a file written by `emergence pool-alpha --out` (\(error))")
        }
    }
}
