import EmergenceCore
import Foundation
import Ingestion
import Storage

/// A stored evaluation: the uploaded fields plus the row id (the pagination cursor).
struct StoredEvaluation: Encodable {
    var id: Int
    var evaluation: Evaluation

    enum Key: String, CodingKey { case id }

    func encode(to encoder: Encoder) throws {
        try evaluation.encode(to: encoder)
        var c = encoder.container(keyedBy: Key.self)
        try c.encode(id, forKey: .id)
    }
}

/// What an upload did.
public struct UpsertOutcome: Codable, Sendable, Equatable {
    public var inserted: Int
    /// Rows whose identity (checkpoint, setting, shots, finetune_examples, subset) was already stored.
    public var updated: Int
    /// The study's data version after the upload (unchanged when no value changed).
    public var dataVersion: Int

    enum CodingKeys: String, CodingKey {
        case inserted, updated
        case dataVersion = "data_version"
    }
}

/// The study went away before an upload to it was stored (a concurrent DELETE).
struct StudyDeleted: Error, CustomStringConvertible {
    var studyID: Int
    var description: String { "study \(studyID) was deleted before the upload was stored" }
}

/// Evaluations in the database.
struct EvaluationStore {
    let database: Database
    /// Each study's stored identities, so an upload need not search the identity index per row to
    /// tell an insert from an update (the index, schema v3, is the database's own guard against
    /// duplicates; this table is the accelerator in front of it).
    let identities: IdentityCache

    init(database: Database, identities: IdentityCache = IdentityCache()) {
        self.database = database
        self.identities = identities
    }

    struct Filter {
        var checkpoint: String?
        var setting: String?
        var subset: String?
    }

    /// Stores every row in one transaction: all or nothing, durable when it returns.
    ///
    /// A row whose identity exists updates it; the study's data version moves only when a value
    /// actually changed, so a retried upload does not invalidate earlier fits.
    func upsert(studyID: Int, _ rows: [Evaluation]) throws -> UpsertOutcome {
        try store(studyID: studyID, rows: { emit in rows.forEach(emit) })
    }

    /// Stores rows as `produce` parses them (on another thread), all in one transaction that commits
    /// only if `produce` returns normally and stored at least one row; if it throws, everything is
    /// rolled back and its error rethrown. Parsing and the SQLite work thus overlap.
    func upsert(studyID: Int, streaming produce: @escaping @Sendable (_ emit: (Evaluation) -> Void) throws -> Void) throws -> UpsertOutcome {
        let channel = RowChannel()
        let done = DispatchSemaphore(value: 0)
        // A serial queue of its own: it gets an overcommit thread at once, where a global
        // (non-overcommit) queue may wait behind CPU-bound work for a free thread.
        DispatchQueue(label: "emergence.upload.parse", qos: .userInitiated).async {
            var batch: [Evaluation] = []
            batch.reserveCapacity(RowChannel.batchSize)
            do {
                try produce { row in
                    batch.append(row)
                    if batch.count >= RowChannel.batchSize {
                        channel.send(batch)
                        batch.removeAll(keepingCapacity: true)
                    }
                }
                channel.send(batch)
                channel.finish(nil)
            } catch {
                channel.finish(error)
            }
            done.signal()
        }
        do {
            try channel.waitUntilReady()
            let outcome = try store(studyID: studyID, rows: { emit in
                while let batch = try channel.receive() { batch.forEach(emit) }
            })
            done.wait()
            return outcome
        } catch {
            channel.cancel()
            done.wait()
            throw error
        }
    }

    /// Rows per multi-row INSERT (14 parameters each).
    static let insertBatch = 64

