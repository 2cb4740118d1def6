import EmergenceCore
import Foundation
import Jobs
import Storage

/// The lab's pooled prior on α (PooledAlphaPrior), from what the service already holds: each study's
/// newest succeeded fit records its α profile (`alpha_profile` in the result), so an estimate reads
/// one row per study and refits nothing. The estimate is cached by its exact inputs (every study's id
/// and the id of the fit its profile came from): a new fit, a study added, deleted or moved to
/// another pool changes the inputs, and so the estimate.
final class PooledPriors: Sendable {
    let database: Database

    /// One study's input: its id, name, pool tag, the fit the profile is from.
    struct Input: Sendable, Equatable {
        var studyID: Int
        var name: String
        var fitID: Int?
        var status: String?
        var profile: AlphaProfile?
    }

    struct Snapshot: Sendable {
        var inputs: [Input]
        var estimate: PooledAlphaPrior.Estimate?
        var estimatedAt: String
    }

    private struct Key: Hashable { var pool: String?; var excluded: Int?; var fits: [Int] }
    /// The latest estimate per (pool, study left out): a handful of entries, replaced on new inputs.
    private let cache = Lock<[Key: Snapshot]>([:])

    init(database: Database) { self.database = database }

    /// Every study of `pool` (nil: every study) with the profile of its newest succeeded fit.
    func inputs(pool: String?) throws -> [Input] {
        try database.read { c in
            try c.query("""
                SELECT s.id, s.name, f.id, json_extract(f.result, '$.status'), json_extract(f.result, '$.alpha_profile')
                FROM study AS s
                LEFT JOIN fit AS f ON f.id = (SELECT max(id) FROM fit WHERE study_id = s.id AND kind = 'fit' AND status = 'succeeded')
                WHERE ?1 IS NULL OR s.pool = ?1
                ORDER BY s.id
                """, [pool.map { .text($0) } ?? .null]) { s in
                Input(studyID: s.int(0) ?? 0, name: s.text(1) ?? "", fitID: s.int(2), status: s.text(3),
                      profile: s.text(4).flatMap { try? JSONDecoder().decode(AlphaProfile.self, from: Data($0.utf8)) })
            }
        }
    }

    /// The estimate for `pool`, leaving out study `excluding` (the one about to be fitted).
    func snapshot(pool: String?, excluding: Int? = nil) throws -> Snapshot {
        let inputs = try inputs(pool: pool)
        let key = Key(pool: pool, excluded: excluding, fits: inputs.flatMap { [$0.studyID, $0.fitID ?? 0] })
        if let hit = cache.withLock({ $0[key] }) { return hit }
        let members = inputs.map { PooledAlphaPrior.Member(study: String($0.studyID), status: $0.status, profile: $0.profile) }
        let estimate = PooledAlphaPrior.estimate(members, excluding: excluding.map(String.init))
        let snapshot = Snapshot(inputs: inputs, estimate: estimate, estimatedAt: Self.now())
        cache.withLock { cache in
            // Old inputs are never asked again once replaced: keep only the newest per (pool, excluded).
            for k in cache.keys where k.pool == pool && k.excluded == excluding { cache[k] = nil }
            cache[key] = snapshot
        }
        return snapshot
    }

    /// The prior a fit of `study` gets under `alpha_prior: "pooled"`: the pool's estimate without the
    /// study itself, with its provenance; nil when too few other studies can feed it.
    func prior(for study: Study) throws -> (AlphaPrior?, Snapshot) {
        let snap = try snapshot(pool: study.pool, excluding: study.id)
        return (snap.estimate?.resolved(pool: study.pool, excluded: study.name, estimatedAt: snap.estimatedAt), snap)
    }

    /// Fit options with `"pooled"` resolved for `study` (canonical JSON), or the reason it cannot be.
    func resolve(_ options: FitOptions, study: Study) throws -> Result<String, ValidationErrorText> {
        guard options.alphaPriorPooled && options.alphaPrior == nil else { return .success(try JobOptions.canonicalJSON(options)) }
        // The pool is of log-power laws: under the power form α is another quantity.
        guard options.form == .logPower else {
            return .failure(.init(reason: "the pooled prior is of the log_power form's α; under form \(options.form.rawValue) α is another quantity: fit with form log_power, or give alpha_prior as {median, log_sd}"))
        }
        let (prior, snap) = try prior(for: study)
        guard let prior else {
            let usable = (snap.estimate?.studies) ?? snap.inputs.filter {
                $0.studyID != study.id && PooledAlphaPrior.exclusion(.init(study: "", status: $0.status, profile: $0.profile), form: .logPower) == nil
            }.count
            return .failure(.init(reason: "no pooled prior yet: \(usable) other stud\(usable == 1 ? "y" : "ies") of \(study.pool.map { "pool \"\($0)\"" } ?? "the service") can feed it, and it needs \(PooledAlphaPrior.minimumStudies); fit more studies of the pool first (GET /v1/priors/alpha lists what each lacks), or give alpha_prior as {median, log_sd}"))
        }
        var resolved = options
        resolved.alphaPrior = prior
        return .success(try JobOptions.canonicalJSON(resolved))
    }

    struct ValidationErrorText: Error { var reason: String }

    /// Whether the prior a study's last pooled fit used and the prior it would get now differ
    /// materially: the centre moved by more than a tenth of the old prior's SD in ln α, or the SD
    /// changed by more than 20%. Smaller moves change E* by far less than its interval's width, and
    /// refitting on each would queue a refit of every pooled study after every fit in the lab.
    static func materially(_ old: AlphaPrior, _ new: AlphaPrior) -> Bool {
        abs(log(new.median) - log(old.median)) > 0.1 * old.logSD || abs(new.logSD / old.logSD - 1) > 0.2
    }

    /// The studies whose `auto_fit` asks for the pooled prior and that pool with a study tagged `pool`
    /// (those of the same tag, and the untagged, which pool with every study), with the prior their
    /// newest succeeded fit used (nil: none yet).
    func pooledAutoFitStudies(affectedBy pool: String?) throws -> [(id: Int, used: AlphaPrior?)] {
        let rows: [(Int, String?)] = try database.read { c in
            try c.query("""
                SELECT s.id, json_extract(f.result, '$.alpha_prior')
                FROM study AS s
                LEFT JOIN fit AS f ON f.id = (SELECT max(id) FROM fit WHERE study_id = s.id AND kind = 'fit' AND status = 'succeeded')
                WHERE (s.pool IS NULL OR s.pool = ?1) AND json_extract(s.auto_fit, '$.alpha_prior') = 'pooled'
                ORDER BY s.id
                """, [pool.map { .text($0) } ?? .null]) { s in (s.int(0) ?? 0, s.text(1)) }
        }
        return rows.map { id, text in
            (id, text.flatMap { try? JSONDecoder().decode(AlphaPrior.self, from: Data($0.utf8)) })
        }
    }

    static func now() -> String {
        let f = ISO8601DateFormatter()
        f.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        return f.string(from: Date())
    }
}
