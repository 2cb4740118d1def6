import Foundation
import Synchronization

/// The samples behind a fit's intervals, for workflows that need more than the result's percentiles
/// (the comparison's P(A first) pairs the two fits' samples). Not part of the JSON document.
///
/// `EmergenceFit.run` hands its samples to the capture bound to the calling thread (a task-local
/// value, bound with `FitSampleCapture.collect`), so the fit's signature and result stay as they are;
/// with nothing bound the fit pays one task-local read.
final class FitSampleCapture: Sendable {
    @TaskLocal static var current: FitSampleCapture?

    struct Samples: Sendable, Equatable {
        /// E* samples (bootstrap, else MCMC), in the fit's order.
        var loss: [Double] = []
        /// C* = law_i⁻¹(E*_i) for each loss sample, with the same pairing of samples and scaling laws
        /// as the fit's `emergence.flops` (+∞ where unreachable); empty without a scaling law.
        var flops: [Double] = []
    }

    private let state = Mutex(Samples())

    var samples: Samples { state.withLock { $0 } }

    /// Called by `EmergenceFit.run` with the E* samples behind `emergence.loss.percentiles`.
    func record(loss: [Double]) {
        state.withLock { $0.loss = loss }
    }

    /// Called by `EmergenceFit.run` with the scaling laws it pairs with the samples (EmergenceFit.fillCompute's rule).
    func record(law: ScalingLaw, laws: [ScalingLaw]) {
        state.withLock { s in
            s.flops = s.loss.enumerated().map { i, e in
                let l = laws.isEmpty ? law : laws[i % laws.count]
                return l.compute(atLoss: e) ?? .infinity
            }
        }
    }

    /// Runs `body` (which calls `EmergenceFit.run`) and returns its result with the samples it recorded.
    static func collect<R>(_ body: () throws -> R) rethrows -> (R, Samples) {
        let capture = FitSampleCapture()
        let r = try $current.withValue(capture) { try body() }
        return (r, capture.samples)
    }
}