    private func store(studyID: Int, rows produce: ((Evaluation) -> Void) throws -> Void) throws -> UpsertOutcome {
        var saved: IdentityCache.Entry?
        let outcome = try database.write { c -> UpsertOutcome in
            guard let count = try c.queryOne("SELECT evaluation_count FROM study WHERE id = ?", [.integer(Int64(studyID))], row: { $0.int(0) ?? 0 }) else {
                throw StudyDeleted(studyID: studyID)
            }
            let dataVersion = try c.dataVersion()
            var known: IdentityTable
            if let e = identities.take(studyID), e.count == count, e.dataVersion == dataVersion {
                known = e.rows
            } else {
                known = try Self.identities(studyID: studyID, c)
            }
            // Row ids are assigned here (the writer holds the only write transaction), so a row's id
            // is known before its INSERT runs: a later row with the same identity in this upload then
            // replaces it in the pending batch, or updates it once it is stored.
            var nextID = (try c.queryOne("SELECT max(id) FROM evaluation", row: { $0.int(0) }) ?? nil).map { $0 + 1 } ?? 1
            let batchStatement = try c.prepareBatch("""
                INSERT INTO evaluation (id, study_id, checkpoint, model, parameters, tokens, flops, pretrain_loss, setting,
                                        shots, finetune_examples, subset, accuracy, n_questions) VALUES
                """, row: "(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", count: Self.insertBatch)
            let single = try c.prepare("""
                INSERT INTO evaluation (id, study_id, checkpoint, model, parameters, tokens, flops, pretrain_loss, setting,
                                        shots, finetune_examples, subset, accuracy, n_questions)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                """)
            // Only a value that differs counts as a change (so a retried upload keeps the data version).
            let update = try c.prepare("""
                UPDATE evaluation SET model = ?2, parameters = ?3, tokens = ?4, flops = ?5, pretrain_loss = ?6,
                                      accuracy = ?7, n_questions = ?8
                WHERE id = ?1 AND (model IS NOT ?2 OR parameters IS NOT ?3 OR tokens IS NOT ?4 OR flops IS NOT ?5
                                   OR pretrain_loss IS NOT ?6 OR accuracy IS NOT ?7 OR n_questions IS NOT ?8)
                """)
            func bind(_ s: Statement, _ e: Evaluation, id: Int, at k: Int32) {
                bindNumbers(s, e, id: id, at: k)
                s.bind(k + 2, e.checkpoint)
                s.bind(k + 3, e.model)
                s.bind(k + 11, e.subset)
            }
            // Everything but the three free-text columns (k+2 checkpoint, k+3 model, k+11 subset).
            func bindNumbers(_ s: Statement, _ e: Evaluation, id: Int, at k: Int32) {
                s.bind(k, id)
                s.bind(k + 1, studyID)
                s.bind(k + 4, e.parameters)
                s.bind(k + 5, e.tokens)
                s.bind(k + 6, e.flops)
                s.bind(k + 7, e.pretrainLossIfGiven)
                switch e.setting {
                case .fewShot: s.bind(k + 8, static: "few_shot")
                case .finetuned: s.bind(k + 8, static: "finetuned")
                }
                s.bind(k + 9, e.shots)
                s.bind(k + 10, e.finetuneExamples)
                s.bind(k + 12, e.accuracy)
                s.bind(k + 13, e.nQuestions)
            }
            // Rows waiting for the next multi-row INSERT; pending[i] gets id firstPending + i.
            var pending: [Evaluation] = []
            pending.reserveCapacity(Self.insertBatch)
            var firstPending = nextID
            // The batch's strings, copied once into one buffer that outlives the INSERT, so SQLite need
            // not copy each (with a malloc and a free) as it binds it.
            var arena: [UInt8] = []
            arena.reserveCapacity(64 * 1024)
            var spans: [(Int, Int)] = []
            spans.reserveCapacity(3 * Self.insertBatch)
            func flush() throws {
                if pending.count == Self.insertBatch {
                    arena.removeAll(keepingCapacity: true)
                    spans.removeAll(keepingCapacity: true)
                    func keep(_ s: String?) {
                        guard let s else { spans.append((-1, 0)); return }
                        let start = arena.count
                        arena.append(contentsOf: s.utf8)
                        spans.append((start, arena.count - start))
                    }
                    // By index, not `for e in`: that copies each row (and retains its strings) again.
                    for i in pending.indices {
                        keep(pending[i].checkpoint)
                        keep(pending[i].model)
                        keep(pending[i].subset)
                    }
                    try arena.withUnsafeBufferPointer { buffer in
                        func text(_ k: Int32, _ span: (Int, Int)) {
                            if span.0 < 0 {
                                batchStatement.bind(k, nil as String?)
                            } else {
                                batchStatement.bind(k, unsafeStatic: UnsafeBufferPointer(rebasing: buffer[span.0..<(span.0 + span.1)]))
                            }
                        }
                        for i in pending.indices {
                            let k = Int32(14 * i + 1)
                            bindNumbers(batchStatement, pending[i], id: firstPending + i, at: k)
                            text(k + 2, spans[3 * i])
                            text(k + 3, spans[3 * i + 1])
                            text(k + 11, spans[3 * i + 2])
                        }
                        try batchStatement.runKeepingBindings()
                    }
                } else {
                    for (i, e) in pending.enumerated() {
                        bind(single, e, id: firstPending + i, at: 1)
                        try single.runKeepingBindings()
                    }
                }
                firstPending += pending.count
                pending.removeAll(keepingCapacity: true)
            }
            var inserted = 0, updated = 0, changed = 0
            var failure: Error?
            try produce { e in
                guard failure == nil else { return }
                do {
                    if let id = known.existingOrInsert(EvaluationIdentity(e), id: nextID) {
                        updated += 1
                        if id >= firstPending {
                            pending[id - firstPending] = e  // not stored yet: the later row wins
                        } else {
                            update.bind(1, id)
                            update.bind(2, e.model)
                            update.bind(3, e.parameters)
                            update.bind(4, e.tokens)
                            update.bind(5, e.flops)
                            update.bind(6, e.pretrainLossIfGiven)
                            update.bind(7, e.accuracy)
                            update.bind(8, e.nQuestions)
                            try update.runKeepingBindings()
                            changed += c.changes
                        }
                        return
                    }
                    nextID += 1
                    inserted += 1
                    pending.append(e)
                    if pending.count == Self.insertBatch { try flush() }
                } catch {
                    failure = error
                }
            }
            if let failure { throw failure }
            try flush()
            if inserted + updated == 0 {
                throw IngestionError(problems: [RowProblem(index: -1, field: "body", reason: "the upload holds no evaluations")])
            }
            if inserted + changed > 0 {
                try c.run("UPDATE study SET data_version = data_version + 1, evaluation_count = evaluation_count + ? WHERE id = ?",
                          .integer(Int64(inserted)), .integer(Int64(studyID)))
            }
            let version = try c.queryOne("SELECT data_version FROM study WHERE id = ?", [.integer(Int64(studyID))]) { $0.int(0) ?? 0 } ?? 0
            saved = IdentityCache.Entry(rows: known, count: count + inserted, dataVersion: dataVersion)
            return UpsertOutcome(inserted: inserted, updated: updated, dataVersion: version)
        }
        if let saved { identities.put(studyID, saved) }
        return outcome
    }

