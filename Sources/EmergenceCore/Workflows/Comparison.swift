import Foundation

/// Comparing two model series on one task (docs/method.md §8.4).
///
/// Both studies are fitted with the same options; the samples behind each fit's interval (bootstrap,
/// else MCMC) are then treated as independent draws from the two distributions of C*:
///
///     P(A first) = P(C*_A < C*_B) = (1 / n_A n_B) Σ_i Σ_j [ 1(a_i < b_j) + ½·1(a_i = b_j) ]
///
/// over every pair (an unreachable sample is +∞ FLOPs, so two unreachable ones tie). The differences
/// log10 C*_A − log10 C*_B and E*_A − E*_B take their percentiles over the same pairs (at most a
/// million, spread evenly when there are more), leaving out pairs with an unreachable side.
public enum Comparison {
    /// Fits both studies with the same options (`EmergenceFit.run`, A then B) and compares their
    /// samples. Throws `FitError.invalidOptions` for bad options; a study that cannot be fitted at all
    /// (no rows, no finetuned rows) throws `FitError.invalidOptions` naming `a` or `b`.
    public static func run(a: [Evaluation], b: [Evaluation], options: ComparisonOptions, budget: FitBudget = .default,
                           threads: Int = ProcessInfo.processInfo.activeProcessorCount,
                           progress: (@Sendable (Double) -> Void)? = nil,
                           isCancelled: (@Sendable () -> Bool)? = nil) throws -> ComparisonResult {
        let problems = options.problems(budget: budget)
        guard problems.isEmpty else { throw FitError.invalidOptions(problems) }
        func fit(_ rows: [Evaluation], _ name: String, _ offset: Double) throws -> (FitResult, FitSamples) {
            do {
                return try EmergenceFit.runWithSamples(rows, options: options.fit, budget: budget, threads: threads,
                                                       progress: progress.map { p in { @Sendable f in p((offset + f) / 2) } },
                                                       isCancelled: isCancelled)
            } catch let error as FitError {
                switch error {
                case .cancelled: throw error
                case .invalidOptions(let p):
                    throw FitError.invalidOptions(p.map { .init(field: "\(name).\($0.field)", reason: $0.reason) })
                case .noRows, .noFinetunedRows:
                    throw FitError.invalidOptions([.init(field: name, reason: error.description)])
                }
            }
        }
        let (fitA, samplesA) = try fit(a, "a", 0)
        let (fitB, samplesB) = try fit(b, "b", 1)

        var warnings: [FitResult.Warning] = []
        for (name, f) in [("a", fitA), ("b", fitB)] where f.status != .ok && f.status != .alreadyEmerged {
            warnings.append(.init(code: "no_prediction_\(name)", message:
                "study \(name.uppercased()) has no prediction (\(f.status.rawValue)): no probability or difference can be given"))
        }
        let usable = warnings.isEmpty
        var result = ComparisonResult(a: fitA, b: fitB, probabilityAFirst: nil, probabilityAFirstByLoss: nil,
                                      log10FlopsDifference: nil, lossDifference: nil, warnings: warnings)
        guard usable else { progress?(1); return result }

        if !samplesA.flops.isEmpty && !samplesB.flops.isEmpty {
            result.probabilityAFirst = probabilityLess(samplesA.flops, samplesB.flops)
            let mle: Double? = {
                guard let x = fitA.emergence.flops?.mle, let y = fitB.emergence.flops?.mle, x > 0, y > 0 else { return nil }
                return log10(x) - log10(y)
            }()
            result.log10FlopsDifference = difference(samplesA.flops.map(log10), samplesB.flops.map(log10), mle: mle)
        } else {
            result.warnings.append(.init(code: "no_flops", message:
                "a study has no scaling law: the comparison is in loss only (probability_a_first_by_loss)"))
        }
        if !samplesA.loss.isEmpty && !samplesB.loss.isEmpty {
            // The higher elbow is passed first as loss falls: P(E*_A > E*_B) = P(−E*_A < −E*_B).
            result.probabilityAFirstByLoss = probabilityLess(samplesA.loss.map { -$0 }, samplesB.loss.map { -$0 })
            let mle: Double? = {
                guard let x = fitA.emergence.loss.mle, let y = fitB.emergence.loss.mle else { return nil }
                return x - y
            }()
            result.lossDifference = difference(samplesA.loss, samplesB.loss, mle: mle)
        }
        progress?(1)
        return result
    }

    /// P(X < Y) + ½·P(X = Y) for independent X ~ xs, Y ~ ys (empirical), over all pairs, by sorting
    /// ys and two binary searches per x.
    static func probabilityLess(_ xs: [Double], _ ys: [Double]) -> Double? {
        let sorted = ys.filter { !$0.isNaN }.sorted()
        let xs = xs.filter { !$0.isNaN }
        guard !xs.isEmpty, !sorted.isEmpty else { return nil }
        func firstIndex(_ pred: (Double) -> Bool) -> Int {
            var lo = 0, hi = sorted.count
            while lo < hi { let m = (lo + hi) / 2; if pred(sorted[m]) { hi = m } else { lo = m + 1 } }
            return lo
        }
        var total = 0.0
        for x in xs {
            let lower = firstIndex { $0 >= x }   // first y ≥ x
            let upper = firstIndex { $0 > x }    // first y > x
            total += Double(sorted.count - upper) + 0.5 * Double(upper - lower)
        }
        return total / (Double(xs.count) * Double(sorted.count))
    }

    /// Percentiles of x − y over pairs of finite samples: every pair up to a million, else each x
    /// paired with an evenly spread subset of the ys.
    static func difference(_ xs: [Double], _ ys: [Double], mle: Double?) -> ComparisonResult.Difference {
        let xs = xs.filter(\.isFinite), ys = ys.filter(\.isFinite)
        guard !xs.isEmpty, !ys.isEmpty else {
            return .init(mle: mle.flatMap { $0.isFinite ? $0 : nil }, percentiles: nil, pairs: 0)
        }
        let perX = min(ys.count, max(1, 1_000_000 / xs.count))
        let stride = Double(ys.count) / Double(perX)
        var diffs: [Double] = []
        diffs.reserveCapacity(xs.count * perX)
        for (i, x) in xs.enumerated() {
            for j in 0..<perX {
                // Offsetting by i spreads the pairs over all ys when only some are used.
                let k = (Int(Double(j) * stride) + i) % ys.count
                diffs.append(x - ys[k])
            }
        }
        diffs.sort()
        return .init(mle: mle.flatMap { $0.isFinite ? $0 : nil }, percentiles: Percentile.table(sorted: diffs), pairs: diffs.count)
    }
}
