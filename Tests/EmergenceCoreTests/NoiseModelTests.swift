import XCTest
@testable import EmergenceCore

/// The noise model beyond one σ: the checkpoints' loss measurement noise (LossNoise.swift) and the
/// smoothed bootstrap that uses it (Bootstrap.swift).
final class NoiseModelTests: XCTestCase {
    /// Checkpoints of two models on smooth loss curves plus N(0, 0.006²) noise: the estimate is
    /// near 0.006.
    func testLossNoiseIsEstimatedFromNeighbouringCheckpoints() throws {
        var rng = SeededRandom(seed: 11)
        var rows: [Evaluation] = []
        for (model, n) in [("a", 1e9), ("b", 3e9)] {
            for step in 0..<30 {
                let tokens = 1e9 * pow(1.3, Double(step))
                let flops = 6 * n * tokens
                let loss = 1.7 + 63 * pow(flops, -0.1) + 0.006 * rng.normal()
                rows.append(Evaluation(checkpoint: "\(model)-\(step)", model: model, parameters: n, tokens: tokens,
                                       pretrainLoss: loss, setting: .fewShot, shots: 5, accuracy: 0.25))
            }
        }
        let sigma = try XCTUnwrap(LossNoise.estimate(rows))
        XCTAssertEqual(sigma, 0.006, accuracy: 0.0015)
    }

    /// Noise-free curves give (near) zero; without compute or tokens, or with fewer than three
    /// checkpoints a model, there is nothing to estimate from.
    func testLossNoiseNeedsThreeCheckpointsOfKnownCompute() {
        let smooth = (0..<10).map { step in
            Evaluation(checkpoint: "c\(step)", model: "m", parameters: 1e9, tokens: 1e9 * pow(2, Double(step)),
                       pretrainLoss: 1.7 + 63 * pow(6e18 * pow(2, Double(step)), -0.1), setting: .fewShot, shots: 5, accuracy: 0.25)
        }
        XCTAssertLessThan(LossNoise.estimate(smooth) ?? 1, 0.002)
        let noCompute = smooth.map { e -> Evaluation in
            var e = e
            e.tokens = nil; e.parameters = nil
            return e
        }
        XCTAssertNil(LossNoise.estimate(noCompute))
        XCTAssertNil(LossNoise.estimate(Array(smooth.prefix(2))))
    }

    /// The fit reports the bandwidth it jittered the resamples' losses by, and the jitter widens the
    /// centre of the interval (the spike at an elbow stuck on a checkpoint's loss spreads out);
    /// without compute or tokens the bootstrap is the plain one.
    func testBootstrapJittersLossesByTheEstimatedNoise() throws {
        let s = try XCTUnwrap(SimulationScenario.named["mmlu-like"])
        let rows = Simulator.simulate(s, seed: 4).evaluations.filter { ($0.effectiveFlops ?? 0) <= 2e22 }
        var o = FitOptions()
        o.bootstrap = 200
        let jittered = try EmergenceFit.run(rows, options: o)
        let sigma = try XCTUnwrap(jittered.uncertainty.bootstrap?.lossNoise)
        XCTAssertEqual(sigma, s.lossNoise, accuracy: s.lossNoise / 2)
        let anonymous = rows.map { e -> Evaluation in
            var e = e
            e.tokens = nil; e.parameters = nil; e.flops = nil
            return e
        }
        let plain = try EmergenceFit.run(anonymous, options: o)
        XCTAssertNil(plain.uncertainty.bootstrap?.lossNoise)
        let jp = try XCTUnwrap(jittered.uncertainty.bootstrap?.percentiles), pp = try XCTUnwrap(plain.uncertainty.bootstrap?.percentiles)
        let jitteredCentre = try XCTUnwrap(jp["75"]) - XCTUnwrap(jp["25"])
        let plainCentre = try XCTUnwrap(pp["75"]) - XCTUnwrap(pp["25"])
        XCTAssertGreaterThan(jitteredCentre, plainCentre)
    }

