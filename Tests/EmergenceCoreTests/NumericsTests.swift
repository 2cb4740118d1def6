import XCTest
@testable import EmergenceCore

final class NumericsTests: XCTestCase {
    func testScalingLawFitAndInversionRoundTrip() throws {
        let truth = ScalingLaw(lInf: 1.0, a: 57.4, b: 0.08)
        let compute = (0..<30).map { 1e19 * pow(10, Double($0) / 8) }
        let loss = compute.map { truth.loss(atCompute: $0) }
        let fit = try XCTUnwrap(ScalingLawFit.fit(compute: compute, loss: loss))
        XCTAssertLessThan(fit.rmse, 1e-6)
        for c in [1e20, 1e22, 1e24] {
            let l = fit.law.loss(atCompute: c)
            XCTAssertEqual(l, truth.loss(atCompute: c), accuracy: 1e-5)
            let back = try XCTUnwrap(fit.law.compute(atLoss: l))
            XCTAssertEqual(log(back), log(c), accuracy: 1e-9)
        }
        XCTAssertNil(truth.compute(atLoss: 0.99), "below L∞ nothing reaches the loss")
        XCTAssertNil(truth.compute(atLoss: 1.0))
    }

    func testScalingLawFitWithNoise() throws {
        let truth = ScalingLaw(lInf: 1.2, a: 30, b: 0.07)
        var rng = SeededRandom(seed: 4)
        let compute = (0..<40).map { 1e19 * pow(10, Double($0) / 10) }
        let loss = compute.map { truth.loss(atCompute: $0) + 0.002 * rng.normal() }
        let fit = try XCTUnwrap(ScalingLawFit.fit(compute: compute, loss: loss))
        XCTAssertEqual(fit.rmse, 0.002, accuracy: 0.001)
        // Within the data the law is pinned down even if (L∞, a, b) trade off.
        XCTAssertEqual(fit.law.loss(atCompute: 1e21), truth.loss(atCompute: 1e21), accuracy: 0.003)
    }

    func testLevenbergMarquardtSolvesRosenbrockWithBounds() {
        // r = (10(y − x²), 1 − x): minimum at (1, 1); with x ≤ 0.5 the minimum is on the bound.
        let problem = { (upper: Double) in LeastSquaresProblem(
            parameterCount: 2, residualCount: 2, lower: [-5, -5], upper: [upper, 5],
            evaluate: { t, r, J in
                r[0] = 10 * (t[1] - t[0] * t[0]); r[1] = 1 - t[0]
                if let J { J[0] = -20 * t[0]; J[1] = 10; J[2] = -1; J[3] = 0 }
            }) }
        let free = LevenbergMarquardt.solve(problem(5), start: [-1.2, 1])
        XCTAssertEqual(free.theta[0], 1, accuracy: 1e-6)
        XCTAssertEqual(free.theta[1], 1, accuracy: 1e-6)
        let bounded = LevenbergMarquardt.solve(problem(0.5), start: [-1.2, 1])
        XCTAssertEqual(bounded.theta[0], 0.5, accuracy: 1e-9)
        XCTAssertEqual(bounded.theta[1], 0.25, accuracy: 1e-6)
    }

    func testPercentilesInterpolateLikeNumpy() {
        let v = [1.0, 2, 3, 4, 10]
        // numpy.percentile([1,2,3,4,10], [5, 50, 90]) = [1.2, 3.0, 7.6]
        XCTAssertEqual(Percentile.of(sorted: v, 5), 1.2, accuracy: 1e-12)
        XCTAssertEqual(Percentile.of(sorted: v, 50), 3, accuracy: 1e-12)
        XCTAssertEqual(Percentile.of(sorted: v, 90), 7.6, accuracy: 1e-12)
        let table = Percentile.table([1, 2, .infinity, .infinity, .infinity])
        XCTAssertNil(table["95"], "an infinite percentile is left out")
        XCTAssertNotNil(table["5"])
    }

    func testSeededRandomIsReproducibleAndUniform() {
        var a = SeededRandom(seed: 42), b = SeededRandom(seed: 42), c = SeededRandom(seed: 43)
        let xa = (0..<100).map { _ in a.next() }, xb = (0..<100).map { _ in b.next() }
        XCTAssertEqual(xa, xb)
        XCTAssertNotEqual(xa, (0..<100).map { _ in c.next() })
        var r = SeededRandom(seed: 1)
        let u = (0..<100_000).map { _ in r.uniform() }
        XCTAssertEqual(u.reduce(0, +) / 1e5, 0.5, accuracy: 0.005)
        let z = (0..<100_000).map { _ in r.normal() }
        let m = z.reduce(0, +) / 1e5
        XCTAssertEqual(m, 0, accuracy: 0.02)
        XCTAssertEqual(sqrt(z.map { ($0 - m) * ($0 - m) }.reduce(0, +) / 1e5), 1, accuracy: 0.02)
        let draws = (0..<2000).map { _ in Double(r.binomial(n: 1000, p: 0.3)) }
        XCTAssertEqual(draws.reduce(0, +) / 2000, 300, accuracy: 2)
    }

    func testEmergenceLawForms() {
        let law = EmergenceLaw(form: .logPower, k: 0.5, alpha: 2, C: 1)
        XCTAssertEqual(law.elbow(at: exp(3)), 0.5 * 9 + 1, accuracy: 1e-12)
        let power = EmergenceLaw(form: .power, k: 0.5, alpha: 0.5, C: 1)
        XCTAssertEqual(power.elbow(at: 16), 0.5 * 4 + 1, accuracy: 1e-12)
    }

    func testExactDataAreFitExactly() throws {
        // Noise-free rows from a known θ: the multi-start must find RSS ≈ 0 and θ's E*.
        let law = EmergenceLaw(form: .logPower, k: 0.02, alpha: 1.3, C: 1.85)
        var rows: [Evaluation] = []
        for (i, x) in stride(from: 1.9, through: 2.6, by: 0.05).enumerated() {
            rows.append(Evaluation(checkpoint: "c\(i)", pretrainLoss: x, setting: .fewShot, shots: 5,
                                   accuracy: 0.25 + 0.8 * max(law.elbow(at: 5) - x, 0)))
            for d in [300.0, 1000, 3000, 10000, 30000] {
                rows.append(Evaluation(checkpoint: "c\(i)", pretrainLoss: x, setting: .finetuned, shots: 0,
                                       finetuneExamples: d, accuracy: 0.25 + 0.8 * max(law.elbow(at: d) - x, 0)))
            }
        }
        var o = FitOptions()
        o.uncertainty = .none
        let result = try EmergenceFit.run(rows, options: o)
        XCTAssertLessThan(try XCTUnwrap(result.fit?.rss), 1e-8)
        XCTAssertEqual(try XCTUnwrap(result.emergence.loss.mle), law.elbow(at: 5), accuracy: 1e-3)
    }
}
