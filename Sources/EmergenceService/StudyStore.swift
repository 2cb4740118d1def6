import Jobs
import EmergenceCore
import Foundation
import Storage

/// Studies in the database.
struct StudyStore {
    let database: Database

    enum CreateError: Error { case nameTaken, deletedMeanwhile }

    func create(_ d: StudyDraft) throws -> Study {
        let id: Int = try database.write { c in
            let taken = try c.queryOne("SELECT 1 FROM study WHERE name = ?", [.text(d.name)]) { _ in true } ?? false
            if taken { throw CreateError.nameTaken }
            let s = try c.prepare("""
                INSERT INTO study (name, task, chance, shots, description, created_at, auto_fit, pool)
                VALUES (?, ?, ?, ?, ?, strftime('%Y-%m-%dT%H:%M:%fZ', 'now'), ?, ?)
                """)
            s.bind(1, d.name)
            s.bind(2, d.task)
            s.bind(3, d.chance)
            s.bind(4, d.shots)
            s.bind(5, d.description)
            s.bind(6, try d.autoFit.map { try JobOptions.canonicalJSON($0) })
            s.bind(7, d.pool)
            try s.run()
            return c.lastInsertRowID
        }
        // A concurrent DELETE may remove the study between the write and this read.
        guard let study = try find(id: id) else { throw CreateError.deletedMeanwhile }
        return study
    }

    private static func row(_ s: Statement) -> Study {
        // Columns are NOT NULL in the schema; the fallbacks only keep a corrupt row from trapping.
        Study(id: s.int(0) ?? 0, name: s.text(1) ?? "", task: s.text(2), chance: s.double(3), shots: s.int(4),
              description: s.text(5), dataVersion: s.int(6) ?? 0, evaluations: s.int(7) ?? 0, createdAt: s.text(8) ?? "",
              autoFit: s.text(9).flatMap { try? JSONDecoder().decode(FitOptions.self, from: Data($0.utf8)) }, pool: s.text(10))
    }

    func find(id: Int) throws -> Study? {
        try database.read { c in
            try c.queryOne("""
                SELECT id, name, task, chance, shots, description, data_version,
                       evaluation_count, created_at, auto_fit, pool
                FROM study WHERE id = ?
                """, [.integer(Int64(id))], row: Self.row)
        }
    }

    /// By id when the reference is all digits (names never are), else by name.
    func find(reference: String) throws -> Study? {
        if !reference.isEmpty, reference.utf8.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }) {
            return try Int(reference).flatMap { try find(id: $0) }
        }
        return try database.read { c in
            try c.queryOne("""
                SELECT id, name, task, chance, shots, description, data_version,
                       evaluation_count, created_at, auto_fit, pool
                FROM study WHERE name = ?
                """, [.text(reference)], row: Self.row)
        }
    }

    func list(after: Int, limit: Int) throws -> [Study] {
        try database.read { c in
            try c.query("""
                SELECT id, name, task, chance, shots, description, data_version,
                       evaluation_count, created_at, auto_fit, pool
                FROM study WHERE id > ? ORDER BY id LIMIT ?
                """, [.integer(Int64(after)), .integer(Int64(limit))], row: Self.row)
        }
    }

    /// Sets or clears (nil) a study's auto-refit options; clearing also drops a pending refit.
    /// False when the study is absent.
    func setAutoFit(id: Int, _ options: FitOptions?) throws -> Bool {
        let text = try options.map { try JobOptions.canonicalJSON($0) }
        return try database.write { c in
            let s = try c.prepare("""
                UPDATE study SET auto_fit = ?1, auto_fit_due = CASE WHEN ?1 IS NULL THEN NULL ELSE auto_fit_due END
                WHERE id = ?2
                """)
            s.bind(1, text)
            s.bind(2, id)
            try s.run()
            return c.changes == 1
        }
    }

    /// Sets or clears (nil) a study's pool tag. False when the study is absent.
    func setPool(id: Int, _ pool: String?) throws -> Bool {
        try database.write { c in
            try c.run("UPDATE study SET pool = ? WHERE id = ?", pool.map { .text($0) } ?? .null, .integer(Int64(id)))
            return c.changes == 1
        }
    }

    /// Deletes the study with its evaluations and fits (ON DELETE CASCADE). False when absent.
    func delete(id: Int) throws -> Bool {
        try database.write { c in
            try c.run("DELETE FROM study WHERE id = ?", .integer(Int64(id)))
            return c.changes == 1
        }
    }

    // MARK: Auto refits (`auto_fit`, `auto_fit_due`; AutoFitScheduler)

    /// Sets a study's auto refit due at `due` (Unix time) when it has `auto_fit`; false when it has none.
    func markAutoFitDue(studyID: Int, at due: Double) throws -> Bool {
        try database.write { c in
            try c.run("UPDATE study SET auto_fit_due = ? WHERE id = ? AND auto_fit IS NOT NULL", .real(due), .integer(Int64(studyID)))
            return c.changes == 1
        }
    }

    /// The studies whose auto refit is due at `now`, the earliest first.
    func dueAutoFits(at now: Double) throws -> [Int] {
        try database.read { c in
            try c.query("SELECT id FROM study WHERE auto_fit_due <= ? ORDER BY auto_fit_due", [.real(now)]) { $0.int(0) ?? 0 }
        }
    }

    /// When the earliest pending auto refit is due; nil when none is.
    func nextAutoFitDue() throws -> Double? {
        try database.read { c in
            try c.queryOne("SELECT min(auto_fit_due) FROM study WHERE auto_fit_due IS NOT NULL") { $0.double(0) } ?? nil
        }
    }

    /// Inside a write transaction: a study's auto refit options if its refit is due at `now`, clearing
    /// the due time; nil when it is not due (or the study is gone).
    func takeDueAutoFit(_ c: Connection, studyID: Int, at now: Double) throws -> String? {
        guard let (options, due) = try c.queryOne("SELECT auto_fit, auto_fit_due FROM study WHERE id = ?",
                                                  [.integer(Int64(studyID))], row: { ($0.text(0), $0.double(1)) }),
              let options, let due, due <= now else { return nil }
        try c.run("UPDATE study SET auto_fit_due = NULL WHERE id = ?", .integer(Int64(studyID)))
        return options
    }
}

