import Foundation
import HTTP
import Ingestion
import Jobs
import Storage

/// A request that cannot be served, as an RFC 9457 problem.
struct APIError: HTTPResponseError {
    var status: Int
    var title: String
    var detail: String
    /// The fields at fault, answered as `errors: [{field, reason}]` (none: no list).
    var errors: [(field: String, reason: String)] = []
    var headers: HTTPHeaders = HTTPHeaders()

    /// The problem body's members beside status, title and detail.
    var extensions: [String: Any] {
        errors.isEmpty ? [:] : ["errors": errors.map { ["field": $0.field, "reason": $0.reason] }]
    }

    static func notFound(_ detail: String) -> APIError { APIError(status: 404, title: "Not Found", detail: detail) }

    /// A study that does not exist, with the call that creates it (a name; an id is never reused).
    static func missingStudy(_ ref: String) -> APIError {
        let isID = !ref.isEmpty && ref.utf8.allSatisfy { $0 >= 0x30 && $0 <= 0x39 }
        let fix = isID ? "study ids are not reused: list the studies with GET /v1/studies"
            : "create it with POST /v1/studies {\"name\": \(JSONBody.string(ref))} (emergence-client: upload --create)"
        return APIError(status: 404, title: "Not Found", detail: "no study with id or name \"\(ref)\"; \(fix)",
                        errors: [("study", isID ? "no such study" : "no such study; create it with POST /v1/studies")])
    }

    /// A bad query or path parameter (400), naming it.
    static func badParameter(_ name: String, _ reason: String) -> APIError {
        APIError(status: 400, title: "Bad Request", detail: "query parameter \(name) \(reason)",
                 errors: [(name, reason)])
    }

    var response: HTTPResponse {
        .problem(status: status, title: title, detail: detail, extensions: extensions, headers: headers)
    }
}

/// Most problems an upload lists (a 200k-row file of garbage would otherwise answer with megabytes).
let maxListedProblems = 10_000

extension IngestionError: HTTPResponseError {
    /// 422 listing each bad row: `errors: [{index, row?, line?, field, reason}]`; `row` counts from 1
    /// (`index` is its 0-based twin, kept for clients that read it).
    public var response: HTTPResponse {
        let listed = problems.prefix(maxListedProblems).map { p -> [String: Any] in
            var o: [String: Any] = ["index": p.index, "field": p.field, "reason": p.reason]
            if p.index >= 0 { o["row"] = p.index + 1 }
            if let line = p.line { o["line"] = line }
            return o
        }
        let first = problems.first.map { "\($0.location), \($0.field): \($0.reason)" } ?? ""
        var ext: [String: Any] = ["errors": Array(listed), "error_count": problems.count]
        if problems.count > maxListedProblems { ext["errors_truncated"] = true }
        let detail = problems.count == 1 ? "1 problem; nothing was stored: \(first)"
            : "\(problems.count) problems; nothing was stored. First: \(first)"
        return .problem(status: 422, title: "Unprocessable Content", detail: detail, extensions: ext)
    }
}

extension ValidationError: HTTPResponseError {
    /// 422 naming each field, in the shape of an upload's problems (`index` -1: not a row), which
    /// clients already read.
    public var response: HTTPResponse {
        IngestionError(problems: problems.map { RowProblem(index: -1, line: $0.line, field: $0.field, reason: $0.reason) }).response
    }
}

extension UploadError: HTTPResponseError {
    public var response: HTTPResponse { .problem(status: 415, title: "Unsupported Media Type", detail: description) }
}

extension JobStore.QueueFull: HTTPResponseError {
    package var response: HTTPResponse {
        .problem(status: 429, title: "Too Many Requests", detail: description,
                 extensions: ["retry_after": retryAfter], headers: ["Retry-After": "\(retryAfter)"])
    }
}

extension JobStore.StudyGone: HTTPResponseError {
    package var response: HTTPResponse {
        .problem(status: 404, title: "Not Found", detail: "the study was deleted while the fit was being queued")
    }
}

extension StudyDeleted: HTTPResponseError {
    var response: HTTPResponse { APIError.notFound(description).response }
}

/// Maps anything a handler throws to a response: an `HTTPResponseError` answers for itself; a
/// database error by its kind; anything else is unexpected, logged, not shown, under the request id
/// that the response carries too, so an operator can find the log line a client quotes.
func problemResponse(for error: Error, requestID: String = "", log: (String) -> Void) -> HTTPResponse {
    switch error {
    case let e as HTTPResponseError:
        return e.response
    case let e as SQLiteError where e.isConstraintViolation:
        // Validation should have caught it first; the schema's CHECKs are the backstop. Still the
        // client's data, so a 422, but logged: it means the two sets of rules have drifted apart.
        log("constraint violation (validation gap): \(e)")
        return .problem(status: 422, title: "Unprocessable Content",
                        detail: "a value was refused by the database's constraints: \(e.message)")
    case let e as SQLiteError where e.isDiskFull:
        // The write's transaction rolled back: all-or-nothing holds on a full disk too.
        log("disk full: \(e)")
        return .problem(status: 507, title: "Insufficient Storage",
                        detail: "the database's disk is full; nothing was stored", extensions: ["request_id": requestID])
    case let e as SQLiteError where e.isBusy:
        return .problem(status: 503, title: "Service Unavailable", detail: "the database is busy; retry shortly",
                        headers: ["Retry-After": "1"])
    default:
        log("\(error)")
        return .problem(status: 500, title: "Internal Server Error",
                        detail: "the server failed to complete the request; its log has the details under request id \(requestID)",
                        extensions: ["request_id": requestID])
    }
}

/// Compact JSON with sorted keys: the API's one encoding.
enum JSONBody {
    static func encode<T: Encodable>(_ value: T) throws -> [UInt8] {
        let e = JSONEncoder()
        e.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return [UInt8](try e.encode(value))
    }

    /// A JSON string literal for `s` (quotes included); the same escaping as the log lines.
    static func string(_ s: String) -> String {
        JSONText.string(s)
    }

    static func optionalString(_ s: String?) -> String { s.map(string) ?? "null" }
}


extension StudyStore.CreateError: HTTPResponseError {
    var response: HTTPResponse {
        switch self {
        case .deletedMeanwhile: return .problem(status: 409, title: "Conflict", detail: "the study was deleted while it was being created")
        // `createStudy` answers a taken name itself (naming the study); this is the backstop.
        case .nameTaken: return .problem(status: 409, title: "Conflict", detail: "a study with this name already exists")
        }
    }
}
