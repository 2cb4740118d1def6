import Foundation

/// Simulated labs for `emergence calibrate --lab`: does the pooled α prior (PooledAlphaPrior.swift)
/// help where the lab's tasks agree, and stay honest where they do not?
///
/// A lab is K studies of the `jittered` family (mmlu-, csqa- or cola-like designs, E*, the elbow at
/// the largest amount and A jittered as there) whose curvatures are drawn from one distribution of
/// the lab: ln α_lab uniform in [ln 1, ln 2], and per study
///
///     coherent:    ln α_i = ln α_lab + 0.1·z                  (tasks of one model family that agree)
///     incoherent:  ln α_i = ln α_lab ± 0.45 + 0.1·z, the sign a coin flip per study (two clusters,
///                  α a factor 2.5 apart: no normal distribution of ln α describes the lab)
///
/// Every study is fitted twice on its own data: plain, and with the prior pooled from the lab's
/// *other* K − 1 studies (leave-one-out: their plain fits' α profiles), and both are scored on the
/// same studies. The lab seeds come from the split's seed, as the single-study families' do.
extension Calibration {
    public enum LabKind: String, Codable, Sendable, CaseIterable {
        case coherent, incoherent
    }

    /// The prior the second fit of each study gets.
    public enum LabPrior: String, Codable, Sendable, CaseIterable {
        /// The engine's: the predictive scale mixture over τ, pooled from the other K − 1 studies.
        case mixture
        /// The same pool's one moment-matched normal, to measure what the mixture changes.
        case normal
        /// No pooling: the lab's true distribution of ln α (coherent: N(centre, 0.1²); incoherent: the
        /// two clusters, an equal mixture of N(centre ± 0.45, 0.1²)). It separates the interval a fit
        /// with a right prior gives (§5.5) from what not knowing μ and τ adds.
        case exact
    }

    public struct LabReport: Codable, Sendable {
        public var kind: LabKind
        public var labSize: Int
        public var labs: Int
        public var split: String
        public var studySeed: UInt64
        /// The plain fit's scores and the pooled fit's, on the same studies.
        public var plain: Report
        public var pooled: Report
        /// Studies that got a pooled prior (the others had fewer than 3 usable neighbours and were fitted plain).
        public var withPrior: Int
        /// Median log_sd of the priors handed out (a mixture's: its SD), and the share of studies whose
        /// true ln α lay in their prior's central 90%, 5% to 95% quantile (the prior's own calibration).
        public var medianPriorLogSD: Double?
        public var priorCoverage90: Double?
        /// The scale of τ's half-normal prior the pooled estimates used (nil: flat).
        public var tauPriorScale: Double?
        /// The prior handed out (`LabPrior`): `mixture` (the predictive scale mixture, the engine's),
        /// `normal` (the one moment-matched normal, to measure what the mixture changes) or `exact` (the
        /// lab's true distribution, no pooling).
        public var pooledPrior: String

        enum CodingKeys: String, CodingKey {
            case kind, labs, split, plain, pooled
            case labSize = "lab_size"
            case studySeed = "study_seed"
            case withPrior = "with_prior"
            case medianPriorLogSD = "median_prior_log_sd"
            case priorCoverage90 = "prior_coverage_90"
            case tauPriorScale = "tau_prior_scale"
            case pooledPrior = "pooled_prior"
        }
    }

    /// One study of a lab: a jittered scenario (SimulationScenario.random) with α set to `alpha`, k
    /// re-solved so the elbow at the largest amount is where the jitter put it.
    static func labStudy(_ rng: inout SeededRandom, index: Int, alpha: Double, maxFlops: Double) -> Study {
        var s = SimulationScenario.random(&rng, index: index)
        let g = { (a: Double, d: Double) in EmergenceLaw.basis(s.form, alpha: a, d: d) }
        let d0 = Double(s.shots), dMax = s.dataAmounts.max() ?? d0
        let top = s.emergenceLoss + s.k * (g(s.alpha, dMax) - g(s.alpha, d0))
        s.alpha = alpha
        s.k = (top - s.emergenceLoss) / (g(alpha, dMax) - g(alpha, d0))
        s.name = "lab-\(s.name)"
        let (rows, truth) = Simulator.simulate(s, seed: rng.next())
        let kept = rows.filter { ($0.effectiveFlops ?? .infinity) <= maxFlops }
        return Study(index: index, evaluations: rows, truth: truth,
                     cramerRaoSD: truth.emergenceLoss == nil ? nil
                        : CramerRao.emergenceLossSD(truth: truth, rows: kept, subsetNoise: s.subsetNoise,
                                                 lossNoise: s.lossNoise),
                     liftSD: liftSD(truth: truth, rows: kept, subsetNoise: s.subsetNoise),
                     longExtrapolation: longExtrapolation(rows: kept, d0: truth.D0))
    }

    /// The spread of ln α within a lab (within a cluster, for the incoherent kind) and the clusters'
    /// offset from the lab's centre.
    static let labSpread = 0.1, labClusterOffset = 0.45

