import XCTest
@testable import EmergenceCore

/// The lab's pooled prior on ln α (PooledAlphaPrior.swift): it recovers μ and τ from studies' profile
/// likelihoods, a flat profile weighs nothing, τ grows when the studies disagree, and "pooled" is an
/// option the engine refuses unresolved.
final class PooledAlphaPriorTests: XCTestCase {
    /// A quadratic profile: what a study whose data put ln α at `centre` with SD `sd` would report.
    func profile(_ centre: Double, sd: Double) -> AlphaProfile {
        let lo = log(0.05), hi = log(6.0)
        let xs = (0..<25).map { lo + (hi - lo) * Double($0) / 24 }
        return AlphaProfile(form: .logPower, lnAlpha: xs, deviance: xs.map { pow(($0 - centre) / sd, 2) })
    }

    func members(_ centres: [Double], sd: Double) -> [PooledAlphaPrior.Member] {
        centres.enumerated().map { .init(study: "s\($0.offset)", status: "ok", profile: profile($0.element, sd: sd)) }
    }

    func testRecoversMuAndTau() throws {
        // 40 studies, ln α_i ~ N(ln 1.5, 0.3²), each measured with SD 0.15.
        var rng = SeededRandom(seed: 7)
        let mu = log(1.5), tau = 0.3
        let centres = (0..<40).map { _ in mu + tau * rng.normal() + 0.15 * rng.normal() }
        let e = try XCTUnwrap(PooledAlphaPrior.estimate(members(centres, sd: 0.15)))
        XCTAssertEqual(e.studies, 40)
        XCTAssertEqual(e.mu, mu, accuracy: 0.12)
        XCTAssertEqual(e.tau, tau, accuracy: 0.1)
        XCTAssertTrue(e.mu90[0] <= e.mu && e.mu <= e.mu90[1])
        XCTAssertTrue(e.tau90[0] <= tau && tau <= e.tau90[1], "\(e.tau90)")
        // The predictive prior is centred near μ̂ and at least as wide as τ̂.
        XCTAssertEqual(log(e.prior.median), e.mu, accuracy: 0.05)
        XCTAssertGreaterThanOrEqual(e.prior.logSD, e.tau)
        XCTAssertEqual(e.used.count, 40)
    }

    func testFlatProfilesContributeNothing() throws {
        let sharp = members([0.3, 0.35, 0.4, 0.32, 0.38], sd: 0.1)
        let base = try XCTUnwrap(PooledAlphaPrior.estimate(sharp))
        // A nearly flat profile (α not identified) is left out, with its reason; one with a small
        // curvature that passes stays, and moves nothing much.
        let flat = PooledAlphaPrior.Member(study: "flat", status: "not_identified", profile: profile(1.5, sd: 20))
        let weak = PooledAlphaPrior.Member(study: "weak", status: "ok", profile: profile(1.5, sd: 4))
        let more = try XCTUnwrap(PooledAlphaPrior.estimate(sharp + [flat, weak]))
        XCTAssertEqual(more.leftOut, [.init(study: "flat", reason: "flat_profile")])
        XCTAssertEqual(more.mu, base.mu, accuracy: 0.03)
        XCTAssertEqual(more.prior.median, base.prior.median, accuracy: 0.05 * base.prior.median)
        // Studies without a fit, without a signal, or of another form are listed as left out.
        let others: [PooledAlphaPrior.Member] = [
            .init(study: "none", status: nil, profile: nil),
            .init(study: "quiet", status: "no_signal", profile: profile(0, sd: 0.1)),
            .init(study: "power", status: "ok", profile: AlphaProfile(form: .power, lnAlpha: [-3, -2], deviance: [0, 5])),
            // A stored profile that is not one (unsorted, NaN) is read as no profile at all.
            .init(study: "bad", status: "ok", profile: AlphaProfile(form: .logPower, lnAlpha: [0, -1, 1], deviance: [0, .nan, 4])),
        ]
        let all = try XCTUnwrap(PooledAlphaPrior.estimate(sharp + others, excluding: "s0"))
        XCTAssertEqual(Set(all.leftOut.map(\.reason)), ["no_fit", "no_signal", "other_form", "excluded"])
        XCTAssertEqual(all.leftOut.first { $0.study == "bad" }?.reason, "no_fit")
        XCTAssertEqual(all.studies, 4)
        // Too few: no estimate.
        XCTAssertNil(PooledAlphaPrior.estimate(Array(sharp.prefix(2))))
    }

    func testTauGrowsWhenStudiesDisagree() throws {
        let agree = try XCTUnwrap(PooledAlphaPrior.estimate(members([0.40, 0.42, 0.38, 0.41, 0.39, 0.40], sd: 0.1)))
        let disagree = try XCTUnwrap(PooledAlphaPrior.estimate(members([-0.2, 1.0, -0.1, 0.9, -0.25, 1.05], sd: 0.1)))
        XCTAssertEqual(agree.tau90[0], 0)
        XCTAssertLessThan(agree.tau, 0.1)
        XCTAssertGreaterThan(disagree.tau, 0.4)
        XCTAssertGreaterThan(disagree.prior.logSD, 3 * agree.prior.logSD)
    }

