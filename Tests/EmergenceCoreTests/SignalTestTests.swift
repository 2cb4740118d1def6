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
