import XCTest
@testable import EmergenceCore

/// The replicate yardstick (CalibrationReplicates.swift): re-simulate a study's design under fresh
/// noise, refit by the plain MLE, and call the study pinned when those fits land within 0.05 nats.
final class CalibrationReplicatesTests: XCTestCase {
    /// Held-out `designs` study `index`.
    private func heldOutDesign(_ index: Int) -> Calibration.Study {
        var generator = Calibration.Generator(family: "designs", seed: Calibration.Split.heldOut.seed)
        for _ in 0..<index { _ = generator.next() }
        return generator.next()
    }

    private var options: FitOptions {
        var o = FitOptions()
        o.maxFlops = 2e22
        return o
    }

    /// A design whose lift is clear at many checkpoints (held-out study 15: E* pinned within a few
    /// thousandths): every replicate gives an estimate and they land close to the truth.
    func testAClearDesignIsPinnedByItsReplicates() throws {
        let study = heldOutDesign(15)
        let spread = try XCTUnwrap(Calibration.replicateSpread(study, replicates: 4, options: options, threads: 2))
        XCTAssertEqual(spread.replicates, 4)
        XCTAssertEqual(spread.estimated, 4)
        XCTAssertLessThan(try XCTUnwrap(spread.rmse), 0.05)
        XCTAssertTrue(spread.pinned)
        // The replicates are the study's own: the same spread again, whatever the thread count.
        XCTAssertEqual(Calibration.replicateSpread(study, replicates: 4, options: options, threads: 1), spread)
    }

    /// A design that shows no lift under the noise (held-out study 99, `no_signal`): the replicates
    /// give no estimate, so it is not pinned, however small its Cramér–Rao SD might be.
    func testADesignThatShowsNoLiftIsNotPinned() throws {
        let study = heldOutDesign(99)
        let spread = try XCTUnwrap(Calibration.replicateSpread(study, replicates: 3, options: options, threads: 2))
        XCTAssertLessThan(Double(spread.estimated), 0.9 * 3)
        XCTAssertFalse(spread.pinned)
    }

    /// The rule itself: RMSE under 0.05 and at least 90% of the replicates estimated.
    func testPinnedNeedsBothASmallErrorAndEnoughEstimates() {
        XCTAssertTrue(Calibration.ReplicateSpread(replicates: 30, estimated: 27, rmse: 0.049).pinned)
        XCTAssertFalse(Calibration.ReplicateSpread(replicates: 30, estimated: 26, rmse: 0.01).pinned)
        XCTAssertFalse(Calibration.ReplicateSpread(replicates: 30, estimated: 30, rmse: 0.05).pinned)
        XCTAssertFalse(Calibration.ReplicateSpread(replicates: 30, estimated: 0, rmse: nil).pinned)
        XCTAssertFalse(Calibration.ReplicateSpread(replicates: 0, estimated: 0, rmse: nil).pinned)
    }
}
