import XCTest
@testable import EmergenceCore

/// observe's signal test: the ReLU's likelihood ratio against this design's own null (the flat floor
/// with the residuals' checkpoint structure), not a fixed bar.
final class WorkflowObservationSignalTests: XCTestCase {
    /// 20 checkpoints with losses 2.0–3.0 evenly, one few-shot row each: floor 0.25, noise SD 0.01,
    /// and a ReLU of `slope` per nat below `elbow`.
    static func study(slope: Double, elbow: Double = 2.25, seed: UInt64) -> [Evaluation] {
        var rng = SeededRandom(seed: seed)
        return (0..<20).map { i in
            let loss = 2.0 + Double(i) / 19
            let y = 0.25 + slope * max(elbow - loss, 0) + 0.01 * rng.normal()
            return Evaluation(checkpoint: "c\(i)", flops: 1e20 * pow(2, Double(19 - i)), pretrainLoss: loss,
                              setting: .fewShot, shots: 5, accuracy: y)
        }
    }

    static func options() -> ObserveOptions {
        var o = ObserveOptions()
        o.bootstrap = 200
        o.seed = 1
        return o
    }

    /// Pure noise: the statistic sits inside its null, so no emergence is claimed.
    func testPureNoiseIsNotASignal() throws {
        for seed in UInt64(1)...5 {
            let r = try Observation.run(Self.study(slope: 0, seed: seed), options: Self.options())
            XCTAssertEqual(r.status, .notYetEmerged, "seed \(seed)")
        }
    }

    /// A lift the old fixed bar (Λ ≥ 20) missed: its own null's 95th percentile is far below, none of
    /// the 99 draws reaches it, and the elbow's interval holds the truth.
    func testModestLiftBelowAFixedBarIsSeen() throws {
        let r = try Observation.run(Self.study(slope: 0.12, seed: 8), options: Self.options())
        let statistic = try XCTUnwrap(r.statistic)
        XCTAssertLessThan(statistic, 20)
        XCTAssertEqual(r.status, .ok, r.warnings.map(\.message).joined(separator: "; "))
        let p = try XCTUnwrap(r.emergence.loss?.percentiles)
        XCTAssertLessThanOrEqual(try XCTUnwrap(p["5"]), 2.25)
        XCTAssertGreaterThanOrEqual(try XCTUnwrap(p["95"]), 2.25)
    }

    /// The null itself: a design's draws are reproducible and scale-free, and a study with one row per
    /// checkpoint has no between-checkpoint component.
    func testNullIsReproducibleAndScaleFree() throws {
        let rows = Self.study(slope: 0.1, seed: 3)
        let data = ReLUData(rows, axis: .loss)
        let fit = try XCTUnwrap(ReLUFit.fit(data.x, data.y))
        let statistic = ObservationSignalTest.statistic(fit, rows: data.y.count)
        let a = ObservationSignalTest.run(data, statistic: statistic, seed: 9)
        XCTAssertEqual(a, ObservationSignalTest.run(data, statistic: statistic, seed: 9))
        var scaled = data
        scaled.y = data.y.map { 10 * $0 - 1 }
        let b = ObservationSignalTest.run(scaled, statistic: statistic, seed: 9)
        XCTAssertEqual(a.exceeding, b.exceeding)
        XCTAssertEqual(try XCTUnwrap(a.nullP95), try XCTUnwrap(b.nullP95), accuracy: 1e-6)
        XCTAssertEqual(try XCTUnwrap(ObservationSignalTest.components(data)).0, 0)
    }
}
