import XCTest
@testable import EmergenceCore

/// Form × Δ ablation with Akaike weights, and the D0 sweep.
final class WorkflowAblationTests: XCTestCase {
    static func options(factors: [Double] = []) -> AblationOptions {
        var o = FitOptions()
        o.bootstrap = 40   // debug build: the weights come from the MLE; the intervals are a side show
        o.seed = 1
        return AblationOptions(fit: o, d0Factors: factors)
    }

    /// On the power-law-truth study the power form carries more Akaike weight.
    func testPowerLawTruthPrefersThePowerForm() throws {
        let r = try Ablation.run(ReferenceCrossCheckTests.load("power-law-truth"), options: Self.options())
        XCTAssertEqual(r.variants.count, 4)
        let power = try XCTUnwrap(r.formWeights["power"]), logPower = try XCTUnwrap(r.formWeights["log_power"])
        XCTAssertGreaterThan(power, logPower)
        XCTAssertEqual(power + logPower, 1, accuracy: 1e-9)
        XCTAssertEqual(r.chosen?.form, .power)
        let weights = r.variants.compactMap(\.akaikeWeight)
        XCTAssertEqual(weights.count, 4)
        XCTAssertEqual(weights.reduce(0, +), 1, accuracy: 1e-9)
        // w_i ∝ exp(−ΔAIC_i / 2).
        let aic = r.variants.compactMap(\.aic)
        XCTAssertEqual(weights[0] / weights[1], exp(-(aic[0] - aic[1]) / 2), accuracy: 1e-9 * weights[0] / weights[1])
    }

    func testD0SweepFromHalfToTenTimesTheShots() throws {
        let rows = try ReferenceCrossCheckTests.load("gsm8k-like")
        let r = try Ablation.run(rows, options: Self.options(factors: AblationOptions.defaultD0Factors))
        XCTAssertEqual(r.shots, 8)
        XCTAssertEqual(r.d0Sweep.map(\.d0), [4, 8, 16, 40, 80])
        XCTAssertTrue(r.d0Sweep.allSatisfy { $0.emergence.loss?.mle != nil })
        // D0 = N is the base fit with log-power and Δ (the first variant).
        XCTAssertEqual(r.d0Sweep[1].emergence.loss?.mle, r.variants[0].emergence.loss?.mle)
    }

    func testWeights() {
        let w = Ablation.weights([10, 12, nil, .infinity])
        XCTAssertEqual(w[0]!, 1 / (1 + exp(-1)), accuracy: 1e-12)
        XCTAssertEqual(w[1]!, exp(-1) / (1 + exp(-1)), accuracy: 1e-12)
        XCTAssertNil(w[2])
        XCTAssertNil(w[3])
    }

    func testOptions() throws {
        var o = Self.options(factors: Array(repeating: 1, count: 21))
        XCTAssertTrue(o.problems().contains { $0.field == "d0_factors" })
        o.d0Factors = [0, 2]
        XCTAssertEqual(o.problems().map(\.field), ["d0_factors[0]"])
        o.d0Factors = [2]
        o.fit.d0 = 5
        XCTAssertEqual(o.problems().map(\.field), ["d0"])
        let decoded = try JSONDecoder().decode(AblationOptions.self, from: Data(#"{"bootstrap":10,"noise":"binomial"}"#.utf8))
        XCTAssertEqual(decoded.d0Factors, AblationOptions.defaultD0Factors)
        XCTAssertEqual(decoded.fit.noise, .binomial)
        XCTAssertEqual(decoded.fitCount, 9)
    }
}
