import Foundation

/// How far above the lowest loss seen emergence may already have begun when the few-shot rows do not
/// show it (docs/method.md §6, "no signal"): the bound must allow for a lift the noise can hide.
///
/// A ReLU that has just begun lifts only the lowest-loss checkpoints, and only a little: with the
/// elbow at E and slope A, checkpoint i is lifted by A·max(E − x_i, 0). Whether the data rule out an
/// elbow at E therefore depends on A: any E is hidden by a shallow enough slope. The emergence law
/// shares A across data amounts (docs/method.md §2: few-shot y = B + Δ + A·max(E_θ(D0) − x, 0), finetuned
/// y = B + A·max(E_θ(D) − x, 0)), so the finetuned rows, which have left the floor, say how steep the
/// few-shot rise will be. With A_lo the finetuned rows' 95% lower bound on A:
///
///     for a candidate elbow E:  z_i = max(E − x_i, 0),  Â(E) the least-squares slope of y on z
///                               (floor free), SE(E) = σ̂ / √Σ(z_i − z̄)²,  σ̂ the floor-only fit's
///     E is not ruled out        ⇔  Â(E) + 1.645·SE(E) ≥ A_lo   (one-sided, 95%)
///     bound                     =  sup { E ≥ x_min : E not ruled out }
///
/// Just above x_min only the lowest checkpoint is lifted, by A·(E − x_min), so SE ≈ σ̂/(E − x_min)
/// and E is not ruled out until A_lo·(E − x_min) clears 1.645σ̂ (more, as further checkpoints join).
/// The bound is x_min plus the largest elbow shift the data cannot rule out. When the elbow is not
/// ruled out even above the highest x seen, every checkpoint is on the rising side and the test no
/// longer changes with E: the data cannot bound it (nil). x is the ReLU's axis (loss, or −log10 FLOPs).
struct DetectionLimitBound {
    /// One-sided 95% normal quantile.
    static let z95 = 1.6448536269514722

    /// The bound on the axis, or nil when the data cannot bound the elbow at this slope.
    static func upperElbow(x: [Double], y: [Double], slopeFloor: Double) -> Double? {
        let n = x.count
        guard n >= 3, slopeFloor > 0, let lo = x.min(), let hi = x.max(), hi > lo else { return nil }
        let meanY = y.reduce(0, +) / Double(n)
        var syy = 0.0
        for v in y { syy += (v - meanY) * (v - meanY) }
        let sigma = (syy / Double(n - 1)).squareRoot()
        // The test's margin Â + z·SE − A_lo: ≥ 0 where the elbow is not ruled out. Continuous in E.
        func margin(_ e: Double) -> Double {
            var sz = 0.0, szz = 0.0, szy = 0.0
            for i in 0..<n {
                let z = max(e - x[i], 0)
                sz += z; szz += z * z; szy += z * y[i]
            }
            let vzz = szz - sz * sz / Double(n)
            guard vzz > 0 else { return .infinity }  // at or below x_min: nothing lifted, nothing ruled out
            let slope = (szy - sz * meanY) / vzz
            return slope + z95 * sigma / vzz.squareRoot() - slopeFloor
        }
        if margin(hi) >= 0 { return nil }
        // The highest grid point not ruled out, then bisection to the crossing above it.
        let steps = 4000
        let h = (hi - lo) / Double(steps)
        var j = steps
        while j > 0 && margin(lo + h * Double(j)) < 0 { j -= 1 }
        var a = lo + h * Double(j), b = a + h
        for _ in 0..<50 {
            let m = (a + b) / 2
            if margin(m) >= 0 { a = m } else { b = m }
        }
        return a
    }
}

