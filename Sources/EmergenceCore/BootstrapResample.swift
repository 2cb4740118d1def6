/// A bootstrap resample as its distinct rows with counts.
///
/// Drawing n checkpoints (or rows) with replacement leaves about 1 − 1/e ≈ 63% of them distinct, the
/// rest repeats. Every term of the objective is a sum over rows (Σ w_i² (y_i − μ_i)², or Σ log L_i),
/// so a row drawn c times can be evaluated once and counted c times:
///
///     Σ_{draws j} f(row_j) = Σ_{distinct rows i} c_i · f(row_i).
///
/// The refit then does the same work on about a third fewer rows. The objective is the same up to
/// rounding (the sums are taken in another order).
extension FitData {
    /// The rows `rows` (indices, with repeats) as distinct rows in their original order, and how
    /// many times each was drawn.
    func distinctRows(_ rows: [Int]) -> (FitData, [Double]) {
        var counts = [Int](repeating: 0, count: count)
        for i in rows where i >= 0 && i < count { counts[i] += 1 }
        var kept: [Int] = []
        kept.reserveCapacity(rows.count)
        var multiplicity: [Double] = []
        multiplicity.reserveCapacity(rows.count)
        for i in 0..<count where counts[i] > 0 {
            kept.append(i)
            multiplicity.append(Double(counts[i]))
        }
        return (subset(kept), multiplicity)
    }
}
