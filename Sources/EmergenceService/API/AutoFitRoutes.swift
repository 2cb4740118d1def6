import HTTP
import Ingestion

/// `PATCH /v1/studies/{study}`: changes what a study's owner may change after creation, today its
/// `auto_fit` (fit options, or null to turn auto-refit off). Other study fields stay as created.
extension ServiceAPI {
    var autoFitRoutes: [Route] {
        [Route("PATCH", "/v1/studies/{study}", .write, patchStudy)]
    }

    func patchStudy(_ request: HTTPRequest) throws -> HTTPResponse {
        let s = try study(request)
        let members = try JSONValue.objectMembers(request.body, what: "a JSON object", blankIsEmpty: false)
        let unknown = members.map(\.0).filter { $0 != "auto_fit" }
        if !unknown.isEmpty {
            throw ValidationError(unknown.map { .init(field: $0, reason: "cannot be changed; only auto_fit can") })
        }
        guard let value = members.first(where: { $0.0 == "auto_fit" })?.1 else {
            throw ValidationError(field: "auto_fit", reason: "is required")
        }
        let options = try StudyDraft.autoFit(value)
        guard try studies.setAutoFit(id: s.id, options) else { throw APIError.notFound("no study with id \(s.id)") }
        guard let updated = try studies.find(id: s.id) else { throw APIError.notFound("no study with id \(s.id)") }
        return try json(200, updated)
    }
}
