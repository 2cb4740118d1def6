import EmergenceCore
import Foundation
import Storage
import XCTest
@testable import EmergenceService

/// Upserts by identity: the writer's in-memory identity table, backed by the unique index of schema v3.
final class EvaluationStoreTests: XCTestCase {
    private var dir: URL!
    private var database: Database!
    private var store: EvaluationStore!
    private var study = 0

    override func setUpWithError() throws {
        dir = FileManager.default.temporaryDirectory.appendingPathComponent("store-tests-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        database = try Database(path: dir.appendingPathComponent("db.sqlite").path, migrations: ServiceSchema.migrations)
        store = EvaluationStore(database: database)
        study = try StudyStore(database: database).create(StudyDraft(name: "s")).id
    }

    override func tearDownWithError() throws {
        store = nil
        database = nil
        try? FileManager.default.removeItem(at: dir)
    }

    private func row(_ checkpoint: String, _ setting: Evaluation.Setting = .finetuned, shots: Int? = nil, d: Double? = 64,
                     subset: String? = nil, accuracy: Double = 0.5, loss: Double = 2.0) -> Evaluation {
        Evaluation(checkpoint: checkpoint, model: nil, parameters: nil, tokens: nil, flops: nil, pretrainLoss: loss,
                   setting: setting, shots: shots, finetuneExamples: setting == .finetuned ? d : nil, subset: subset,
                   accuracy: accuracy, nQuestions: nil)
    }

    private func stored() throws -> [StoredEvaluation] {
        try store.page(studyID: study, filter: .init(), after: 0, limit: 1_000_000)
    }

    /// (checkpoint, setting, shots, finetune_examples, subset) → how many stored rows carry it.
    private func duplicateIdentities() throws -> Int {
        try database.read { c in
            try c.queryOne("""
                SELECT count(*) - (SELECT count(*) FROM (SELECT DISTINCT study_id, checkpoint, setting, ifnull(shots, -1),
                       ifnull(finetune_examples, -1), ifnull(subset, '') FROM evaluation)) FROM evaluation
                """) { $0.int(0)! } ?? -1
        }
    }

    func testIdentityFoldsMissingSubsetAndNumberSpellings() throws {
        var o = try store.upsert(studyID: study, [row("a", subset: nil), row("a", d: 128), row("a", .fewShot, shots: 0),
                                                  row("a", .fewShot, shots: nil), row("b")])
        XCTAssertEqual(o.inserted, 5)
        // "" is the same subset as none; 64 and 64.0 are one amount; shots 0 and none differ.
        o = try store.upsert(studyID: study, [row("a", subset: "", accuracy: 0.6), row("a", d: 128.0), row("a", .fewShot, shots: 0)])
        XCTAssertEqual(o.inserted, 0)
        XCTAssertEqual(o.updated, 3)
        XCTAssertEqual(o.dataVersion, 2, "one value changed")
        o = try store.upsert(studyID: study, [row("a", subset: "s1"), row("a", d: 65), row("A")])
        XCTAssertEqual(o.inserted, 3)
        XCTAssertEqual(try stored().count, 8)
        XCTAssertEqual(try duplicateIdentities(), 0)
    }

    func testRepeatsWithinOneUploadKeepTheLastRow() throws {
        // 300 distinct rows, each sent twice: the second copy arrives 1 row later (same pending
        // batch), 100 rows later (after its batch was stored), or at the very end.
        var rows: [Evaluation] = []
        for i in 0..<300 { rows.append(row("c\(i)", accuracy: 0.1)) }
        var upload = rows
        for i in 0..<300 where i % 3 == 0 { upload.insert(row("c\(i)", accuracy: 0.9), at: upload.firstIndex(of: rows[i])! + 1) }
        for i in 0..<300 where i % 3 == 1 { upload.append(row("c\(i)", accuracy: 0.8)) }
        for i in 0..<300 where i % 3 == 2 { upload.insert(row("c\(i)", accuracy: 0.7), at: min(upload.count, upload.firstIndex(of: rows[i])! + 100)) }
        let o = try store.upsert(studyID: study, upload)
        XCTAssertEqual(o.inserted, 300)
        XCTAssertEqual(o.updated, 300)
        let byName = Dictionary(uniqueKeysWithValues: try stored().map { ($0.evaluation.checkpoint, $0.evaluation.accuracy) })
        XCTAssertEqual(byName.count, 300)
        for i in 0..<300 { XCTAssertEqual(byName["c\(i)"], [0.9, 0.8, 0.7][i % 3], "c\(i)") }
        XCTAssertEqual(try duplicateIdentities(), 0)
        // Ids follow the order rows first arrived in (listing order is upload order).
        XCTAssertEqual(try stored().map(\.evaluation.checkpoint), rows.map(\.checkpoint))
    }

    func testBatchedRowsComeBackExactly() throws {
        // 200 rows: three full 64-row INSERTs (strings bound from one shared buffer) and 8 single ones.
        var rows: [Evaluation] = []
        for i in 0..<200 {
            let fewShot = i % 5 == 0
            let subset: String? = i % 3 == 0 ? nil : (i % 3 == 1 ? "" : "subset \(i)")
            let d: Double? = fewShot ? nil : Double(16 << (i % 4))
            let n: Int? = i % 7 == 0 ? nil : 100 + i
            let model: String? = i % 4 == 0 ? nil : "model-\(i)"
            let parameters: Double? = i % 2 == 0 ? 1e9 : nil
            rows.append(Evaluation(checkpoint: "ckpt-é-\(i)", model: model, parameters: parameters, tokens: 2e10 + Double(i),
                                   flops: nil, pretrainLoss: 2 + Double(i) / 1000, setting: fewShot ? .fewShot : .finetuned,
                                   shots: fewShot ? 5 : nil, finetuneExamples: d, subset: subset,
                                   accuracy: Double(i % 100) / 100, nQuestions: n))
        }
        XCTAssertEqual(try store.upsert(studyID: study, rows).inserted, 200)
        XCTAssertEqual(try stored().map(\.evaluation), rows)
        XCTAssertEqual(try store.all(studyID: study).rows, rows)
    }

    func testRolledBackUploadLeavesNoIdentitiesBehind() throws {
        struct Refused: Error {}
        _ = try store.upsert(studyID: study, [row("old")])
        let rows = (0..<1000).map { row("c\($0)") }
        XCTAssertThrowsError(try store.upsert(studyID: study, streaming: { emit in
            rows.forEach(emit)  // all stored in the transaction, then the parser finds a bad row
            throw Refused()
        }))
        XCTAssertEqual(try stored().count, 1)
        // Had the identities of the rolled-back rows been kept, these would count as updates of
        // rows that do not exist, and be lost.
        let o = try store.upsert(studyID: study, rows + [row("old")])
        XCTAssertEqual(o.inserted, 1000)
        XCTAssertEqual(o.updated, 1)
        XCTAssertEqual(try stored().count, 1001)
    }

    func testAnotherWriterIsNoticed() throws {
        _ = try store.upsert(studyID: study, [row("a"), row("b")])
        // Another connection (another process, say) adds a row behind the store's back.
        let other = try Connection(path: database.path)
        try other.run("""
            INSERT INTO evaluation (study_id, checkpoint, pretrain_loss, setting, finetune_examples, accuracy)
            VALUES (?, 'c', 2.0, 'finetuned', 64, 0.5)
            """, .integer(Int64(study)))
        let o = try store.upsert(studyID: study, [row("c", accuracy: 0.75), row("d")])
        XCTAssertEqual(o.inserted, 1)
        XCTAssertEqual(o.updated, 1, "c was found although the cache had not seen it")
        XCTAssertEqual(try stored().first { $0.evaluation.checkpoint == "c" }?.evaluation.accuracy, 0.75)
        XCTAssertEqual(try duplicateIdentities(), 0)
    }

    func testEvictedOrSeparateCachesGiveTheSameAnswers() throws {
        // A cache too small to hold anything, and a second store with its own cache: both must
        // rebuild from the database and agree with the first.
        let tiny = EvaluationStore(database: database, identities: IdentityCache(capacityBytes: 1))
        let second = EvaluationStore(database: database)
        _ = try store.upsert(studyID: study, (0..<50).map { row("c\($0)") })
        XCTAssertEqual(try tiny.upsert(studyID: study, (25..<75).map { row("c\($0)") }).inserted, 25)
        XCTAssertEqual(try second.upsert(studyID: study, (50..<100).map { row("c\($0)") }).inserted, 25)
        let o = try store.upsert(studyID: study, (0..<100).map { row("c\($0)") })
        XCTAssertEqual(o.inserted, 0, "the first store's cache was stale and had to be rebuilt")
        XCTAssertEqual(o.updated, 100)
        XCTAssertEqual(try stored().count, 100)
        XCTAssertEqual(try duplicateIdentities(), 0)
    }

    func testLargeUploadsAndRandomRepeats() throws {
        var rng = SystemRandomNumberGenerator()
        var truth: [String: Double] = [:]
        for round in 0..<5 {
            var rows: [Evaluation] = []
            for _ in 0..<3000 {
                let k = Int.random(in: 0..<5000, using: &rng)
                let a = Double(Int.random(in: 0...1000, using: &rng)) / 1000
                rows.append(row("c\(k)", accuracy: a))
                truth["c\(k)"] = a
            }
            let before = try stored().count
            let o = try store.upsert(studyID: study, rows)
            XCTAssertEqual(o.inserted + o.updated, rows.count)
            XCTAssertEqual(try stored().count, before + o.inserted, "round \(round)")
        }
        let byName = Dictionary(uniqueKeysWithValues: try stored().map { ($0.evaluation.checkpoint, $0.evaluation.accuracy) })
        XCTAssertEqual(byName, truth)
        XCTAssertEqual(try duplicateIdentities(), 0)
    }

    func testIdentityTableFindsEveryKeyThroughGrowth() {
        var t = IdentityTable()
        for i in 0..<10_000 {
            t.set(EvaluationIdentity(checkpoint: "c\(i % 2500)", setting: i % 2 == 0 ? .fewShot : .finetuned, shots: nil,
                                     finetuneExamples: Double(i / 2500), subset: nil), id: i)
        }
        XCTAssertEqual(t.count, 10_000)
        for i in 0..<10_000 {
            let key = EvaluationIdentity(checkpoint: "c\(i % 2500)", setting: i % 2 == 0 ? .fewShot : .finetuned, shots: nil,
                                         finetuneExamples: Double(i / 2500), subset: "")
            XCTAssertEqual(t.id(for: key), i)
        }
        XCTAssertNil(t.id(for: EvaluationIdentity(checkpoint: "c0", setting: .fewShot, shots: 0, finetuneExamples: 0, subset: nil)))
        let fresh = EvaluationIdentity(checkpoint: "new", setting: .fewShot, shots: nil, finetuneExamples: nil, subset: nil)
        XCTAssertNil(t.existingOrInsert(fresh, id: 7))
        XCTAssertEqual(t.existingOrInsert(fresh, id: 8), 7, "the first id stays")
        XCTAssertEqual(t.existingOrInsert(EvaluationIdentity(checkpoint: "c1", setting: .finetuned, shots: nil, finetuneExamples: 0, subset: nil), id: 9), 1)
        XCTAssertEqual(t.count, 10_001)
        t.set(EvaluationIdentity(checkpoint: "c0", setting: .fewShot, shots: nil, finetuneExamples: -0.0, subset: nil), id: 42)
        XCTAssertEqual(t.count, 10_001, "-0.0 is 0")
        XCTAssertEqual(t.id(for: EvaluationIdentity(checkpoint: "c0", setting: .fewShot, shots: nil, finetuneExamples: 0, subset: nil)), 42)
    }

    // MARK: Integrity and bounded memory

    func testTheDatabaseRefusesADuplicateFromAnotherWriter() throws {
        _ = try store.upsert(studyID: study, [row("a"), row("b", subset: "x")])
        let other = try Connection(path: database.path)
        XCTAssertThrowsError(try other.run("""
            INSERT INTO evaluation (study_id, checkpoint, pretrain_loss, setting, finetune_examples, subset, accuracy)
            VALUES (?, 'a', 2.0, 'finetuned', 64.0, '', 0.5)
            """, .integer(Int64(study)))) { e in
            XCTAssertEqual((e as? SQLiteError)?.kind, .constraint, "\(e)")
        }
        XCTAssertEqual(try duplicateIdentities(), 0)
    }

    func testAFullDiskUploadStoresNothingAndTheStoreGoesOn() throws {
        _ = try store.upsert(studyID: study, [row("before")])
        try database.write { try $0.execute("PRAGMA max_page_count = 1") }  // clamps to the current size
        let rows = (0..<20_000).map { row("c\($0)-" + String(repeating: "x", count: 40)) }
        XCTAssertThrowsError(try store.upsert(studyID: study, streaming: { emit in rows.forEach(emit) })) { e in
            XCTAssertEqual((e as? SQLiteError)?.kind, .diskFull, "\(e)")
        }
        XCTAssertEqual(try stored().map(\.evaluation.checkpoint), ["before"], "nothing partial was stored")
        XCTAssertEqual(try StudyStore(database: database).find(id: study)?.evaluations, 1)
        try database.write { try $0.execute("PRAGMA max_page_count = 1073741823") }
        let o = try store.upsert(studyID: study, rows + [row("before", accuracy: 0.9)])
        XCTAssertEqual(o.inserted, 20_000)
        XCTAssertEqual(o.updated, 1)
        XCTAssertEqual(try stored().count, 20_001)
        XCTAssertEqual(try duplicateIdentities(), 0)
    }

    func testTheIdentityCacheIsBoundedInBytes() throws {
        // Eight one-row uploads with 1 MB checkpoint names into eight studies, through a cache of
        // 3 MiB: it holds the last two or three studies, never more than its bound.
        let cache = IdentityCache(capacityBytes: 3 << 20)
        let bounded = EvaluationStore(database: database, identities: cache)
        let studies = StudyStore(database: database)
        var ids: [Int] = []
        for i in 0..<8 {
            let id = try studies.create(StudyDraft(name: "big\(i)")).id
            ids.append(id)
            _ = try bounded.upsert(studyID: id, [row(String(repeating: Character(UnicodeScalar(UInt8(97 + i))), count: 1 << 20))])
            XCTAssertLessThanOrEqual(cache.bytes, 3 << 20)
        }
        XCTAssertEqual(cache.studies, 2, "about 1 MiB each, so the two most recent fit")
        XCTAssertGreaterThan(cache.bytes, 2 << 20)
        // Least recently used first: touching big6 keeps it when big0 comes back.
        XCTAssertNotNil(cache.take(ids[6]).map { cache.put(ids[6], $0) })
        _ = try bounded.upsert(studyID: ids[0], [row("short")])
        XCTAssertNotNil(cache.take(ids[6]), "recently used: kept")
        XCTAssertNil(cache.take(ids[7]), "least recently used: evicted")
        // An entry larger than the whole cache is not kept at all, and answers stay right.
        let tiny = IdentityCache(capacityBytes: 1 << 20)
        let small = EvaluationStore(database: database, identities: tiny)
        XCTAssertEqual(try small.upsert(studyID: ids[1], [row(String(repeating: "b", count: 1 << 20))]).updated, 1)
        XCTAssertEqual(tiny.bytes, 0)
        XCTAssertEqual(tiny.studies, 0)
    }

    func testIdentityTableCountsTheBytesOfItsKeys() {
        var t = IdentityTable()
        let empty = t.bytes
        t.set(EvaluationIdentity(checkpoint: "short", setting: .fewShot, shots: nil, finetuneExamples: nil, subset: nil), id: 1)
        let one = t.bytes
        XCTAssertGreaterThan(one, empty)
        t.set(EvaluationIdentity(checkpoint: String(repeating: "x", count: 30_000_000), setting: .fewShot, shots: nil,
                                 finetuneExamples: nil, subset: "y"), id: 2)
        XCTAssertGreaterThanOrEqual(t.bytes - one, 30_000_000, "a 30 MB name counts for 30 MB")
        XCTAssertLessThan(t.bytes - one, 30_001_000)
    }
}
