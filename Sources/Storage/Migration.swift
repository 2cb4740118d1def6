/// One module's part of one step of the schema. `version` is what `PRAGMA user_version` reads once
/// the step has run. Each module that owns tables contributes its own migrations; the parts of one
/// version run in one transaction, in the order given (a table that references another's comes
/// after it), and the runner then sets `user_version`.
public struct Migration: Sendable {
    public let version: Int
    public let script: StaticString
    /// A query run after `script`, in its transaction, whose single text value (NULL: nothing to
    /// say) tells the operator what the step did to existing data (rows it moved aside, say).
    public let note: StaticString?

    public init(version: Int, script: StaticString, note: StaticString? = nil) {
        self.version = version
        self.script = script
        self.note = note
    }
}

public enum MigrationError: Error, CustomStringConvertible {
    /// The file was written by a newer build; running against it could corrupt it.
    case databaseIsNewer(found: Int, known: Int)

    public var description: String {
        switch self {
        case .databaseIsNewer(let found, let known):
            return "the database has schema version \(found) but this build knows only up to \(known); use a newer build"
        }
    }
}

extension Connection {
    /// Brings the schema up to the last of `migrations`, each step in its own transaction, so a crash
    /// mid-way leaves the file at a whole version. Returns the versions applied.
    @discardableResult
    public func migrate(_ migrations: [Migration]) throws -> [Int] {
        var notes: [String] = []
        return try migrate(migrations, notes: &notes)
    }

    /// `migrate`, also appending each applied step's `note` (when it has something to say).
    @discardableResult
    public func migrate(_ migrations: [Migration], notes: inout [String]) throws -> [Int] {
        let known = migrations.map(\.version).max() ?? 0
        let current = try userVersion()
        if current > known { throw MigrationError.databaseIsNewer(found: current, known: known) }
        var applied: [Int] = []
        // Stable: parts of one version keep the order they were given in.
        let steps = Dictionary(grouping: migrations, by: \.version).sorted { $0.key < $1.key }
        for (version, parts) in steps where version > current {
            try transaction(immediate: true) {
                for m in parts { try execute(m.script) }
                try setUserVersion(version)
                for m in parts {
                    if let note = m.note, let text = try queryOne(note, row: { $0.text(0) }) ?? nil {
                        notes.append(text)
                    }
                }
            }
            applied.append(version)
        }
        return applied
    }
}
