import XCTest
import Synchronization
@testable import EmergenceCore

/// No input can trap the engine, every option the engine cannot honour is named by
/// `FitOptions.problems`, and cancellation stops a fit in every phase.
final class FitRobustnessTests: XCTestCase {
    func mmlu() throws -> [Evaluation] {
        let s = try XCTUnwrap(SimulationScenario.named["mmlu-like"])
        return Simulator.simulate(s, seed: 1).evaluations
    }

    func fields(_ problems: [Evaluation.Problem]) -> Set<String> { Set(problems.map(\.field)) }

    /// The property test: random option sets within and beyond the schema on random, small and
    /// degenerate studies each return a result that encodes, or throw a `FitError`; options with
    /// problems always throw `invalidOptions`. (`emergence fuzz-fit` runs thousands of these.)
    func testRandomOptionsAndStudiesReturnOrThrowNeverTrap() {
        let tally = FitFuzzing.run(cases: 200, seed: 20261129, scale: .quick)
        XCTAssertEqual(tally.cases, 200)
        XCTAssertEqual(tally.violations, [], tally.violations.joined(separator: "\n"))
        // The generator must reach both ends: results and each kind of refusal.
        XCTAssertGreaterThan(tally.returned.values.reduce(0, +), 20, "\(tally.returned)")
        XCTAssertGreaterThan(tally.threw["invalid_options"] ?? 0, 30, "\(tally.threw)")
        XCTAssertGreaterThan(tally.threw["no_rows"] ?? 0, 0, "\(tally.threw)")
        XCTAssertGreaterThan(tally.threw["no_finetuned_rows"] ?? 0, 0, "\(tally.threw)")
        print("fuzz tally: returned \(tally.returned), threw \(tally.threw)")
    }

    /// The stretch move needs an even number of walkers ≥ 2 × the sampled dimension, which depends on
    /// Δ and the noise model: 7 (Δ, σ) → 14, 6 → 12, 5 (binomial without Δ) → 10.
    func testWalkersMustCoverTwiceTheModelsDimension() throws {
        var o = FitOptions()
        o.uncertainty = .mcmc
        o.mcmcWalkers = 10
        XCTAssertEqual(o.mcmcDimension, 7)
        XCTAssertEqual(fields(o.problems()), ["mcmc_walkers"])
        XCTAssertTrue(o.problems()[0].reason.contains("14"), o.problems()[0].reason)
        o.mcmcWalkers = 14
        XCTAssertEqual(o.problems(), [])
        o.mcmcWalkers = 12
        o.delta = false
        XCTAssertEqual(o.problems(), [])
        o.noise = .binomial
        o.mcmcWalkers = 10
        XCTAssertEqual(o.mcmcDimension, 5)
        XCTAssertEqual(o.problems(), [])
        // Walkers do not matter when no chain runs, beyond their published range.
        var b = FitOptions()
        b.mcmcWalkers = 10
        XCTAssertEqual(b.problems(), [])
        b.mcmcWalkers = 9
        XCTAssertEqual(fields(b.problems()), ["mcmc_walkers"])

        // The run itself refuses, before any math (this used to be a precondition failure).
        var bad = FitOptions()
        bad.uncertainty = .mcmc
        bad.mcmcWalkers = 10
        XCTAssertThrowsError(try EmergenceFit.run(try mmlu(), options: bad)) { error in
            guard case FitError.invalidOptions(let p) = error else { return XCTFail("\(error)") }
            XCTAssertEqual(Set(p.map(\.field)), ["mcmc_walkers"])
        }
        XCTAssertThrowsError(try EnsembleSampler(dimension: 7, walkers: 10) { _ in 0 })
        XCTAssertThrowsError(try EnsembleSampler(dimension: 2, walkers: 5) { _ in 0 })
        let sampler = try EnsembleSampler(dimension: 2, walkers: 4) { _ in 0 }
        var rng = SeededRandom(seed: 1)
        XCTAssertThrowsError(try sampler.run(initial: [[0, 0]], steps: 10, burnIn: 0, rng: &rng))
        XCTAssertThrowsError(try sampler.run(initial: Array(repeating: [0, 0], count: 4), steps: -1, burnIn: 0, rng: &rng))
    }

