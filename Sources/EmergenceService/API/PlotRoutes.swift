import Jobs
import Charts
import EmergenceCore
import Foundation
import HTTP

/// SVG pictures of a succeeded fit: `…/plots/fit.svg` (accuracy against pretraining loss
/// with the fitted curves and E*) and `…/plots/emergence-cdf.svg` (P(emerged by compute C)). Drawn
/// by the pure `Charts` module, the same code as `emergence plot`.
///
/// Caching: the strong ETag is a hash of the SVG's bytes, so it changes exactly when the picture
/// does, and `If-None-Match` answers 304. Every plot route says `Cache-Control: no-cache` (store,
/// but revalidate): a study's plots move to its next succeeded fit, and even a given fit's plot
/// draws the study's current rows, which an upload after the fit changes. Revalidation is cheap.
extension ServiceAPI {
    enum PlotKind {
        case fit, emergenceCDF
    }

    func fitPlotSVG(_ request: HTTPRequest) throws -> HTTPResponse { try plotOfFit(request, kind: .fit) }
    func fitEmergenceCDFSVG(_ request: HTTPRequest) throws -> HTTPResponse { try plotOfFit(request, kind: .emergenceCDF) }
    func studyFitPlotSVG(_ request: HTTPRequest) throws -> HTTPResponse { try plotOfStudy(request, kind: .fit) }
    func studyEmergenceCDFSVG(_ request: HTTPRequest) throws -> HTTPResponse { try plotOfStudy(request, kind: .emergenceCDF) }

    /// `/v1/fits/{id}/plots/…`: 404 for no such fit, 409 for a fit that has no result (yet or ever).
    private func plotOfFit(_ request: HTTPRequest, kind: PlotKind) throws -> HTTPResponse {
        let id = try fitID(request)
        // A back-test's chart is /v1/jobs/{id}/plots/backtest.svg; other kinds get a missing fit's 404.
        guard let job = try fitJob(id: id) else { throw APIError.notFound("no fit with id \(id)") }
        guard job.status == .succeeded else {
            let why = job.status.isFinished
                ? "fit \(id) ended \(job.status.rawValue) and has no result to draw"
                : "fit \(id) is \(job.status.rawValue) and has no result yet; poll /v1/fits/\(id) until it has succeeded"
            throw APIError(status: 409, title: "Conflict", detail: why)
        }
        guard let study = try studies.find(id: job.studyID) else { throw APIError.notFound("fit \(id)'s study was deleted") }
        return try plotResponse(request, job: job, study: study, kind: kind)
    }

    /// `/v1/studies/{study}/plots/…`: the newest succeeded fit, like `/prediction`; 404 without one.
    private func plotOfStudy(_ request: HTTPRequest, kind: PlotKind) throws -> HTTPResponse {
        let s = try study(request)
        guard let id = try jobs.newestSucceededID(studyID: s.id), let job = try jobs.find(id: id) else {
            throw APIError.notFound("study \(s.id) has no succeeded fit to draw; request one with POST /v1/studies/\(s.id)/fits")
        }
        return try plotResponse(request, job: job, study: s, kind: kind)
    }

    private func plotResponse(_ request: HTTPRequest, job: Job, study: Study, kind: PlotKind) throws -> HTTPResponse {
        let svg = try Self.drawPlot(job: job, study: study, evaluations: try evaluations.all(studyID: study.id), kind: kind)
        let body = Array(svg.utf8)
        let etag = "\"svg-\(Self.contentHash(body))\""
        if let inm = request.headers["If-None-Match"], Self.matches(ifNoneMatch: inm, etag: etag) {
            return HTTPResponse(status: 304, headers: ["ETag": etag, "Cache-Control": "no-cache"])
        }
        return HTTPResponse(status: 200, headers: ["Content-Type": "image/svg+xml", "ETag": etag, "Cache-Control": "no-cache"], body: body)
    }

    /// The picture for a stored fit: its result, its options' `max_flops`, the study's chance and rows.
    static func drawPlot(job: Job, study: Study, evaluations: (dataVersion: Int, rows: [Evaluation]), kind: PlotKind) throws -> String {
        guard let json = job.resultJSON else { throw APIError(status: 500, title: "Internal Server Error", detail: "fit \(job.id) succeeded without a stored result") }
        let result: FitResult
        do {
            result = try JSONDecoder().decode(FitResult.self, from: Data(json))
        } catch {
            throw APIError(status: 500, title: "Internal Server Error", detail: "fit \(job.id)'s stored result cannot be read: \(error)")
        }
        // Options were stored in canonical form by this service; unreadable ones only lose the grey rows.
        let maxFlops = (try? JSONDecoder().decode(FitOptions.self, from: Data(job.optionsJSON.utf8)))?.maxFlops
        var notes = ["Fit \(job.id) of study \(study.name)" + (job.finishedAt.map { ", finished \($0)" } ?? "") + "."]
        if evaluations.dataVersion != job.dataVersion {
            notes.append("The points are the study's rows now (data version \(evaluations.dataVersion)); the fit used data version \(job.dataVersion).")
        }
        switch kind {
        case .fit:
            return FitChart.svg(result: result, evaluations: evaluations.rows,
                                options: .init(title: study.name, chance: study.chance, maxFlops: maxFlops, notes: notes))
        case .emergenceCDF:
            return EmergenceCDFChart.svg(result: result,
                                         largestCheckpointFlops: EmergenceCDFChart.largestCheckpointFlops(evaluations.rows, maxFlops: maxFlops),
                                         options: .init(title: study.name, notes: notes))
        }
    }

    /// 128 bits of FNV-1a (two 64-bit lanes with different offsets) as hex: an ETag, not a security
    /// hash; equal bytes give equal tags, and a changed picture a different one.
    static func contentHash(_ bytes: [UInt8]) -> String {
        var a: UInt64 = 0xcbf2_9ce4_8422_2325, b: UInt64 = 0x6c62_272e_07bb_0142
        let prime: UInt64 = 0x0000_0100_0000_01b3
        for byte in bytes {
            a = (a ^ UInt64(byte)) &* prime
            b = (b ^ UInt64(byte ^ 0x5c)) &* prime
        }
        func hex(_ v: UInt64) -> String {
            let s = String(v, radix: 16)
            return String(repeating: "0", count: 16 - s.count) + s
        }
        return hex(a) + hex(b)
    }
}