/// The finetuned rows' evidence on the ReLU's slope A, which the emergence law shares with the
/// few-shot rows: the smallest 95% lower bound over the data amounts whose rows have clearly left
/// the floor. Each amount's rows are fitted by the same ReLU as the few-shot rows (ReLUFit, on the
/// same axis); at its elbow the slope's standard error is σ̂/√Σ(z − z̄)², σ̂² = RSS/(n − 3). Taking
/// the least of the amounts' bounds (not a pooled one) errs towards a shallower slope, so a looser
/// bound: the per-amount errors hold the elbow fixed and would otherwise overstate the precision.
struct FinetunedSlope {
    static func lowerBound(_ rows: [Evaluation], axis: ObserveOptions.Axis) -> Double? {
        var groups: [Double: (x: [Double], y: [Double], checkpoints: Set<String>)] = [:]
        for e in rows where e.setting == .finetuned {
            guard let d = e.finetuneExamples else { continue }
            let xv: Double
            switch axis {
            case .loss:
                guard let l = e.pretrainLossIfGiven else { continue }
                xv = l
            case .flops:
                guard let c = e.effectiveFlops else { continue }
                xv = -log10(c)
            }
            groups[d, default: ([], [], [])].x.append(xv)
            groups[d, default: ([], [], [])].y.append(e.accuracy)
            groups[d, default: ([], [], [])].checkpoints.insert(e.checkpoint)
        }
        var best: Double? = nil
        for d in groups.keys.sorted() {
            guard let g = groups[d], g.checkpoints.count >= 4, g.x.count >= 5, let f = ReLUFit.fit(g.x, g.y),
                  f.slope > 0, f.rss > 0 else { continue }
            let n = Double(g.x.count)
            // Clearly lifted (Observation.clearLift), by the statistic of observe's signal test.
            guard ObservationSignalTest.statistic(f, rows: g.x.count) >= Observation.clearLift else { continue }
            var sz = 0.0, szz = 0.0
            for v in g.x { let z = max(f.elbow - v, 0); sz += z; szz += z * z }
            let vzz = szz - sz * sz / n
            guard vzz > 0 else { continue }
            let se = (f.rss / (n - 3)).squareRoot() / vzz.squareRoot()
            let lower = f.slope - DetectionLimitBound.z95 * se
            guard lower > 0 else { continue }
            best = min(best ?? lower, lower)
        }
        return best
    }
}

