import Foundation

/// Random fit cases that probe the engine's edges: option sets from the published schema and beyond
/// it (walkers 1–16, bootstrap 0/1/2, D0 just above 1 or 1e30, a max_flops that keeps nothing,
/// extreme scaling laws, NaN and ±∞), on simulated studies cut down to small and degenerate shapes
/// (one checkpoint, everything at chance, every row identical, extreme values).
///
/// The property checked by `EmergenceCoreTests` and `emergence fuzz-fit`: every case returns a result
/// that encodes as JSON, or throws a `FitError`; options with `problems(budget:)` throw
/// `invalidOptions`. A trap would end the process, so finishing is itself the evidence.
public enum FitFuzzing {
    /// How big the work in a case may get.
    public enum Scale: Sendable {
        /// Small studies and uncertainty sizes: hundreds of cases in seconds (the unit test).
        case quick
        /// Also whole simulated studies and larger bootstrap/MCMC sizes (the CLI's default).
        case thorough
    }

    public struct Case: Sendable {
        public var evaluations: [Evaluation]
        public var options: FitOptions
        /// What was done to the study, for reproducing a failure.
        public var shape: String
    }

    /// What one case did.
    public enum Outcome: Sendable, Equatable {
        /// A result, by status.
        case returned(String)
        /// A `FitError`, by kind (`invalid_options`, `no_rows`, `no_finetuned_rows`, `cancelled`).
        case threw(String)
        /// A property failed (named): the run broke a promise without trapping.
        case violation(String)
    }

    public struct Tally: Codable, Sendable {
        public var cases = 0
        public var returned: [String: Int] = [:]
        public var threw: [String: Int] = [:]
        /// Descriptions of the broken promises (empty when all is well).
        public var violations: [String] = []
        public init() {}
    }

    /// Case `index` of the run seeded `seed`: the same pair gives the same case.
    public static func makeCase(seed: UInt64, index: Int, scale: Scale) -> Case {
        var rng = SeededRandom(seed: seed, stream: UInt64(truncatingIfNeeded: index) &+ 0xF0221)
        let (rows, shape) = study(&rng, scale: scale)
        return Case(evaluations: rows, options: options(&rng, scale: scale), shape: shape)
    }

    /// Runs one case and checks the property.
    public static func check(_ c: Case, budget: FitBudget = .default, threads: Int = 1) -> Outcome {
        let problems = c.options.problems(budget: budget)
        do {
            let result = try EmergenceFit.run(c.evaluations, options: c.options, budget: budget, threads: threads)
            if !problems.isEmpty { return .violation("returned although problems() listed \(problems)") }
            do {
                _ = try result.jsonData(pretty: false)
            } catch {
                return .violation("result does not encode as JSON: \(error)")
            }
            return .returned(result.status.rawValue)
        } catch let e as FitError {
            switch e {
            case .invalidOptions: return .threw("invalid_options")
            case .noRows, .noFinetunedRows, .cancelled:
                if !problems.isEmpty { return .violation("threw \(e) although problems() listed \(problems)") }
                switch e {
                case .noRows: return .threw("no_rows")
                case .noFinetunedRows: return .threw("no_finetuned_rows")
                default: return .threw("cancelled")
                }
            }
        } catch {
            return .violation("threw a non-FitError: \(error)")
        }
    }

    /// Runs cases 0..<count; `onCase` sees each case and its outcome (for progress or logging).
    public static func run(cases count: Int, seed: UInt64, scale: Scale, budget: FitBudget = .default,
                           onCase: ((Int, Case, Outcome) -> Void)? = nil) -> Tally {
        var tally = Tally()
        for i in 0..<max(count, 0) {
            let c = makeCase(seed: seed, index: i, scale: scale)
            let outcome = check(c, budget: budget)
            tally.cases += 1
            switch outcome {
            case .returned(let s): tally.returned[s, default: 0] += 1
            case .threw(let s): tally.threw[s, default: 0] += 1
            case .violation(let v): tally.violations.append("case \(i) (seed \(seed), \(c.shape)): \(v)")
            }
            onCase?(i, c, outcome)
        }
        return tally
    }

    // MARK: - Options

    static func pick<T>(_ rng: inout SeededRandom, _ values: [T]) -> T {
        values[rng.index(values.count)]
    }

