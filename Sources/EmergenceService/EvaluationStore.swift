import EmergenceCore
import Foundation
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

/// Evaluations in the database.
struct EvaluationStore {
    let database: Database

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
            do {
                try produce { channel.send($0) }
                channel.finish(nil)
            } catch {
                channel.finish(error)
            }
            done.signal()
        }
        do {
            let outcome = try store(studyID: studyID, rows: { emit in
                while let batch = channel.receive() { batch.forEach(emit) }
                if let error = channel.failure { throw error }
            })
            done.wait()
            return outcome
        } catch {
            channel.cancel()
            done.wait()
            throw error
        }
    }

    private func store(studyID: Int, rows produce: ((Evaluation) -> Void) throws -> Void) throws -> UpsertOutcome {
        try database.write { c in
            // Both statements use the same numbered parameters, bound once per row.
            let insert = try c.prepare("""
                INSERT INTO evaluation (study_id, checkpoint, model, parameters, tokens, flops, pretrain_loss, setting,
                                        shots, finetune_examples, subset, accuracy, n_questions)
                VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)
                ON CONFLICT DO NOTHING
                """)
            let update = try c.prepare("""
                UPDATE evaluation SET model = ?3, parameters = ?4, tokens = ?5, flops = ?6, pretrain_loss = ?7,
                                      accuracy = ?12, n_questions = ?13
                WHERE study_id = ?1 AND checkpoint = ?2 AND setting = ?8 AND ifnull(shots, -1) = ifnull(?9, -1)
                  AND ifnull(finetune_examples, -1) = ifnull(?10, -1) AND ifnull(subset, '') = ifnull(?11, '')
                  AND (model IS NOT ?3 OR parameters IS NOT ?4 OR tokens IS NOT ?5 OR flops IS NOT ?6
                       OR pretrain_loss IS NOT ?7 OR accuracy IS NOT ?12 OR n_questions IS NOT ?13)
                """)
            func bindRow(_ s: Statement, _ e: Evaluation) {
                s.bind(1, studyID)
                s.bind(2, e.checkpoint)
                s.bind(3, e.model)
                s.bind(4, e.parameters)
                s.bind(5, e.tokens)
                s.bind(6, e.flops)
                s.bind(7, e.pretrainLoss)
                s.bind(8, e.setting.rawValue)
                s.bind(9, e.shots)
                s.bind(10, e.finetuneExamples)
                s.bind(11, e.subset)
                s.bind(12, e.accuracy)
                s.bind(13, e.nQuestions)
            }
            var inserted = 0, updated = 0, changed = 0
            var failure: Error?
            try produce { e in
                guard failure == nil else { return }
                do {
                    bindRow(insert, e)
                    try insert.run()
                    if c.changes == 1 {
                        inserted += 1
                        return
                    }
                    updated += 1
                    bindRow(update, e)
                    try update.run()
                    changed += c.changes
                } catch {
                    failure = error
                }
            }
            if let failure { throw failure }
            if inserted + updated == 0 {
                throw IngestionError(problems: [RowProblem(index: -1, field: "body", reason: "the upload holds no evaluations")])
            }
            if inserted + changed > 0 {
                try c.run("UPDATE study SET data_version = data_version + 1, evaluation_count = evaluation_count + ? WHERE id = ?",
                          .integer(Int64(inserted)), .integer(Int64(studyID)))
            }
            let version = try c.queryOne("SELECT data_version FROM study WHERE id = ?", [.integer(Int64(studyID))]) { $0.int(0)! } ?? 0
            return UpsertOutcome(inserted: inserted, updated: updated, dataVersion: version)
        }
    }

    private static func evaluation(_ s: Statement, from k: Int32) -> Evaluation {
        Evaluation(checkpoint: s.text(k)!, model: s.text(k + 1), parameters: s.double(k + 2), tokens: s.double(k + 3),
                   flops: s.double(k + 4), pretrainLoss: s.double(k + 5)!,
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
                StoredEvaluation(id: s.int(0)!, evaluation: Self.evaluation(s, from: 1))
            }
        }
    }

    /// Every row of a study at one data version (what a fit consumes), in a single snapshot.
    func all(studyID: Int) throws -> (dataVersion: Int, rows: [Evaluation]) {
        try database.read { c in
            let version = try c.queryOne("SELECT data_version FROM study WHERE id = ?", [.integer(Int64(studyID))]) { $0.int(0)! } ?? 0
            let rows = try c.query("""
                SELECT checkpoint, model, parameters, tokens, flops, pretrain_loss, setting, shots, finetune_examples,
                       subset, accuracy, n_questions
                FROM evaluation WHERE study_id = ? ORDER BY id
                """, [.integer(Int64(studyID))]) { Self.evaluation($0, from: 0) }
            return (version, rows)
        }
    }
}
