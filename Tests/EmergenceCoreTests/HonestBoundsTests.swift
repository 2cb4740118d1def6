import XCTest
@testable import EmergenceCore

/// Bounds at the detection limit, the designs family and its scores, and an MCMC that must earn its
/// interval (Calibration.swift, StudyDesign.swift, CramerRao.swift, EmergenceProfile.swift, Posterior.swift).
final class HonestBoundsTests: XCTestCase {
    /// Withheld studies of the development split whose truth lies above the lowest few-shot loss (the
    /// old bound) get a bound that still holds: the detection limit allows for a lift too small to see.
    func testWithheldBoundsAllowForALiftTheNoiseHides() {
        var o = FitOptions()
        o.bootstrap = 50
        var triggered = 0, withheld = 0
        _ = Calibration.run(studies: 40, seed: Calibration.Split.development.seed, options: o, family: "designs") { study, result, m, _ in
            guard let result, let truth = study.truth.emergenceLoss,
                  result.status == .notIdentified || result.status == .noSignal else { return }
            withheld += 1
            guard let bound = result.emergence.loss.upperBound else { return XCTFail("study \(study.index): no bound") }
            XCTAssertLessThan(truth, bound, "study \(study.index)")
            let old = result.status == .noSignal ? study.evaluations.filter { ($0.effectiveFlops ?? 0) <= 2e22 }.map(\.pretrainLoss).min()
                : m?.fewShotBoundary
            if let old, truth >= old { triggered += 1 }
            if result.status == .noSignal {
                XCTAssertTrue(result.warnings.first { $0.code == "no_signal" }?.message.contains("if it has begun, it began below loss") == true)
            } else {
                XCTAssertTrue(result.warnings.contains { $0.code == "detection_limit" }, "study \(study.index)")
            }
        }
        XCTAssertGreaterThan(withheld, 10)
        XCTAssertGreaterThanOrEqual(triggered, 1, "some truth lies above the lowest loss seen")
    }

    /// Where emergence lies far below every loss seen, the bound stays near the lowest loss.
    func testNoSignalBoundStaysNearTheLowestLossWhenEmergenceIsFarAway() throws {
        let s = try XCTUnwrap(SimulationScenario.named["no-signal"])
        let (rows, _) = Simulator.simulate(s, seed: 3)
        var o = FitOptions()
        o.maxFlops = 2e22
        o.bootstrap = 50
        let result = try EmergenceFit.run(rows, options: o)
        XCTAssertEqual(result.status, .noSignal)
        let lowest = try XCTUnwrap(rows.filter { ($0.effectiveFlops ?? 0) <= 2e22 }.map(\.pretrainLoss).min())
        let bound = try XCTUnwrap(result.emergence.loss.upperBound)
        XCTAssertGreaterThanOrEqual(bound, lowest)
        XCTAssertLessThan(bound - lowest, 0.61)
    }

    /// The designs family is deterministic for a seed, varies its design, and keeps every truth
    /// inside the law (μ ≤ 0.97 before noise at the top elbow).
    func testDesignsFamilyDrawsDesignsDeterministically() {
        var a = Calibration.Generator(family: "designs", seed: 5), b = Calibration.Generator(family: "designs", seed: 5)
        var sizes = Set<Int>(), shots = Set<Int>()
        for _ in 0..<12 {
            let x = a.next(), y = b.next()
            XCTAssertEqual(x.evaluations, y.evaluations)
            XCTAssertEqual(x.truth, y.truth)
            sizes.insert(Set(x.evaluations.compactMap(\.model)).count)
            shots.insert(x.evaluations.first { $0.setting == .fewShot }?.shots ?? 0)
            XCTAssertTrue((0.5...3).contains(x.truth.alpha))
            XCTAssertGreaterThan(x.truth.k, 0)
        }
        XCTAssertGreaterThan(sizes.count, 1)
        XCTAssertGreaterThan(shots.count, 1)
    }