    /// Run-to-run scatter of 0.01 on every row, 20 rows at a floor of 0.01 and 20 at 0.5 (1,000
    /// questions): Pearson's statistic makes the floor rows dominate (their binomial variance is 25×
    /// smaller); the ratio of sums gives the variance-weighted inflation.
    func testDispersionIsNotDominatedByRowsAtAFloorNearZero() {
        var y: [Double] = [], mean: [Double] = []
        for i in 0..<40 {
            let p = i < 20 ? 0.01 : 0.5
            let binomialSD = (p * (1 - p) / 1000).squareRoot()
            // ± (run scatter) ± (binomial scatter), in alternating signs: exact moments.
            let runSign: Double = i % 2 == 0 ? 1 : -1
            let binomialSign: Double = i % 4 < 2 ? 1 : -1
            let e = runSign * 0.01 + binomialSign * binomialSD
            y.append(p + e)
            mean.append(p)
        }
        let questions = [Double](repeating: 1000, count: 40)
        let phi = MaximumLikelihood.dispersion(y: y, mean: mean, questions: questions, multiplicity: nil, parameters: 6)
        var pearson = 0.0
        for i in 0..<40 { pearson += 1000 * (y[i] - mean[i]) * (y[i] - mean[i]) / (mean[i] * (1 - mean[i])) }
        pearson /= 34
        XCTAssertGreaterThan(pearson, 5)
        // Σ e² / Σ binomial variance = (40·1e-4 + Σ p(1−p)/n) / Σ p(1−p)/n ≈ 1.77, times 40/34.
        XCTAssertEqual(phi, 2.08, accuracy: 0.05)
        // Pure binomial scatter gives 1, up to the degrees of freedom m/(m − p).
        var binomialOnly: [Double] = []
        for i in 0..<40 {
            let sign: Double = i % 2 == 0 ? 1 : -1
            let sd: Double = (mean[i] * (1 - mean[i]) / 1000).squareRoot()
            binomialOnly.append(mean[i] + sign * sd)
        }
        XCTAssertEqual(MaximumLikelihood.dispersion(y: binomialOnly, mean: mean, questions: questions, multiplicity: nil, parameters: 6),
                       40.0 / 34, accuracy: 1e-9)
    }

    /// The MCMC's Gaussian likelihood with loss noise: σ_x = 0 gives −n·ln σ − RSS/(2σ²); σ_x > 0
    /// widens only the rows past their elbow, so with the slope A = 0 nothing changes.
    func testLossNoiseLikelihoodWidensOnlyLiftedRows() throws {
        let s = try XCTUnwrap(SimulationScenario.named["mmlu-like"])
        let rows = Simulator.simulate(s, seed: 4).evaluations.filter { ($0.effectiveFlops ?? 0) <= 2e22 }
        let model = EmergenceModel(data: FitData(rows, d0: 5), form: .logPower, withDelta: true)
        let theta = [0.02, 1.5, 1.8, 1.2, 0.25, 0.0]
        let sigma = 0.02, n = Double(model.data.count)
        let plain = theta.withUnsafeBufferPointer { model.gaussianLogLikelihood($0, sigma: sigma, lossSD: 0) }
        let rss = theta.withUnsafeBufferPointer { model.rss($0) }
        XCTAssertEqual(plain, -n * log(sigma) - rss / (2 * sigma * sigma), accuracy: 1e-9 * abs(plain))
        let noisy = theta.withUnsafeBufferPointer { model.gaussianLogLikelihood($0, sigma: sigma, lossSD: 0.01) }
        XCTAssertNotEqual(noisy, plain)
        var flat = theta
        flat[EmergenceModel.a] = 0
        let flatPlain = flat.withUnsafeBufferPointer { model.gaussianLogLikelihood($0, sigma: sigma, lossSD: 0) }
        let flatNoisy = flat.withUnsafeBufferPointer { model.gaussianLogLikelihood($0, sigma: sigma, lossSD: 0.01) }
        XCTAssertEqual(flatPlain, flatNoisy, accuracy: 1e-12)
    }

