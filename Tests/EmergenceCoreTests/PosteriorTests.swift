import XCTest
@testable import EmergenceCore

/// The MCMC's stopping rule, its prior and the quasi-binomial likelihood (Posterior.swift).
final class PosteriorTests: XCTestCase {
    /// With a convergence check the walk ends at the first check that passes, keeps a whole number of
    /// check intervals, and repeats exactly for a seed.
    func testSamplerStopsAtTheFirstPassingCheckAndIsDeterministic() throws {
        let logP: ([Double]) -> Double = { t in -(t[0] * t[0] + t[1] * t[1]) / 2 }
        let sampler = try EnsembleSampler(dimension: 2, walkers: 16, logProbability: logP)
        func run() throws -> (traces: [[Double]], checks: [Int]) {
            var rng = SeededRandom(seed: 11)
            let initial = (0..<16).map { _ in [0.1 * rng.normal(), 0.1 * rng.normal()] }
            var checks: [Int] = []
            let t = try XCTUnwrap(try sampler.run(initial: initial, steps: 50_000, burnIn: 100, rng: &rng, trace: { $0[0] },
                                                  checkEvery: 250, converged: { traces in
                                                      checks.append(traces[0].count)
                                                      return Posterior.converged(traces)
                                                  }))
            return (t.traces, checks)
        }
        let a = try run(), b = try run()
        XCTAssertEqual(a.traces, b.traces)
        let kept = a.traces[0].count
        XCTAssertLessThan(kept, 50_000, "a 2-D Gaussian converges long before the cap")
        XCTAssertEqual(kept % 250, 0)
        XCTAssertEqual(a.checks.last, kept)
        XCTAssertEqual(a.checks, Array(stride(from: 250, through: kept, by: 250)))
        XCTAssertGreaterThanOrEqual(Double(kept) / ChainDiagnostics.autocorrelationTime(a.traces), 50)
        XCTAssertLessThanOrEqual(ChainDiagnostics.splitRHat(a.traces), 1.05)
    }

    /// Without a check (or with one that never passes) the walk runs to its cap.
    func testSamplerRunsToTheCapWhenNeverConverged() throws {
        let sampler = try EnsembleSampler(dimension: 2, walkers: 8) { t in -(t[0] * t[0] + t[1] * t[1]) / 2 }
        var rng = SeededRandom(seed: 2)
        let initial = (0..<8).map { _ in [rng.normal(), rng.normal()] }
        let t = try XCTUnwrap(try sampler.run(initial: initial, steps: 1000, burnIn: 0, rng: &rng, trace: { $0[0] },
                                              checkEvery: 100, converged: { _ in false }))
        XCTAssertEqual(t.traces[0].count, 1000)
    }

    /// The default MCMC on the mmlu-like study converges by its own rule: no `mcmc_not_converged`,
    /// N/τ ≥ 50, split-R̂ ≤ 1.05, and it stops before the cap.
    func testDefaultMCMCConvergesOnMMLULike() throws {
        let s = try XCTUnwrap(SimulationScenario.named["mmlu-like"])
        let (rows, _) = Simulator.simulate(s, seed: 1)
        var o = FitOptions()
        o.maxFlops = 2e22
        o.uncertainty = .mcmc
        let result = try EmergenceFit.run(rows, options: o)
        let mcmc = try XCTUnwrap(result.uncertainty.mcmc)
        XCTAssertFalse(result.warnings.contains { $0.code == "mcmc_not_converged" }, "\(result.warnings)")
        XCTAssertGreaterThanOrEqual(Double(mcmc.steps) / (try XCTUnwrap(mcmc.autocorrelationTime)), 50)
        XCTAssertLessThanOrEqual(try XCTUnwrap(mcmc.rhat), 1.05)
        XCTAssertLessThan(mcmc.steps, FitOptions.defaultMCMCSteps)
        XCTAssertEqual(mcmc.steps % Posterior.checkEvery, 0)
        XCTAssertEqual(result.emergence.loss.intervalMethod, "mcmc")
    }

