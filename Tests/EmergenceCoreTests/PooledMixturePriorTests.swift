import XCTest
@testable import EmergenceCore

/// The pooled prior as a scale mixture of normals in ln α (AlphaPrior.mixture, Mixture in
/// AlphaPrior.swift): the penalty is the mixture's exact −2 log density, its slope the derivative,
/// a bootstrap draw samples the mixture, and the estimate's mixture keeps the moments of the normal
/// it replaces while being narrower in the centre.
final class PooledMixturePriorTests: XCTestCase {
    let components: [AlphaPrior.Component] = [
        .init(weight: 0.5, median: 1.4, logSD: 0.1),
        .init(weight: 0.3, median: 1.5, logSD: 0.3),
        .init(weight: 0.2, median: 1.3, logSD: 0.8),
    ]

    func mixtureDensity(_ x: Double) -> Double {
        components.reduce(0) { sum, c in
            let z = (x - log(c.median)) / c.logSD
            return sum + c.weight * exp(-z * z / 2) / (c.logSD * (2 * Double.pi).squareRoot())
        }
    }

    func testPenaltyIsTheMixturesLogDensity() {
        let penalty = AlphaPenalty(AlphaPrior(median: 1.4, logSD: 0.4, mixture: components), weight: 0.02)
        let mixture = penalty.mixture
        XCTAssertNotNil(mixture)
        let mode = mixture?.mode ?? 0
        // ρ² / w² = 2 (f(x) − f(x*)): differences of −2 log density, exactly.
        for x in stride(from: -1.5, through: 2.0, by: 0.05) {
            let rho = penalty.residual(exp(x)) / 0.02
            let expected = -2 * log(mixtureDensity(x)) + 2 * log(mixtureDensity(mode))
            XCTAssertEqual(rho * rho, expected, accuracy: 1e-9 * max(1, expected))
            // ρ turns sign at the mode and rises through it.
            XCTAssertEqual(rho < 0, x < mode)
            // dρ/dα against a central difference.
            let h = 1e-6, a = exp(x)
            let numeric = (penalty.residual(a * exp(h)) - penalty.residual(a * exp(-h))) / (a * exp(h) - a * exp(-h))
            XCTAssertEqual(penalty.slope(a), numeric, accuracy: 1e-5 * max(1, abs(numeric)))
        }
        // The mode is where the density peaks.
        XCTAssertGreaterThan(mixtureDensity(mode), mixtureDensity(mode + 1e-4))
        XCTAssertGreaterThan(mixtureDensity(mode), mixtureDensity(mode - 1e-4))
        // At the mode itself the slope is its limit √f″(x*), continuous with its neighbours.
        XCTAssertEqual(penalty.slope(exp(mode)), penalty.slope(exp(mode + 1e-5)), accuracy: 1e-3 * penalty.slope(exp(mode)))
        // The MCMC's log density: the mixture's, less ln α, up to a constant.
        let d = penalty.logDensity(exp(0.1)) - penalty.logDensity(exp(0.6))
        XCTAssertEqual(d, log(mixtureDensity(0.1)) - 0.1 - log(mixtureDensity(0.6)) + 0.6, accuracy: 1e-9)
    }

    func testOneComponentIsTheNormal() {
        let normal = AlphaPenalty(AlphaPrior(median: 1.4, logSD: 0.35), weight: 0.5)
        let single = AlphaPenalty(AlphaPrior(median: 1.4, logSD: 0.35, mixture: [.init(weight: 1, median: 1.4, logSD: 0.35)]), weight: 0.5)
        XCTAssertNil(single.mixture)
        for a in [0.3, 1.0, 1.4, 2.5] {
            XCTAssertEqual(single.residual(a), normal.residual(a))
            XCTAssertEqual(single.slope(a), normal.slope(a))
        }
    }

