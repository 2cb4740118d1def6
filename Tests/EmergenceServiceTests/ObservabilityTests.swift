import EmergenceCore
import Foundation
@testable import HTTP
import Logging
import XCTest
@testable import EmergenceService

/// GET /metrics, the request and fit log lines, and the JSON log handler.
final class ObservabilityTests: XCTestCase {
    private let csv = "checkpoint,model,parameters,tokens,flops,pretrain_loss,setting,shots,finetune_examples,subset,accuracy,n_questions\n"
        + "a,1b,1e9,1e10,,2.5,few_shot,5,,,0.25,100\n"
        + "a,1b,1e9,1e10,,2.5,finetuned,,64,s0,0.30,100\n"
        + "b,1b,1e9,2e10,,2.3,finetuned,,64,s0,0.35,100\n"

    private func summary(route: String?, method: String = "GET", status: Int = 200, duration: Double = 0.002) -> RequestSummary {
        RequestSummary(method: method, path: route ?? "/x", route: route, status: status, bytesIn: 100, bytesOut: 50,
                       duration: duration, remoteAddress: "127.0.0.1:1", requestID: "r")
    }

    /// The value of the one sample line that starts with `series ` (labels in exposition order).
    private func sample(_ text: String, _ series: String) -> Double? {
        for line in text.split(separator: "\n") where line.hasPrefix(series + " ") {
            return Double(line.dropFirst(series.count + 1))
        }
        return nil
    }

