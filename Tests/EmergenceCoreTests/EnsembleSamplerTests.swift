import XCTest
@testable import EmergenceCore

final class EnsembleSamplerTests: XCTestCase {
    /// A correlated 2-D Gaussian (the posterior of a linear-Gaussian model): the sampler must
    /// reproduce its mean, spread and correlation.
    func testReproducesAKnownGaussianPosterior() throws {
        let mean = [1.5, -2.0], sd = [0.3, 2.0], rho = 0.8
        let logP: ([Double]) -> Double = { t in
            let u = (t[0] - mean[0]) / sd[0], v = (t[1] - mean[1]) / sd[1]
            return -(u * u - 2 * rho * u * v + v * v) / (2 * (1 - rho * rho))
        }
        let sampler = try EnsembleSampler(dimension: 2, walkers: 32, logProbability: logP)
        var rng = SeededRandom(seed: 3)
        let initial = (0..<32).map { _ in [mean[0] + 0.01 * rng.normal(), mean[1] + 0.01 * rng.normal()] }
        let chain = try XCTUnwrap(try sampler.run(initial: initial, steps: 3000, burnIn: 500, rng: &rng))
        let flat = chain.samples.flatMap { $0 }
        let n = Double(flat.count)
        let m0 = flat.map { $0[0] }.reduce(0, +) / n, m1 = flat.map { $0[1] }.reduce(0, +) / n
        let s0 = sqrt(flat.map { ($0[0] - m0) * ($0[0] - m0) }.reduce(0, +) / n)
        let s1 = sqrt(flat.map { ($0[1] - m1) * ($0[1] - m1) }.reduce(0, +) / n)
        let r = flat.map { ($0[0] - m0) * ($0[1] - m1) }.reduce(0, +) / n / (s0 * s1)
        XCTAssertEqual(m0, mean[0], accuracy: 0.03)
        XCTAssertEqual(m1, mean[1], accuracy: 0.2)
        XCTAssertEqual(s0, sd[0], accuracy: 0.03)
        XCTAssertEqual(s1, sd[1], accuracy: 0.2)
        XCTAssertEqual(r, rho, accuracy: 0.05)
        XCTAssertGreaterThan(chain.acceptance, 0.2)
        XCTAssertLessThan(chain.acceptance, 0.9)
        // Diagnostics of the first coordinate.
        var traces = [[Double]](repeating: [], count: 32)
        for step in chain.samples { for (w, t) in step.enumerated() { traces[w].append(t[0]) } }
        let rhat = ChainDiagnostics.splitRHat(traces)
        XCTAssertLessThan(rhat, 1.05)
        let tau = ChainDiagnostics.autocorrelationTime(traces)
        XCTAssertGreaterThan(tau, 1)
        XCTAssertLessThan(tau, 200)
    }

    func testSplitRHatFlagsChainsThatDisagree() {
        var rng = SeededRandom(seed: 1)
        let mixed = (0..<8).map { _ in (0..<400).map { _ in rng.normal() } }
        XCTAssertLessThan(ChainDiagnostics.splitRHat(mixed), 1.05)
        let apart = (0..<8).map { w in (0..<400).map { _ in rng.normal() + Double(w) } }
        XCTAssertGreaterThan(ChainDiagnostics.splitRHat(apart), 1.5)
    }

    func testAutocorrelationTimeOfAnAR1Process() {
        // x_t = φ x_{t−1} + ε has τ = (1 + φ) / (1 − φ) = 9 for φ = 0.8.
        var rng = SeededRandom(seed: 2)
        let chains = (0..<16).map { _ -> [Double] in
            var x = 0.0
            return (0..<5000).map { _ in x = 0.8 * x + rng.normal(); return x }
        }
        XCTAssertEqual(ChainDiagnostics.autocorrelationTime(chains), 9, accuracy: 1.5)
    }

    func testPosteriorOfTheEmergenceModelAgreesWithTheBootstrap() throws {
        let s = try XCTUnwrap(SimulationScenario.named["mmlu-like"])
        let (rows, _) = Simulator.simulate(s, seed: 1)
        var o = FitOptions()
        o.maxFlops = 2e22
        o.uncertainty = .both
        o.bootstrap = 100
        // Long enough for R̂ to settle under the likelihood with each row's binomial variance (at 800
        // kept steps it was 1.22, a short chain's noise: the default run converges, PosteriorTests).
        o.mcmcSteps = 2000
        o.mcmcBurnIn = 500
        let result = try EmergenceFit.run(rows, options: o)
        let mcmc = try XCTUnwrap(result.uncertainty.mcmc)
        let boot = try XCTUnwrap(result.uncertainty.bootstrap)
        XCTAssertGreaterThan(mcmc.acceptance, 0.1)
        XCTAssertGreaterThan(try XCTUnwrap(mcmc.ess), 50)
        XCTAssertLessThan(try XCTUnwrap(mcmc.rhat), 1.2)
        XCTAssertEqual(try XCTUnwrap(mcmc.percentiles["50"]), try XCTUnwrap(boot.percentiles["50"]), accuracy: 0.06)
        XCTAssertEqual(result.emergence.loss.intervalMethod, "bootstrap")
    }
}