    func testBootstrapDrawsSampleTheMixture() {
        // Each draw's prior is one normal N(μ_k + z_k s_k, s_k²); its centre, over z ~ N(0, 1), is a
        // draw from the mixture: the mixture's mean, variance and component shares.
        let penalty = AlphaPenalty(AlphaPrior(median: 1.4, logSD: 0.4, mixture: components), weight: 1)
        var rng = SeededRandom(seed: 3)
        var centres: [Double] = [], counts = [0, 0, 0]
        for _ in 0..<40_000 {
            let drawn = penalty.recentred(by: rng.normal())
            XCTAssertNil(drawn.mixture)
            centres.append(drawn.mu)
            if let k = components.firstIndex(where: { abs($0.logSD - drawn.s) < 1e-12 }) { counts[k] += 1 }
        }
        let mean = components.reduce(0) { $0 + $1.weight * log($1.median) }
        let variance = components.reduce(0) { $0 + $1.weight * ($1.logSD * $1.logSD + log($1.median) * log($1.median)) } - mean * mean
        let sampleMean = centres.reduce(0, +) / Double(centres.count)
        let sampleVariance = centres.reduce(0) { $0 + ($1 - sampleMean) * ($1 - sampleMean) } / Double(centres.count)
        XCTAssertEqual(sampleMean, mean, accuracy: 0.01)
        XCTAssertEqual(sampleVariance, variance, accuracy: 0.03 * variance)
        for k in 0..<3 { XCTAssertEqual(Double(counts[k]) / 40_000, components[k].weight, accuracy: 0.01) }
        // Φ⁻¹ inverts Φ.
        for p in [1e-10, 0.01, 0.3, 0.5, 0.9, 1 - 1e-9] {
            XCTAssertEqual(0.5 * erfc(-Mixture.probit(p) / 2.0.squareRoot()), p, accuracy: 1e-12 + 1e-9 * p)
        }
    }

    func testEstimateHandsOutAMixtureWithTheNormalsMoments() throws {
        // Nine studies that agree, each α measured with SD 0.3: τ cannot be told from 0 to ~0.3.
        let lo = log(0.05), hi = log(6.0)
        let xs = (0..<25).map { lo + (hi - lo) * Double($0) / 24 }
        let centres = [0.30, 0.36, 0.41, 0.33, 0.28, 0.45, 0.38, 0.31, 0.35]
        let members = centres.enumerated().map { i, c in
            PooledAlphaPrior.Member(study: "s\(i)", status: "ok",
                                    profile: AlphaProfile(form: .logPower, lnAlpha: xs, deviance: xs.map { pow(($0 - c) / 0.3, 2) }))
        }
        let e = try XCTUnwrap(PooledAlphaPrior.estimate(members))
        let mixture = try XCTUnwrap(e.prior.mixture)
        XCTAssertGreaterThan(mixture.count, 1)
        XCTAssertLessThanOrEqual(mixture.count, PooledAlphaPrior.mixtureBins)
        XCTAssertEqual(mixture.reduce(0) { $0 + $1.weight }, 1, accuracy: 1e-12)
        XCTAssertTrue(e.prior.problems(form: .logPower).isEmpty)
        // Its mean and variance are the moment-matched normal's (summary fields), to the dropped weight.
        let mean = mixture.reduce(0) { $0 + $1.weight * log($1.median) }
        let variance = mixture.reduce(0) { $0 + $1.weight * ($1.logSD * $1.logSD + log($1.median) * log($1.median)) } - mean * mean
        XCTAssertEqual(mean, log(e.prior.median), accuracy: 1e-3)
        XCTAssertEqual(variance.squareRoot(), e.prior.logSD, accuracy: 1e-3)
        // But its central 90% is narrower than the normal's ±1.645 SD: the heavy tails hold the rest.
        let cdf = { (x: Double) in mixture.reduce(0) { $0 + $1.weight * 0.5 * erfc(-(x - log($1.median)) / ($1.logSD * 2.0.squareRoot())) } }
        let upper = log(e.prior.median) + 1.645 * e.prior.logSD, lower = log(e.prior.median) - 1.645 * e.prior.logSD
        XCTAssertGreaterThan(cdf(upper) - cdf(lower), 0.905)
        // Its quantiles (what `calibrate --lab` checks the true α against) invert that CDF.
        XCTAssertEqual(cdf(e.prior.logQuantile(0.05)), 0.05, accuracy: 1e-9)
        XCTAssertEqual(cdf(e.prior.logQuantile(0.95)), 0.95, accuracy: 1e-9)
        XCTAssertEqual(AlphaPrior(median: 1.5, logSD: 0.3).logQuantile(0.95), log(1.5) + 0.3 * 1.6448536269514722, accuracy: 1e-9)
        // The resolved prior carries it, and it survives the JSON round trip of a stored option.
        let resolved = e.resolved(pool: "p", excluded: "x")
        XCTAssertEqual(resolved.mixture, mixture)
        let data = try JSONEncoder().encode(resolved)
        XCTAssertEqual(try JSONDecoder().decode(AlphaPrior.self, from: data), resolved)
        XCTAssertTrue(String(decoding: data, as: UTF8.self).contains("\"mixture\""))
        // The one-normal prior, on request, has none.
        XCTAssertNil(try XCTUnwrap(PooledAlphaPrior.estimate(members, mixture: false)).prior.mixture)
    }