    /// Every stored identity of a study and its row id. Two rows cannot share an identity since
    /// schema v3 (its unique index); were one to slip through, the later row is the one updated.
    private static func identities(studyID: Int, _ c: Connection) throws -> IdentityTable {
        var out = IdentityTable()
        let s = try c.prepare("""
            SELECT id, checkpoint, setting, shots, finetune_examples, subset FROM evaluation WHERE study_id = ? ORDER BY id
            """)
        defer { s.reset() }
        s.bind(1, studyID)
        while try s.step() {
            let identity = EvaluationIdentity(checkpoint: s.text(1)!, setting: Evaluation.Setting(rawValue: s.text(2)!) ?? .fewShot,
                                              shots: s.int(3), finetuneExamples: s.double(4), subset: s.text(5))
            out.set(identity, id: s.int(0) ?? 0)
        }
        return out
    }

    private static func evaluation(_ s: Statement, from k: Int32) -> Evaluation {
        Evaluation(checkpoint: s.text(k)!, model: s.text(k + 1), parameters: s.double(k + 2), tokens: s.double(k + 3),
                   flops: s.double(k + 4), pretrainLoss: s.double(k + 5),
                   setting: Evaluation.Setting(rawValue: s.text(k + 6)!) ?? .fewShot, shots: s.int(k + 7),
                   finetuneExamples: s.double(k + 8), subset: s.text(k + 9), accuracy: s.double(k + 10)!,
                   nQuestions: s.int(k + 11))
    }

