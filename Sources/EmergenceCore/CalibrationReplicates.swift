import Foundation

/// A second yardstick for "the data pin E*": the plain maximum-likelihood fit's own error over fresh
/// noise on the same design (docs/calibration.md).
///
/// The Cramér–Rao SD (CramerRao.swift) is local: it linearises the law at the truth, so every row
/// past its elbow informs C as much as any other, however small its lift, and the curvature α moves
/// E* linearly. Where the truth lifts only a few rows a little, or α is pinned only near the truth,
/// the estimator's real spread is far wider: of 17 held-out `designs` studies with SD_CR under 0.05
/// that the engine withholds, 12 had an MLE error over 30 noise replicates of 0.065–1.3 nats RMSE
/// (SD_CR 0.006–0.045), α collapsing in some replicates, and 2 gave an estimate in at most 18 of 30
/// (one, SD_CR 0.019, in 3). Re-simulating the study's design R times (the same truth and design,
/// R other noise seeds) and refitting each with the plain MLE measures what the data pin as the
/// method actually fits it:
///
///     RMSE_rep = sqrt( (1/R') Σ_r (Ê*_r − E*)² ),  over the R' replicates that gave an MLE,
///
/// and the study counts as pinned by replication when RMSE_rep < 0.05 nats and R' ≥ 0.9·R (a design
/// that often shows no lift at all does not pin E*, whatever the fits that did find one say).
extension Calibration {
    public struct ReplicateSpread: Sendable, Equatable {
        /// R: replicates simulated.
        public var replicates: Int
        /// R': replicates whose plain fit gave an estimate of E*.
        public var estimated: Int
        /// RMSE of those estimates about the truth, nats (nil when none gave one).
        public var rmse: Double?

        /// The error and the share of estimates a study must reach to count as pinned by replication.
        public static let pinnedRMSE = 0.05
        public static let minimumEstimatedShare = 0.9

        public var pinned: Bool {
            guard let rmse, replicates > 0 else { return false }
            return rmse < Self.pinnedRMSE && Double(estimated) >= Self.minimumEstimatedShare * Double(replicates)
        }
    }

    /// Refits `replicates` re-simulations of the study's design with the plain MLE (no interval), on
    /// up to `threads` threads. The replicate seeds come from the study's own, so the spread is fixed
    /// for a study; the result does not depend on `threads`. nil for a study without emergence or
    /// without a way to re-simulate it.
    static func replicateSpread(_ study: Study, replicates: Int, options: FitOptions, threads: Int) -> ReplicateSpread? {
        guard replicates > 0, let resimulate = study.resimulate, let truth = study.truth.emergenceLoss else { return nil }
        // The plain maximum likelihood: no interval, and no α prior even if the run's fits have one.
        let plain: FitOptions = { var o = options; o.uncertainty = .none; o.alphaPrior = nil; return o }()
        let estimates = SharedSlots<Double>(replicates)
        Workers.run(max(1, min(threads, replicates))) { _ in
            while true {
                let r = estimates.next.add(1, ordering: .relaxed).oldValue
                if r >= replicates { return }
                let rows = resimulate(UInt64(r))
                var o = plain
                o.seed = UInt64(r)
                guard let result = try? EmergenceFit.run(rows, options: o, threads: 1), let p = result.parameters else { continue }
                let e = EmergenceLaw(form: result.form, k: p.k, alpha: p.alpha, C: p.C).elbow(at: study.truth.D0)
                if e.isFinite { estimates.record(e, at: r) }
            }
        }
        let found = estimates.all().compactMap { $0 }
        let rmse = found.isEmpty ? nil : (found.map { ($0 - truth) * ($0 - truth) }.reduce(0, +) / Double(found.count)).squareRoot()
        return ReplicateSpread(replicates: replicates, estimated: found.count, rmse: rmse)
    }
}