    static func options(_ rng: inout SeededRandom, scale: Scale) -> FitOptions {
        var o = FitOptions()
        let quick = scale == .quick
        // A third of the cases draw every field from valid and invalid values alike; the rest only
        // from values the schema and the engine accept (extreme ones included), so fits run too.
        let wild = rng.uniform() < 0.33
        func maybe<T>(_ valid: [T], _ invalid: [T]) -> T {
            wild && rng.uniform() < 0.3 ? pick(&rng, invalid) : pick(&rng, valid)
        }
        o.form = pick(&rng, FitOptions.Form.allCases)
        if rng.uniform() < 0.4 {
            o.d0 = maybe([1.0000001, 1.5, 2, 5, 8, 1000, 1e6, 1e30, 1e300], [1, 0.5, 0, -3, .nan, .infinity, -.infinity])
        }
        o.delta = rng.uniform() < 0.6
        o.noise = pick(&rng, FitOptions.Noise.allCases)
        // The uncertainty phases dominate the cost: "none" often in the quick scale.
        o.uncertainty = quick && rng.uniform() < 0.4 ? .none : pick(&rng, FitOptions.Uncertainty.allCases)
        o.bootstrap = maybe(quick ? [0, 1, 2, 3] : [0, 1, 2, 3, 10, 50], [-1, 100_001, Int.max, Int.min])
        o.resample = pick(&rng, FitOptions.Resample.allCases)
        // Walkers 1–16 in wild cases (most too few for the model); enough for it otherwise.
        o.mcmcWalkers = wild
            ? (rng.uniform() < 0.8 ? 1 + rng.index(16) : pick(&rng, [0, -2, 1025, 1026, Int.max, Int.min]))
            : 2 * o.mcmcDimension + 2 * rng.index(quick ? 2 : 8)
        o.mcmcSteps = maybe(quick ? [100, 101, 120] : [100, 101, 250, 1000], [0, 99, -5, 1_000_001, Int.max])
        o.mcmcBurnIn = maybe(quick ? [0, 1, 20] : [0, 1, 50, 500], [-1, 1_000_001, Int.max, Int.min])
        o.seed = rng.next()
        if rng.uniform() < 0.5 {
            o.maxFlops = maybe([2e22, 1e22, 5e21, 1e30, 1e18, 1, 1e-300, .greatestFiniteMagnitude],
                               [0, -1, .nan, .infinity])
        }
        if rng.uniform() < 0.35 {
            let lInf = maybe([0, 1e-300, 1, 1.5, 1.9, 2.5, 1e300], [-1, .nan, .infinity])
            let a = maybe([1e-300, 1e-10, 57.4, 1e10, 1e300, .greatestFiniteMagnitude], [0, -1, .infinity])
            let b = maybe([1e-300, 1e-5, 0.08, 3, 1e300, .greatestFiniteMagnitude], [0, .nan])
            o.scalingLaw = ScalingLaw(lInf: lInf, a: a, b: b)
        }
        return o
    }

    // MARK: - Studies

    static func study(_ rng: inout SeededRandom, scale: Scale) -> ([Evaluation], String) {
        let names = SimulationScenario.named.keys.sorted()
        let name = pick(&rng, names)
        guard let scenario = SimulationScenario.named[name] else { return ([], "empty") }
        let (full, truth) = Simulator.simulate(scenario, seed: rng.next())
        var rows = full
        var shape = name
        // A small random subset keeps the quick scale quick; the thorough one also keeps whole studies.
        func subset(_ n: Int) {
            rows = (0..<n).map { _ in full[rng.index(full.count)] }
        }
        switch rng.index(12) {
        case 0:
            if scale == .quick { subset(24); shape += " subset 24" } else { shape += " whole" }
        case 1:
            let n = 1 + rng.index(30)
            subset(n); shape += " subset \(n)"
        case 2:
            // One checkpoint: all its rows.
            let c = pick(&rng, full.filter { $0.setting == .finetuned }).checkpoint
            rows = full.filter { $0.checkpoint == c }
            shape += " one checkpoint"
        case 3:
            // Everything at chance: the floor, no lift anywhere.
            subset(24)
            for i in rows.indices { rows[i].accuracy = truth.B }
            shape += " all at chance"
        case 4:
            // Every row the same finetuned row.
            let r = pick(&rng, full.filter { $0.setting == .finetuned })
            rows = Array(repeating: r, count: 1 + rng.index(20))
            shape += " identical rows"
        case 5:
            // Finetuned rows only (D0 must then come from the options).
            subset(24); rows.removeAll { $0.setting == .fewShot }
            shape += " no few-shot"
        case 6:
            subset(20); rows.removeAll { $0.setting == .finetuned }
            shape += " no finetuned"
        case 7:
            rows = []
            shape += " empty"
        case 8:
            // Extreme but valid values.
            subset(24)
            for i in rows.indices {
                switch rng.index(9) {
                case 0: rows[i].pretrainLoss = pick(&rng, [1e-300, 1e-8, 1e8, 1e300, .greatestFiniteMagnitude])
                case 1: if rows[i].setting == .finetuned { rows[i].finetuneExamples = pick(&rng, [1, 1.0000001, 2, 1e15, 1e300]) }
                case 2: rows[i].accuracy = pick(&rng, [0, 1, 1e-300])
                case 3: rows[i].nQuestions = pick(&rng, [1, 2, Int.max, Int(Int32.max)])
                case 4: rows[i].shots = pick(&rng, [0, 1, 2, Int.max])
                case 5: rows[i].flops = pick(&rng, [1e-300, 1, 1e300, .greatestFiniteMagnitude, nil])
                case 6: rows[i].flops = nil; rows[i].parameters = nil
                case 7: rows[i].flops = nil; rows[i].parameters = 1e300; rows[i].tokens = 1e300
                default: break
                }
            }
            shape += " extreme values"
        case 9:
            // Invalid values: the run must list them, not use them.
            subset(20)
            let i = rng.index(rows.count)
            switch rng.index(5) {
            case 0: rows[i].accuracy = .nan
            case 1: rows[i].pretrainLoss = -.infinity
            case 2: rows[i].finetuneExamples = 0
            case 3: rows[i].nQuestions = 0
            default: rows[i].flops = .nan
            }
            shape += " invalid value"
        case 10:
            // No n_questions anywhere (binomial noise cannot run).
            subset(24)
            for i in rows.indices { rows[i].nQuestions = nil }
            shape += " no n_questions"
        default:
            // Few data amounts: only the two or three smallest D.
            let amounts = Set(full.compactMap(\.finetuneExamples)).sorted()
            let keep = Set(amounts.prefix(2 + rng.index(2)))
            rows = full.filter { $0.setting == .fewShot || keep.contains($0.finetuneExamples ?? -1) }
            if scale == .quick { rows = Array(rows.shuffled(using: &rng).prefix(30)) }
            shape += " \(keep.count) data amounts"
        }
        return (rows, shape)
    }
}
