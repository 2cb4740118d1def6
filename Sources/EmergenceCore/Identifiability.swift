import Foundation

/// Is the emergence point identified by these data, or only bounded? (docs/method.md §6.5)
///
/// The bootstrap's 5–95 interval is honest only where the data pin E*. The rules, in order:
///
/// - **E* not pinned** (`e_star_not_pinned`): the profile likelihood of E*, every other parameter
///   (α included) refitted, rules out nothing within `profileSpan` (0.6 nats) on one side of the
///   MLE at 90% (EmergenceProfile). Decided from the data's information, with no threshold tuned.
/// - **weak signal** (`weak_signal`): the lift passed the signal test, but the finetuned rows jointly
///   stand less than `minimumLiftSNR` noise SDs from the floor: the elbows are too faint to fix the
///   curvature, and on simulated studies such intervals were confident and wrong.
/// - **α̂ collapsed** to (near) its lower bound: the data prefer a nearly flat law in ln D, which
///   extrapolates E* too low, while steeper laws through the same elbows fit almost as well. No E*
///   is headlined: the answer is the α-sensitivity band (AlphaBand.swift) and the interval of its
///   bootstrap, not a withheld one.
/// - **E* pinned at the few-shot boundary** (after the bootstrap): the MLE sits on the lowest
///   few-shot loss x_min and the bootstrap cannot cross it. Rule: E*_mle > x_min − 0.01 and
///   p5 > x_min − 0.06.
/// - **unphysical interval** (after the bootstrap): an interval reaching loss ≤ 0.
///
/// A study that fails a rule gets the status `not_identified` and, instead of a 5–95 interval, the
/// bound the data support: the lowest few-shot loss plus the largest elbow shift the data cannot
/// rule out at 95% (EmergenceFit.detectionLimit).
public enum Identifiability {
    /// What the rules look at, for the result's warnings and for calibration reports.
    public struct Measures: Sendable, Equatable {
        /// α̂ and its lower bound in the model.
        public var alpha: Double
        public var alphaLowerBound: Double
        /// Finetuning data amounts at which some row is lifted above the floor by more than 2 noise SDs.
        public var liftedAmounts: [Double]
        /// Every finetuning data amount of the study, ascending.
        public var dataAmounts: [Double]
        /// The lowest pretraining loss among few-shot rows (nil without few-shot rows).
        public var fewShotBoundary: Double?
        /// E*_mle.
        public var prediction: Double
        /// How far the law's highest elbow (at the largest data amount, under the MLE) lies above the
        /// lowest finetuned pretraining loss: the width in loss of the region where any lift is seen.
        public var elbowHeadroom: Double = .nan
        /// The largest lift of a finetuned row above the floor, in noise SDs.
        public var maxLiftSD: Double = .nan
        /// The finetuned rows' lift as one signal-to-noise ratio, √(Σ (lift_i/SD_i)²) (Diagnostics).
        public var liftSNR: Double = .nan
        /// The ends of the profile likelihood's 90% region of E* (nil: nothing ruled out within 0.6 nats).
        public var profileLower: Double? = nil
        public var profileUpper: Double? = nil
        /// The 5th percentile of E*'s samples (NaN before the interval rules ran).
        public var p5: Double = .nan
        /// α̂ below the collapse threshold (the answer is then the α band, AlphaBand.swift).
        public var alphaCollapsed: Bool = false
        /// The bound a withheld answer gives: the few-shot boundary plus the elbow shift the data cannot
        /// rule out (EmergenceFit.detectionLimit); nil before it is computed.
        public var detectionBound: Double? = nil
        /// The rules that fired (each withholds the interval).
        public var reasons: [Reason]

        public var identified: Bool { reasons.isEmpty }
    }

    public enum Reason: String, Sendable, Equatable {
        /// The profile likelihood of E* rules out nothing within 0.6 nats on one side of the MLE.
        case notPinned = "e_star_not_pinned"
        case pinnedAtBoundary = "pinned_at_few_shot_boundary"
        case unphysicalInterval = "unphysical_interval"
        case weakSignal = "weak_signal"
    }

