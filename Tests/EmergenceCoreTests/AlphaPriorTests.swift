import XCTest
@testable import EmergenceCore

/// The optional prior on α (AlphaPrior.swift): off by default, validated at the edge, a penalty
/// whose gradient is right, and a point estimate pulled toward the prior's median.
final class AlphaPriorTests: XCTestCase {
    func rows(_ study: String) throws -> [Evaluation] {
        try ReferenceCrossCheckTests.load(study)
    }

    func options(_ prior: AlphaPrior? = nil, bootstrap: Int = 0) -> FitOptions {
        var o = FitOptions()
        o.maxFlops = 2e22
        o.uncertainty = bootstrap > 0 ? .bootstrap : .none
        o.bootstrap = bootstrap
        o.seed = 5
        o.alphaPrior = prior
        return o
    }

    func testOptionsCodingAndValidation() throws {
        // Absent by default, written as null (the canonical encoding writes every field).
        let plain = try JSONSerialization.jsonObject(with: JSONEncoder().encode(FitOptions())) as? [String: Any]
        XCTAssertTrue(plain?["alpha_prior"] is NSNull)
        let decoded = try JSONDecoder().decode(FitOptions.self, from: Data(#"{"alpha_prior": {"median": 1.4, "log_sd": 0.35}}"#.utf8))
        XCTAssertEqual(decoded.alphaPrior, AlphaPrior(median: 1.4, logSD: 0.35))
        XCTAssertEqual(try JSONDecoder().decode(FitOptions.self, from: JSONEncoder().encode(decoded)), decoded)

        var o = FitOptions()
        o.alphaPrior = AlphaPrior(median: 0, logSD: .nan)
        XCTAssertEqual(o.problems().map(\.field), ["alpha_prior.median", "alpha_prior.log_sd"])
        o.alphaPrior = AlphaPrior(median: 3, logSD: 0.5)
        XCTAssertEqual(o.problems().map(\.field), [])
        o.form = .power   // α of the power form lives in 0.005...1.5
        XCTAssertEqual(o.problems().map(\.field), ["alpha_prior.median"])
        o.alphaPrior = AlphaPrior(median: 0.25, logSD: 11)
        XCTAssertEqual(o.problems().map(\.field), ["alpha_prior.log_sd"])
        // The engine refuses them too, whoever calls it.
        XCTAssertThrowsError(try EmergenceFit.run(try rows("mmlu-like"), options: o))
    }

    /// The extra residual's normal equations: (∂ρ/∂α)² on the diagonal and ρ·∂ρ/∂α in Jᵀr, the same
    /// as from its Jacobian row, which matches a finite difference.
    func testPenaltyGradient() throws {
        let data = FitData(try rows("mmlu-like").filter { ($0.effectiveFlops ?? .infinity) <= 2e22 }, d0: 5)
        var model = EmergenceModel(data: data, form: .logPower, withDelta: true)
        let penalty = AlphaPenalty(AlphaPrior(median: 1.4, logSD: 0.35), weight: 0.012)
        model.alphaPenalty = penalty
        var problem = LeastSquaresProblem(
            parameterCount: 6, residualCount: data.count, lower: model.lower, upper: model.upper,
            evaluate: { t, r, J in model.residuals(t, weights: nil, r: &r, jacobian: J) },
            normalEquations: { t, r, jtj, jtr in model.normalEquations(t, weights: nil, r: &r, jtj: jtj, jtr: jtr) })
        problem.addPrior(penalty)
        XCTAssertEqual(problem.residualCount, data.count + 1)
        let theta = [0.0135, 1.7, 1.82, 0.8, 0.25, 0.0]
        let m = problem.residualCount, p = 6
        var r = [Double](repeating: 0, count: m), J = [Double](repeating: 0, count: m * p)
        J.withUnsafeMutableBufferPointer { problem.evaluate(theta, &r, $0.baseAddress) }
        XCTAssertEqual(r[m - 1], 0.012 * (log(1.7) - log(1.4)) / 0.35, accuracy: 1e-15)
        let h = 1e-6
        var rp = [Double](repeating: 0, count: m), rm = rp
        var up = theta; up[1] += h
        var dn = theta; dn[1] -= h
        problem.evaluate(up, &rp, nil); problem.evaluate(dn, &rm, nil)
        XCTAssertEqual(J[(m - 1) * p + 1], (rp[m - 1] - rm[m - 1]) / (2 * h), accuracy: 1e-8)
        for j in [0, 2, 3, 4, 5] { XCTAssertEqual(J[(m - 1) * p + j], 0) }
        var a1 = [Double](repeating: 0, count: p * p), g1 = [Double](repeating: 0, count: p)
        LevenbergMarquardt.normalEquations(J, r, m: m, p: p, jtj: &a1, jtr: &g1)
        var r2 = [Double](repeating: 0, count: m)
        var a2 = [Double](repeating: 0, count: p * p), g2 = [Double](repeating: 0, count: p)
        let fused = try XCTUnwrap(problem.normalEquations)
        a2.withUnsafeMutableBufferPointer { A in g2.withUnsafeMutableBufferPointer { g in fused(theta, &r2, A.baseAddress!, g.baseAddress!) } }
        for i in 0..<(p * p) { XCTAssertEqual(a1[i], a2[i], accuracy: 1e-9 * max(1, abs(a1[i]))) }
        for j in 0..<p { XCTAssertEqual(g1[j], g2[j], accuracy: 1e-9 * max(1, abs(g1[j]))) }
        XCTAssertEqual(r2[m - 1], r[m - 1])
    }

    /// On csqa-like (true α 2.0) the plain MLE's α̂ is 2.26; a prior at 1.4 pulls it down, a very
    /// tight one holds it at the median, and the prior changes nothing else about the result's shape.
    func testPriorPullsAlphaTowardItsMedian() throws {
        let data = try rows("csqa-like")
        let plain = try EmergenceFit.run(data, options: options())
        let loose = try EmergenceFit.run(data, options: options(AlphaPrior(median: 1.4, logSD: 0.35)))
        let tight = try EmergenceFit.run(data, options: options(AlphaPrior(median: 1.4, logSD: 0.01)))
        let a0 = try XCTUnwrap(plain.parameters?.alpha), a1 = try XCTUnwrap(loose.parameters?.alpha)
        let a2 = try XCTUnwrap(tight.parameters?.alpha)
        XCTAssertLessThan(abs(log(a1 / 1.4)), abs(log(a0 / 1.4)))
        XCTAssertEqual(a2, 1.4, accuracy: 0.03)
        XCTAssertEqual(loose.status, plain.status)
        // The prior is a penalty on the fit, so the data alone fit the plain MLE at least as well.
        XCTAssertGreaterThanOrEqual(try XCTUnwrap(loose.fit?.rss), try XCTUnwrap(plain.fit?.rss) * (1 - 1e-9))
    }

    /// A mixture prior is judged by its own central 95%, not its summary normal's: a heavy tail that
    /// reaches the data's α̂ is no conflict, though the summary normal (log_sd 0.5) would call it one.
    func testConflictUsesTheMixturesOwnTails() throws {
        let data = try rows("mmlu-like")   // plain α̂ 1.498
        let heavy = AlphaPrior(median: 0.5, logSD: 0.5, mixture: [
            .init(weight: 0.8, median: 0.5, logSD: 0.1), .init(weight: 0.2, median: 0.5, logSD: 1.1)])
        XCTAssertGreaterThan(abs(log(1.498 / heavy.median)) / heavy.logSD, 1.96)
        XCTAssertGreaterThan(exp(heavy.logQuantile(0.975)), 1.498)
        let fit = try EmergenceFit.run(data, options: options(heavy))
        XCTAssertNotNil(fit.alphaPrior?.mixture)
        XCTAssertFalse(fit.warnings.contains { $0.code == "alpha_prior_conflict" })
        // Its narrow core alone is a conflict, said with its own range.
        let core = AlphaPrior(median: 0.5, logSD: 0.14, mixture: [
            .init(weight: 0.5, median: 0.45, logSD: 0.1), .init(weight: 0.5, median: 0.55, logSD: 0.1)])
        let w = try XCTUnwrap(try EmergenceFit.run(data, options: options(core)).warnings.first { $0.code == "alpha_prior_conflict" })
        XCTAssertTrue(w.message.contains("a mixture of 2 normals"), w.message)
    }

    /// A prior the data disagree with is said, with the plain fit's α̂ and E*; one they agree with is not.
    func testConflictIsSaid() throws {
        let data = try rows("mmlu-like")   // plain α̂ 1.498
        let wrong = try EmergenceFit.run(data, options: options(AlphaPrior(median: 0.3, logSD: 0.35)))
        let w = try XCTUnwrap(wrong.warnings.first { $0.code == "alpha_prior_conflict" })
        XCTAssertTrue(w.message.contains("α = 1.5 "), w.message)
        let agreeing = try EmergenceFit.run(data, options: options(AlphaPrior(median: 1.4, logSD: 0.35)))
        XCTAssertFalse(agreeing.warnings.contains { $0.code == "alpha_prior_conflict" })
    }

    func testDeterministicWithBootstrap() throws {
        let data = try rows("mmlu-like")
        let o = options(AlphaPrior(median: 1.4, logSD: 0.35), bootstrap: 60)
        let a = try EmergenceFit.run(data, options: o, threads: 1)
        let b = try EmergenceFit.run(data, options: o, threads: 2)
        XCTAssertEqual(a.emergence.loss.percentiles, b.emergence.loss.percentiles)
        XCTAssertNotNil(a.emergence.loss.percentiles)
    }

    func testLogNormalDensity() {
        let penalty = AlphaPenalty(AlphaPrior(median: 2, logSD: 0.5), weight: 1)
        // log of the log-normal density without its constant: −z²/2 − ln α.
        XCTAssertEqual(penalty.logDensity(2), -log(2), accuracy: 1e-15)
        let z = log(3.0 / 2) / 0.5
        XCTAssertEqual(penalty.logDensity(3), -z * z / 2 - log(3), accuracy: 1e-15)
        XCTAssertEqual(penalty.objective(3, noise: .gaussian), z * z, accuracy: 1e-15)
        XCTAssertEqual(penalty.objective(3, noise: .binomial), z * z / 2, accuracy: 1e-15)
    }
}
