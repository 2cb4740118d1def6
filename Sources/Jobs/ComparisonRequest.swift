import Ingestion

/// The body of `POST /v1/comparisons`: the two studies (`a`, `b`: id or name) and the comparison's
/// options beside them, every problem of both reported in one answer.
package struct ComparisonRequest: Sendable {
    package var a: String
    package var b: String
    package var options: JobOptions

    package init(body: [UInt8]) throws {
        let all = try JSONValue.objectMembers(body, what: "a JSON object of options")
        var problems: [ValidationError.Problem] = []
        func reference(_ key: String) -> String {
            switch all.first(where: { $0.0 == key })?.1 {
            case .string(let s)? where !s.isEmpty && !s.contains("/")
                && !s.unicodeScalars.contains(where: { $0.value < 0x20 || $0.value == 0x7F }): return s
            case .number(let d)? where d >= 1 && d.rounded() == d && d <= 9_007_199_254_740_991: return String(Int64(d))
            case nil: problems.append(.init(field: key, reason: "is required: a study id or name"))
            default: problems.append(.init(field: key, reason: "must be a study id or name"))
            }
            return ""
        }
        a = reference("a")
        b = reference("b")
        if problems.isEmpty && a == b { problems.append(.init(field: "b", reason: "must name another study than a")) }
        var options: JobOptions?
        do {
            options = try JobOptions(.comparison, members: all.filter { $0.0 != "a" && $0.0 != "b" }, allowed: ["a", "b"])
        } catch let e as ValidationError {
            problems += e.problems
        }
        guard let options, problems.isEmpty else { throw ValidationError(problems) }
        self.options = options
    }
}