    func testMalformedMixturesAreRefused() {
        let bad: [[AlphaPrior.Component]] = [
            [],
            [.init(weight: 0.5, median: 1.4, logSD: 0.1), .init(weight: 0.4, median: 1.4, logSD: 0.3)],   // sums to 0.9
            [.init(weight: 1.5, median: 1.4, logSD: 0.1), .init(weight: -0.5, median: 1.4, logSD: 0.3)],
            [.init(weight: 0.5, median: 9, logSD: 0.1), .init(weight: 0.5, median: 1.4, logSD: 0.3)],
            [.init(weight: 0.5, median: 1.4, logSD: 0), .init(weight: 0.5, median: 1.4, logSD: .nan)],
            Array(repeating: .init(weight: 1.0 / 17, median: 1.4, logSD: 0.3), count: 17),
        ]
        for mixture in bad {
            let problems = AlphaPrior(median: 1.4, logSD: 0.3, mixture: mixture).problems(form: .logPower)
            XCTAssertEqual(problems.map(\.field), ["alpha_prior.mixture"], "\(mixture)")
        }
    }

    /// A fit with a prior takes the cached trial pass with the prior's row after the model's, and so
    /// the same steps to the same point as the two separate passes, bit for bit (normal and mixture).
    func testPriorRowInTheCachedPassTakesTheSameSteps() throws {
        let priors = [AlphaPrior(median: 1.4, logSD: 0.35), AlphaPrior(median: 1.4, logSD: 0.4, mixture: components)]
        for delta in [true, false] {
            let model = try FastFitEquivalenceTests.model(delta: delta)
            let w: [Double]? = delta ? (0..<model.data.count).map { 0.5 + Double($0 % 7) / 3 } : nil
            for prior in priors {
                var m = model
                m.alphaPenalty = AlphaPenalty(prior, weight: 0.05)
                for start in FastFitEquivalenceTests.thetas(m).prefix(4) {
                    let plain = LevenbergMarquardt.solve(MaximumLikelihood.leastSquaresProblem(m, weights: w, cached: false), start: start)
                    let cached = LevenbergMarquardt.solve(MaximumLikelihood.leastSquaresProblem(m, weights: w), start: start)
                    XCTAssertEqual(cached.theta, plain.theta)
                    XCTAssertEqual(cached.cost, plain.cost)
                    XCTAssertEqual(cached.iterations, plain.iterations)
                    XCTAssertEqual(cached.evaluations, plain.evaluations)
                    // The prior's row is there: the cost is the data's plus ρ².
                    let rho = m.alphaPenalty?.residual(cached.theta[EmergenceModel.alpha]) ?? 0
                    XCTAssertGreaterThan(rho * rho, 0)
                }
            }
        }
    }
}
