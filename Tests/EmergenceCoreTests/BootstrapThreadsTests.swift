import XCTest
@testable import EmergenceCore

/// The bootstrap's refits start from the full data's smoothed optima, found once before the threads
/// start (Bootstrap.swift): the answer must still depend only on the data, options and seed.
final class BootstrapThreadsTests: XCTestCase {
    func testSameSeedSameDocumentOnAnyThreadCount() throws {
        let rows = try ReferenceCrossCheckTests.load("mmlu-like")
        var options = FitOptions()
        options.maxFlops = 2e22
        options.bootstrap = 40
        options.seed = 5
        let one = try EmergenceFit.run(rows, options: options, threads: 1).jsonData()
        let three = try EmergenceFit.run(rows, options: options, threads: 3).jsonData()
        let again = try EmergenceFit.run(rows, options: options, threads: 2).jsonData()
        XCTAssertEqual(one, three)
        XCTAssertEqual(one, again)
    }
}
