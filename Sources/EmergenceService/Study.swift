import Jobs
import EmergenceCore
import Ingestion

/// A study: one task on one model family (docs/method.md §1). Evaluations and fits belong to one.
public struct Study: Codable, Sendable, Equatable {
    public var id: Int
    public var name: String
    public var task: String?
    /// The accuracy floor (0.25 for 4-way multiple choice).
    public var chance: Double?
    public var shots: Int?
    public var description: String?
    /// Bumped by every upload that changes a row; a fit records the version it saw.
    public var dataVersion: Int
    public var evaluations: Int
    public var createdAt: String
    /// Refit options: new evaluations queue one refit with these after a quiet period (null: off).
    public var autoFit: FitOptions? = nil
    /// Which of the lab's studies pool their α together (PooledAlphaPrior; `GET /v1/priors/alpha?pool=`);
    /// nil: the pool of every study.
    public var pool: String? = nil

    enum CodingKeys: String, CodingKey {
        case id, name, task, chance, shots, description, evaluations, pool
        case dataVersion = "data_version"
        case createdAt = "created_at"
        case autoFit = "auto_fit"
    }

    /// As before `auto_fit` existed (unset optional fields left out), plus `auto_fit`, always
    /// present: null when auto-refit is off.
    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(id, forKey: .id)
        try c.encode(name, forKey: .name)
        try c.encodeIfPresent(task, forKey: .task)
        try c.encodeIfPresent(chance, forKey: .chance)
        try c.encodeIfPresent(shots, forKey: .shots)
        try c.encodeIfPresent(description, forKey: .description)
        try c.encode(evaluations, forKey: .evaluations)
        try c.encode(dataVersion, forKey: .dataVersion)
        try c.encode(createdAt, forKey: .createdAt)
        try c.encode(autoFit, forKey: .autoFit)
        try c.encodeIfPresent(pool, forKey: .pool)
    }
}

/// The body of `POST /v1/studies`.
public struct StudyDraft: Sendable, Equatable {
    public var name: String
    public var task: String?
    public var chance: Double?
    public var shots: Int?
    public var description: String?
    public var autoFit: FitOptions?
    public var pool: String?

    public init(name: String, task: String? = nil, chance: Double? = nil, shots: Int? = nil, description: String? = nil,
                autoFit: FitOptions? = nil, pool: String? = nil) {
        self.autoFit = autoFit
        self.pool = pool
        self.name = name
        self.task = task
        self.chance = chance
        self.shots = shots
        self.description = description
    }

    static let fields: Set<String> = ["name", "task", "chance", "shots", "description", "auto_fit", "pool"]

    /// Reads and validates a JSON body; every problem is reported.
    static func decode(_ body: [UInt8]) throws -> StudyDraft {
        let members = try JSONValue.objectMembers(body, what: "a JSON object", blankIsEmpty: false)
        var problems: [ValidationError.Problem] = []
        func bad(_ f: String, _ r: String) { problems.append(.init(field: f, reason: r)) }
        var draft = StudyDraft(name: "")
        var sawName = false
        for (key, value) in members {
            // A null leaves a known optional field unset; an unknown key is refused whatever its value.
            if case .null = value, key != "name", Self.fields.contains(key) { continue }
            switch key {
            case "name":
                guard case .string(let s) = value else { bad("name", "must be a string (got \(value.kindName))"); sawName = true; continue }
                sawName = true
                draft.name = s
                // Mirrors the pattern in openapi.json: 1–200 code points, no '/', no control characters,
                // no space at either end, and not all ASCII digits (those read as an id).
                let spaces: Set<Unicode.Scalar> = [" ", "\t", "\n", "\r"]
                let scalars = s.unicodeScalars
                if scalars.isEmpty || scalars.count > 200 { bad("name", "must be 1 to 200 characters") }
                else if scalars.allSatisfy({ $0.value >= 0x30 && $0.value <= 0x39 }) { bad("name", "must not be all digits (it would read as a study id)") }
                else if scalars.first.map(spaces.contains) == true || scalars.last.map(spaces.contains) == true { bad("name", "must not start or end with spaces") }
                else if s.contains("/") { bad("name", "must not contain '/' (it names a URL path segment)") }
                else if scalars.contains(where: { $0.value < 0x20 || $0.value == 0x7F }) { bad("name", "must not contain control characters") }
            case "task":
                guard case .string(let s) = value else { bad("task", "must be a string (got \(value.kindName))"); continue }
                if s.unicodeScalars.count > 200 { bad("task", "must be at most 200 characters") }
                draft.task = s
            case "description":
                guard case .string(let s) = value else { bad("description", "must be a string (got \(value.kindName))"); continue }
                if s.unicodeScalars.count > 10_000 { bad("description", "must be at most 10000 characters") }
                draft.description = s
            case "chance":
                guard case .number(let d) = value, d.isFinite else { bad("chance", "must be a number in [0, 1)"); continue }
                if !(d >= 0 && d < 1) { bad("chance", "must be a number in [0, 1)") }
                draft.chance = d
            case "shots":
                guard case .number(let d) = value, let i = NumberText.integer(d), i >= 0, i <= 1_000_000 else {
                    bad("shots", "must be an integer in 0...1000000"); continue
                }
                draft.shots = i
            case "pool":
                do { draft.pool = try StudyDraft.pool(value) } catch let e as ValidationError { problems += e.problems }
            case "auto_fit":
                do { draft.autoFit = try StudyDraft.autoFit(value) } catch let e as ValidationError { problems += e.problems }
            default:
                bad(key, "unknown field; expected one of \(fields.sorted().joined(separator: ", "))")
            }
        }
        if !sawName { bad("name", "is required") }
        if !problems.isEmpty { throw ValidationError(problems) }
        return draft
    }
}

extension StudyDraft {
    /// A study's `pool` tag: 1–100 characters of letters, digits, '.', '_' and '-' (it goes in a
    /// query string and a page unescaped), or null for none (the pool of every study).
    static func pool(_ value: JSONValue) throws -> String? {
        if case .null = value { return nil }
        guard case .string(let s) = value else {
            throw ValidationError(field: "pool", reason: "must be a string or null (got \(value.kindName))")
        }
        guard isPoolTag(s) else {
            throw ValidationError(field: "pool", reason: "must be 1 to 100 characters of letters, digits, '.', '_' and '-'")
        }
        return s
    }

    static func isPoolTag(_ s: String) -> Bool {
        let bytes = Array(s.utf8)
        return !bytes.isEmpty && bytes.count <= 100 && bytes.allSatisfy { b in
            (b >= 0x30 && b <= 0x39) || (b >= 0x41 && b <= 0x5A) || (b >= 0x61 && b <= 0x7A) || b == 0x2E || b == 0x5F || b == 0x2D
        }
    }

    /// A study's `auto_fit` value: fit options, read and checked as `POST …/fits` reads its body,
    /// with every problem's field under `auto_fit.`; `null` turns auto-refit off.
    static func autoFit(_ value: JSONValue) throws -> FitOptions? {
        if case .null = value { return nil }
        guard case .object = value else {
            throw ValidationError(field: "auto_fit", reason: "must be an object of fit options or null (got \(value.kindName))")
        }
        do {
            return try JobOptions.fit(value).fit
        } catch let e as ValidationError {
            throw e.nested(under: "auto_fit")
        }
    }
}
