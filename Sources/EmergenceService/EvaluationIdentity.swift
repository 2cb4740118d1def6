import Storage
import EmergenceCore
import Foundation
import Synchronization

/// What makes two uploaded rows "the same evaluation" (docs/method.md §1): re-sending a row with the
/// same identity updates the stored one instead of adding a second.
///
/// A missing subset and an empty one are the same identity, as they were under schema version 1's
/// unique index (`ifnull(subset, '')`). `shots` and `finetune_examples` cannot be negative, so a
/// missing value never equals a present one. Numbers compare as numbers: 64 and 64.0 are equal.
struct EvaluationIdentity: Hashable {
    var checkpoint: String
    var setting: Evaluation.Setting
    var shots: Int?
    var finetuneExamples: Double?
    var subset: String

    init(_ e: Evaluation) {
        self.init(checkpoint: e.checkpoint, setting: e.setting, shots: e.shots, finetuneExamples: e.finetuneExamples,
                  subset: e.subset)
    }

    init(checkpoint: String, setting: Evaluation.Setting, shots: Int?, finetuneExamples: Double?, subset: String?) {
        self.checkpoint = checkpoint
        self.setting = setting
        self.shots = shots
        // +0.0 for -0.0: they compare equal, and must hash alike.
        self.finetuneExamples = finetuneExamples.map { $0 == 0 ? 0 : $0 }
        self.subset = subset ?? ""
    }
}

/// identity → row id, for one study. An open-addressing table (linear probing, at most half full)
/// over a 64-bit hash of the identity's bytes: the writer looks up every uploaded row, and Swift's
/// `Dictionary` with String keys spent ~0.2 s of a 200k-row upload hashing and resizing. Keys are
/// compared in full on a hash match, so a hash collision costs a probe, never a wrong answer.
/// The hash is seeded per process, so which names collide cannot be worked out ahead of time.
struct IdentityTable {
    private var slots: [Int32]          // index into `keys`, or -1
    private var hashes: [UInt64]        // of keys[i]
    private(set) var keys: [EvaluationIdentity] = []
    private(set) var ids: [Int] = []
    private var mask: Int
    /// Memory held by the keys' text outside the table's arrays (see `heapBytes`).
    private var keyHeapBytes = 0

    init(minimumCapacity: Int = 0) {
        var size = 16
        while size < 2 * minimumCapacity { size *= 2 }
        slots = Array(repeating: -1, count: size)
        hashes = []
        mask = size - 1
    }

    var count: Int { keys.count }

    /// An estimate of the memory this table holds, in bytes: each array's storage at its length
    /// (slots 4 B, hashes 8 B, ids 8 B, keys one `EvaluationIdentity` stride) plus each key's
    /// out-of-line text. Capacity beyond the length is at most as much again, so the true figure
    /// is within 2x; what matters for a bound is that a long name counts for its length.
    var bytes: Int {
        slots.count * MemoryLayout<Int32>.stride
            + keys.count * (MemoryLayout<UInt64>.stride + MemoryLayout<Int>.stride + MemoryLayout<EvaluationIdentity>.stride)
            + keyHeapBytes
    }

    /// Bytes a key's strings occupy on the heap: Swift keeps UTF-8 of up to 15 bytes inside the
    /// String itself; longer text is a separate allocation of its length plus a 32-byte header.
    static func heapBytes(_ key: EvaluationIdentity) -> Int {
        func text(_ s: String) -> Int {
            let n = s.utf8.count
            return n > 15 ? n + 32 : 0
        }
        return text(key.checkpoint) + text(key.subset)
    }

    /// Where `key` is, or the empty slot where it would go: (slot, index into `keys` or nil).
    @inline(__always) private func probe(_ key: EvaluationIdentity, _ h: UInt64) -> (slot: Int, index: Int?) {
        var i = Int(truncatingIfNeeded: h) & mask
        while true {
            let k = Int(slots[i])
            if k < 0 { return (i, nil) }
            if hashes[k] == h && keys[k] == key { return (i, k) }
            i = (i + 1) & mask
        }
    }

    private mutating func append(_ key: EvaluationIdentity, _ h: UInt64, id: Int, at slot: Int) {
        slots[slot] = Int32(keys.count)
        keyHeapBytes += Self.heapBytes(key)
        keys.append(key)
        hashes.append(h)
        ids.append(id)
        if 2 * keys.count > slots.count { grow() }
    }

    /// The row id stored for `key`, if any.
    func id(for key: EvaluationIdentity) -> Int? {
        probe(key, Self.hash(key)).index.map { ids[$0] }
    }

    /// The id stored for `key`; or, when there is none, stores `id` for it and returns nil. One
    /// hash and one probe, where `id(for:)` then `set` would take two.
    mutating func existingOrInsert(_ key: EvaluationIdentity, id: Int) -> Int? {
        let h = Self.hash(key)
        let (slot, index) = probe(key, h)
        if let index { return ids[index] }
        append(key, h, id: id, at: slot)
        return nil
    }

    /// Stores `id` for `key`, replacing an existing entry.
    mutating func set(_ key: EvaluationIdentity, id: Int) {
        let h = Self.hash(key)
        let (slot, index) = probe(key, h)
        if let index { ids[index] = id } else { append(key, h, id: id, at: slot) }
    }

