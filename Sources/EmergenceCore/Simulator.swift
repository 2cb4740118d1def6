import Foundation

/// Our own simulator of emergence studies with a known truth, for tests, calibration and demos.
///
/// The design follows docs/method.md §9's studies: checkpoints of six sizes, each trained on eight token
/// budgets (doubling); every checkpoint is evaluated few-shot, and the 3B checkpoints are finetuned on
/// several data amounts, two random subsets each (one at the largest amount). The truth:
///
///     true loss        L(C) = L∞ + a·C^(−b),  C = 6·N·T
///     measured loss    x = L(C) + ε,  ε ~ N(0, lossNoise)       (shared by all rows of a checkpoint)
///     accuracy         y = Binomial(n, μ + η) / n,  μ from docs/method.md §2 at the true loss,
///                      η ~ N(0, subsetNoise) per finetuned run (subset-to-subset variation)
public struct SimulationTruth: Codable, Sendable, Equatable {
    public var study: String
    public var seed: UInt64
    public var form: FitOptions.Form
    public var k: Double
    public var alpha: Double
    public var C: Double
    public var A: Double
    public var B: Double
    public var delta: Double
    public var D0: Double
    /// E* = E_θ(D0); nil when the study has no emergence at all.
    public var emergenceLoss: Double?
    public var emergenceFlops: Double?
    public var scalingLaw: ScalingLaw
    public var finetunedModelParameters: Double
    public var noSignal: Bool

    enum CodingKeys: String, CodingKey {
        case study, seed, form, k, alpha, C, A, B, delta, D0
        case emergenceLoss = "emergence_loss"
        case emergenceFlops = "emergence_flops"
        case scalingLaw = "scaling_law"
        case finetunedModelParameters = "finetuned_model_parameters"
        case noSignal = "no_signal"
    }

    /// Like the shared truth files, a study without emergence says `"emergence_loss": null`.
    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(study, forKey: .study); try c.encode(seed, forKey: .seed); try c.encode(form, forKey: .form)
        try c.encode(k, forKey: .k); try c.encode(alpha, forKey: .alpha); try c.encode(C, forKey: .C)
        try c.encode(A, forKey: .A); try c.encode(B, forKey: .B); try c.encode(delta, forKey: .delta)
        try c.encode(D0, forKey: .D0)
        try c.encode(emergenceLoss, forKey: .emergenceLoss)
        try c.encode(emergenceFlops, forKey: .emergenceFlops)
        try c.encode(scalingLaw, forKey: .scalingLaw)
        try c.encode(finetunedModelParameters, forKey: .finetunedModelParameters)
        try c.encode(noSignal, forKey: .noSignal)
    }
}

public struct SimulationScenario: Sendable {
    public var name: String
    public var form: FitOptions.Form = .logPower
    /// The target E* and the law's shape; k follows from them and C from E*.
    public var emergenceLoss: Double
    public var k: Double
    public var alpha: Double
    public var A: Double
    public var B: Double
    public var delta: Double = 0
    public var shots: Int
    public var dataAmounts: [Double]
    public var questions: Int
    public var noSignal = false
    public var lossNoise = 0.004
    public var subsetNoise = 0.007
    public var law = ScalingLaw(lInf: 1.0, a: 57.4, b: 0.08)

    /// The scenarios of docs/method.md §9.
    public static let named: [String: SimulationScenario] = {
        let mmluAmounts: [Double] = [390, 781, 1562, 3125, 6250, 12500, 25000, 50000, 100000]
        let list = [
            SimulationScenario(name: "mmlu-like", emergenceLoss: 1.85, k: 0.013505347090410987, alpha: 1.5, A: 0.8, B: 0.25,
                               shots: 5, dataAmounts: mmluAmounts, questions: 2000),
            SimulationScenario(name: "gsm8k-like", emergenceLoss: 1.98, k: 0.04723788368501332, alpha: 1.0, A: 0.6, B: 0.0,
                               shots: 8, dataAmounts: [437, 875, 1750, 3500, 7000], questions: 1319),
            SimulationScenario(name: "csqa-like", emergenceLoss: 1.83, k: 0.004597206902640711, alpha: 2.0, A: 1.2, B: 0.2,
                               shots: 7, dataAmounts: [303, 606, 1212, 2425, 4850, 9700], questions: 1221),
            SimulationScenario(name: "cola-like", emergenceLoss: 1.80, k: 0.03662835124581842, alpha: 1.2, A: 0.7, B: 0.5,
                               delta: 0.03, shots: 5, dataAmounts: [265, 531, 1062, 2125, 4250, 8500], questions: 1043),
            SimulationScenario(name: "narrow-data-range", emergenceLoss: 1.85, k: 0.013505347090410987, alpha: 1.5, A: 0.8, B: 0.25,
                               shots: 5, dataAmounts: [6250, 12500, 25000, 50000, 100000], questions: 1000),
            SimulationScenario(name: "no-signal", emergenceLoss: 1.85, k: 0.013505347090410987, alpha: 1.5, A: 0.8, B: 0.25,
                               shots: 5, dataAmounts: [3125, 6250, 12500, 25000, 50000, 100000], questions: 1000, noSignal: true),
            SimulationScenario(name: "power-law-truth", form: .power, emergenceLoss: 1.86, k: 0.027014672428842004, alpha: 0.25,
                               A: 0.8, B: 0.25, shots: 5, dataAmounts: mmluAmounts, questions: 1000),
        ]
        return Dictionary(uniqueKeysWithValues: list.map { ($0.name, $0) })
    }()