    /// α̂ below this (log-power form; the model's bound is 0.05) counts as collapsed. The jittered
    /// and wide families' truths have α ≥ 0.8; on 80 of their studies collapsed fits came out at
    /// 0.09–0.16 (E* 0.27–0.54 nats too low), the next-lowest α̂ at 0.21, 0.34 and 0.36 (covered).
    static let collapsedAlphaLogPower = 0.2
    /// The same for the power form (bound 0.005).
    static let collapsedAlphaPower = 0.02
    /// The lifted rows must jointly stand this many noise SDs from the floor (liftSNR). Below it the
    /// lift is real (the signal test passed) but too faint to bend a law. Set on the development
    /// split (designs and weak, 200 studies each): `ok` intervals with liftSNR under 20 covered
    /// 0.58–0.92 at 90%, those above 0.82–1.0.
    /// Judging all rows together keeps studies whose many noisy rows pin E* jointly.
    static let minimumLiftSNR = 20.0
    /// How far the profile scan looks on each side of the MLE before calling E* not pinned.
    static let profileSpan = 0.6
    /// E*_mle within this many nats of the lowest few-shot loss counts as pinned to it.
    static let pinnedMargin = 0.01
    /// … and its 5th percentile within this many nats below it.
    static let pinnedWidth = 0.06

    static func measure(_ model: EmergenceModel, mle: MaximumLikelihoodFit, liftedGroups: Set<Int>, maxLiftSD: Double = .nan,
                        liftSNR: Double = .nan) -> Measures {
        let data = model.data
        let alpha = mle.theta[EmergenceModel.alpha]
        let alphaLower = model.lower[EmergenceModel.alpha]
        let lifted = liftedGroups.filter { $0 != data.fewShotGroup }.map { data.groupD[$0] }.sorted()
        var boundary: Double? = nil
        for i in 0..<data.count where data.fewShot[i] == 1 { boundary = min(boundary ?? .infinity, data.x[i]) }
        var elbows = [Double](repeating: 0, count: data.groupD.count)
        model.elbows(mle.theta, into: &elbows)
        var topElbow = -Double.infinity, lowestFinetuned = Double.infinity
        for g in 0..<data.groupD.count where g != data.fewShotGroup { topElbow = max(topElbow, elbows[g]) }
        for i in 0..<data.count where data.fewShot[i] == 0 { lowestFinetuned = min(lowestFinetuned, data.x[i]) }
        var reasons: [Reason] = []
        let collapsed = model.form == .logPower ? collapsedAlphaLogPower : collapsedAlphaPower
        if !(liftSNR >= minimumLiftSNR) { reasons.append(.weakSignal) }
        var m = Measures(alpha: alpha, alphaLowerBound: alphaLower, liftedAmounts: lifted, dataAmounts: data.dataAmounts,
                         fewShotBoundary: boundary, prediction: mle.prediction,
                         elbowHeadroom: topElbow - lowestFinetuned, maxLiftSD: maxLiftSD, p5: .nan,
                         alphaCollapsed: alpha < collapsed, reasons: reasons)
        m.liftSNR = liftSNR
        return m
    }

    /// The profile rule: E* is not pinned when the profile likelihood rules out nothing within
    /// `profileSpan` on one side of the MLE (EmergenceProfile.lowerLimit / upperLimit).
    static func applyProfile(_ m: inout Measures, lower: Double?, upper: Double?) {
        m.profileLower = lower
        m.profileUpper = upper
        if lower == nil || upper == nil { m.reasons.insert(.notPinned, at: 0) }
    }

    /// The rules that need the interval's samples (sorted): E* pinned at the few-shot boundary (the
    /// MLE within `pinnedMargin` of it and the 5th percentile within `pinnedWidth`: a sliver the
    /// bootstrap cannot widen past the boundary), and an interval reaching loss ≤ 0.
    static func checkInterval(_ m: inout Measures, sorted: [Double]) {
        guard !sorted.isEmpty else { return }
        m.p5 = Percentile.of(sorted: sorted, 5)
        if let boundary = m.fewShotBoundary, m.prediction > boundary - pinnedMargin, m.p5 > boundary - pinnedWidth {
            m.reasons.append(.pinnedAtBoundary)
        }
        if m.p5 <= 0 { m.reasons.append(.unphysicalInterval) }
    }

    /// One warning per reason, each saying what data would fix it.
    static func warnings(_ m: Measures, form: FitOptions.Form, d0: Double) -> [FitResult.Warning] {
        m.reasons.map { reason in
            switch reason {
            case .notPinned:
                return .init(code: "e_star_not_pinned", message: notPinnedMessage(m))
            case .pinnedAtBoundary:
                let b = m.fewShotBoundary ?? m.prediction
                let smallest = m.dataAmounts.first ?? d0
                return .init(code: "pinned_at_few_shot_boundary", message: String(format:
                    "E*'s estimate %.3f sits at the lowest few-shot loss %.3f: the few-shot rows show no lift at any checkpoint, so the data only say E* < %.3f, and the extrapolation from the finetuned elbows runs into that bound. Finetune with smaller data amounts (below %@ examples, towards D0 = %@) so the extrapolation is shorter, or evaluate few-shot on lower-loss checkpoints",
                    m.prediction, b, b, count(smallest), count(d0)))
            case .weakSignal:
                return .init(code: "weak_signal", message: weakSignalMessage(m))
            case .unphysicalInterval:
                return .init(code: "unphysical_interval", message:
                    "the bootstrap interval of E* reaches a loss ≤ 0, which no model can have: the data do not pin the law. Finetune more checkpoints, or at more data amounts, so that lift is seen over a wider range of losses")
            }
        }
    }

