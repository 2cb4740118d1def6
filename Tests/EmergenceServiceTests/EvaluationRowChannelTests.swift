import EmergenceCore
import Foundation
import Storage
import XCTest
@testable import EmergenceService

/// The hand-over between an upload's parsing thread and its writing thread (RowChannel), above all
/// the producer's failure: it may come after the writer's head start, while the writer already
/// stores rows, and must reach the writer through the channel's lock. Run under
/// `swift test --sanitize=thread` (CI does) for the race checks to bite.
final class EvaluationRowChannelTests: XCTestCase {
    private struct ParseFailure: Error, Equatable {}

    private static let row = Evaluation(checkpoint: "c", model: nil, parameters: nil, tokens: nil, flops: nil, pretrainLoss: 2,
                                        setting: .fewShot, shots: 5, finetuneExamples: nil, subset: nil, accuracy: 0.5,
                                        nQuestions: nil)

    /// The producer fails after the consumer's head start (4 batches) has returned; the consumer then
    /// polls `failure`. Reading it without the channel's lock while the producer writes it is a data
    /// race, which the thread sanitizer reports.
    func testAFailureAfterTheHeadStartReachesTheConsumerThroughTheLock() throws {
        for _ in 0..<20 {
            let channel = RowChannel(maxQueued: 16)
            let headStartTaken = DispatchSemaphore(value: 0)
            let producer = Thread {
                for _ in 0..<4 { channel.send([Self.row]) }
                headStartTaken.wait()
                channel.finish(ParseFailure())
            }
            producer.start()
            _ = try? channel.waitUntilReady(batches: 4)
            headStartTaken.signal()
            let deadline = Date().addingTimeInterval(5)
            while channel.failure == nil && Date() < deadline { usleep(50) }
            XCTAssertTrue(channel.failure is ParseFailure)
        }
    }

    /// An upload whose parser fails after the writer started storing (more than the head start of
    /// rows, then an error) stores nothing and answers with the parser's error.
    func testAParseFailureAfterTheHeadStartStoresNothing() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("row-channel-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let database = try Database(path: dir.appendingPathComponent("db.sqlite").path, migrations: ServiceSchema.migrations)
        let store = EvaluationStore(database: database)
        let study = try StudyStore(database: database).create(StudyDraft(name: "s")).id
        for _ in 0..<3 {
            XCTAssertThrowsError(try store.upsert(studyID: study, streaming: { emit in
                for i in 0..<(5 * RowChannel.batchSize) {
                    var r = Self.row
                    r.checkpoint = "c\(i)"
                    emit(r)
                }
                throw ParseFailure()
            })) { XCTAssertTrue($0 is ParseFailure, "\($0)") }
        }
        XCTAssertEqual(try store.page(studyID: study, filter: .init(), after: 0, limit: 10).count, 0)
    }
}
