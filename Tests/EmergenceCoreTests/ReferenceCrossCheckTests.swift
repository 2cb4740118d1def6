import XCTest
@testable import EmergenceCore

/// Our optimiser against an independent least-squares implementation (docs/method.md §9): Gaussian noise,
/// Δ on, D0 = shots, checkpoints with flops ≤ 2e22. A lower residual sum of squares than the
/// reference's is fine (the reference missed); a higher one means our multi-start missed the optimum.
final class ReferenceCrossCheckTests: XCTestCase {
    struct Reference { var study: String; var form: FitOptions.Form; var eStar: Double; var rss: Double }
    let references = [
        Reference(study: "mmlu-like", form: .logPower, eStar: 1.849, rss: 0.03013),
        Reference(study: "gsm8k-like", form: .logPower, eStar: 1.979, rss: 0.00587),
        Reference(study: "csqa-like", form: .logPower, eStar: 1.845, rss: 0.02477),
        Reference(study: "cola-like", form: .logPower, eStar: 1.787, rss: 0.02680),
        Reference(study: "narrow-data-range", form: .logPower, eStar: 1.706, rss: 0.03113),
        Reference(study: "power-law-truth", form: .logPower, eStar: 1.936, rss: 0.03982),
        Reference(study: "power-law-truth", form: .power, eStar: 1.907, rss: 0.03972),
    ]

    /// A plain reader for the fixtures (the production CSV parser lives in EmergenceService).
    static func load(_ name: String) throws -> [Evaluation] {
        let url = try XCTUnwrap(Bundle.module.url(forResource: "Fixtures/\(name)", withExtension: "csv"))
        let lines = try String(contentsOf: url, encoding: .utf8).replacingOccurrences(of: "\r", with: "")
            .split(separator: "\n").map(String.init)
        let header = lines[0].split(separator: ",", omittingEmptySubsequences: false).map(String.init)
        return lines.dropFirst().map { line in
            let cells = line.split(separator: ",", omittingEmptySubsequences: false).map(String.init)
            var v: [String: String] = [:]
            for (h, c) in zip(header, cells) { v[h] = c }
            return Evaluation(checkpoint: v["checkpoint"]!, model: v["model"], parameters: Double(v["parameters"]!),
                              tokens: Double(v["tokens"]!), flops: Double(v["flops"]!), pretrainLoss: Double(v["pretrain_loss"]!)!,
                              setting: Evaluation.Setting(rawValue: v["setting"]!)!, shots: Int(v["shots"]!),
                              finetuneExamples: Double(v["finetune_examples"]!), subset: v["subset"],
                              accuracy: Double(v["accuracy"]!)!, nQuestions: Int(v["n_questions"]!))
        }
    }

    func testMaximumLikelihoodMatchesTheIndependentImplementation() throws {
        for ref in references {
            var o = FitOptions()
            o.maxFlops = 2e22
            o.form = ref.form
            o.uncertainty = .none
            let result = try EmergenceFit.run(try Self.load(ref.study), options: o)
            let rss = try XCTUnwrap(result.fit?.rss, ref.study)
            // A withheld answer (not_identified) keeps the MLE's parameters, not its E*: E* = E_θ(D0).
            let p = try XCTUnwrap(result.parameters, ref.study)
            let e = EmergenceLaw(form: ref.form, k: p.k, alpha: p.alpha, C: p.C).elbow(at: try XCTUnwrap(result.d0))
            // The reference's RSS is printed to 5 decimals.
            XCTAssertLessThanOrEqual(rss, ref.rss + 5e-6, "\(ref.study) \(ref.form): RSS \(rss) above the reference's \(ref.rss)")
            // Where the objective is flat the optimum can sit a little apart at an equal or lower RSS.
            XCTAssertEqual(e, ref.eStar, accuracy: 0.015, "\(ref.study) \(ref.form)")
        }
    }

    func testSharedStudiesInThePredictionSetting() throws {
        // docs/method.md §9 truths: E* within 0.03 nats and inside the 5–95 interval.
        let truths = ["mmlu-like": 1.85, "gsm8k-like": 1.98, "csqa-like": 1.83, "cola-like": 1.80]
        for (study, truth) in truths.sorted(by: { $0.key < $1.key }) {
            var o = FitOptions()
            o.maxFlops = 2e22
            o.bootstrap = 200
            o.seed = 1
            let result = try EmergenceFit.run(try Self.load(study), options: o)
            let e = try XCTUnwrap(result.emergence.loss.mle, study)
            XCTAssertEqual(e, truth, accuracy: 0.03, study)
            let p = try XCTUnwrap(result.emergence.loss.percentiles, study)
            XCTAssertLessThanOrEqual(try XCTUnwrap(p["5"]), truth, study)
            XCTAssertGreaterThanOrEqual(try XCTUnwrap(p["95"]), truth, study)
        }
        let noSignal = try EmergenceFit.run(try Self.load("no-signal"), options: {
            var o = FitOptions(); o.maxFlops = 2e22; o.bootstrap = 50; return o }())
        XCTAssertEqual(noSignal.status, .noSignal)
        XCTAssertNil(noSignal.emergence.loss.mle)
    }
}
