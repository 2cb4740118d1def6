import Foundation
import Glibc
import XCTest
@testable import HTTP

final class LifecycleTests: XCTestCase {
    func testGracefulShutdownFinishesInFlightAndClosesIdle() throws {
        let fixture = try TestServer()
        let idle = try fixture.client()
        try idle.send("GET /hello HTTP/1.1\r\nHost: t\r\n\r\n")
        XCTAssertEqual(try idle.readResponse().status, 200)

        let busy = try fixture.client()
        try busy.send("GET /sleep?ms=300&tag=finished HTTP/1.1\r\nHost: t\r\n\r\n")
        usleep(50_000)
        let stopped = DispatchSemaphore(value: 0)
        DispatchQueue.global().async {
            fixture.server.shutdown(deadline: 5)
            stopped.signal()
        }
        XCTAssertTrue(try idle.isClosedByServer(), "idle connection not closed")
        XCTAssertEqual(try busy.readResponse().text, "finished")
        XCTAssertTrue(try busy.isClosedByServer())
        XCTAssertEqual(stopped.wait(timeout: .now() + 5), .success)
        XCTAssertThrowsError(try fixture.client(), "still accepting after shutdown")
        fixture.server.waitUntilStopped()
    }

    func testShutdownDeadlineBoundsStuckHandlers() throws {
        let fixture = try TestServer()
        let stuck = try fixture.client()
        try stuck.send("GET /block HTTP/1.1\r\nHost: t\r\n\r\n")
        usleep(50_000)
        fixture.server.shutdown(deadline: 0.2)
        XCTAssertTrue(try stuck.isClosedByServer())
        fixture.gate.signal()
    }

    func testSIGTERMTriggersGracefulShutdown() throws {
        let fixture = try TestServer()
        fixture.server.installSignalHandlers()
        let client = try fixture.client()
        try client.send("GET /hello HTTP/1.1\r\nHost: t\r\n\r\n")
        XCTAssertEqual(try client.readResponse().status, 200)
        kill(getpid(), SIGTERM)
        let stopped = DispatchSemaphore(value: 0)
        DispatchQueue.global().async {
            fixture.server.waitUntilStopped()
            stopped.signal()
        }
        XCTAssertEqual(stopped.wait(timeout: .now() + 5), .success, "SIGTERM did not stop the server")
        XCTAssertTrue(try client.isClosedByServer())
    }

    func testStartFailsCleanlyWhenPortIsTaken() throws {
        let first = try TestServer()
        defer { first.stop() }
        var configuration = ServerConfiguration(host: "127.0.0.1", port: first.port)
        configuration.eventLoopCount = 1
        let second = HTTPServer(configuration: configuration, router: Router())
        XCTAssertThrowsError(try second.start())
    }
}
