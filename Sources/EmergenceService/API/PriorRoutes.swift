import EmergenceCore
import Foundation
import HTTP
import Ingestion

/// `GET /v1/priors/alpha[?pool=TAG]`: the lab's pooled prior on α (PooledAlphaPrior) and what it was
/// estimated from: the studies used, with what each one's own data say of α, and those left out, with
/// why. Without `pool`, every study of the service pools.
extension ServiceAPI {
    var priorRoutes: [Route] {
        [Route("GET", "/v1/priors/alpha", .read, pooledAlphaPrior)]
    }

    struct PooledPriorDocument: Encodable {
        struct Used: Encodable {
            var study_id: Int
            var study: String
            var fit_id: Int?
            var alpha: Double
            var alpha_90: [Double]
        }
        struct LeftOut: Encodable {
            var study_id: Int
            var study: String
            var fit_id: Int?
            var reason: String
        }
        var pool: String?
        var form: String
        var estimated_at: String
        /// How many studies fed the estimate (0 when there is none).
        var studies: Int
        var minimum_studies: Int
        /// null when fewer than `minimum_studies` can feed it.
        var mu: Double?
        var tau: Double?
        var mu_90: [Double]?
        var tau_90: [Double]?
        /// The prior a study's fit with `alpha_prior: "pooled"` gets (its own study left out of it).
        var prior: AlphaPrior?
        var used: [Used]
        var left_out: [LeftOut]

        func encode(to encoder: Encoder) throws {
            enum K: String, CodingKey { case pool, form, estimated_at, studies, minimum_studies, mu, tau, mu_90, tau_90, prior, used, left_out }
            var c = encoder.container(keyedBy: K.self)
            try c.encode(pool, forKey: .pool); try c.encode(form, forKey: .form); try c.encode(estimated_at, forKey: .estimated_at)
            try c.encode(studies, forKey: .studies); try c.encode(minimum_studies, forKey: .minimum_studies)
            try c.encode(mu, forKey: .mu); try c.encode(tau, forKey: .tau); try c.encode(mu_90, forKey: .mu_90)
            try c.encode(tau_90, forKey: .tau_90); try c.encode(prior, forKey: .prior)
            try c.encode(used, forKey: .used); try c.encode(left_out, forKey: .left_out)
        }
    }

    func pooledAlphaPrior(_ request: HTTPRequest) throws -> HTTPResponse {
        var pool: String? = nil
        if let raw = request.query("pool") {
            guard StudyDraft.isPoolTag(raw) else {
                throw APIError.badParameter("pool", "must be 1 to 100 characters of letters, digits, '.', '_' and '-'")
            }
            pool = raw
        }
        return try json(200, try pooledPriorDocument(pool: pool))
    }

    func pooledPriorDocument(pool: String?) throws -> PooledPriorDocument {
        let snap = try priors.snapshot(pool: pool)
        let byID = Dictionary(uniqueKeysWithValues: snap.inputs.map { ($0.studyID, $0) })
        let e = snap.estimate
        let used = (e?.used ?? []).compactMap { u -> PooledPriorDocument.Used? in
            guard let id = Int(u.study), let input = byID[id] else { return nil }
            return .init(study_id: id, study: input.name, fit_id: input.fitID, alpha: u.alpha, alpha_90: u.alpha90)
        }
        // Without an estimate every study is listed with its reason, or as "too_few" when it could feed one.
        let leftOut: [PooledPriorDocument.LeftOut]
        if let e {
            leftOut = e.leftOut.compactMap { l in
                guard let id = Int(l.study), let input = byID[id] else { return nil }
                return .init(study_id: id, study: input.name, fit_id: input.fitID, reason: l.reason)
            }
        } else {
            leftOut = snap.inputs.map { i in
                let reason = PooledAlphaPrior.exclusion(.init(study: "", status: i.status, profile: i.profile), form: .logPower) ?? "too_few"
                return .init(study_id: i.studyID, study: i.name, fit_id: i.fitID, reason: reason)
            }
        }
        return PooledPriorDocument(pool: pool, form: FitOptions.Form.logPower.rawValue, estimated_at: snap.estimatedAt,
                                   studies: e?.studies ?? 0, minimum_studies: PooledAlphaPrior.minimumStudies,
                                   mu: e?.mu, tau: e?.tau, mu_90: e?.mu90, tau_90: e?.tau90,
                                   prior: e.map { AlphaPrior(median: $0.prior.median, logSD: $0.prior.logSD) },
                                   used: used, left_out: leftOut)
    }
}