    /// The lab's centre (ln α_lab) and its K true curvatures.
    static func labDraw(_ rng: inout SeededRandom, kind: LabKind, size: Int) -> (centre: Double, alphas: [Double]) {
        let centre = log(1.0) + (log(2.0) - log(1.0)) * rng.uniform()
        let alphas = (0..<size).map { _ in
            let cluster = kind == .incoherent ? (rng.uniform() < 0.5 ? -labClusterOffset : labClusterOffset) : 0
            return exp(centre + cluster + labSpread * rng.normal())
        }
        return (centre, alphas)
    }

    /// The distribution the lab's ln α were drawn from, as an α prior (`LabPrior.exact`).
    static func labExactPrior(kind: LabKind, centre: Double) -> AlphaPrior {
        switch kind {
        case .coherent:
            return AlphaPrior(median: exp(centre), logSD: labSpread)
        case .incoherent:
            let components = [-labClusterOffset, labClusterOffset].map {
                AlphaPrior.Component(weight: 0.5, median: exp(centre + $0), logSD: labSpread)
            }
            return AlphaPrior(median: exp(centre), logSD: (labSpread * labSpread + labClusterOffset * labClusterOffset).squareRoot(),
                              mixture: components)
        }
    }

    /// Fits `labs` labs of `size` studies, plain and pooled leave-one-out, and scores both.
    /// - onStudy: after each study's pair of fits (lab, study in lab, plain result, pooled result).
    public static func runLabs(kind: LabKind, size: Int, labs: Int, seed: UInt64, options: FitOptions,
                               maxFlops: Double = 2e22, split: String = "custom",
                               threads: Int = ProcessInfo.processInfo.activeProcessorCount,
                               tauPriorScale: Double? = PooledAlphaPrior.tauPriorScale, prior: LabPrior = .mixture,
                               onStudy: ((Int, Int, FitResult?, FitResult?) -> Void)? = nil) -> LabReport {
        var options = options
        options.maxFlops = maxFlops
        options.alphaPrior = nil
        options.alphaPriorPooled = false
        // Each lab draws from its own stream, so a lab's studies do not depend on how many labs run.
        var seeds = SeededRandom(seed: seed ^ (kind == .coherent ? 0x1AB0 : 0x1AB1) ^ UInt64(size) << 32)
        var plainRecords: [Record] = [], pooledRecords: [Record] = []
        var priorSDs: [Double] = [], priorHits = 0
        for lab in 0..<max(labs, 0) {
            var rng = SeededRandom(seed: seeds.next())
            let (centre, alphas) = labDraw(&rng, kind: kind, size: size)
            let studies = alphas.enumerated().map { labStudy(&rng, index: lab * size + $0.offset, alpha: $0.element, maxFlops: maxFlops) }
            var plain: [FitResult?] = []
            for (i, study) in studies.enumerated() {
                options.seed = UInt64(lab * size + i)
                plain.append(try? EmergenceFit.run(study.evaluations, options: options, threads: threads))
            }
            let members = plain.enumerated().map { i, r in
                PooledAlphaPrior.Member(study: "\(i)", status: r?.status.rawValue, profile: r?.alphaProfile)
            }
            for (i, study) in studies.enumerated() {
                var result = plain[i]
                let handed: AlphaPrior?
                if prior == .exact {
                    handed = labExactPrior(kind: kind, centre: centre)
                } else {
                    handed = PooledAlphaPrior.estimate(members, form: options.form, excluding: "\(i)",
                                                       tauPriorScale: tauPriorScale, mixture: prior == .mixture)?
                        .resolved(excluded: "\(i)")
                }
                if let handed {
                    var o = options
                    o.seed = UInt64(lab * size + i)
                    o.alphaPrior = handed
                    o.alphaPriorPooled = prior != .exact
                    result = try? EmergenceFit.run(study.evaluations, options: o, threads: threads)
                    priorSDs.append(handed.logSD)
                    let x = log(study.truth.alpha)
                    if x >= handed.logQuantile(0.05) && x <= handed.logQuantile(0.95) { priorHits += 1 }
                }
                plainRecords.append(Record(study: study, result: plain[i]))
                pooledRecords.append(Record(study: study, result: result))
                onStudy?(lab, i, plain[i], result)
            }
        }
        let family = "lab-\(kind.rawValue)-\(size)"
        var plainOptions = options
        plainOptions.seed = 0
        var pooledOptions = plainOptions
        pooledOptions.alphaPriorPooled = prior != .exact
        return LabReport(kind: kind, labSize: size, labs: labs, split: split, studySeed: seed,
                         plain: score(plainRecords, family: family, split: split, seed: seed, options: plainOptions),
                         pooled: score(pooledRecords, family: family, split: split, seed: seed, options: pooledOptions),
                         withPrior: priorSDs.count,
                         medianPriorLogSD: priorSDs.isEmpty ? nil : Percentile.of(sorted: priorSDs.sorted(), 50),
                         priorCoverage90: priorSDs.isEmpty ? nil : Double(priorHits) / Double(priorSDs.count),
                         tauPriorScale: tauPriorScale, pooledPrior: prior.rawValue)
    }
}
