import XCTest
@testable import EmergenceCore

/// The fit's fast paths against the plain computations they replace: the normal equations summed by
/// group (EmergenceNormalEquations.swift) against JᵀJ and Jᵀr from the full Jacobian, the unrolled
/// six-parameter kernel against the loop, and a bootstrap resample fitted as distinct rows with counts
/// (BootstrapResample.swift) against the resample with its repeats.
final class FastFitEquivalenceTests: XCTestCase {
    static func model(_ study: String = "mmlu-like", delta: Bool = true) throws -> EmergenceModel {
        let rows = try ReferenceCrossCheckTests.load(study).filter { ($0.effectiveFlops ?? .infinity) <= 2e22 }
        return EmergenceModel(data: FitData(rows, d0: 5), form: .logPower, withDelta: delta)
    }

    /// θ near the mmlu-like MLE, perturbed so that rows sit on both sides of the kink (also used by
    /// CachedTrialPassTests).
    static func thetas(_ model: EmergenceModel) -> [[Double]] {
        var rng = SeededRandom(seed: 7)
        let base: [Double] = [0.05, 2.5, 1.9, 0.6, 0.25, 0.01]
        return (0..<20).map { _ in
            var t = base.map { $0 * (1 + 0.2 * (rng.uniform() - 0.5)) }
            t[EmergenceModel.c] += 0.3 * (rng.uniform() - 0.5)
            return Array(t.prefix(model.parameterCount))
        }
    }

    func testGroupedNormalEquationsMatchTheJacobian() throws {
        for delta in [true, false] {
            var m = try Self.model(delta: delta)
            let p = m.parameterCount, n = m.data.count
            let weights = (0..<n).map { 0.5 + Double($0 % 7) / 3 }
            for tau in [0, MaximumLikelihood.smoothingTemperature] {
                m.temperature = tau
                for theta in Self.thetas(m) {
                    for w in [nil, weights] {
                        var r1 = [Double](repeating: 0, count: n), J = [Double](repeating: 0, count: n * p)
                        J.withUnsafeMutableBufferPointer { m.residuals(theta, weights: w, r: &r1, jacobian: $0.baseAddress) }
                        var a1 = [Double](repeating: 0, count: p * p), g1 = [Double](repeating: 0, count: p)
                        LevenbergMarquardt.normalEquations(J, r1, m: n, p: p, jtj: &a1, jtr: &g1)
                        var r2 = [Double](repeating: 0, count: n)
                        var a2 = [Double](repeating: .nan, count: p * p), g2 = [Double](repeating: .nan, count: p)
                        a2.withUnsafeMutableBufferPointer { A in
                            g2.withUnsafeMutableBufferPointer { G in
                                m.normalEquations(theta, weights: w, r: &r2, jtj: A.baseAddress!, jtr: G.baseAddress!)
                            }
                        }
                        XCTAssertEqual(r1, r2, "the residuals are computed the same way")
                        let scale = a1.map(abs).max() ?? 1
                        for i in 0..<(p * p) {
                            XCTAssertEqual(a2[i], a1[i], accuracy: 1e-12 * scale, "JᵀJ[\(i)], p \(p), τ \(tau)")
                        }
                        let gScale = g1.map(abs).max() ?? 1
                        for j in 0..<p { XCTAssertEqual(g2[j], g1[j], accuracy: 1e-12 * max(gScale, 1e-300), "Jᵀr[\(j)]") }
                    }
                }
            }
        }
    }

