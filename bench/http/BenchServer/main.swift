// A tiny server for bench/http/run.sh: the HTTP module alone, no emergence code.
//   http-bench-server [port]     prints "listening <port>" once bound; SIGTERM/SIGINT stop it.
import Foundation
import HTTP
import Logging

let json4k: [UInt8] = {
    var items: [String] = []
    var text = ""
    var i = 0
    while true {
        let item = "{\"id\":\(i),\"capability\":\"task-\(i)\",\"flops\":1.5e22}"
        if text.utf8.count + item.utf8.count + 3 > 4096 { break }
        items.append(item)
        text = "[" + items.joined(separator: ",") + "]"
        i += 1
    }
    return Array((text + String(repeating: " ", count: 4096 - text.utf8.count)).utf8)
}()

var logger = Logger(label: "http-bench")
logger.logLevel = .warning
let router = Router()
// Both are static answers, so they run on the event loop (RoutePolicy.nonBlocking).
let onLoop = RoutePolicy(nonBlocking: true)
let small = HTTPResponse.text(200, "ok"), document = HTTPResponse.json(200, json4k)
router.add("GET", "/small", policy: onLoop) { _ in small }
router.add("GET", "/json4k", policy: onLoop) { _ in document }
router.add("POST", "/upload") { request in .json(200, Array("{\"received\":\(request.body.count)}".utf8)) }

let port = CommandLine.arguments.count > 1 ? Int(CommandLine.arguments[1]) ?? 0 : 0
var configuration = ServerConfiguration(host: "127.0.0.1", port: port)
// Overrides for experiments; the benchmark itself uses the defaults.
if let loops = ProcessInfo.processInfo.environment["HTTP_BENCH_LOOPS"].flatMap(Int.init) { configuration.eventLoopCount = loops }
// Microseconds; 0 turns the loops' yield off (ServerConfiguration.loopYieldInterval).
if let us = ProcessInfo.processInfo.environment["HTTP_BENCH_YIELD_US"].flatMap(Double.init) {
    configuration.loopYieldInterval = us > 0 ? us / 1e6 : nil
}
let server = HTTPServer(configuration: configuration, router: router, logger: logger)
do {
    try server.start()
} catch {
    FileHandle.standardError.write(Data("cannot start: \(error)\n".utf8))
    exit(1)
}
server.installSignalHandlers()
// One write, unbuffered: the benchmark script waits for this line.
FileHandle.standardOutput.write(Data("listening \(server.port)\n".utf8))
server.waitUntilStopped()
exit(0)
