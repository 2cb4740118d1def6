import XCTest
@testable import EmergenceCore

/// The fit against known truth: studies from our own simulator (docs/method.md §9's scenarios).
final class SimulatedRecoveryTests: XCTestCase {
    /// Small uncertainty settings keep the debug-build suite quick; the CLI defaults are larger.
    func options(_ form: FitOptions.Form = .logPower, bootstrap: Int = 100) -> FitOptions {
        var o = FitOptions()
        o.form = form
        o.maxFlops = 2e22
        o.bootstrap = bootstrap
        o.seed = 7
        return o
    }

    func fit(_ scenario: String, seed: UInt64, _ options: FitOptions) throws -> (FitResult, SimulationTruth) {
        let s = try XCTUnwrap(SimulationScenario.named[scenario])
        let (rows, truth) = Simulator.simulate(s, seed: seed)
        return (try EmergenceFit.run(rows, options: options), truth)
    }

    func testIdentifiableScenariosRecoverTheTruth() throws {
        for (name, form) in [("mmlu-like", FitOptions.Form.logPower), ("csqa-like", .logPower),
                             ("cola-like", .logPower), ("gsm8k-like", .logPower), ("power-law-truth", .power)] {
            let (result, truth) = try fit(name, seed: 1, options(form))
            let e = try XCTUnwrap(result.emergence.loss.mle, name)
            let t = try XCTUnwrap(truth.emergenceLoss)
            XCTAssertTrue([.ok, .alreadyEmerged].contains(result.status), "\(name): \(result.status)")
            XCTAssertEqual(e, t, accuracy: 0.1, "\(name): E* \(e) vs truth \(t)")
            let p = try XCTUnwrap(result.emergence.loss.percentiles, name)
            let lo = try XCTUnwrap(p["5"]), hi = try XCTUnwrap(p["95"])
            XCTAssertLessThan(lo, hi, name)
            XCTAssertTrue(lo <= e && e <= hi + 0.02, "\(name): MLE \(e) far outside its interval [\(lo), \(hi)]")
            // The fitted scaling law maps the true E* near the true emergence compute.
            let law = try XCTUnwrap(result.scalingLaw)
            let c = try XCTUnwrap(ScalingLaw(lInf: law.lInf, a: law.a, b: law.b).compute(atLoss: t))
            let trueC = try XCTUnwrap(truth.emergenceFlops)
            XCTAssertLessThan(abs(log10(c / trueC)), 0.5, "\(name): law maps truth to \(c), truth \(trueC)")
        }
    }

    func testNoSignalGivesABoundAndNoPointEstimate() throws {
        for seed: UInt64 in [1, 2, 3] {
            let (result, _) = try fit("no-signal", seed: seed, options())
            XCTAssertEqual(result.status, .noSignal)
            XCTAssertNil(result.emergence.loss.mle)
            XCTAssertNil(result.emergence.loss.percentiles)
            XCTAssertNil(result.parameters)
            let bound = try XCTUnwrap(result.emergence.loss.upperBound)
            // The lowest loss seen plus the elbow shift the data cannot rule out (at most 0.1 nats here).
            XCTAssertGreaterThanOrEqual(bound, result.data.lossRange[0])
            XCTAssertLessThan(bound, result.data.lossRange[0] + 0.1)
            XCTAssertNotNil(result.emergence.flops?.lowerBound)
            XCTAssertTrue(result.warnings.contains { $0.code == "no_signal" })
        }
    }

    /// Amounts from 6,250 up only: the extrapolation to D0 is 2.5× the data's span, and the profile
    /// likelihood of E* rules out nothing within 0.6 nats below the fit, so the answer is a bound
    /// (before, a 5–95 interval 0.8 nats wide), and it holds.
    func testNarrowDataRangeSaysE_StarIsNotPinned() throws {
        let (result, truth) = try fit("narrow-data-range", seed: 1, options(bootstrap: 200))
        XCTAssertTrue(result.warnings.contains { $0.code == "long_extrapolation" })
        XCTAssertEqual(result.status, .notIdentified)
        XCTAssertTrue(result.warnings.contains { $0.code == "e_star_not_pinned" })
        XCTAssertNil(result.emergence.loss.percentiles)
        XCTAssertLessThan(try XCTUnwrap(truth.emergenceLoss), try XCTUnwrap(result.emergence.loss.upperBound))
    }

