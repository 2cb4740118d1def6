import XCTest
@testable import EmergenceCore

/// The caching trial pass (EmergenceTrialPass.swift, LevenbergMarquardtCached.swift) against the two
/// separate passes it replaces: the same residuals, normal equations and LM iterates, bit for bit.
final class CachedTrialPassTests: XCTestCase {
    /// Models with and without Δ, exact and smoothed, plain and with a resample's √count weights.
    func cases() throws -> [(EmergenceModel, [Double]?)] {
        var out: [(EmergenceModel, [Double]?)] = []
        for delta in [true, false] {
            var m = try FastFitEquivalenceTests.model(delta: delta)
            let weights = (0..<m.data.count).map { 0.5 + Double($0 % 7) / 3 }
            for tau in [0, MaximumLikelihood.smoothingTemperature] {
                m.temperature = tau
                out.append((m, nil))
                out.append((m, weights))
            }
        }
        return out
    }

    func testTrialPassAndCachedNormalEquationsAreBitIdentical() throws {
        for (m, w) in try cases() {
            let n = m.data.count, p = m.parameterCount
            let cacheCount = EmergenceModel.trialCacheCount(rows: n, groups: m.data.groupD.count)
            for theta in FastFitEquivalenceTests.thetas(m) {
                var r1 = [Double](repeating: 0, count: n)
                var a1 = [Double](repeating: .nan, count: p * p), g1 = [Double](repeating: .nan, count: p)
                a1.withUnsafeMutableBufferPointer { A in
                    g1.withUnsafeMutableBufferPointer { G in
                        m.normalEquations(theta, weights: w, r: &r1, jtj: A.baseAddress!, jtr: G.baseAddress!)
                    }
                }
                var r2 = [Double](repeating: .nan, count: n), cache = [Double](repeating: .nan, count: cacheCount)
                var a2 = [Double](repeating: .nan, count: p * p), g2 = [Double](repeating: .nan, count: p)
                var cost = 0.0
                let wp = w.map { UnsafeMutablePointer<Double>.allocate(capacity: $0.count) }
                defer { wp?.deallocate() }
                if let w, let wp { wp.initialize(from: w, count: w.count) }
                r2.withUnsafeMutableBufferPointer { R in
                    cache.withUnsafeMutableBufferPointer { C in
                        cost = m.trialPass(theta, wp: wp.map { UnsafePointer($0) }, r: R.baseAddress!, cache: C.baseAddress!, bound: .infinity)
                        a2.withUnsafeMutableBufferPointer { A in
                            g2.withUnsafeMutableBufferPointer { G in
                                m.cachedNormalEquations(theta, wp: wp.map { UnsafePointer($0) }, r: UnsafePointer(R.baseAddress!),
                                                        cache: UnsafePointer(C.baseAddress!), jtj: A.baseAddress!, jtr: G.baseAddress!)
                            }
                        }
                    }
                }
                XCTAssertEqual(r2, r1)
                XCTAssertEqual(cost, LevenbergMarquardt.sumOfSquares(r1), "Σr² in row order")
                XCTAssertEqual(a2, a1, "JᵀJ, τ \(m.temperature), p \(p)")
                XCTAssertEqual(g2, g1, "Jᵀr")

                // Stopped at a bound below the cost: a partial sum at or above the bound, never above the cost.
                let partial = r2.withUnsafeMutableBufferPointer { R in
                    cache.withUnsafeMutableBufferPointer { C in
                        m.trialPass(theta, wp: wp.map { UnsafePointer($0) }, r: R.baseAddress!, cache: C.baseAddress!, bound: cost / 2)
                    }
                }
                XCTAssertGreaterThanOrEqual(partial, cost / 2)
                XCTAssertLessThanOrEqual(partial, cost)
            }
        }
    }

    /// The solver with the cached pass takes the same steps to the same point as with the two passes.
    func testCachedSolverTakesTheSameStepsBitForBit() throws {
        for (m, w) in try cases() {
            for start in FastFitEquivalenceTests.thetas(m).prefix(6) {
                for tolerance in [1e-6, 1e-9] {
                    var options = LevenbergMarquardt.Options()
                    options.relativeTolerance = tolerance
                    let plain = LevenbergMarquardt.solve(MaximumLikelihood.leastSquaresProblem(m, weights: w, cached: false),
                                                         start: start, options: options)
                    let cached = LevenbergMarquardt.solve(MaximumLikelihood.leastSquaresProblem(m, weights: w),
                                                          start: start, options: options)
                    XCTAssertEqual(cached.theta, plain.theta)
                    XCTAssertEqual(cached.cost, plain.cost)
                    XCTAssertEqual(cached.iterations, plain.iterations)
                    XCTAssertEqual(cached.converged, plain.converged)
                    XCTAssertEqual(cached.evaluations, plain.evaluations)
                    XCTAssertEqual(cached.linearizations, plain.linearizations)
                    XCTAssertGreaterThan(plain.iterations, 1)
                }
            }
        }
    }
}