    func testMetricsCountRequestsRowsAndFitTransitions() throws {
        let t = try TestService()
        defer { t.close() }
        for _ in 0..<3 { t.service.metrics.record(summary(route: "/healthz")) }
        t.service.metrics.record(summary(route: nil, method: "BREW", status: 405))
        XCTAssertEqual(try t.request("POST", "/v1/studies", body: #"{"name": "mmlu", "chance": 0.25, "shots": 5}"#).status, 201)
        XCTAssertEqual(try t.request("POST", "/v1/studies/mmlu/evaluations", body: csv, headers: [("Content-Type", "text/csv")]).status, 200)
        let fit = try t.request("POST", "/v1/studies/mmlu/fits", body: #"{"seed": 1}"#)
        XCTAssertEqual(fit.status, 202, fit.text)
        XCTAssertEqual(try t.waitForFit(fit.json["id"] as? Int ?? 0)["status"] as? String, "succeeded")

        let r = try t.request("GET", "/metrics")
        XCTAssertEqual(r.status, 200)
        XCTAssertEqual(r.headers["Content-Type"], "text/plain; version=0.0.4; charset=utf-8")
        let text = r.text
        XCTAssertEqual(sample(text, #"emergence_http_requests_total{route="/healthz",method="GET",status="200"}"#), 3)
        // A method outside the standard set is one series, whatever clients send.
        XCTAssertEqual(sample(text, #"emergence_http_requests_total{route="none",method="other",status="405"}"#), 1)
        XCTAssertEqual(sample(text, #"emergence_http_request_duration_seconds_bucket{route="/healthz",method="GET",le="0.0025"}"#), 3)
        XCTAssertEqual(sample(text, #"emergence_http_request_duration_seconds_bucket{route="/healthz",method="GET",le="0.001"}"#), 0)
        XCTAssertEqual(sample(text, #"emergence_http_request_duration_seconds_count{route="/healthz",method="GET"}"#), 3)
        XCTAssertEqual(sample(text, "emergence_http_request_bytes_total"), 400)
        XCTAssertEqual(sample(text, "emergence_http_response_bytes_total"), 200)
        XCTAssertEqual(sample(text, #"emergence_evaluation_rows_ingested_total{result="inserted"}"#), 3)
        XCTAssertEqual(sample(text, #"emergence_fit_transitions_total{status="queued"}"#), 1)
        XCTAssertEqual(sample(text, #"emergence_fit_transitions_total{status="running"}"#), 1)
        XCTAssertEqual(sample(text, #"emergence_fit_transitions_total{status="succeeded"}"#), 1)
        XCTAssertEqual(sample(text, #"emergence_fit_transitions_total{status="failed"}"#), 0)
        XCTAssertEqual(sample(text, #"emergence_fit_duration_seconds_count{status="succeeded"}"#), 1)
        XCTAssertEqual(sample(text, "emergence_fit_queue_depth"), 0)
        XCTAssertEqual(sample(text, "emergence_fits_running"), 0)
        XCTAssertGreaterThan(sample(text, "emergence_database_size_bytes") ?? 0, 0)
        XCTAssertNotNil(sample(text, "emergence_database_wal_size_bytes"))
        XCTAssertEqual(sample(text, "emergence_http_open_connections"), 0)
        XCTAssertTrue(text.contains(#"emergence_build_info{version="1.0.0","#), text)

        // Every line is a comment or `name{labels} value`, and each family is declared once.
        let line = try NSRegularExpression(pattern: #"^[a-zA-Z_:][a-zA-Z0-9_:]*(\{([a-zA-Z_][a-zA-Z0-9_]*="([^"\\\n]|\\.)*",?)*\})? [-+0-9.eEInfNa]+$"#)
        var declared = Set<String>()
        for l in text.split(separator: "\n").map(String.init) {
            if l.hasPrefix("# TYPE ") {
                XCTAssertTrue(declared.insert(l.split(separator: " ")[2].description).inserted, l)
            } else if !l.hasPrefix("# HELP ") {
                XCTAssertNotNil(line.firstMatch(in: l, range: NSRange(l.startIndex..., in: l)), l)
            }
        }
    }

    func testCancellingAQueuedFitIsATransition() throws {
        // A runner that never returns until cancelled keeps the one worker busy, so the second fit waits.
        let t = try TestService(runner: { _, _, _, isCancelled in
            while !isCancelled() { Thread.sleep(forTimeInterval: 0.01) }
            throw FitError.cancelled
        })
        defer { t.close() }
        XCTAssertEqual(try t.request("POST", "/v1/studies", body: #"{"name": "mmlu", "chance": 0.25, "shots": 5}"#).status, 201)
        XCTAssertEqual(try t.request("POST", "/v1/studies/mmlu/evaluations", body: csv, headers: [("Content-Type", "text/csv")]).status, 200)
        let first = try t.request("POST", "/v1/studies/mmlu/fits", body: #"{"seed": 1}"#).json["id"] as? Int ?? 0
        // The worker claims the first fit on its own thread: wait until it runs, so the second stays queued.
        let deadline = Date().addingTimeInterval(30)
        while try t.request("GET", "/v1/fits/\(first)").json["status"] as? String != "running" && Date() < deadline {
            Thread.sleep(forTimeInterval: 0.01)
        }
        let second = try t.request("POST", "/v1/studies/mmlu/fits", body: #"{"seed": 2}"#).json["id"] as? Int ?? 0
        XCTAssertEqual(try t.request("DELETE", "/v1/fits/\(second)").status, 200)
        XCTAssertEqual(try t.request("DELETE", "/v1/fits/\(first)").status, 202)
        XCTAssertEqual(try t.waitForFit(first)["status"] as? String, "cancelled")
        let text = try t.request("GET", "/metrics").text
        XCTAssertEqual(sample(text, #"emergence_fit_transitions_total{status="queued"}"#), 2)
        XCTAssertEqual(sample(text, #"emergence_fit_transitions_total{status="running"}"#), 1)
        XCTAssertEqual(sample(text, #"emergence_fit_transitions_total{status="cancelled"}"#), 2)
        XCTAssertEqual(sample(text, #"emergence_fit_duration_seconds_count{status="cancelled"}"#), 1, "only a fit that ran has a duration")
    }

    func testMetricsNeedTheReadScopeWhenTokensAreOn() throws {
        let t = try TestService(tokens: TokenSet(entries: [("metrics-scraper-token", .read)]))
        defer { t.close() }
        XCTAssertEqual(try t.request("GET", "/metrics").status, 401)
        XCTAssertEqual(try t.request("GET", "/metrics", headers: [("Authorization", "Bearer wrong-token-0000000")]).status, 401)
        XCTAssertEqual(try t.request("GET", "/metrics", headers: [("Authorization", "Bearer metrics-scraper-token")]).status, 200)
    }

    func testLabelValuesAreEscapedAsTheFormatSays() {
        XCTAssertEqual(PrometheusText.escapeLabel("a\"b\\c\nd"), #"a\"b\\c\nd"#)
        XCTAssertEqual(PrometheusText.escapeLabel("/v1/fits/{id}"), "/v1/fits/{id}")
        XCTAssertEqual(PrometheusText.escapeHelp("x\\y\nz"), #"x\\y\nz"#)
        var out = PrometheusText()
        out.sample("m", [("l", "q\"")], 1.5)
        XCTAssertEqual(out.text, "m{l=\"q\\\"\"} 1.5\n")
        XCTAssertEqual(PrometheusText.number(.infinity), "+Inf")
        XCTAssertEqual(PrometheusText.number(3), "3")
    }

    func testJSONLinesEscapeTypeAndKeepReservedKeys() throws {
        let h = LineLogHandler(label: "emergence", format: .json, sink: LogSink(fd: -1))
        let line = h.render(level: .info, message: "line one\nline \"two\"", metadata: [
            "status": .stringConvertible(200), "duration_s": .stringConvertible(0.25), "ok": .stringConvertible(true),
            "message": "an attempt to overwrite", "peer": "127.0.0.1:5\u{1}",
        ])
        XCTAssertTrue(line.hasSuffix("}\n"))
        XCTAssertEqual(line.filter { $0 == "\n" }.count, 1)
        let object = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
        XCTAssertEqual(object["message"] as? String, "line one\nline \"two\"")
        XCTAssertEqual(object["meta_message"] as? String, "an attempt to overwrite")
        XCTAssertEqual(object["status"] as? Int, 200)
        XCTAssertEqual(object["duration_s"] as? Double, 0.25)
        XCTAssertEqual(object["ok"] as? Bool, true)
        XCTAssertEqual(object["peer"] as? String, "127.0.0.1:5\u{1}")
        XCTAssertEqual(object["level"] as? String, "info")
        let time = try XCTUnwrap(object["time"] as? String)
        XCTAssertNotNil(time.range(of: #"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$"#, options: .regularExpression), time)

        let text = LineLogHandler(label: "emergence", format: .text, sink: LogSink(fd: -1))
            .render(level: .warning, message: "two\nlines", metadata: ["status": .stringConvertible(500)])
        XCTAssertTrue(text.hasSuffix("warning emergence: two\\nlines status=500\n"), text)
    }

    func testRequestLinesCarryEveryFieldInBothFormats() throws {
        var s = summary(route: "/v1/fits/{id}", method: "DELETE", status: 202, duration: 0.0123456)
        s.requestID = "abc-1"
        let json = RequestLine.render(s, format: .json)
        XCTAssertEqual(json.last, 0x0A)
        let object = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(json)) as? [String: Any])
        XCTAssertEqual(object["event"] as? String, "request")
        XCTAssertEqual(object["request_id"] as? String, "abc-1")
        XCTAssertEqual(object["method"] as? String, "DELETE")
        XCTAssertEqual(object["route"] as? String, "/v1/fits/{id}")
        XCTAssertEqual(object["status"] as? Int, 202)
        XCTAssertEqual(object["bytes_in"] as? Int, 100)
        XCTAssertEqual(object["bytes_out"] as? Int, 50)
        XCTAssertEqual(object["duration_s"] as? Double, 0.012346)
        XCTAssertEqual(object["peer"] as? String, "127.0.0.1:1")
        XCTAssertNotNil(object["time"] as? String)
        // A protocol error answered before the service saw the request: no id, no route.
        var bare = summary(route: nil, method: "", status: 400)
        bare.requestID = nil
        let parsed = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(RequestLine.render(bare, format: .json))) as? [String: Any])
        XCTAssertNil(parsed["request_id"])
        XCTAssertEqual(parsed["route"] as? String, "none")
        let text = String(decoding: RequestLine.render(s, format: .text), as: UTF8.self)
        XCTAssertTrue(text.hasSuffix(" info emergence: request event=request request_id=abc-1 method=DELETE route=/v1/fits/{id} status=202 bytes_in=100 bytes_out=50 duration_s=0.012346 peer=127.0.0.1:1\n"), text)
    }

    /// Over real sockets: one JSON line per request with the id the client saw, one per fit status
    /// change, and never a token.
    func testRequestAndFitLinesOverTheWire() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("observe-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let logPath = dir.appendingPathComponent("server.log").path
        let fd = open(logPath, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        XCTAssertGreaterThanOrEqual(fd, 0)
        defer { close(fd) }
        let sink = LogSink(fd: fd)
        let token = "writer-token-never-logged"
        var config = ServiceConfiguration()
        config.port = 0
        config.databasePath = dir.appendingPathComponent("db.sqlite").path
        config.workers = 1
        config.tokens = TokenSet(entries: [(token, .write)])
        let service = try EmergenceService(configuration: config,
                                           logger: Logger(label: "emergence") { LineLogHandler(label: $0, format: .json, sink: sink) },
                                           runner: TestService.quickFit, requestLines: sink)
        try service.start()
        let auth = ("Authorization", "Bearer \(token)")
        func call(_ method: String, _ target: String, _ body: String = "", _ headers: [(String, String)] = []) throws -> Reply {
            try WireClient.send(port: service.port, method, target, body: Array(body.utf8), headers: headers + [auth])
        }
        XCTAssertEqual(try call("GET", "/healthz", "", [("X-Request-Id", "client-id-1")]).headers["X-Request-Id"], "client-id-1")
        let generated = try call("GET", "/healthz", "", [("X-Request-Id", "not a good id")]).headers["X-Request-Id"] ?? ""
        XCTAssertEqual(try call("POST", "/v1/studies", #"{"name": "m", "chance": 0.25, "shots": 5}"#).status, 201)
        XCTAssertEqual(try call("POST", "/v1/studies/m/evaluations", csv, [("Content-Type", "text/csv")]).status, 200)
        let fit = try call("POST", "/v1/studies/m/fits", #"{"seed": 1}"#).json["id"] as? Int ?? 0
        var status = ""
        for _ in 0..<1500 where status != "succeeded" {
            status = try call("GET", "/v1/fits/\(fit)").json["status"] as? String ?? ""
            if status != "succeeded" { Thread.sleep(forTimeInterval: 0.02) }
        }
        XCTAssertEqual(status, "succeeded")
        service.shutdown()
        sink.flush()

        let text = try String(contentsOfFile: logPath, encoding: .utf8)
        XCTAssertFalse(text.contains(token), "a token was logged")
        let lines = try text.split(separator: "\n").map { try XCTUnwrap(JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any]) }
        let requests = lines.filter { $0["event"] as? String == "request" }
        let first = try XCTUnwrap(requests.first { $0["request_id"] as? String == "client-id-1" })
        XCTAssertEqual(first["route"] as? String, "/healthz")
        XCTAssertEqual(first["method"] as? String, "GET")
        XCTAssertEqual(first["status"] as? Int, 200)
        XCTAssertGreaterThan(first["bytes_in"] as? Int ?? 0, 0)
        XCTAssertGreaterThan(first["bytes_out"] as? Int ?? 0, 0)
        XCTAssertNotNil(first["duration_s"] as? Double)
        XCTAssertTrue((first["peer"] as? String ?? "").hasPrefix("127.0.0.1:"))
        XCTAssertNotNil(first["time"] as? String)
        XCTAssertTrue(requests.contains { $0["request_id"] as? String == generated }, "the generated id is the one logged")
        XCTAssertTrue(requests.contains { $0["route"] as? String == "/v1/studies/{study}/evaluations" && $0["status"] as? Int == 200 })
        let fitLines = lines.filter { $0["event"] as? String == "fit" && $0["fit_id"] as? Int == fit }
        XCTAssertEqual(fitLines.map { $0["to"] as? String ?? "" }, ["queued", "running", "succeeded"])
        XCTAssertNotNil(fitLines.last?["duration_s"] as? Double)
    }
}