    /// A capped chain that cannot meet the rule says so.
    func testShortCapIsFlaggedNotConverged() throws {
        let s = try XCTUnwrap(SimulationScenario.named["mmlu-like"])
        let (rows, _) = Simulator.simulate(s, seed: 1)
        var o = FitOptions()
        o.maxFlops = 2e22
        o.uncertainty = .mcmc
        o.mcmcSteps = 300
        o.mcmcBurnIn = 100
        let result = try EmergenceFit.run(rows, options: o)
        XCTAssertEqual(result.uncertainty.mcmc?.steps, 300)
        XCTAssertTrue(result.warnings.contains { $0.code == "mcmc_not_converged" })
    }

    /// The simulator's accuracies are binomial plus subset-to-subset noise, so they are over-dispersed:
    /// quasi-binomial finds φ̂ > 1, keeps the binomial MLE, widens the MCMC interval by about √φ̂,
    /// and that interval covers the known truth.
    func testQuasiBinomialOnASimulatedStudy() throws {
        let s = try XCTUnwrap(SimulationScenario.named["mmlu-like"])
        let (rows, truth) = Simulator.simulate(s, seed: 3)
        let trueLoss = try XCTUnwrap(truth.emergenceLoss)
        func fit(_ noise: FitOptions.Noise) throws -> FitResult {
            var o = FitOptions()
            o.maxFlops = 2e22
            o.noise = noise
            o.uncertainty = .mcmc
            o.mcmcWalkers = 16
            o.mcmcSteps = 4000
            o.mcmcBurnIn = 500
            return try EmergenceFit.run(rows, options: o)
        }
        let binomial = try fit(.binomial), quasi = try fit(.quasiBinomial)
        let phi = try XCTUnwrap(quasi.parameters?.dispersion)
        XCTAssertNil(binomial.parameters?.dispersion)
        XCTAssertNil(quasi.parameters?.sigma)
        XCTAssertGreaterThan(phi, 1.15, "subset noise over-disperses the binomial")
        XCTAssertEqual(try XCTUnwrap(quasi.emergence.loss.mle), try XCTUnwrap(binomial.emergence.loss.mle), accuracy: 1e-12)
        let pb = try XCTUnwrap(binomial.emergence.loss.percentiles), pq = try XCTUnwrap(quasi.emergence.loss.percentiles)
        let widthB = try XCTUnwrap(pb["95"]) - XCTUnwrap(pb["5"]), widthQ = try XCTUnwrap(pq["95"]) - XCTUnwrap(pq["5"])
        XCTAssertEqual(widthQ / widthB, phi.squareRoot(), accuracy: 0.35 * phi.squareRoot(), "widths \(widthB) → \(widthQ), φ̂ \(phi)")
        XCTAssertLessThanOrEqual(try XCTUnwrap(pq["5"]), trueLoss)
        XCTAssertGreaterThanOrEqual(try XCTUnwrap(pq["95"]), trueLoss)
    }

    /// φ̂ is reported under quasi_binomial and is never below 1 (floored: the model is for over-dispersion).
    func testDispersionIsReportedAndAtLeastOne() throws {
        let s = try XCTUnwrap(SimulationScenario.named["mmlu-like"])
        let (rows, _) = Simulator.simulate(s, seed: 1)
        var o = FitOptions()
        o.maxFlops = 2e22
        o.noise = .quasiBinomial
        o.uncertainty = .none
        let r = try EmergenceFit.run(rows, options: o)
        XCTAssertGreaterThanOrEqual(try XCTUnwrap(r.parameters?.dispersion), 1)
    }

    /// Flat in θ: the density in the sampler's coordinates carries log|∂θ/∂u| = −log Δg(α), so
    /// moving α at fixed (E*, E_max, …) changes log p by exactly the change in −log Δg(α) beyond
    /// the likelihood's own change. Checked through the Jacobian of the linear map at fixed α.
    func testJacobianOfTheReparameterisation() {
        let g0 = 1.7, gMax = 4.2, dg = gMax - g0
        // (E*, E_max) → (k, C): k = (E_max − E*)/Δg, C = E* − k·g0.
        func theta(_ e: Double, _ m: Double) -> (Double, Double) { let k = (m - e) / dg; return (k, e - k * g0) }
        let h = 1e-6
        let (k0, c0) = theta(2.0, 2.5)
        let (k1, c1) = theta(2.0 + h, 2.5), (k2, c2) = theta(2.0, 2.5 + h)
        let det = ((k1 - k0) * (c2 - c0) - (k2 - k0) * (c1 - c0)) / (h * h)
        XCTAssertEqual(abs(det), 1 / dg, accuracy: 1e-6)
    }
}
