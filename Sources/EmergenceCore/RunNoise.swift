import Foundation

/// The run-to-run (subset-to-subset) variance of finetuned accuracies, estimated from the replicate
/// subsets the design already has (docs/method.md §3.5).
///
/// A finetuning run on another random subset of D examples lands at another accuracy even on the same
/// checkpoint; a few-shot evaluation has no such run. Rows of one checkpoint and one data amount
/// share their mean, so their scatter is pure noise, whatever the law:
///
///     E s²_g = τ² + mean_i p̄_g(1 − p̄_g)/n_i
///
/// with s²_g the sample variance of group g's accuracies and p̄_g their mean. Pooled over groups with
/// their degrees of freedom, τ̂² = max(0, Σ_g (k_g − 1)(s²_g − b_g) / Σ_g (k_g − 1)), the method of
/// moments of a one-way random-effects model (Searle, Casella & McCulloch 1992, ch. 3), with the
/// binomial part b_g known. nil without replicate subsets or without n_questions on their rows: the
/// run noise cannot then be told from the binomial.
enum RunNoise {
    /// √τ̂², or nil when no checkpoint has two or more subsets at one amount with known n_questions.
    static func estimate(_ data: FitData) -> Double? {
        var groups: [Int: [Int]] = [:]
        let amounts = data.groupD.count
        for i in 0..<data.count where data.fewShot[i] == 0 {
            groups[data.checkpoint[i] * amounts + data.group[i], default: []].append(i)
        }
        var excess = 0.0, dof = 0.0
        // In key order: a dictionary's order differs between instances, and the sum must not.
        for key in groups.keys.sorted() {
            guard let rows = groups[key], rows.count >= 2 else { continue }
            guard rows.allSatisfy({ data.questions[$0] > 0 }) else { return nil }
            let k = Double(rows.count)
            let mean = rows.map { data.y[$0] }.reduce(0, +) / k
            let s2 = rows.map { (data.y[$0] - mean) * (data.y[$0] - mean) }.reduce(0, +) / (k - 1)
            let binomial = rows.map { mean * (1 - mean) / data.questions[$0] }.reduce(0, +) / k
            excess += (k - 1) * (s2 - binomial)
            dof += k - 1
        }
        guard dof > 0 else { return nil }
        let tau2 = max(excess / dof, 0)
        return tau2.isFinite ? tau2.squareRoot() : nil
    }
}
