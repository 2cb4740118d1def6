import Jobs
import Charts
import EmergenceCore
import Foundation
import HTTP

/// `GET /v1/jobs/{id}/plots/backtest.svg`: the back-test chart (the paper's Figure 7) of a succeeded
/// back-test job, drawn by `BacktestChart.svg(result:options:)` like `emergence backtest --svg`.
/// 404: no such job, or a job of another kind (it has no back-test to draw; the problem names its
/// kind). 409: a back-test that has not succeeded. ETag and `Cache-Control: no-cache` as in
/// PlotRoutes.swift; unlike a fit plot this picture depends on the stored result alone.
extension ServiceAPI {
    /// The routes of this file, in `routeTable`.
    var jobPlotRoutes: [Route] {
        [
            Route("GET", "/v1/jobs/{id}/plots/backtest.svg", .read, backtestPlotSVG),
        ]
    }

    func backtestPlotSVG(_ request: HTTPRequest) throws -> HTTPResponse {
        let id = try jobID(request)
        guard let job = try jobs.find(id: id) else { throw APIError.notFound("no job with id \(id)") }
        guard job.kind == .backtest else {
            throw APIError.notFound("job \(id) is a \(job.kind.rawValue) job, not a backtest: it has no back-test plot")
        }
        guard job.status == .succeeded else {
            let why = job.status.isFinished
                ? "back-test \(id) ended \(job.status.rawValue) and has no result to draw"
                : "back-test \(id) is \(job.status.rawValue) and has no result yet; poll /v1/jobs/\(id) until it has succeeded"
            throw APIError(status: 409, title: "Conflict", detail: why)
        }
        // A succeeded job listed without its result is loaded whole by `find`; nil here is a broken store.
        guard let json = job.resultJSON else {
            throw APIError(status: 500, title: "Internal Server Error", detail: "back-test \(id) succeeded without a stored result")
        }
        let result: BacktestResult
        do {
            result = try JSONDecoder().decode(BacktestResult.self, from: Data(json))
        } catch {
            throw APIError(status: 500, title: "Internal Server Error", detail: "back-test \(id)'s stored result cannot be read: \(error)")
        }
        let name = try studies.find(id: job.studyID)?.name
        let notes = ["Back-test job \(id)" + (name.map { " of study \($0)" } ?? "") + (job.finishedAt.map { ", finished \($0)" } ?? "") + "."]
        let svg = BacktestChart.svg(result: result, options: .init(title: "Back-test: " + (name ?? "job \(id)"), notes: notes))
        let body = Array(svg.utf8)
        let etag = "\"svg-\(Self.contentHash(body))\""
        if let inm = request.headers["If-None-Match"], Self.matches(ifNoneMatch: inm, etag: etag) {
            return HTTPResponse(status: 304, headers: ["ETag": etag, "Cache-Control": "no-cache"])
        }
        return HTTPResponse(status: 200, headers: ["Content-Type": "image/svg+xml", "ETag": etag, "Cache-Control": "no-cache"], body: body)
    }
}
