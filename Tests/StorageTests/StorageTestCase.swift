import Foundation
import XCTest
@testable import Storage

/// A scratch directory per test, removed afterwards, and the few rows most storage tests start from.
class StorageTestCase: XCTestCase {
    var dir: URL!

    override func setUpWithError() throws {
        dir = FileManager.default.temporaryDirectory.appendingPathComponent("storage-tests-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws {
        try? FileManager.default.removeItem(at: dir)
    }

    func path(_ name: String = "db.sqlite") -> String { dir.appendingPathComponent(name).path }

    static func insertStudy(_ c: Connection, _ name: String) throws -> Int {
        try c.run("INSERT INTO study (name, created_at) VALUES (?, '2026-01-01T00:00:00Z')", .text(name))
        return c.lastInsertRowID
    }
}
