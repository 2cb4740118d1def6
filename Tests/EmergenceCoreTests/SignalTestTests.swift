import XCTest
@testable import EmergenceCore

/// The signal test against each study's own null distribution (SignalTest.swift): a faint real lift
/// under the old fixed threshold passes it, pure noise does not, and a clear lift needs no simulation.
final class SignalTestTests: XCTestCase {
    func options() -> FitOptions {
        var o = FitOptions()
        o.maxFlops = 2e22
        o.bootstrap = 50
        return o
    }

    /// Development study 35 of `designs`: emergence 0.01 nats past the lowest few-shot loss, a lift
    /// of Λ ≈ 17 (under the old fixed 30). No simulated floor-only study reaches it, so it is a signal,
    /// and the answer is no longer `no_signal`.
    func testAFaintRealLiftBeatsItsOwnNull() throws {
        var generator = Calibration.Generator(family: "designs", seed: Calibration.Split.development.seed)
        var study = generator.next()
        while study.index < 35 { study = generator.next() }
        XCTAssertFalse(study.truth.noSignal)
        var o = options()
        o.seed = 35   // as `emergence calibrate` fits it
        let result = try EmergenceFit.run(study.evaluations, options: o)
        let test = try XCTUnwrap(result.fit?.signalTest)
        XCTAssertLessThan(test.statistic, SignalTest.certain)
        XCTAssertEqual(test.replicates, SignalTest.replicates)
        XCTAssertEqual(test.exceeding, 0)
        XCTAssertTrue(test.signal)
        XCTAssertLessThan(try XCTUnwrap(test.nullP95), test.statistic)
        XCTAssertNotEqual(result.status, .noSignal)
    }

    /// A pure-noise study (`no-signal`, seed 185) with a row lifted by chance: several simulated
    /// floor-only studies reach its statistic, so it stays `no_signal`, and the warning says why.
    func testPureNoiseStaysNoSignal() throws {
        let s = try XCTUnwrap(SimulationScenario.named["no-signal"])
        let (rows, truth) = Simulator.simulate(s, seed: 185)
        XCTAssertTrue(truth.noSignal)
        let result = try EmergenceFit.run(rows, options: options())
        XCTAssertEqual(result.status, .noSignal)
        let test = try XCTUnwrap(result.fit?.signalTest)
        XCTAssertGreaterThan(try XCTUnwrap(test.exceeding), 0)
        XCTAssertFalse(test.signal)
        let message = try XCTUnwrap(result.warnings.first { $0.code == "no_signal" }?.message)
        XCTAssertTrue(message.contains("studies simulated from that model with this design reached it"), message)
    }

    /// n_questions beyond any real benchmark (Int.max on one row, 10¹² on the rest) under the
    /// binomial likelihood: the null's binomial draws neither trap converting the count to an Int
    /// nor count 10¹² uniforms; the fit answers (found by `emergence fuzz-fit`).
    func testAbsurdQuestionCountsNeitherTrapNorHang() throws {
        let s = try XCTUnwrap(SimulationScenario.named["no-signal"])
        var rows = Simulator.simulate(s, seed: 185).evaluations
        for i in rows.indices { rows[i].nQuestions = i == 0 ? Int.max : 1_000_000_000_000 }
        var o = options()
        o.noise = .binomial
        let result = try EmergenceFit.run(rows, options: o)
        XCTAssertNotNil(result.fit?.signalTest)
        var rng = SeededRandom(seed: 3)
        let draws = (0..<200).map { _ in Double(rng.binomial(n: 1_000_000_000_000, p: 1e-11)) }
        XCTAssertEqual(draws.reduce(0, +) / 200, 10, accuracy: 1.5, "Poisson(n·p = 10)")
        XCTAssertEqual(rng.binomial(n: 1_000_000_000_000, p: 1 - 1e-11), 1_000_000_000_000 - rng.binomial(n: 1_000_000_000_000, p: 1e-11), accuracy: 40)
    }

    /// A clear lift (mmlu-like, Λ in the hundreds) is beyond every null the development split drew
    /// (their 95th percentiles reached 10.6): no simulation runs, and the fit pays nothing for the test.
    func testAClearLiftSkipsTheSimulation() throws {
        let s = try XCTUnwrap(SimulationScenario.named["mmlu-like"])
        let (rows, _) = Simulator.simulate(s, seed: 1)
        let result = try EmergenceFit.run(rows, options: options())
        let test = try XCTUnwrap(result.fit?.signalTest)
        XCTAssertGreaterThanOrEqual(test.statistic, SignalTest.certain)
        XCTAssertNil(test.exceeding)
        XCTAssertNil(test.nullP95)
        XCTAssertTrue(test.signal)
    }

    /// The null draws come from the fit's seed: the same seed, the same verdict and figures.
    func testTheNullIsDeterministicGivenTheSeed() throws {
        let s = try XCTUnwrap(SimulationScenario.named["no-signal"])
        let (rows, _) = Simulator.simulate(s, seed: 185)
        let a = try EmergenceFit.run(rows, options: options()), b = try EmergenceFit.run(rows, options: options())
        XCTAssertEqual(a.fit?.signalTest, b.fit?.signalTest)
    }
}
