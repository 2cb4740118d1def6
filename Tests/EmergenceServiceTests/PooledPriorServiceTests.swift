@testable import EmergenceCore
import Foundation
import XCTest
@testable import EmergenceService
@testable import Jobs

/// The lab's pooled α prior end to end, on the engine's real fits: studies simulated from one lab
/// (the mmlu-like design, ln α within a few hundredths of ln 1.5) uploaded and fitted,
/// `GET /v1/priors/alpha` with μ̂, τ̂ and the studies used, a fit with `alpha_prior: "pooled"` that
/// records its prior, the study page's two lines, and a later study that moves the prior and queues
/// the pooled studies' auto refits. Fits skip the intervals (`uncertainty: none`): the prior enters
/// the point fit and the α profile, which is what pools; the intervals' part has its own tests and
/// `emergence calibrate --lab` measures the whole.
final class PooledPriorServiceTests: XCTestCase {
    /// The mmlu-like study with curvature `alpha`, its slope k re-solved so that the elbow at the
    /// largest amount stays where the scenario puts it (as the calibration labs do).
    private func csv(alpha: Double, seed: UInt64) -> String {
        var s = SimulationScenario.named["mmlu-like"] ?? SimulationScenario(name: "", emergenceLoss: 1.85, k: 0.0135, alpha: 1.5,
                                                                            A: 0.8, B: 0.25, shots: 5, dataAmounts: [1000], questions: 2000)
        let g = { (a: Double, d: Double) in EmergenceLaw.basis(s.form, alpha: a, d: d) }
        let d0 = Double(s.shots), dMax = s.dataAmounts.max() ?? d0
        let top = s.emergenceLoss + s.k * (g(s.alpha, dMax) - g(s.alpha, d0))
        s.alpha = alpha
        s.k = (top - s.emergenceLoss) / (g(alpha, dMax) - g(alpha, d0))
        return Simulator.csv(Simulator.simulate(s, seed: seed).evaluations)
    }

    static let fitOptions = #""uncertainty": "none", "max_flops": 2e22"#

    /// Creates study `name` in `pool`, uploads its rows and fits it plainly; returns the fit's id.
    @discardableResult
    private func study(_ t: TestService, _ name: String, pool: String, alpha: Double, seed: UInt64) throws -> Int {
        let id = try queue(t, name, pool: pool, alpha: alpha, seed: seed)
        XCTAssertEqual(try t.waitForFit(id)["status"] as? String, "succeeded")
        return id
    }

