import Foundation
import Glibc
import XCTest
@testable import EmergenceService
@testable import Jobs

final class ThreadPolitenessTests: XCTestCase {
    private final class Seen: @unchecked Sendable {
        var start: Int32 = -100, inside: Int32 = -100, after: Int32 = -100
        var restored = false
    }

    private static func niceness() -> Int32 { getpriority(__priority_which_t(PRIO_PROCESS.rawValue), 0) }

    /// Only the fit's own thread is lowered, and it is put back afterwards.
    func testLowersOnlyTheCallingThreadAndRestores() {
        let before = Self.niceness()
        let seen = Seen()
        let done = DispatchSemaphore(value: 0)
        let worker = Thread {
            seen.start = Self.niceness()
            let p = ThreadPoliteness(nice: seen.start + 5)
            seen.inside = Self.niceness()
            seen.restored = p.restore()
            seen.after = Self.niceness()
            done.signal()
        }
        worker.start()
        XCTAssertEqual(done.wait(timeout: .now() + 10), .success)
        XCTAssertEqual(seen.inside, seen.start + 5, "the worker thread is lowered")
        XCTAssertEqual(Self.niceness(), before, "the test's own thread is untouched")
        // Raising a priority back needs privilege; where it is granted the thread is as it was.
        if seen.restored { XCTAssertEqual(seen.after, seen.start) }
    }
}
