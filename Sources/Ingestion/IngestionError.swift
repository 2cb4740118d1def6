/// What went wrong with one uploaded row, and where.
public struct RowProblem: Error, Codable, Sendable, Equatable {
    /// 0-based index of the data row in the upload; -1 for a problem with the upload as a whole
    /// (a missing CSV column, JSON that does not parse).
    public var index: Int
    /// 1-based physical line for line-oriented formats (CSV, NDJSON); the record's first line.
    public var line: Int?
    /// The column or JSON field at fault (docs/method.md §1 names); `row` when the row's shape is wrong.
    public var field: String
    public var reason: String

    public init(index: Int, line: Int? = nil, field: String, reason: String) {
        self.index = index
        self.line = line
        self.field = field
        self.reason = reason
    }

    /// Where the problem is, counted from 1 and naming the source: `line N` for CSV and NDJSON (and
    /// JSON syntax), `rows[N]` for the N-th element of a JSON upload (1 for the first), `the upload`
    /// for the body as a whole.
    public var location: String {
        if let line { return "line \(line)" }
        return index >= 0 ? "rows[\(index + 1)]" : "the upload"
    }
}

/// An upload that cannot be taken: carries every problem found, not only the first, so a client can
/// fix a file in one round trip.
public struct IngestionError: Error, Sendable, CustomStringConvertible {
    public var problems: [RowProblem]

    public init(problems: [RowProblem]) { self.problems = problems }

    /// One line per problem, e.g. `line 7, accuracy: must be a number in [0, 1]` (see `RowProblem.location`).
    public var description: String {
        problems.map { "\($0.location), \($0.field): \($0.reason)" }.joined(separator: "\n")
    }
}

/// The problems of one upload as it is read. Bounded: a gigabyte of bad rows would otherwise hold
/// a problem per row in memory, so reading stops at `limit` problems with a last one saying so
/// (the API lists up to that many anyway).
struct ProblemList {
    static let limit = 10_000

    private(set) var items: [RowProblem] = []

    var isEmpty: Bool { items.isEmpty }

    /// Records `p`; throws every problem so far once there are `limit` of them.
    mutating func add(_ p: RowProblem) throws {
        items.append(p)
        if items.count >= Self.limit {
            throw IngestionError(problems: items + [RowProblem(index: -1, line: p.line, field: "body",
                reason: "more than \(Self.limit) problems; reading stopped at \(p.location)")])
        }
    }

    /// The problems so far and `last`, as the error that ends the upload.
    func adding(_ last: RowProblem) -> IngestionError {
        IngestionError(problems: items + [last])
    }

    func finish() throws {
        if !items.isEmpty { throw IngestionError(problems: items) }
    }
}