    /// The same without waiting for the fit: the twelve are queued at once, and the pool's two
    /// workers fit them side by side.
    private func queue(_ t: TestService, _ name: String, pool: String, alpha: Double, seed: UInt64) throws -> Int {
        let created = try t.request("POST", "/v1/studies", body: #"{"name": "\#(name)", "pool": "\#(pool)"}"#)
        XCTAssertEqual(created.status, 201, created.text)
        XCTAssertEqual(created.json["pool"] as? String, pool)
        let up = try t.request("POST", "/v1/studies/\(name)/evaluations", body: csv(alpha: alpha, seed: seed), headers: [("Content-Type", "text/csv")])
        XCTAssertEqual(up.status, 200, up.text)
        let fit = try t.request("POST", "/v1/studies/\(name)/fits", body: "{\(Self.fitOptions)}")
        XCTAssertEqual(fit.status, 202, fit.text)
        return try XCTUnwrap(fit.json["id"] as? Int)
    }

    func testPooledPriorEndToEnd() throws {
        let t = try TestService(workers: 2, configure: { $0.autoFitQuiet = 0.2 }, runner: JobWorkerPool.emergenceFit)
        defer { t.close() }
        // The pool tag is checked where it is given.
        let bad = try t.request("POST", "/v1/studies", body: #"{"name": "x", "pool": "a b"}"#)
        XCTAssertEqual(bad.status, 422)
        XCTAssertEqual(bad.errors.first?["field"] as? String, "pool")
        XCTAssertEqual(try t.request("GET", "/v1/priors/alpha?pool=a%20b").status, 400)

        // Twelve studies of one lab whose α agree (ln α within ±0.04 of ln 1.5).
        var queued: [Int] = []
        for i in 0..<12 {
            let alpha = 1.5 * exp(0.02 * Double(i % 5 - 2))
            queued.append(try queue(t, "task-\(i)", pool: "lab-a", alpha: alpha, seed: UInt64(i + 1)))
        }
        // A study of another pool does not feed this one.
        queued.append(try queue(t, "other", pool: "lab-b", alpha: 3, seed: 100))
        for id in queued { XCTAssertEqual(try t.waitForFit(id)["status"] as? String, "succeeded") }

        let prior = try t.request("GET", "/v1/priors/alpha?pool=lab-a")
        XCTAssertEqual(prior.status, 200, prior.text)
        XCTAssertEqual(prior.json["studies"] as? Int, 12)
        XCTAssertEqual(prior.json["pool"] as? String, "lab-a")
        let mu = try XCTUnwrap(prior.json["mu"] as? Double), tau = try XCTUnwrap(prior.json["tau"] as? Double)
        XCTAssertEqual(mu, log(1.5), accuracy: 0.15)
        XCTAssertLessThan(tau, 0.2)
        XCTAssertEqual((prior.json["used"] as? [[String: Any]])?.count, 12)
        XCTAssertEqual(Set((prior.json["used"] as? [[String: Any]])?.compactMap { $0["study"] as? String } ?? []),
                       Set((0..<12).map { "task-\($0)" }))
        XCTAssertNotNil(prior.json["estimated_at"] as? String)
        XCTAssertNotNil((prior.json["mu_90"] as? [Double]).map { $0[0] <= mu && mu <= $0[1] })
        // Without a pool: every study, the other pool's too.
        XCTAssertEqual(try t.request("GET", "/v1/priors/alpha").json["studies"] as? Int, 13)

        // A fit with the pooled prior records it: μ, τ, how many studies (itself left out), when.
        let fit = try t.request("POST", "/v1/studies/task-0/fits", body: "{\"alpha_prior\": \"pooled\", \(Self.fitOptions)}")
        XCTAssertEqual(fit.status, 202, fit.text)
        let done = try t.waitForFit(try XCTUnwrap(fit.json["id"] as? Int))
        let used = try XCTUnwrap((done["result"] as? [String: Any])?["alpha_prior"] as? [String: Any])
        let pooled = try XCTUnwrap(used["pooled"] as? [String: Any])
        XCTAssertEqual(pooled["studies"] as? Int, 11)
        XCTAssertEqual(pooled["pool"] as? String, "lab-a")
        XCTAssertEqual(pooled["excluded"] as? String, "task-0")
        XCTAssertEqual(try XCTUnwrap(pooled["mu"] as? Double), mu, accuracy: 0.05)
        XCTAssertNotNil(pooled["estimated_at"] as? String)
        // The prior handed out is the predictive mixture over τ, its summary the moment-matched normal.
        let mixture = try XCTUnwrap(used["mixture"] as? [[String: Any]])
        XCTAssertGreaterThan(mixture.count, 1)
        XCTAssertEqual(mixture.compactMap { $0["weight"] as? Double }.reduce(0, +), 1, accuracy: 1e-9)
        // The fit leaned on it: its α is nearer the lab's than the plain fit's was, or both already agree.
        let result = try XCTUnwrap(done["result"] as? [String: Any])
        let pooledAlpha = try XCTUnwrap((result["parameters"] as? [String: Any])?["alpha"] as? Double)
        let plainAlpha = try XCTUnwrap((result["without_prior"] as? [String: Any])?["alpha"] as? Double)
        XCTAssertLessThanOrEqual(abs(log(pooledAlpha) - mu), abs(log(plainAlpha) - mu) + 1e-6)
        XCTAssertEqual(((done["options"] as? [String: Any])?["alpha_prior"] as? [String: Any])?["median"] as? Double,
                       used["median"] as? Double)

        // The study page shows both lines.
        let page = try t.request("GET", "/studies/task-0").text
        XCTAssertTrue(page.contains("With the lab&#39;s prior, pooled from 11 studies of pool lab-a") || page.contains("With the lab's prior, pooled from 11 studies of pool lab-a"), page)
        XCTAssertTrue(page.contains("From this study alone: E* = "), page)

        // Too few studies in a pool: refused, naming the option.
        try study(t, "lonely", pool: "lab-c", alpha: 1.5, seed: 200)
        let refused = try t.request("POST", "/v1/studies/lonely/fits", body: #"{"alpha_prior": "pooled"}"#)
        XCTAssertEqual(refused.status, 409, refused.text)
        XCTAssertEqual(refused.errors.first?["field"] as? String, "alpha_prior")
        // Under the power form α is another quantity: no pooled prior for it.
        let power = try t.request("POST", "/v1/studies/task-1/fits", body: #"{"alpha_prior": "pooled", "form": "power"}"#)
        XCTAssertEqual(power.status, 409, power.text)
        XCTAssertEqual(power.errors.first?["field"] as? String, "alpha_prior")
        // A workflow job cannot ask for it (its options are not resolved): refused, naming the option.
        let workflow = try t.request("POST", "/v1/studies/task-1/observations", body: #"{"alpha_prior": "pooled"}"#)
        XCTAssertEqual(workflow.status, 422, workflow.text)
        XCTAssertEqual(workflow.errors.first?["field"] as? String, "alpha_prior")
        // A mixture a client sends is checked like the rest of the prior: weights that do not sum to 1
        // are refused, naming the field.
        let mixed = try t.request("POST", "/v1/studies/lonely/fits", body: #"{"alpha_prior": {"median": 1.5, "log_sd": 0.3, "mixture": [{"weight": 0.5, "median": 1.5, "log_sd": 0.1}, {"weight": 0.4, "median": 1.5, "log_sd": 0.5}]}}"#)
        XCTAssertEqual(mixed.status, 422, mixed.text)
        XCTAssertEqual(mixed.errors.first?["field"] as? String, "alpha_prior.mixture")
        // A hand-made provenance is not an option a client may send.
        let forged = try t.request("POST", "/v1/studies/lonely/fits", body: #"{"alpha_prior": {"median": 1, "log_sd": 0.3, "pooled": {}}}"#)
        XCTAssertEqual(forged.status, 422, forged.text)

        // task-0 refits by itself with the pooled prior; a 13th study that bends differently moves the
        // prior, and the refit follows.
        let patched = try t.request("PATCH", "/v1/studies/task-0", body: "{\"auto_fit\": {\"alpha_prior\": \"pooled\", \(Self.fitOptions)}}")
        XCTAssertEqual(patched.status, 200, patched.text)
        XCTAssertEqual((patched.json["auto_fit"] as? [String: Any])?["alpha_prior"] as? String, "pooled")
        let before = try jobs(t, "task-0").count
        try study(t, "task-12", pool: "lab-a", alpha: 4, seed: 13)
        XCTAssertEqual(try t.request("GET", "/v1/priors/alpha?pool=lab-a").json["studies"] as? Int, 13)
        let deadline = Date().addingTimeInterval(30)
        var list = try jobs(t, "task-0")
        while list.count == before && Date() < deadline { Thread.sleep(forTimeInterval: 0.02); list = try jobs(t, "task-0") }
        XCTAssertEqual(list.count, before + 1, "the moved prior queued task-0's auto refit")
        let refit = try XCTUnwrap(list.first)
        XCTAssertEqual(refit["auto"] as? Bool, true)
        let refitDone = try t.waitForFit(try XCTUnwrap(refit["id"] as? Int))
        let refitPrior = (((refitDone["result"] as? [String: Any])?["alpha_prior"] as? [String: Any])?["pooled"] as? [String: Any])
        XCTAssertEqual(refitPrior?["studies"] as? Int, 12)
        // Settled: the refit itself moves nothing, so no further refit is queued.
        Thread.sleep(forTimeInterval: 0.6)
        XCTAssertEqual(try jobs(t, "task-0").count, before + 1)

        // The 13th study itself, with the lab's prior: its own data disagree with the lab, and the page
        // says so in words.
        let odd = try t.request("POST", "/v1/studies/task-12/fits", body: "{\"alpha_prior\": \"pooled\", \(Self.fitOptions)}")
        XCTAssertEqual(odd.status, 202, odd.text)
        XCTAssertEqual(try t.waitForFit(try XCTUnwrap(odd.json["id"] as? Int))["status"] as? String, "succeeded")
        let oddPage = try t.request("GET", "/studies/task-12").text
        XCTAssertTrue(oddPage.contains("The two disagree"), oddPage)
        XCTAssertTrue(oddPage.contains("From this study alone: E* = "), oddPage)

        // Leaving the pool is a change of task-0's prior too: a study moved out refits task-0 again.
        let moved = try t.request("PATCH", "/v1/studies/task-12", body: #"{"pool": "lab-b"}"#)
        XCTAssertEqual(moved.status, 200, moved.text)
        XCTAssertEqual(moved.json["pool"] as? String, "lab-b")
        let until = Date().addingTimeInterval(30)
        var after = try jobs(t, "task-0")
        while after.count == before + 1 && Date() < until { Thread.sleep(forTimeInterval: 0.02); after = try jobs(t, "task-0") }
        XCTAssertEqual(after.count, before + 2, "the prior moved back when task-12 left the pool")
        XCTAssertEqual(try t.request("GET", "/v1/priors/alpha?pool=lab-a").json["studies"] as? Int, 12)
    }

    private func jobs(_ t: TestService, _ study: String) throws -> [[String: Any]] {
        try t.request("GET", "/v1/studies/\(study)/jobs").json["jobs"] as? [[String: Any]] ?? []
    }
}