    public init(name: String, form: FitOptions.Form = .logPower, emergenceLoss: Double, k: Double, alpha: Double,
                A: Double, B: Double, delta: Double = 0, shots: Int, dataAmounts: [Double], questions: Int,
                noSignal: Bool = false) {
        self.name = name; self.form = form; self.emergenceLoss = emergenceLoss; self.k = k; self.alpha = alpha
        self.A = A; self.B = B; self.delta = delta; self.shots = shots; self.dataAmounts = dataAmounts
        self.questions = questions; self.noSignal = noSignal
    }

    /// A random study for calibration: one of the identifiable named scenarios (mmlu-, csqa-, cola-like)
    /// with its truth jittered, as docs/method.md §5's measurement did: E* ± 0.04 nats, the elbow at the
    /// largest data amount ± 0.05, α, A ×(0.8–1.2). The few-shot data stay pre-emergence at 2e22.
    public static func random(_ rng: inout SeededRandom, index: Int) -> SimulationScenario {
        let bases = ["mmlu-like", "csqa-like", "cola-like"]
        var s = named[bases[rng.index(bases.count)]]!
        let g = { (a: Double, d: Double) in EmergenceLaw.basis(s.form, alpha: a, d: d) }
        let d0 = Double(s.shots), dMax = s.dataAmounts.max()!
        let top = s.emergenceLoss + s.k * (g(s.alpha, dMax) - g(s.alpha, d0)) + 0.05 * (2 * rng.uniform() - 1)
        s.emergenceLoss = min(s.emergenceLoss + 0.04 * (2 * rng.uniform() - 1), 1.90)
        s.alpha *= 0.8 + 0.4 * rng.uniform()
        s.A *= 0.8 + 0.4 * rng.uniform()
        s.k = (top - s.emergenceLoss) / (g(s.alpha, dMax) - g(s.alpha, d0))
        s.name = "jittered-\(s.name)-\(index)"
        return s
    }

    /// A harder, wider family for stress-testing calibration: any curvature, shots and amounts.
    public static func wide(_ rng: inout SeededRandom, index: Int) -> SimulationScenario {
        let e = 1.80 + 0.12 * rng.uniform()
        let top = 2.10 + 0.30 * rng.uniform()
        let alpha = 0.8 + 1.4 * rng.uniform()
        let shots = [3, 5, 8][rng.index(3)]
        let lo = 250 + 250 * rng.uniform()
        let count = 6 + rng.index(4)
        let amounts = (0..<count).map { (lo * pow(2, Double($0))).rounded() }
        let k = (top - e) / (pow(log(amounts.last!), alpha) - pow(log(Double(shots)), alpha))
        let floors: [Double] = [0, 0.25, 0.5]
        return SimulationScenario(name: "wide-\(index)", emergenceLoss: e, k: k, alpha: alpha,
                                  A: 0.5 + 0.7 * rng.uniform(), B: floors[rng.index(3)], shots: shots,
                                  dataAmounts: amounts, questions: [1000, 1500, 2000][rng.index(3)])
    }

    /// Weak-signal studies: finetuning lifts accuracy only at the lowest-loss
    /// checkpoints, or only a little. Half have the elbow at the largest data amount within
    /// 0.005–0.06 nats above the finetuned model's lowest loss at the 2e22 cutoff (so at most one or
    /// two checkpoints, at the largest amounts, are lifted) and E* anywhere in 1.55–1.90; half are
    /// `wide` studies with a small slope A (0.05–0.2). Shots, amounts and floors as in `wide`.
    public static func weak(_ rng: inout SeededRandom, index: Int) -> SimulationScenario {
        var s = wide(&rng, index: index)
        s.name = "weak-\(index)"
        if rng.uniform() < 0.5 {
            // The finetuned size's lowest-loss checkpoint in the prediction setting (its 8th budget).
            let lowest = s.law.loss(atCompute: 6 * 3e9 * 7.8125e9 * 128)
            let top = lowest + 0.005 + 0.055 * rng.uniform()
            s.emergenceLoss = 1.55 + 0.35 * rng.uniform()
            let d0 = Double(s.shots), dMax = s.dataAmounts.max() ?? d0
            s.k = (top - s.emergenceLoss) / (EmergenceLaw.basis(s.form, alpha: s.alpha, d: dMax) - EmergenceLaw.basis(s.form, alpha: s.alpha, d: d0))
        } else {
            s.A = 0.05 + 0.15 * rng.uniform()
        }
        return s
    }
}