extension Observation {
    /// The answer when the few-shot rows show no emergence: the bound of `DetectionLimitBound` at the
    /// slope `FinetunedSlope` allows (in loss and in FLOPs, whichever the rows and scaling law give),
    /// and a warning that says in words what it means. No bound when nothing says how steep the rise
    /// would be (no finetuned row has left the floor) or the rows cannot rule out any elbow.
    ///
    /// On the flops axis the bound is found on the loss axis and converted through the scaling law
    /// whenever every row has a loss and a law is given or fitted: the ReLU is linear in loss, and a
    /// slope per decade of FLOPs measured where the finetuned rows rise (at higher losses, where loss
    /// falls faster per decade) overstates the few-shot slope at the lowest loss, so a bound found
    /// directly in FLOPs came out too tight (83 of 88 held on the simulated studies, against 88 of
    /// 88 in loss). Rows without a loss (leaderboards) fall back to the direct one.
    /// - point: the (loss, FLOPs) of an elbow on the axis, as the observed point is converted.
    /// - law: the scaling law, given or fitted, if any.
    static func notYetEmerged(_ result: inout ObservationResult, data: ReLUData, evaluations: [Evaluation],
                              options: ObserveOptions, test: ObservationSignalTest.Outcome, lifted: Int, law: ScalingLaw?,
                              point: (Double) -> (loss: Double?, flops: Double?)) {
        let p95 = test.nullP95.map { String(format: ", 95th percentile %.1f", $0) } ?? ""
        let head = String(format: "few-shot accuracy has not left the floor distinguishably (likelihood-ratio statistic %.1f against a flat floor; %d of %d studies simulated from the floor with these checkpoints reached it%@, and a lift counts only when none does and at least 2 checkpoints are lifted by more than 2σ: here %d): emergence has not shown yet",
                          test.statistic, test.exceeding, ObservationSignalTest.replicates, p95, lifted)
        func warn(_ tail: String) { result.warnings.append(.init(code: "not_yet_emerged", message: head + tail)) }
        let perUnit = options.axis == .loss ? "per nat" : "per decade of FLOPs"
        // The finetuned rows under the same max_flops as the few-shot rows.
        var finetuned = evaluations.filter { $0.setting == .finetuned }
        if let m = options.maxFlops { finetuned = finetuned.filter { ($0.effectiveFlops ?? .infinity) <= m } }
        guard let lowest = data.x.min() else { return }
        let rowLosses = data.checkpointIndex.map { data.checkpoints[$0].loss }
        if options.axis == .flops, let law, !rowLosses.contains(where: { $0 == nil }),
           let slope = FinetunedSlope.lowerBound(finetuned, axis: .loss) {
            let losses = rowLosses.map { $0 ?? .nan }
            if let e = DetectionLimitBound.upperElbow(x: losses, y: data.y, slopeFloor: slope),
               let c = law.compute(atLoss: e), let lowestLoss = losses.min() {
                // The law's FLOPs, or the checkpoints' own (interpolated in log10 FLOPs between
                // them) where that is less: a bound just past the truth must not cross it by the
                // law's misfit. Never more than the most compute seen.
                let top = pow(10, -lowest)
                let checkpointsC = data.checkpoints.compactMap(\.flops), checkpointsL = data.checkpoints.map { $0.loss ?? .nan }
                let seen = LossComputeInterpolation(computes: checkpointsC, losses: checkpointsL).compute(atLoss: e)
                let bound = min(c, seen ?? c, top)
                result.emergence.flops = WorkflowEstimate(lowerBound: bound)
                result.emergence.loss = WorkflowEstimate(upperBound: e)
                warn(String(format: "; if it has begun, it began above %.3g FLOPs (below loss %.3f): the lowest loss seen (%.3f) plus %.3f nats, the largest shift of the elbow that the few-shot rows cannot rule out at 95%% for a rise of at least %.3g accuracy per nat (the finetuned rows' 95%% lower bound on the slope, which the emergence law shares), through the scaling law",
                            bound, e, lowestLoss, e - lowestLoss, slope))
                return
            }
        }
        guard let slope = FinetunedSlope.lowerBound(finetuned, axis: options.axis) else {
            warn("; no finetuned rows have left the floor to say how steeply accuracy rises once it does (the emergence law shares that slope across data amounts), so a shallow rise that the noise hides could have begun anywhere past the lowest loss seen, and no bound is given. Finetuned rows at a few data amounts, lifted above the floor, would bound it")
            return
        }
        guard let e = DetectionLimitBound.upperElbow(x: data.x, y: data.y, slopeFloor: slope) else {
            warn(String(format: "; even a rise as steep as the finetuned rows' (at least %.3g accuracy %@) could have begun past every checkpoint seen without the few-shot rows showing it: they are too few or too noisy to bound where it began",
                        slope, perUnit))
            return
        }
        let p = point(e)
        switch options.axis {
        case .loss:
            result.emergence.loss = WorkflowEstimate(upperBound: e)
            if let c = p.flops, c.isFinite { result.emergence.flops = WorkflowEstimate(lowerBound: c) }
            warn(String(format: "; if it has begun, it began below loss %.3f: the lowest loss seen (%.3f) plus %.3f nats, the largest shift of the elbow that the few-shot rows cannot rule out at 95%% for a rise of at least %.3g accuracy per nat (the finetuned rows' 95%% lower bound on the slope, which the emergence law shares)",
                        e, lowest, e - lowest, slope))
        case .flops:
            let c = pow(10, -e)
            result.emergence.flops = WorkflowEstimate(lowerBound: c)
            if let l = p.loss { result.emergence.loss = WorkflowEstimate(upperBound: l) }
            warn(String(format: "; if it has begun, it began above %.3g FLOPs: the most compute seen (%.3g) divided by 10^%.3f, the largest shift of the elbow that the few-shot rows cannot rule out at 95%% for a rise of at least %.3g accuracy per decade of FLOPs (the finetuned rows' 95%% lower bound on the slope, which the emergence law shares)",
                        c, pow(10, -lowest), lowest - e, slope))
        }
    }
}
