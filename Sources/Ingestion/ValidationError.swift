/// A request that cannot be taken because of what it says (an option out of range, a misspelt key,
/// a study field too long), with every problem found, each naming its field. Not a row of an upload:
/// those are `RowProblem`s of an `IngestionError`.
public struct ValidationError: Error, Sendable, Equatable, CustomStringConvertible {
    public struct Problem: Sendable, Equatable {
        /// The field at fault, dotted for a nested one (`scaling_law.a`); `body` for the whole body.
        public var field: String
        public var reason: String
        /// 1-based line of the body, for JSON that does not parse.
        public var line: Int?

        public init(field: String, reason: String, line: Int? = nil) {
            self.field = field
            self.reason = reason
            self.line = line
        }
    }

    public var problems: [Problem]

    public init(_ problems: [Problem]) { self.problems = problems }

    public init(field: String, reason: String, line: Int? = nil) {
        problems = [Problem(field: field, reason: reason, line: line)]
    }

    /// The same problems with each field under `parent` (`body` becomes `parent` itself).
    public func nested(under parent: String) -> ValidationError {
        ValidationError(problems.map {
            Problem(field: $0.field == "body" ? parent : parent + "." + $0.field, reason: $0.reason, line: $0.line)
        })
    }

    public var description: String {
        problems.map { "\($0.line.map { "line \($0)" } ?? "the request"), \($0.field): \($0.reason)" }.joined(separator: "\n")
    }
}

extension JSONValue {
    /// The members of a request body that must be a JSON object (`what` names it in the error); a
    /// blank body, when `blankIsEmpty`, is an empty object.
    package static func objectMembers(_ body: [UInt8], what: String, blankIsEmpty: Bool = true) throws -> [(String, JSONValue)] {
        if blankIsEmpty && body.allSatisfy({ $0 == 0x20 || $0 == 0x0A || $0 == 0x0D || $0 == 0x09 }) { return [] }
        let root: JSONValue
        do { root = try JSONParser.parse(body) } catch let e as JSONSyntaxError {
            throw ValidationError(field: "body", reason: "invalid JSON at line \(e.line), column \(e.column): \(e.reason)", line: e.line)
        }
        guard case .object(let members) = root else {
            throw ValidationError(field: "body", reason: "expected \(what), got \(root.kindName)")
        }
        return members
    }
}
