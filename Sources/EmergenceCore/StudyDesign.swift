import Foundation

/// A study whose *design* is drawn at random, not only its truth: the `designs` calibration family.
///
/// `Simulator.simulate` always uses one design (six model sizes of eight doubling budgets, the 3B
/// finetuned, two subsets, one compute law), and the identifiability rules were tuned on studies of
/// that design. A rule is only worth trusting if it holds on designs it never saw, so this family
/// draws every part of the design per study:
///
/// - the compute scaling law L(C) = L∞ + a·C^(−b): L∞ ∈ [0.8, 1.8], b ∈ [0.05, 0.12], and a set so
///   that L(1e21) lies in [1.9, 2.6];
/// - 4–8 model sizes (log-spaced, smallest 1e8–5e8 parameters, largest 1e10–1e11), each with 5–14
///   checkpoints whose token budgets grow by a factor 1.3–2.0 from 2–10 tokens per parameter;
/// - the finetuned size: any size with at least four checkpoints inside the cutoff;
/// - 4–9 data amounts, the smallest 50–2,000 examples, each ×1.6–2.5 the last; 1–4 subsets per amount;
/// - shots (D0) 2–10; n_questions 300–3,000; loss noise SD 0.002–0.012 nats; finetune (subset) noise
///   SD 0.003–0.02 in accuracy;
/// - the law: α ∈ [0.5, 3] (log-uniform), slope A ∈ [0.3, 1.5], floor B ∈ [0, 0.6], few-shot offset
///   Δ ∈ [−0.03, 0.03];
/// - where emergence lies: E* is the true loss at m × the cutoff's compute, m log-uniform in
///   [0.5, 20] (from already emerged to far past the cutoff), and the elbow at the largest data amount
///   0.03–0.6 nats (log-uniform) above the finetuned size's lowest loss inside the cutoff.
///
/// Every truth stays inside the emergence law: the slope is reduced where μ would pass 0.97 at the
/// lowest loss of the study, so the law itself never clips accuracy (only binomial noise is bounded).
public struct StudyDesign: Sendable, Equatable {
    public struct Size: Sendable, Equatable {
        public var name: String
        public var parameters: Double
        /// Token budgets of this size's checkpoints, ascending.
        public var tokens: [Double]
    }

    public var name: String
    public var law: ScalingLaw
    public var sizes: [Size]
    /// Index into `sizes` of the finetuned size.
    public var finetuned: Int
    public var dataAmounts: [Double]
    /// Subsets (finetuning runs on different random samples) per data amount.
    public var subsets: Int
    public var shots: Int
    public var questions: Int
    public var lossNoise: Double
    public var subsetNoise: Double
    public var emergence: EmergenceLaw
    public var A: Double
    public var B: Double
    public var delta: Double
    /// The prediction setting's compute cutoff the design was drawn for.
    public var cutoff: Double

    /// E* = E_θ(D0).
    public var emergenceLoss: Double { emergence.elbow(at: Double(shots)) }