    func testWorkBeyondTheBudgetIsNamed() {
        let budget = FitBudget(maxMCMCWalkerSteps: 10_000, maxBootstrapResamples: 50)
        var o = FitOptions()
        o.uncertainty = .both
        o.bootstrap = 51
        o.mcmcWalkers = 16
        o.mcmcSteps = 600
        o.mcmcBurnIn = 100
        let problems = o.problems(budget: budget)
        XCTAssertEqual(fields(problems), ["bootstrap", "mcmc_steps"])
        let mcmc = problems.first { $0.field == "mcmc_steps" }?.reason ?? ""
        XCTAssertTrue(mcmc.contains("mcmc_walkers × (mcmc_steps + mcmc_burn_in) = 11200 exceeds the work budget of 10000 walker-steps"), mcmc)
        o.uncertainty = .none
        XCTAssertEqual(o.problems(budget: budget), [], "no budget applies to work that does not run")
        // Out-of-range values are reported by range, and the product never overflows.
        o.uncertainty = .both
        o.mcmcSteps = .max
        o.mcmcBurnIn = .max
        o.mcmcWalkers = .max
        o.bootstrap = .min
        XCTAssertEqual(fields(o.problems()), ["bootstrap", "mcmc_steps", "mcmc_walkers", "mcmc_burn_in"])
        // The defaults leave room for 32 walkers × 12,000 steps (+ the default burn-in).
        var long = FitOptions()
        long.uncertainty = .both
        long.mcmcSteps = 12_000
        XCTAssertEqual(long.problems(), [])
    }

    func testPercentilesOfNothingAreNaNNotATrap() {
        XCTAssertTrue(Percentile.of(sorted: [], 50).isNaN)
        XCTAssertTrue(Percentile.of(sorted: [1, 2], 150).isNaN)
        XCTAssertEqual(Percentile.table(sorted: []), [:])
        XCTAssertEqual(Percentile.of(sorted: [3], 95), 3)
    }

    /// A fit stops in whichever phase it is when cancelled: here right after the first progress
    /// report (the MLE is done), in the bootstrap, the MCMC and both.
    func testCancellationAfterFirstProgressThrowsInEveryPhase() throws {
        let rows = try mmlu()
        for uncertainty in [FitOptions.Uncertainty.bootstrap, .mcmc, .both] {
            var o = FitOptions()
            o.maxFlops = 2e22
            o.uncertainty = uncertainty
            o.bootstrap = 1000
            o.mcmcSteps = 100_000
            o.mcmcWalkers = 16
            o.mcmcBurnIn = 0
            let reported = Atomic<Int>(0)
            let polledAfter = Atomic<Int>(0)
            // When the fit first saw the cancellation (for the printed latency; nothing asserts on it).
            let cancelledAt = Atomic<UInt64>(0)
            XCTAssertThrowsError(try EmergenceFit.run(rows, options: o, budget: .unlimited, threads: 2, progress: { _ in
                reported.add(1, ordering: .relaxed)
            }, isCancelled: {
                let cancelled = reported.load(ordering: .relaxed) > 0
                if cancelled && polledAfter.add(1, ordering: .relaxed).oldValue == 0 {
                    cancelledAt.store(DispatchTime.now().uptimeNanoseconds, ordering: .relaxed)
                }
                return cancelled
            })) { error in
                XCTAssertEqual(error as? FitError, .cancelled, "\(uncertainty)")
            }
            let latency = Double(DispatchTime.now().uptimeNanoseconds - cancelledAt.load(ordering: .relaxed)) / 1e6
            print(String(format: "cancellation (%@): stopped %.1f ms after the first poll that saw it", uncertainty.rawValue, latency))
            XCTAssertGreaterThan(polledAfter.load(ordering: .relaxed), 0)
        }
    }

    /// Cancelled before anything: the multi-start MLE stops too.
    func testCancellationDuringTheMaximumLikelihoodFit() throws {
        var o = FitOptions()
        o.uncertainty = .none
        XCTAssertThrowsError(try EmergenceFit.run(try mmlu(), options: o, isCancelled: { true })) { error in
            XCTAssertEqual(error as? FitError, .cancelled)
        }
    }

    /// The options' documented examples of what used to trap or misbehave.
    func testEdgeOptionsReturnOrThrowCleanly() throws {
        let rows = try mmlu()
        var cases: [FitOptions] = []
        var o = FitOptions()
        o.maxFlops = 2e22
        o.bootstrap = 1
        cases.append(o)
        o.d0 = 1.0000001; cases.append(o)
        o.d0 = 1e30; cases.append(o)
        o.d0 = nil
        o.maxFlops = 1; cases.append(o)                 // keeps nothing
        o.maxFlops = 2e22
        for law in [ScalingLaw(lInf: 0, a: 1e-300, b: 1e-300), ScalingLaw(lInf: 1e300, a: 1e300, b: 1e300),
                    ScalingLaw(lInf: 0, a: .greatestFiniteMagnitude, b: 1e-5)] {
            o.scalingLaw = law; cases.append(o)
        }
        for c in cases {
            do {
                let result = try EmergenceFit.run(rows, options: c, threads: 1)
                XCTAssertNoThrow(try result.jsonData(), "\(c)")
            } catch let e as FitError {
                XCTAssertTrue([.noRows, .noFinetunedRows].contains(e) || { if case .invalidOptions = e { return true }; return false }(), "\(e)")
            }
        }
    }
}