    /// The Cramér–Rao SD is finite for a well-lifted study and falls as the questions grow.
    func testCramerRaoSDShrinksWithMoreQuestions() throws {
        var s = try XCTUnwrap(SimulationScenario.named["mmlu-like"])
        let (rows, truth) = Simulator.simulate(s, seed: 1)
        let kept = rows.filter { ($0.effectiveFlops ?? 0) <= 2e22 }
        let sd = try XCTUnwrap(CramerRao.emergenceLossSD(truth: truth, rows: kept, subsetNoise: s.subsetNoise,
                                                                   lossNoise: s.lossNoise))
        s.questions *= 4
        let (more, truth4) = Simulator.simulate(s, seed: 1)
        let sd4 = try XCTUnwrap(CramerRao.emergenceLossSD(truth: truth4, rows: more.filter { ($0.effectiveFlops ?? 0) <= 2e22 },
                                                          subsetNoise: 0, lossNoise: s.lossNoise))
        XCTAssertGreaterThan(sd, 0.005)
        XCTAssertLessThan(sd, 0.2)
        XCTAssertLessThan(sd4, sd)
    }

    /// Measured losses widen the bound (errors in variables): a little loss noise costs a little, more
    /// costs more, none gives the known-loss bound, and a loss noise far past the lift's own scale
    /// leaves E* hardly estimable from the elbows.
    func testCramerRaoSDGrowsWithLossNoise() throws {
        let s = try XCTUnwrap(SimulationScenario.named["mmlu-like"])
        let (rows, truth) = Simulator.simulate(s, seed: 1)
        let kept = rows.filter { ($0.effectiveFlops ?? 0) <= 2e22 }
        let sd = { (noise: Double) in CramerRao.emergenceLossSD(truth: truth, rows: kept, subsetNoise: s.subsetNoise,
                                                                lossNoise: noise) }
        let known = try XCTUnwrap(sd(0)), tiny = try XCTUnwrap(sd(1e-7))
        let some = try XCTUnwrap(sd(0.004)), more = try XCTUnwrap(sd(0.012))
        XCTAssertEqual(tiny, known, accuracy: 1e-6 * known)
        XCTAssertGreaterThan(some, known)
        XCTAssertGreaterThan(more, some)
        XCTAssertGreaterThan(try XCTUnwrap(sd(0.2)), 2 * more)
    }

    /// CRPS from quantiles: zero spread at the truth gives 0; a truth outside costs more than inside.
    func testQuantileCRPSAndIntervalScore() throws {
        let point = Dictionary(uniqueKeysWithValues: Percentile.levels.map { (String(Int($0)), 1.8) })
        XCTAssertEqual(try XCTUnwrap(Calibration.quantileCRPS(point, truth: 1.8)), 0, accuracy: 1e-12)
        let spread = Dictionary(uniqueKeysWithValues: Percentile.levels.map { (String(Int($0)), 1.7 + 0.2 * $0 / 100) })
        let inside = try XCTUnwrap(Calibration.quantileCRPS(spread, truth: 1.8))
        let outside = try XCTUnwrap(Calibration.quantileCRPS(spread, truth: 2.2))
        XCTAssertLessThan(inside, outside)
        XCTAssertNil(Calibration.quantileCRPS(["5": 1, "95": 2], truth: 1.5))
    }

    /// A chain far too short to converge earns no interval: the fit falls back to the bootstrap and says so.
    func testUnconvergedMCMCFallsBackToTheBootstrap() throws {
        let s = try XCTUnwrap(SimulationScenario.named["mmlu-like"])
        let (rows, _) = Simulator.simulate(s, seed: 1)
        var o = FitOptions()
        o.maxFlops = 2e22
        o.uncertainty = .mcmc
        o.mcmcSteps = 200
        o.mcmcBurnIn = 50
        o.bootstrap = 100
        let result = try EmergenceFit.run(rows, options: o)
        XCTAssertEqual(result.emergence.loss.intervalMethod, "bootstrap")
        XCTAssertNotNil(result.uncertainty.bootstrap)
        let w = try XCTUnwrap(result.warnings.first { $0.code == "mcmc_not_converged" })
        XCTAssertTrue(w.message.contains("the interval is the bootstrap's"), w.message)
    }
}
