import EmergenceCore
import HTTP

extension ServiceAPI {
    struct EvaluationPage: Encodable {
        var evaluations: [StoredEvaluation]
        var next_cursor: String?
    }

    struct UploadReply: Encodable {
        var format: String
        var inserted: Int
        var updated: Int
        var data_version: Int
    }

    func uploadEvaluations(_ request: HTTPRequest) throws -> HTTPResponse {
        let s = try study(request)
        var parameters: [String: String] = [:]
        for item in request.queryItems where parameters[item.name] == nil { parameters[item.name] = item.value }
        let clock = ContinuousClock()
        let t0 = clock.now
        let (format, rows) = try EvaluationUpload.decode(request.body, contentType: request.headers["Content-Type"],
                                                         parameters: parameters)
        let t1 = clock.now
        if rows.isEmpty {
            throw IngestionError(problems: [RowProblem(index: -1, field: "body", reason: "the upload holds no evaluations")])
        }
        let outcome = try evaluations.upsert(studyID: s.id, rows)
        let t2 = clock.now
        logger.info("study \(s.id): \(format.rawValue) upload of \(request.body.count) bytes, \(outcome.inserted) inserted, \(outcome.updated) updated (decode \(t1 - t0), store \(t2 - t1))")
        return try json(200, UploadReply(format: format.rawValue, inserted: outcome.inserted, updated: outcome.updated,
                                         data_version: outcome.dataVersion))
    }

    func listEvaluations(_ request: HTTPRequest) throws -> HTTPResponse {
        let s = try study(request)
        let limit = try limit(request, fallback: 100, max: 1000)
        let after = try cursor(request, fallback: 0)
        let setting = request.query("setting")
        if let setting, Evaluation.Setting(rawValue: setting) == nil {
            throw APIError.badParameter("setting", "must be few_shot or finetuned")
        }
        let filter = EvaluationStore.Filter(checkpoint: request.query("checkpoint"), setting: setting, subset: request.query("subset"))
        let page = try evaluations.page(studyID: s.id, filter: filter, after: after, limit: limit + 1)
        let shown = Array(page.prefix(limit))
        return try json(200, EvaluationPage(evaluations: shown, next_cursor: page.count > limit ? shown.last.map { String($0.id) } : nil))
    }
}