    /// One page in id order, after the row `after`.
    func page(studyID: Int, filter: Filter, after: Int, limit: Int) throws -> [StoredEvaluation] {
        try database.read { c in
            try c.query("""
                SELECT id, checkpoint, model, parameters, tokens, flops, pretrain_loss, setting, shots, finetune_examples,
                       subset, accuracy, n_questions
                FROM evaluation
                WHERE study_id = ?1 AND id > ?2 AND (?3 IS NULL OR checkpoint = ?3) AND (?4 IS NULL OR setting = ?4)
                  AND (?5 IS NULL OR subset = ?5)
                ORDER BY id LIMIT ?6
                """, [.integer(Int64(studyID)), .integer(Int64(after)), filter.checkpoint.map { .text($0) } ?? .null,
                      filter.setting.map { .text($0) } ?? .null, filter.subset.map { .text($0) } ?? .null,
                      .integer(Int64(limit))]) { s in
                StoredEvaluation(id: s.int(0) ?? 0, evaluation: Self.evaluation(s, from: 1))
            }
        }
    }

    /// Every row of a study at one data version (what a fit consumes), in a single snapshot.
    func all(studyID: Int) throws -> (dataVersion: Int, rows: [Evaluation]) {
        try database.read { c in
            let version = try c.queryOne("SELECT data_version FROM study WHERE id = ?", [.integer(Int64(studyID))]) { $0.int(0) ?? 0 } ?? 0
            let rows = try c.query("""
                SELECT checkpoint, model, parameters, tokens, flops, pretrain_loss, setting, shots, finetune_examples,
                       subset, accuracy, n_questions
                FROM evaluation WHERE study_id = ? ORDER BY id
                """, [.integer(Int64(studyID))]) { Self.evaluation($0, from: 0) }
            return (version, rows)
        }
    }

    /// The first stored row of a study without `n_questions` (by id), with how many such rows there
    /// are; nil when every row has one.
    func withoutQuestionCount(studyID: Int) throws -> (count: Int, checkpoint: String, setting: String, subset: String?)? {
        try database.read { c in
            try c.queryOne("""
                SELECT (SELECT count(*) FROM evaluation WHERE study_id = ?1 AND n_questions IS NULL), checkpoint, setting, subset
                FROM evaluation WHERE study_id = ?1 AND n_questions IS NULL ORDER BY id LIMIT 1
                """, [.integer(Int64(studyID))]) { ($0.int(0) ?? 0, $0.text(1) ?? "", $0.text(2) ?? "", $0.text(3)) }
        }
    }

    /// The smallest compute among a study's checkpoints: flops, else 6·N·D (as
    /// `Evaluation.effectiveFlops`); nil when no row has either.
    func smallestFlops(studyID: Int) throws -> Double? {
        try database.read { c in
            try c.queryOne("SELECT min(coalesce(flops, 6.0 * parameters * tokens)) FROM evaluation WHERE study_id = ?1",
                           [.integer(Int64(studyID))]) { $0.double(0) } ?? nil
        }
    }

    /// The largest compute among a study's checkpoints (as `smallestFlops`) at or under `cap`.
    func largestFlops(studyID: Int, atMost cap: Double?) throws -> Double? {
        try database.read { c in
            try c.queryOne("""
                SELECT max(f) FROM (SELECT coalesce(flops, 6.0 * parameters * tokens) AS f FROM evaluation WHERE study_id = ?1)
                WHERE f IS NOT NULL AND (?2 IS NULL OR f <= ?2)
                """, [.integer(Int64(studyID)), cap.map { .real($0) } ?? .null]) { $0.double(0) } ?? nil
        }
    }
}
