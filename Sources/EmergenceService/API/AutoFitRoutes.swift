import HTTP
import Ingestion

/// `PATCH /v1/studies/{study}`: changes what a study's owner may change after creation: its
/// `auto_fit` (fit options, or null to turn auto-refit off) and its `pool` tag (or null). Other study
/// fields stay as created.
extension ServiceAPI {
    var autoFitRoutes: [Route] {
        [Route("PATCH", "/v1/studies/{study}", .write, patchStudy)]
    }

    func patchStudy(_ request: HTTPRequest) throws -> HTTPResponse {
        let s = try study(request)
        let members = try JSONValue.objectMembers(request.body, what: "a JSON object", blankIsEmpty: false)
        let unknown = members.map(\.0).filter { $0 != "auto_fit" && $0 != "pool" }
        if !unknown.isEmpty {
            throw ValidationError(unknown.map { .init(field: $0, reason: "cannot be changed; only auto_fit and pool can") })
        }
        let autoFit = members.first(where: { $0.0 == "auto_fit" })?.1
        let pool = members.first(where: { $0.0 == "pool" })?.1
        guard autoFit != nil || pool != nil else {
            throw ValidationError(field: "auto_fit", reason: "is required (or pool)")
        }
        let options = try autoFit.map { try StudyDraft.autoFit($0) }
        let tag = try pool.map { try StudyDraft.pool($0) }
        if let options, !(try studies.setAutoFit(id: s.id, options)) { throw APIError.notFound("no study with id \(s.id)") }
        if let tag {
            guard try studies.setPool(id: s.id, tag) else { throw APIError.notFound("no study with id \(s.id)") }
            if tag != s.pool { self.autoFit.notePoolChanged(from: s.pool, to: tag) }
        }
        guard let updated = try studies.find(id: s.id) else { throw APIError.notFound("no study with id \(s.id)") }
        return try json(200, updated)
    }
}