    /// A random design for the cutoff (2e22 FLOPs in `emergence calibrate`).
    public static func random(_ rng: inout SeededRandom, index: Int, cutoff: Double = 2e22) -> StudyDesign {
        func uniform(_ lo: Double, _ hi: Double) -> Double { lo + (hi - lo) * rng.uniform() }
        func logUniform(_ lo: Double, _ hi: Double) -> Double { exp(uniform(log(lo), log(hi))) }
        while true {
            let lInf = uniform(0.8, 1.8), b = uniform(0.05, 0.12)
            let at1e21 = uniform(1.9, 2.6)
            let law = ScalingLaw(lInf: lInf, a: (at1e21 - lInf) * pow(1e21, b), b: b)
            let sizeCount = 4 + rng.index(5)
            let smallest = logUniform(1e8, 5e8), largest = logUniform(1e10, 1e11)
            var sizes: [Size] = []
            for j in 0..<sizeCount {
                let n = (smallest * pow(largest / smallest, Double(j) / Double(sizeCount - 1)) / 1e6).rounded() * 1e6
                let count = 5 + rng.index(10)
                let first = n * uniform(2, 10), growth = uniform(1.3, 2.0)
                let tokens = (0..<count).map { (first * pow(growth, Double($0)) / 1e6).rounded() * 1e6 }
                sizes.append(Size(name: "s\(j + 1)", parameters: n, tokens: tokens))
            }
            // Finetuned: a size with at least four checkpoints inside the cutoff.
            let candidates = sizes.indices.filter { j in
                sizes[j].tokens.filter { 6 * sizes[j].parameters * $0 <= cutoff }.count >= 4
            }
            guard !candidates.isEmpty else { continue }
            let finetuned = candidates[rng.index(candidates.count)]
            let amountCount = 4 + rng.index(6)
            let lowAmount = logUniform(50, 2000), ratio = uniform(1.6, 2.5)
            let amounts = (0..<amountCount).map { (lowAmount * pow(ratio, Double($0))).rounded() }
            let shots = 2 + rng.index(9)
            let alpha = logUniform(0.5, 3)
            var slope = uniform(0.3, 1.5)
            let floor = uniform(0, 0.6)
            let delta = uniform(-0.03, 0.03)
            let questions = Int(logUniform(300, 3000).rounded())
            let lossNoise = uniform(0.002, 0.012), subsetNoise = uniform(0.003, 0.02)
            let subsets = 1 + rng.index(4)
            // Where emergence lies: the true loss at m × the cutoff's compute.
            let eStar = law.loss(atCompute: cutoff * logUniform(0.5, 20))
            let ftSize = sizes[finetuned]
            let lowestFinetuned = ftSize.tokens.map { 6 * ftSize.parameters * $0 }.filter { $0 <= cutoff }
                .map(law.loss(atCompute:)).min() ?? eStar
            let top = max(lowestFinetuned + logUniform(0.03, 0.6), eStar + 0.02)
            let d0 = Double(shots), dMax = amounts.last ?? d0
            let span = EmergenceLaw.basis(.logPower, alpha: alpha, d: dMax) - EmergenceLaw.basis(.logPower, alpha: alpha, d: d0)
            guard span > 0 else { continue }
            let k = (top - eStar) / span
            let emergence = EmergenceLaw(form: .logPower, k: k, alpha: alpha, C: eStar - k * EmergenceLaw.basis(.logPower, alpha: alpha, d: d0))
            // No clipping by the law: μ ≤ 0.97 at the study's lowest true loss for the top elbow.
            let lowestLoss = sizes.flatMap { s in s.tokens.map { law.loss(atCompute: 6 * s.parameters * $0) } }.min() ?? lowestFinetuned
            let reach = max(top - lowestLoss, 1e-9)
            slope = min(slope, (0.97 - floor - max(delta, 0)) / reach)
            guard slope > 0.02 else { continue }
            return StudyDesign(name: "designs-\(index)", law: law, sizes: sizes, finetuned: finetuned, dataAmounts: amounts,
                               subsets: subsets, shots: shots, questions: questions, lossNoise: lossNoise,
                               subsetNoise: subsetNoise, emergence: emergence, A: slope, B: floor, delta: delta, cutoff: cutoff)
        }
    }

    /// The study's evaluations and its truth. Every checkpoint is evaluated few-shot; the finetuned
    /// size's checkpoints are finetuned on every amount, `subsets` runs each, with
    ///
    ///     measured loss  x = L(C) + ε,   ε ~ N(0, lossNoise)        (one per checkpoint)
    ///     accuracy       y = Binomial(n, μ + η)/n,  η ~ N(0, subsetNoise) per finetuned run
    public func simulate(seed: UInt64) -> (evaluations: [Evaluation], truth: SimulationTruth) {
        var rng = SeededRandom(seed: seed)
        let d0 = Double(shots)
        var rows: [Evaluation] = []
        for (j, size) in sizes.enumerated() {
            for t in size.tokens {
                let flops = 6 * size.parameters * t
                let trueLoss = law.loss(atCompute: flops)
                let measured = ((trueLoss + lossNoise * rng.normal()) * 1e5).rounded() / 1e5
                let name = "\(size.name)-\(Int(t / 1e6))mt"
                func accuracy(_ elbow: Double, floor: Double, extra: Double) -> Double {
                    let mu = floor + A * max(elbow - trueLoss, 0) + extra
                    return Double(rng.binomial(n: questions, p: min(max(mu, 0), 1))) / Double(questions)
                }
                rows.append(Evaluation(
                    checkpoint: name, model: size.name, parameters: size.parameters, tokens: t, flops: flops,
                    pretrainLoss: measured, setting: .fewShot, shots: shots,
                    accuracy: accuracy(emergence.elbow(at: d0), floor: B + delta, extra: 0), nQuestions: questions))
                guard j == finetuned else { continue }
                for d in dataAmounts {
                    for subset in 1...subsets {
                        rows.append(Evaluation(
                            checkpoint: name, model: size.name, parameters: size.parameters, tokens: t, flops: flops,
                            pretrainLoss: measured, setting: .finetuned, shots: 0, finetuneExamples: d, subset: String(subset),
                            accuracy: accuracy(emergence.elbow(at: d), floor: B, extra: subsetNoise * rng.normal()),
                            nQuestions: questions))
                    }
                }
            }
        }
        let e = emergenceLoss
        let truth = SimulationTruth(
            study: name, seed: seed, form: .logPower, k: emergence.k, alpha: emergence.alpha, C: emergence.C, A: A, B: B,
            delta: delta, D0: d0, emergenceLoss: e, emergenceFlops: law.compute(atLoss: e), scalingLaw: law,
            finetunedModelParameters: sizes[finetuned].parameters, noSignal: false)
        return (rows, truth)
    }
}