public enum Simulator {
    public static let sizes: [(name: String, parameters: Double, firstTokens: Double)] = [
        ("1b", 1e9, 7.8125e9), ("3b", 3e9, 7.8125e9), ("7b", 7e9, 7.8125e9), ("13b", 13e9, 7.8125e9),
        ("33b", 33e9, 10.9375e9), ("65b", 65e9, 10.9375e9),
    ]
    public static let finetunedSize = "3b"

    public static func simulate(_ s: SimulationScenario, seed: UInt64) -> (evaluations: [Evaluation], truth: SimulationTruth) {
        var rng = SeededRandom(seed: seed)
        let d0 = Double(s.shots)
        let g0 = EmergenceLaw.basis(s.form, alpha: s.alpha, d: d0)
        var c = s.emergenceLoss - s.k * g0
        if s.noSignal {
            // Every elbow, even at the largest amount, sits well below the lowest loss in the study.
            let lowest = s.law.loss(atCompute: 6 * 65e9 * 1400e9)
            c = lowest - 0.3 - s.k * EmergenceLaw.basis(s.form, alpha: s.alpha, d: s.dataAmounts.max() ?? d0)
        }
        let law = EmergenceLaw(form: s.form, k: s.k, alpha: s.alpha, C: c)
        var rows: [Evaluation] = []
        for size in sizes {
            for i in 0..<8 {
                let tokens = size.firstTokens * pow(2, Double(i))
                let flops = 6 * size.parameters * tokens
                let trueLoss = s.law.loss(atCompute: flops)
                let measured = ((trueLoss + s.lossNoise * rng.normal()) * 1e5).rounded() / 1e5
                let name = "\(size.name)-\(format(tokens / 1e9))bt"
                func accuracy(_ elbow: Double, floor: Double, extra: Double) -> Double {
                    let mu = floor + s.A * max(elbow - trueLoss, 0) + extra
                    let hits = rng.binomial(n: s.questions, p: min(max(mu, 0), 1))
                    return Double(hits) / Double(s.questions)
                }
                rows.append(Evaluation(
                    checkpoint: name, model: size.name, parameters: size.parameters, tokens: tokens, flops: flops,
                    pretrainLoss: measured, setting: .fewShot, shots: s.shots,
                    accuracy: accuracy(law.elbow(at: d0), floor: s.B + s.delta, extra: 0), nQuestions: s.questions))
                guard size.name == finetunedSize else { continue }
                for d in s.dataAmounts.sorted(by: >) {
                    let subsets = d == s.dataAmounts.max() ? 1 : 2
                    for subset in 1...subsets {
                        rows.append(Evaluation(
                            checkpoint: name, model: size.name, parameters: size.parameters, tokens: tokens, flops: flops,
                            pretrainLoss: measured, setting: .finetuned, shots: 0, finetuneExamples: d, subset: String(subset),
                            accuracy: accuracy(law.elbow(at: d), floor: s.B, extra: s.subsetNoise * rng.normal()),
                            nQuestions: s.questions))
                    }
                }
            }
        }
        let e = s.noSignal ? nil : s.emergenceLoss
        let truth = SimulationTruth(
            study: s.name, seed: seed, form: s.form, k: s.k, alpha: s.alpha, C: c, A: s.A, B: s.B, delta: s.delta,
            D0: d0, emergenceLoss: e, emergenceFlops: e.flatMap { s.law.compute(atLoss: $0) },
            scalingLaw: s.law, finetunedModelParameters: 3e9, noSignal: s.noSignal)
        return (rows, truth)
    }

    /// 7.8125 → "7.8125", 1000 → "1000".
    static func format(_ v: Double) -> String {
        v == v.rounded() ? String(Int(v)) : String(v)
    }

    /// The study as CSV with the CLI's header (docs/method.md §1 columns).
    public static func csv(_ rows: [Evaluation]) -> String {
        var out = "checkpoint,model,parameters,tokens,flops,pretrain_loss,setting,shots,finetune_examples,subset,accuracy,n_questions\n"
        func num(_ v: Double?) -> String { v.map { "\($0)" } ?? "" }
        for r in rows {
            out += [r.checkpoint, r.model ?? "", num(r.parameters), num(r.tokens), num(r.flops), "\(r.pretrainLoss)",
                    r.setting.rawValue, r.shots.map(String.init) ?? "", r.finetuneExamples.map { format($0) } ?? "",
                    r.subset ?? "", "\(r.accuracy)", r.nQuestions.map(String.init) ?? ""].joined(separator: ",")
            out += "\n"
        }
        return out
    }
}