    func testPooledOptionCodingAndRefusal() throws {
        let o = try JSONDecoder().decode(FitOptions.self, from: Data(#"{"alpha_prior": "pooled"}"#.utf8))
        XCTAssertTrue(o.alphaPriorPooled)
        XCTAssertNil(o.alphaPrior)
        let text = String(decoding: try JSONEncoder().encode(o), as: UTF8.self)
        XCTAssertTrue(text.contains(#""alpha_prior":"pooled""#), text)
        XCTAssertThrowsError(try JSONDecoder().decode(FitOptions.self, from: Data(#"{"alpha_prior": "lab"}"#.utf8)))
        // Resolved, it carries its provenance and round-trips.
        let estimate = try XCTUnwrap(PooledAlphaPrior.estimate(members([0.3, 0.4, 0.5], sd: 0.1)))
        var resolved = o
        resolved.alphaPrior = estimate.resolved(pool: "llama", excluded: "s9", estimatedAt: "2026-01-01T00:00:00Z")
        let back = try JSONDecoder().decode(FitOptions.self, from: JSONEncoder().encode(resolved))
        XCTAssertEqual(back, resolved)
        XCTAssertEqual(back.alphaPrior?.pooled?.pool, "llama")
        // The engine refuses "pooled" left unresolved.
        let rows = Simulator.simulate(SimulationScenario.named["mmlu-like"]!, seed: 1).evaluations
        XCTAssertThrowsError(try EmergenceFit.run(rows, options: o)) { error in
            guard case FitError.invalidOptions(let p) = error else { return XCTFail("\(error)") }
            XCTAssertEqual(p.map(\.field), ["alpha_prior"])
        }
    }

    /// A simulated lab: every study fitted plain and pooled, the same studies in both reports, the
    /// prior handed to each (one lab of four: about 9 s in a debug build).
    func testSimulatedLabScoresBothFitsOnTheSameStudies() throws {
        var o = FitOptions()
        o.uncertainty = .none
        let a = Calibration.runLabs(kind: .coherent, size: 4, labs: 1, seed: 3, options: o, threads: 1)
        XCTAssertEqual(a.plain.studies, 4)
        XCTAssertEqual(a.pooled.studies, 4)
        XCTAssertEqual(a.withPrior, 4, "each study had 3 neighbours")
        XCTAssertTrue(a.pooled.options.alphaPriorPooled)
        XCTAssertNotNil(a.medianPriorLogSD)
        XCTAssertEqual(a.pooled.statuses.values.reduce(0, +), 4)
        // Incoherent labs draw two clusters a factor 2.5 apart.
        var rng = SeededRandom(seed: 1)
        let alphas = Calibration.labDraw(&rng, kind: .incoherent, size: 200).alphas.map(log)
        let centre = alphas.reduce(0, +) / 200
        XCTAssertGreaterThan(alphas.filter { abs($0 - centre) > 0.25 }.count, 150)
    }

    /// `--pooled-prior exact` hands each study the distribution its lab's α were drawn from: the
    /// prior's central 90% holds about 90% of a lab's draws, for both kinds.
    func testExactLabPriorIsTheLabsDistribution() throws {
        for kind in Calibration.LabKind.allCases {
            var rng = SeededRandom(seed: 11)
            let (centre, alphas) = Calibration.labDraw(&rng, kind: kind, size: 2000)
            let prior = Calibration.labExactPrior(kind: kind, centre: centre)
            XCTAssertTrue(prior.problems(form: .logPower).isEmpty, "\(kind)")
            let lo = prior.logQuantile(0.05), hi = prior.logQuantile(0.95)
            let held = Double(alphas.filter { (lo...hi).contains(log($0)) }.count) / 2000
            XCTAssertEqual(held, 0.90, accuracy: 0.02, "\(kind)")
        }
        var o = FitOptions()
        o.uncertainty = .none
        let a = Calibration.runLabs(kind: .incoherent, size: 4, labs: 1, seed: 3, options: o, threads: 1, prior: .exact)
        XCTAssertEqual(a.withPrior, 4, "no pooling: every study gets the lab's prior")
        XCTAssertEqual(a.pooledPrior, "exact")
        XCTAssertEqual(a.pooled.studies, 4)
    }

    /// A fit records its α profile (the plain likelihood's), and under a prior the prior it used and
    /// the plain answer beside it.
    func testFitRecordsProfileAndPrior() throws {
        let rows = Simulator.simulate(SimulationScenario.named["mmlu-like"]!, seed: 3).evaluations
        var o = FitOptions()
        o.maxFlops = 2e22
        o.uncertainty = .none
        let plain = try EmergenceFit.run(rows, options: o, threads: 1)
        let p = try XCTUnwrap(plain.alphaProfile)
        XCTAssertGreaterThan(p.lnAlpha.count, 10)
        // Against the MLE (off the grid), so the least deviance on the grid is small but need not be 0.
        XCTAssertTrue(p.deviance.allSatisfy { $0 >= 0 })
        XCTAssertLessThan(p.deviance.min() ?? 9, 1)
        let alphaHat = try XCTUnwrap(plain.parameters?.alpha)
        XCTAssertEqual(try XCTUnwrap(p.mode), log(alphaHat), accuracy: 0.21)
        XCTAssertNil(plain.alphaPrior)
        o.alphaPrior = AlphaPrior(median: 1.5, logSD: 0.2)
        let prior = try EmergenceFit.run(rows, options: o, threads: 1)
        XCTAssertEqual(prior.alphaPrior, o.alphaPrior)
        XCTAssertEqual(prior.alphaProfile, p, "the profile is of the plain likelihood, whatever the prior")
        XCTAssertEqual(prior.withoutPrior?.emergenceLoss, plain.emergence.loss.mle)
    }
}