    func testUnrolledKernelIsBitIdenticalToTheLoop() {
        var rng = SeededRandom(seed: 3)
        let m = 57
        // Zeros where the model has them (rows below the kink, finetuned rows' Δ column).
        let J: [Double] = (0..<(m * 6)).map { i in
            let row = i / 6, col = i % 6
            if row % 3 == 0 && col < 4 { return 0 }
            if row % 2 == 0 && col == 5 { return 0 }
            return rng.normal()
        }
        let r = (0..<m).map { _ in rng.normal() }
        var a1 = [Double](repeating: 0, count: 36), g1 = [Double](repeating: 0, count: 6)
        var a2 = a1, g2 = g1
        J.withUnsafeBufferPointer { jp in
            r.withUnsafeBufferPointer { rp in
                NormalEquationsKernel.general(jp.baseAddress!, rp.baseAddress!, m: m, p: 6, jtj: &a1, jtr: &g1)
                NormalEquationsKernel.six(jp.baseAddress!, rp.baseAddress!, m: m, jtj: &a2, jtr: &g2)
            }
        }
        XCTAssertEqual(a1, a2)
        XCTAssertEqual(g1, g2)
    }

    func testDistinctRowsWithCountsGiveTheResampleObjective() throws {
        let full = try Self.model()
        var rng = SeededRandom(seed: 11)
        for _ in 0..<10 {
            let rows = (0..<full.data.count).map { _ in rng.index(full.data.count) }
            var repeated = full
            repeated.data = full.data.subset(rows)
            var merged = full
            (merged.data, merged.multiplicity) = full.data.distinctRows(rows)
            XCTAssertLessThan(merged.data.count, repeated.data.count)
            XCTAssertEqual(merged.multiplicity?.reduce(0, +), Double(rows.count))
            for theta in Self.thetas(full) {
                let a = MaximumLikelihood.rss(repeated, theta), b = MaximumLikelihood.rss(merged, theta)
                XCTAssertEqual(b, a, accuracy: 1e-12 * a)
                let la = MaximumLikelihood.binomialLogLikelihood(repeated, theta)
                let lb = MaximumLikelihood.binomialLogLikelihood(merged, theta)
                XCTAssertEqual(lb, la, accuracy: 1e-12 * abs(la))
            }
            // The grid's linear solves and the summaries count rows the same way.
            let z = (0..<full.data.count).map { Double($0 % 5) * 0.01 }
            let zRepeated = rows.map { z[$0] }
            let zMerged = (0..<full.data.count).filter { rows.contains($0) }.map { z[$0] }
            let la = try XCTUnwrap(MaximumLikelihood.linearFloorAndSlope(repeated.data, z: zRepeated, withDelta: true))
            let lb = try XCTUnwrap(MaximumLikelihood.linearFloorAndSlope(merged.data, z: zMerged, withDelta: true,
                                                                         multiplicity: merged.multiplicity))
            XCTAssertEqual(lb.0, la.0, accuracy: 1e-9); XCTAssertEqual(lb.1, la.1, accuracy: 1e-9)
            XCTAssertEqual(lb.2, la.2, accuracy: 1e-9); XCTAssertEqual(lb.3, la.3, accuracy: 1e-9)
            let theta = Self.thetas(full)[1]
            XCTAssertEqual(MaximumLikelihood.summarize(merged, noise: .gaussian, theta: theta).logLikelihood,
                           MaximumLikelihood.summarize(repeated, noise: .gaussian, theta: theta).logLikelihood, accuracy: 1e-9)
            let phi = MaximumLikelihood.dispersion(repeated, theta)
            XCTAssertEqual(MaximumLikelihood.dispersion(merged, theta), phi, accuracy: 1e-12 * phi)
            let kernel = MaximumLikelihood.binomialLogKernel(repeated, theta)
            XCTAssertEqual(MaximumLikelihood.binomialLogKernel(merged, theta), kernel, accuracy: 1e-12 * abs(kernel))
            // The refit from the same start lands on the same optimum.
            let start = Self.thetas(full)[0]
            for noise in [FitOptions.Noise.gaussian, .binomial] {
                let ta = try XCTUnwrap(MaximumLikelihood.localFit(repeated, noise: noise, start: start))
                let tb = try XCTUnwrap(MaximumLikelihood.localFit(merged, noise: noise, start: start))
                XCTAssertEqual(merged.prediction(tb), repeated.prediction(ta), accuracy: 1e-6, "\(noise)")
            }
        }
    }
}