    /// `band` nil: no grid α other than the collapsed one fitted inside the band, and the answer is
    /// withheld.
    static func collapseWarning(_ m: Measures, band: AlphaBand?, form: FitOptions.Form, d0: Double) -> FitResult.Warning {
        let smallest = m.dataAmounts.first ?? d0
        let suggestion = max((smallest / 4).rounded(), d0 + 1)
        let advice = "Finetune with smaller data amounts, down to about \(count(suggestion)) examples (the smallest now is \(count(smallest))), so the curve towards D0 = \(count(d0)) is seen"
        let lead = String(format: "the law's curvature is not identified (α̂ = %.2f, at its bound %.2f): a nearly flat law in %@ fits best",
                          m.alpha, m.alphaLowerBound, form == .logPower ? "ln D" : "D")
        guard let band else {
            return .init(code: "alpha_at_bound", message: lead + ", and refitting at fixed curvatures found no range of them the data allow, so only a bound is given. " + advice)
        }
        let which = band.ceiling.map { String(format: "every α whose best fit, every other parameter refitted, keeps E* below %.3f, the lowest few-shot loss plus what the noise could hide", $0) }
            ?? "the values the data do not rule out at 90%, every other parameter refitted"
        return .init(code: "alpha_at_bound", message: lead + String(format:
            ", but steeper ones fit almost as well; for α between %.2f and %.2f (%@) the data put E* between %.3f and %.3f, so no single estimate is given; the percentiles are those of the bootstrap with α drawn uniformly in ln α across that band. ",
            band.alphaLow, band.alphaHigh, which, band.lossLow, band.lossHigh) + advice)
    }

    static func weakSignalMessage(_ m: Measures) -> String {
        let largest = m.dataAmounts.last.map(count) ?? "the largest amount"
        return String(format: "the finetuned runs' lift above the floor stands only %.1f noise SDs from it, all rows together (at least %.0f are needed; the largest single lift is %.1f SDs): the lift is real but too faint to fix the law's curvature, and intervals from such data missed the truth. ", m.liftSNR, minimumLiftSNR, m.maxLiftSD)
            + "Finetune lower-loss checkpoints, or with data amounts above \(largest) examples, where the lift is larger, or evaluate on more questions (the noise SD falls as 1/√n)"
    }

    static func notPinnedMessage(_ m: Measures) -> String {
        let side = m.profileLower == nil && m.profileUpper == nil ? "on either side" : (m.profileLower == nil ? "below it" : "above it")
        return String(format: "the data do not pin E*: with every other parameter refitted (the curvature α included), no value of E* within %.1f nats %@ of the best fit (%.3f) fits clearly worse (profile likelihood, 90%%). ", profileSpan, side, m.prediction)
            + liftMessage(m)
    }

    static func liftMessage(_ m: Measures) -> String {
        let lifted = m.liftedAmounts
        let all = m.dataAmounts
        let liftedText = lifted.isEmpty ? "none" : lifted.map(count).joined(separator: " and ")
        var advice: String
        if let lo = lifted.first, let hi = lifted.last, lo < hi {
            let mid = exp((log(lo) + log(hi)) / 2).rounded()
            advice = "finetune with at least \(max(3 - lifted.count, 1)) more amount(s) between \(count(lo)) and \(count(hi)) examples (e.g. \(count(mid))) or above \(count(hi))"
        } else if let hi = lifted.last ?? all.last {
            advice = "finetune with at least \(max(3 - lifted.count, 1)) more amount(s) above \(count(hi)) examples (e.g. \(count(2 * hi)) and \(count(4 * hi))), where the lift is larger"
        } else {
            advice = "finetune with larger data amounts"
        }
        advice += ", or finetune lower-loss checkpoints, where every amount lifts accuracy"
        return "Lift above the floor is seen at \(lifted.count) data amount(s) (\(liftedText), of \(all.count)). " + advice.prefix(1).uppercased() + advice.dropFirst()
    }

    /// 1000 → "1,000".
    static func count(_ v: Double) -> String {
        guard v.isFinite, abs(v) < 1e15 else { return String(format: "%g", v) }
        let n = Int(v.rounded())
        var digits = String(abs(n))
        var out = ""
        while digits.count > 3 {
            out = "," + digits.suffix(3) + out
            digits = String(digits.dropLast(3))
        }
        return (n < 0 ? "-" : "") + digits + out
    }
}
