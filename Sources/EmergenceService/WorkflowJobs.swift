import EmergenceCore
import Foundation

/// The workflow kinds' options and engine calls (stub until the workflows engine is merged).
enum WorkflowJobs {
    static func canonicalOptions(_ kind: JobKind, body: [UInt8]) throws -> String {
        throw APIError(status: 501, title: "Not Implemented", detail: "\(kind.rawValue) jobs are not wired yet")
    }

    static func comparisonBody(_ body: [UInt8]) throws -> (a: String, b: String, options: String) {
        throw APIError(status: 501, title: "Not Implemented", detail: "comparison jobs are not wired yet")
    }

    static func run(_ work: JobWork, progress: @escaping @Sendable (Double) -> Void,
                    isCancelled: @escaping @Sendable () -> Bool) throws -> [UInt8] {
        throw APIError(status: 501, title: "Not Implemented", detail: "\(work.kind.rawValue) jobs are not wired yet")
    }
}