    private mutating func grow() {
        let size = slots.count * 2
        slots = Array(repeating: -1, count: size)
        mask = size - 1
        for (k, h) in hashes.enumerated() {
            var i = Int(truncatingIfNeeded: h) & mask
            while slots[i] >= 0 { i = (i + 1) & mask }
            slots[i] = Int32(k)
        }
    }

    // MARK: Hash

    private static let seed: UInt64 = UInt64.random(in: .min ... .max) | 1

    /// wyhash's mixing step: the two halves of a 128-bit product, folded.
    @inline(__always) private static func mix(_ a: UInt64, _ b: UInt64) -> UInt64 {
        let p = a.multipliedFullWidth(by: b)
        return p.high ^ p.low
    }

    @inline(__always) private static func absorb(_ h: inout UInt64, _ s: String) {
        var s = s
        s.withUTF8 { u in
            var i = 0
            let n = u.count
            while i + 8 <= n {
                var w: UInt64 = 0
                withUnsafeMutableBytes(of: &w) { $0.copyMemory(from: UnsafeRawBufferPointer(rebasing: UnsafeRawBufferPointer(u)[i..<(i + 8)])) }
                h = mix(h ^ w, 0x9E37_79B9_7F4A_7C15)
                i += 8
            }
            var tail: UInt64 = 0
            var shift: UInt64 = 0
            while i < n {
                tail |= UInt64(u[i]) << shift
                shift += 8
                i += 1
            }
            // The length goes in too, so "ab" + "c" and "a" + "bc" differ.
            h = mix(h ^ tail, 0xA076_1D64_78BD_642F ^ UInt64(n))
        }
    }

    static func hash(_ key: EvaluationIdentity) -> UInt64 {
        var h = seed
        absorb(&h, key.checkpoint)
        absorb(&h, key.subset)
        let shots = key.shots.map { UInt64(bitPattern: Int64($0)) } ?? 0xFFFF_FFFF_FFFF_FFFF
        let examples = key.finetuneExamples.map { $0.bitPattern } ?? 0xFFF8_0000_DEAD_BEEF
        h = mix(h ^ shots, 0xE703_7ED1_A0B4_28DB ^ (key.setting == .fewShot ? 1 : 2))
        h = mix(h ^ examples, 0x8EBC_6AF0_9C88_C6E3)
        return mix(h, 0x5899_65CC_7537_4CC3)
    }
}

/// Each study's stored identities (identity → row id), kept between uploads so that a small upload
/// into a large study does not re-read the study.
///
/// Only the single writer uses an entry, inside its write transaction, and only after checking it
/// is whole: the study's row count must match the count the entry was saved with (rows are never
/// deleted one by one, so a count that matches means the same rows) and `PRAGMA data_version` must
/// not have moved (no other connection has committed). An upload takes the entry out and puts it
/// back only after its transaction has committed, so a rolled-back upload leaves nothing behind.
///
/// Bounded in bytes, not in identities: a few rows with megabyte-long checkpoint names weigh more
/// than a million short ones. Past `capacityBytes` (`IdentityTable.bytes` summed over the entries)
/// the least recently used studies are dropped; an entry larger than the whole capacity is not kept
/// at all. The study being uploaded to is out of the cache while its upload runs, so that upload's
/// own table is bounded by the upload (and the study), not by this.
final class IdentityCache: Sendable {
    struct Entry {
        var rows: IdentityTable
        /// `study.evaluation_count` when saved.
        var count: Int
        /// The writer's `PRAGMA data_version` when saved.
        var dataVersion: Int
        var lastUse: UInt64 = 0
    }

    /// Default bound: 64 MiB holds about 600,000 identities with short names.
    static let defaultCapacityBytes = 64 << 20

    let capacityBytes: Int

    private struct State {
        var entries: [Int: Entry] = [:]
        var clock: UInt64 = 0
        var bytes = 0
        var identities = 0
    }
    private let state = Lock(State())

    init(capacityBytes: Int = IdentityCache.defaultCapacityBytes) {
        self.capacityBytes = max(0, capacityBytes)
    }

    /// Removes and returns the study's entry, if any.
    func take(_ studyID: Int) -> Entry? {
        state.withLock { s in
            guard let e = s.entries.removeValue(forKey: studyID) else { return nil }
            s.bytes -= e.rows.bytes
            s.identities -= e.rows.count
            return e
        }
    }

    /// Saves an entry (after its transaction committed); evicts the least recently used past capacity.
    func put(_ studyID: Int, _ entry: Entry) {
        let size = entry.rows.bytes
        state.withLock { s in
            if let old = s.entries.removeValue(forKey: studyID) {
                s.bytes -= old.rows.bytes
                s.identities -= old.rows.count
            }
            guard size <= capacityBytes else { return }
            s.clock += 1
            var e = entry
            e.lastUse = s.clock
            s.entries[studyID] = e
            s.bytes += size
            s.identities += e.rows.count
            while s.bytes > capacityBytes, let victim = s.entries.min(by: { $0.value.lastUse < $1.value.lastUse }) {
                s.entries.removeValue(forKey: victim.key)
                s.bytes -= victim.value.rows.bytes
                s.identities -= victim.value.rows.count
            }
        }
    }

    /// Identities held, for tests.
    var count: Int { state.withLock { $0.identities } }
    /// Bytes held (`IdentityTable.bytes` summed), for tests and metrics.
    var bytes: Int { state.withLock { $0.bytes } }
    /// Studies held, for tests.
    var studies: Int { state.withLock { $0.entries.count } }
}
