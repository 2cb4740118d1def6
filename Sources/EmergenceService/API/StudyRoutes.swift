import Jobs
import HTTP

extension ServiceAPI {
    struct StudyPage: Encodable {
        var studies: [Study]
        var next_cursor: String?
    }

    func createStudy(_ request: HTTPRequest) throws -> HTTPResponse {
        let draft = try StudyDraft.decode(request.body)
        do {
            let s = try studies.create(draft)
            return try json(201, s, headers: ["Location": "/v1/studies/\(s.id)"])
        } catch StudyStore.CreateError.nameTaken {
            throw APIError(status: 409, title: "Conflict", detail: "a study named \"\(draft.name)\" already exists",
                           errors: [("name", "is already taken")])
        }
    }

    func listStudies(_ request: HTTPRequest) throws -> HTTPResponse {
        let limit = try limit(request, fallback: 100, max: 1000)
        let after = try cursor(request, fallback: 0)
        let page = try studies.list(after: after, limit: limit + 1)
        let shown = Array(page.prefix(limit))
        return try json(200, StudyPage(studies: shown, next_cursor: page.count > limit ? shown.last.map { String($0.id) } : nil))
    }

    func getStudy(_ request: HTTPRequest) throws -> HTTPResponse {
        try json(200, try study(request))
    }

    func deleteStudy(_ request: HTTPRequest) throws -> HTTPResponse {
        let s = try study(request)
        // Running jobs of the study (a comparison's second study too) are told to stop; their rows go with the study.
        for job in try jobs.list(studyID: s.id, kind: nil, status: .running, before: Int.max, limit: 1000) { pool.cancel(job.id) }
        // Its prediction must not outlive it: the event loop's answer stands aside while the row goes.
        guard try predictions.changing(studyID: s.id, { try studies.delete(id: s.id) }) else {
            throw APIError.notFound("no study with id \(s.id)")
        }
        _ = evaluations.identities.take(s.id)  // its cached identities: ids are never reused, so only memory
        forgetDocuments()
        autoFit.notePoolChanged(from: s.pool, to: nil)  // its α profile no longer feeds its pool
        return HTTPResponse(status: 204)
    }
}