    /// The rows of one checkpoint share its loss error: the likelihood equals the multivariate
    /// normal density with covariance diag(σ² + τ²·finetuned) + σ_x²·u uᵀ per checkpoint (u_i = A on
    /// lifted rows), computed here densely by Cholesky, not by the rank-one identities; and with
    /// each row's binomial variance added to the diagonal.
    func testLossNoiseLikelihoodIsTheCheckpointsJointDensity() throws {
        let s = try XCTUnwrap(SimulationScenario.named["mmlu-like"])
        let rows = Simulator.simulate(s, seed: 4).evaluations.filter { ($0.effectiveFlops ?? 0) <= 2e22 }
        let model = EmergenceModel(data: FitData(rows, d0: 5), form: .logPower, withDelta: true)
        let theta = [0.02, 1.5, 1.8, 1.2, 0.25, 0.0]
        let sigma = 0.02, lossSD = 0.01, runSD = 0.008
        let fast = theta.withUnsafeBufferPointer { model.gaussianLogLikelihood($0, sigma: sigma, lossSD: lossSD, runSD: runSD) }
        let binomial = model.binomialVariance(at: theta)
        XCTAssertGreaterThan(binomial.filter { $0 > 0 }.count, model.data.count / 2, "rows with n_questions and a mean inside (0, 1)")
        let weighted = theta.withUnsafeBufferPointer { t in
            binomial.withUnsafeBufferPointer { model.gaussianLogLikelihood(t, sigma: sigma, lossSD: lossSD, runSD: runSD, binomialVariance: $0) }
        }
        let data = model.data
        let mean = model.mean(theta)
        var elbows = [Double](repeating: 0, count: data.groupD.count)
        model.elbows(theta, into: &elbows)
        func dense(binomial: [Double]?) -> (Double, Int) {
            var dense = 0.0, sharedRows = 0
            for cp in 0..<data.checkpointCount {
                let idx = (0..<data.count).filter { data.checkpoint[$0] == cp }
                let m = idx.count
                guard m > 0 else { continue }
                var cov = [Double](repeating: 0, count: m * m)
                let u = idx.map { elbows[data.group[$0]] > data.x[$0] ? theta[EmergenceModel.a] : 0 }
                sharedRows += u.filter { $0 > 0 }.count > 1 ? 1 : 0
                for a in 0..<m {
                    for b in 0..<m { cov[a * m + b] = lossSD * lossSD * u[a] * u[b] }
                    cov[a * m + a] += sigma * sigma + (data.fewShot[idx[a]] == 0 ? runSD * runSD : 0) + (binomial?[idx[a]] ?? 0)
                }
                let r = idx.map { data.y[$0] - mean[$0] }
                // Cholesky L Lᵀ = cov; log det = 2 Σ ln L_ii; rᵀ cov⁻¹ r = |L⁻¹ r|².
                var l = [Double](repeating: 0, count: m * m)
                for i in 0..<m {
                    for j in 0...i {
                        var sum = cov[i * m + j]
                        for k in 0..<j { sum -= l[i * m + k] * l[j * m + k] }
                        l[i * m + j] = i == j ? sum.squareRoot() : sum / l[j * m + j]
                    }
                }
                var z = [Double](repeating: 0, count: m)
                for i in 0..<m {
                    var sum = r[i]
                    for k in 0..<i { sum -= l[i * m + k] * z[k] }
                    z[i] = sum / l[i * m + i]
                }
                dense += -0.5 * ((0..<m).map { 2 * log(l[$0 * m + $0]) }.reduce(0, +) + z.map { $0 * $0 }.reduce(0, +))
            }
            return (dense, sharedRows)
        }
        let (plainDense, sharedRows) = dense(binomial: nil)
        XCTAssertGreaterThan(sharedRows, 2, "the test needs checkpoints with several lifted rows")
        XCTAssertEqual(fast, plainDense, accuracy: 1e-9 * abs(plainDense))
        // With each row's binomial variance on the diagonal as well.
        let weightedDense = dense(binomial: binomial).0
        XCTAssertEqual(weighted, weightedDense, accuracy: 1e-9 * abs(weightedDense))
        XCTAssertNotEqual(weighted, fast)
    }

    /// The binomial variance is μ̂(1 − μ̂)/n at the fitted means, 0 where the floor is 0 and where
    /// n_questions is unknown (the likelihood is then the homoscedastic one).
    func testBinomialVarianceFollowsTheFittedMeans() throws {
        let s = try XCTUnwrap(SimulationScenario.named["mmlu-like"])
        let rows = Simulator.simulate(s, seed: 4).evaluations.filter { ($0.effectiveFlops ?? 0) <= 2e22 }
        let theta = [0.02, 1.5, 1.8, 1.2, 0.0, 0.0]   // floor B = 0
        let model = EmergenceModel(data: FitData(rows, d0: 5), form: .logPower, withDelta: true)
        let mean = model.mean(theta)
        let v = model.binomialVariance(at: theta)
        for i in 0..<model.data.count {
            let m = min(max(mean[i], 0), 1)
            XCTAssertEqual(v[i], m * (1 - m) / model.data.questions[i], accuracy: 1e-15)
        }
        XCTAssertTrue(v.contains(0), "rows at the floor 0 have no binomial scatter")
        XCTAssertTrue(v.contains { $0 > 0 }, "lifted rows have")
        let unknown = rows.map { r -> Evaluation in var r = r; r.nQuestions = nil; return r }
        let blind = EmergenceModel(data: FitData(unknown, d0: 5), form: .logPower, withDelta: true)
        XCTAssertTrue(blind.binomialVariance(at: theta).allSatisfy { $0 == 0 })
    }

    /// Replicate subsets with binomial scatter plus a run-to-run SD of 0.015: the estimate is near
    /// 0.015; without replicates (one subset) or without n_questions there is none.
    func testRunNoiseIsEstimatedFromReplicateSubsets() throws {
        var rng = SeededRandom(seed: 5)
        var rows: [Evaluation] = []
        for c in 0..<12 {
            for d in [1000.0, 4000, 16000] {
                for subset in 1...3 {
                    let p = 0.3 + 0.01 * Double(c) + 0.015 * rng.normal()
                    let y = Double(rng.binomial(n: 1000, p: p)) / 1000
                    rows.append(Evaluation(checkpoint: "c\(c)", pretrainLoss: 2.5 - 0.05 * Double(c), setting: .finetuned,
                                           finetuneExamples: d, subset: "\(subset)", accuracy: y, nQuestions: 1000))
                }
            }
        }
        let tau = try XCTUnwrap(RunNoise.estimate(FitData(rows, d0: 5)))
        XCTAssertEqual(tau, 0.015, accuracy: 0.004)
        XCTAssertNil(RunNoise.estimate(FitData(rows.filter { $0.subset == "1" }, d0: 5)))
        let unknownN = rows.map { e -> Evaluation in var e = e; e.nQuestions = nil; return e }
        XCTAssertNil(RunNoise.estimate(FitData(unknownN, d0: 5)))
    }
}
