import Storage

/// What `GET /v1/studies/{study}/prediction` answers, held in memory by study, so that the event loop
/// gives the common answer (200 or 304 for the newest succeeded fit) without a hop to the handler pool
/// and without SQLite. A study not held here is answered on the pool, from the database, and that
/// answer fills the index.
///
/// Kept exact rather than fresh-enough: every write that changes what a study's prediction is (a fit
/// of it succeeding, the study's deletion) runs inside `changing(studyID:_:)`, which drops the
/// study's entry before the write and again after it, and refuses entries for that study while the
/// write is under way. An answer read from the database is stored only if no change began since the
/// reader took `generation` (before its first read), so a reader that saw the state before a commit
/// can never leave it behind after the commit.
///
/// Bounded in bytes by configuration, never by what clients send: an entry is reached only by the
/// study's id and its name as stored (not every spelling of the id a client may send, like "007"),
/// so a study costs at most one entry and two references.
final class PredictionIndex: Sendable {
    struct Answer: Sendable {
        var etag: String
        var body: [UInt8]
    }

    private struct Entry {
        var answer: Answer
        var references: [String]
        var bytes: Int
    }

    private struct State {
        var entries: [Int: Entry] = [:]
        var studyOf: [String: Int] = [:]
        /// Studies with a write under way that changes their prediction (a count: two fits of one
        /// study may finish at once).
        var changing: [Int: Int] = [:]
        var generation: UInt64 = 0
        var bytes = 0

        mutating func drop(_ studyID: Int) {
            guard let entry = entries.removeValue(forKey: studyID) else { return }
            for reference in entry.references { studyOf[reference] = nil }
            bytes -= entry.bytes
        }
    }

    /// What an entry costs beyond its document and references: two dictionary slots, the ETag, the
    /// array headers. An estimate, so that many small entries also count against the bound.
    static let entryOverhead = 256
    static let defaultCapacityBytes = 64 * 1024 * 1024

    let capacityBytes: Int
    private let state = Lock<State>(State())

    init(capacityBytes: Int = PredictionIndex.defaultCapacityBytes) {
        self.capacityBytes = max(0, capacityBytes)
    }

    /// The answer held for a study reference (its id in decimal, or its name), or nil.
    func answer(reference: String) -> Answer? {
        state.withLock { s in s.studyOf[reference].flatMap { s.entries[$0]?.answer } }
    }

    /// Taken by a reader before its first database read, and handed back to `store`.
    var generation: UInt64 { state.withLock { $0.generation } }

    /// Holds `answer` for the study under `reference` when nothing that changes a prediction began
    /// since `generation` was taken. `reference` must be the study's id in decimal or its stored name.
    func store(_ answer: Answer, studyID: Int, reference: String, seenAt generation: UInt64) {
        let referenceBytes = reference.utf8.count + Self.entryOverhead
        state.withLock { s in
            guard s.generation == generation, s.changing[studyID] == nil else { return }
            if var entry = s.entries[studyID], entry.answer.etag == answer.etag {
                // The same answer reached by its other reference (name or id).
                guard s.studyOf[reference] == nil else { return }
                guard s.bytes + referenceBytes <= capacityBytes else { return }
                entry.references.append(reference)
                entry.bytes += referenceBytes
                s.entries[studyID] = entry
                s.studyOf[reference] = studyID
                s.bytes += referenceBytes
                return
            }
            s.drop(studyID)
            let cost = answer.body.count + answer.etag.utf8.count + referenceBytes
            guard cost <= capacityBytes else { return }
            // Room is made by dropping whichever studies the dictionary yields first: cheap, and an
            // evicted study is only answered from the pool until it is asked for again.
            while s.bytes + cost > capacityBytes, let victim = s.entries.keys.first { s.drop(victim) }
            // A reference held for another study is stale only if that study is gone; a name is
            // unique among live studies, so the other entry is dropped.
            if let other = s.studyOf[reference] { s.drop(other) }
            s.entries[studyID] = Entry(answer: answer, references: [reference], bytes: cost)
            s.studyOf[reference] = studyID
            s.bytes += cost
        }
    }

    /// Runs `write`, a change to what the study's prediction is, with the study's entry dropped and
    /// none stored for it until the write is over (committed or not).
    func changing<T>(studyID: Int, _ write: () throws -> T) rethrows -> T {
        state.withLock { s in
            s.changing[studyID, default: 0] += 1
            s.generation &+= 1
            s.drop(studyID)
        }
        defer {
            state.withLock { s in
                let left = (s.changing[studyID] ?? 1) - 1
                s.changing[studyID] = left > 0 ? left : nil
                s.generation &+= 1
                s.drop(studyID)
            }
        }
        return try write()
    }

    /// Studies held and bytes counted (for tests).
    var usage: (studies: Int, bytes: Int) { state.withLock { ($0.entries.count, $0.bytes) } }
}
