import Jobs
import EmergenceCore
import Foundation
import HTTP
import Storage

/// `GET /` and `GET /studies/{study}`: the HTML pages for people (Pages/StudyPages renders them).
/// They read what the JSON routes read and need the same read scope. With tokens on, a browser
/// must send `Authorization: Bearer …` itself (docs/api.md, "Study pages": a header-setting proxy or
/// extension); no token is ever taken from a URL or a cookie, so the pages open no new way in.
extension ServiceAPI {
    /// The most studies the list shows (the JSON list pages through all of them).
    static let pageStudyLimit = 100
    /// The most fits a study page lists.
    static let pageHistoryLimit = 20

    func homePage(_ request: HTTPRequest) throws -> HTTPResponse {
        // A page of studies at a time, in creation order, so the page costs the same at 100,000
        // studies as at 10; `cursor` is the last study id of the page before (as in /v1/studies).
        let after = try cursor(request, fallback: 0)
        let page = try studies.list(after: after, limit: Self.pageStudyLimit + 1)
        var entries: [StudyListEntry] = []
        for s in page.prefix(Self.pageStudyLimit) {
            let last = try jobs.list(studyID: s.id, status: nil, before: Int.max, limit: 1).first
            var prediction: (id: Int, result: FitResult)?
            if let id = try jobs.newestSucceededID(studyID: s.id), let r = try storedResult(id: id) { prediction = (id, r) }
            // ISO-8601 UTC text compares in time order.
            let updated = [s.createdAt, last?.createdAt, last?.startedAt, last?.finishedAt].compactMap { $0 }.max() ?? s.createdAt
            entries.append(StudyListEntry(study: s, lastFit: last, prediction: prediction, updated: updated))
        }
        let next = page.count > Self.pageStudyLimit ? entries.last?.study.id : nil
        return Self.html(StudyPages.index(entries, next: next, isFirstPage: after == 0))
    }

    func studyPage(_ request: HTTPRequest) throws -> HTTPResponse {
        let s: Study
        do {
            s = try study(request)
        } catch let e as APIError where e.status == 404 && Self.wantsHTML(request) {
            // A person following a stale link: a page with the way home, not a JSON problem.
            let name = request.pathParameters["study"] ?? ""
            var page = Self.html(StudyPages.missing(name: name))
            page.status = 404
            return page
        }
        let recent = try jobs.list(studyID: s.id, status: nil, before: Int.max, limit: Self.pageHistoryLimit)
        var prediction: (job: Job, result: FitResult)?
        var largest: Double?
        if let id = try jobs.newestSucceededID(studyID: s.id), let job = try jobs.find(id: id), let r = try storedResult(job) {
            prediction = (job, r)
            largest = try largestCheckpointFlops(studyID: s.id, optionsJSON: job.optionsJSON)
        }
        let summaries = try jobs.resultSummaries(studyID: s.id, before: (recent.first?.id ?? 0) + 1, limit: Self.pageHistoryLimit)
        let history = recent.map { job in
            FitHistoryEntry(job: job, lossMLE: summaries[job.id]?.loss, resultStatus: summaries[job.id]?.status)
        }
        let backtest = try jobs.list(studyID: s.id, kind: .backtest, status: .succeeded, before: Int.max, limit: 1).first?.id
        let model = StudyPageModel(study: s, lastFit: recent.first, prediction: prediction, largestCheckpointFlops: largest,
                                   history: history, latestBacktestID: backtest)
        return Self.html(StudyPages.study(model))
    }

    /// Whether the client asks for HTML (a browser's Accept lists text/html); API clients do not.
    static func wantsHTML(_ request: HTTPRequest) -> Bool {
        guard let accept = request.headers["Accept"]?.lowercased() else { return false }
        return accept.contains("text/html") || accept.contains("application/xhtml+xml")
    }

    /// An HTML page: `no-cache` (a browser revalidates, so a new fit shows on reload).
    static func html(_ page: String) -> HTTPResponse {
        HTTPResponse(status: 200, headers: ["Content-Type": "text/html; charset=utf-8", "Cache-Control": "no-cache",
                                            "Content-Security-Policy": PageStyle.contentSecurityPolicy,
                                            "Referrer-Policy": "no-referrer", "X-Content-Type-Options": "nosniff"],
                     body: Array(page.utf8))
    }

    /// The stored result of a succeeded fit, decoded; nil for a fit without one.
    private func storedResult(id: Int) throws -> FitResult? {
        guard let job = try jobs.find(id: id) else { return nil }
        return try storedResult(job)
    }

    private func storedResult(_ job: Job) throws -> FitResult? {
        guard let bytes = job.resultJSON else { return nil }
        do {
            return try JSONDecoder().decode(FitResult.self, from: Data(bytes))
        } catch {
            // A result this build cannot read (written by another version): the page says "no
            // prediction" rather than failing whole; the JSON routes still serve it as stored.
            logger.warning("fit \(job.id): stored result does not decode for the study page: \(error)")
            return nil
        }
    }

    /// The largest compute among the study's checkpoints that a fit with these options kept:
    /// flops, else 6·N·D (as `Evaluation.effectiveFlops`), within its `max_flops`. Rows uploaded
    /// after the fit count too; the page says "your largest checkpoint", which is what it means now.
    private func largestCheckpointFlops(studyID: Int, optionsJSON: String) throws -> Double? {
        let options = (try? JSONSerialization.jsonObject(with: Data(optionsJSON.utf8))) as? [String: Any]
        let cap = (options?["max_flops"] as? NSNumber)?.doubleValue
        return try evaluations.largestFlops(studyID: studyID, atMost: cap)
    }
}