    func testSameSeedGivesIdenticalJSONAndOrderDoesNotMatter() throws {
        let s = try XCTUnwrap(SimulationScenario.named["mmlu-like"])
        let (rows, _) = Simulator.simulate(s, seed: 5)
        var o = options(bootstrap: 50)
        o.uncertainty = .both
        o.mcmcSteps = 200
        o.mcmcBurnIn = 100
        let a = try EmergenceFit.run(rows, options: o).jsonData()
        let b = try EmergenceFit.run(rows.reversed(), options: o).jsonData()
        XCTAssertEqual(a, b)
        o.seed = 8
        let c = try EmergenceFit.run(rows, options: o).jsonData()
        XCTAssertNotEqual(a, c, "a different seed must change the resamples")
    }

    func testFewerThanThreeDataAmountsIsInsufficientData() throws {
        let s = try XCTUnwrap(SimulationScenario.named["mmlu-like"])
        let (rows, _) = Simulator.simulate(s, seed: 2)
        let kept = rows.filter { $0.setting == .fewShot || [390.0, 100000].contains($0.finetuneExamples ?? 0) }
        let result = try EmergenceFit.run(kept, options: options())
        XCTAssertEqual(result.status, .insufficientData)
        XCTAssertNil(result.emergence.loss.mle)
        XCTAssertTrue(result.warnings.contains { $0.code == "few_data_amounts" })
    }

    func testAlreadyEmergedWhenFewShotHasLeftTheFloor() throws {
        // Without the compute cutoff the largest checkpoints are past the elbow.
        let s = try XCTUnwrap(SimulationScenario.named["mmlu-like"])
        let (rows, truth) = Simulator.simulate(s, seed: 3)
        var o = options(bootstrap: 50)
        o.maxFlops = nil
        let result = try EmergenceFit.run(rows, options: o)
        XCTAssertEqual(result.status, .alreadyEmerged)
        XCTAssertEqual(try XCTUnwrap(result.emergence.loss.mle), try XCTUnwrap(truth.emergenceLoss), accuracy: 0.03)
    }

    func testBinomialNoiseRecoversTheTruth() throws {
        var o = options(bootstrap: 50)
        o.noise = .binomial
        let (result, truth) = try fit("mmlu-like", seed: 1, o)
        XCTAssertNil(result.parameters?.sigma)
        XCTAssertEqual(try XCTUnwrap(result.emergence.loss.mle), try XCTUnwrap(truth.emergenceLoss), accuracy: 0.1)
    }

    func testMaxFlopsFiltersCheckpoints() throws {
        let s = try XCTUnwrap(SimulationScenario.named["mmlu-like"])
        let (rows, _) = Simulator.simulate(s, seed: 1)
        var o = options(bootstrap: 0)
        o.uncertainty = .none
        let result = try EmergenceFit.run(rows, options: o)
        let expected = rows.filter { ($0.flops ?? 0) > 2e22 }.count
        XCTAssertEqual(result.data.excludedRows, expected)
        XCTAssertEqual(result.data.rows, rows.count - expected)
    }

    func testErrorsForUnusableInput() {
        let s = SimulationScenario.named["mmlu-like"]!
        let (rows, _) = Simulator.simulate(s, seed: 1)
        XCTAssertThrowsError(try EmergenceFit.run(rows.filter { $0.setting == .fewShot }, options: FitOptions())) {
            XCTAssertEqual($0 as? FitError, .noFinetunedRows)
        }
        var o = FitOptions()
        o.maxFlops = 1
        XCTAssertThrowsError(try EmergenceFit.run(rows, options: o)) { XCTAssertEqual($0 as? FitError, .noRows) }
        o = FitOptions()
        o.mcmcWalkers = 7
        XCTAssertThrowsError(try EmergenceFit.run(rows, options: o))
        var bad = rows
        bad[0].nQuestions = nil
        o = FitOptions()
        o.noise = .binomial
        XCTAssertThrowsError(try EmergenceFit.run(bad, options: o))
    }
}
