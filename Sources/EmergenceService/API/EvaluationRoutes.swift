import Storage
import EmergenceCore
import HTTP
import Synchronization
import Ingestion

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
        /// The evaluation fields that carried a value in at least one row.
        var columns: [String]
        /// Columns or keys left out at the caller's word (`?ignore=`, `extra_…` names).
        var ignored: [String]
    }

    func uploadEvaluations(_ request: HTTPRequest) throws -> HTTPResponse {
        guard let slot = uploadSlots.take() else {
            throw APIError(status: 503, title: "Service Unavailable",
                           detail: "\(uploadSlots.limit) uploads are being stored already; retry shortly (nothing was stored)",
                           headers: ["Retry-After": "1"])
        }
        defer { slot.release() }
        let s = try study(request)
        var query: [String: String] = [:]
        for item in request.queryItems where query[item.name] == nil { query[item.name] = item.value }
        let parameters = query
        let clock = ContinuousClock()
        let t0 = clock.now
        let body = request.body
        let contentType = request.headers["Content-Type"]
        let format = FormatBox()
        // Parsing (and inflating a gzip body, piece by piece) runs on another thread and feeds the
        // writer as it goes (see EvaluationStore); memory stays bounded whatever the body inflates to.
        let outcome = try evaluations.upsert(studyID: s.id, streaming: { emit in
            let read = try EvaluationUpload.read(request, contentType: contentType, parameters: parameters, emit: emit)
            format.value = read.format
            format.columns = read.columns
            format.ignored = read.ignored
        })
        let t1 = clock.now
        metrics.recordUpload(inserted: outcome.inserted, updated: outcome.updated)
        if outcome.inserted + outcome.updated > 0 { autoFit.noteUpload(studyID: s.id) }
        logger.info("study \(s.id): \(format.value.rawValue) upload of \(body.count) bytes, \(outcome.inserted) inserted, \(outcome.updated) updated in \(t1 - t0)")
        return try json(200, UploadReply(format: format.value.rawValue, inserted: outcome.inserted, updated: outcome.updated,
                                         data_version: outcome.dataVersion, columns: format.columns, ignored: format.ignored))
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

/// The format and columns the parsing thread found, read by the handler after the upload (set before it returns).
final class FormatBox: Sendable {
    private let stored = Lock(UploadFormat.json)
    private let names = Lock((columns: [String](), ignored: [String]()))
    var value: UploadFormat {
        get { stored.withLock { $0 } }
        set { stored.withLock { $0 = newValue } }
    }
    var columns: [String] {
        get { names.withLock { $0.columns } }
        set { names.withLock { $0.columns = newValue } }
    }
    var ignored: [String] {
        get { names.withLock { $0.ignored } }
        set { names.withLock { $0.ignored = newValue } }
    }
}
