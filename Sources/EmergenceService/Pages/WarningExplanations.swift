import EmergenceCore

/// Each warning code of a fit result in plain language, for the study page (docs/api.md, "Study pages"
/// lists the same table). The fit's own message, with its numbers, is shown beside it.
enum WarningExplanations {
    static let byCode: [String: String] = [
        "no_signal": "None of the finetuned checkpoints has risen above chance accuracy yet, so the law has nothing to bend. The service can only say that if emergence has begun, it began below the loss shown: your lowest loss plus what the noise could hide. Finetune larger checkpoints, or with more data.",
        "already_emerged": "Few-shot accuracy is already above chance for some checkpoints: the capability has emerged. The reported point is where it happened, not a forecast.",
        "e_star_not_pinned": "With every other part of the law refitted, emergence points far from the best fit explain the data about as well: the data do not pin it. Only a bound is given: if emergence has begun, it began below the loss shown (your lowest few-shot loss plus what the noise could hide). The warning's own message names the finetuning amount to add.",
        "detection_limit": "The bound allows for emergence that began just past your most capable checkpoint, where its lift would still be too small to see: it is your lowest few-shot loss plus the largest shift the data cannot rule out at 95%.",
        "pinned_at_few_shot_boundary": "The fitted emergence point sits right at your most capable checkpoint's loss, where the data cannot place it more finely; an interval there would look precise and be wrong. Only a bound is given. Checkpoints with lower loss, or finetuning amounts nearer the few-shot limit, would pin it.",
        "unphysical_interval": "The interval reached a loss of zero or below, which no model can have: the data cannot pin the emergence point. Only a bound is given. More finetuning amounts or checkpoints near the elbow would help.",
        "weak_signal": "Finetuning lifts accuracy above chance, but only faintly (all rows together stand a few times the measurement noise from chance): too little to fix how the emergence law bends, and intervals from such data have looked precise and been wrong. Only a bound is given: if emergence has begun, it began below the loss shown (your lowest loss plus what the noise could hide). Lower-loss checkpoints, larger finetuning amounts or more questions per evaluation would make the lift clearer.",
        "alpha_at_bound": "The data prefer an almost flat emergence law, but steeper laws fit them almost as well, so the curvature is not pinned: no single emergence point is given, only the range of emergence losses over the curvatures the data allow, and an interval over that range. Finetuning amounts nearer the few-shot limit would pin it.",
        "long_extrapolation": "The few-shot point is far beyond the smallest finetuning amount, further than your finetuning amounts span themselves. The forecast leans heavily on the law's shape; expect wide intervals. A run with fewer finetuning examples would shorten the jump.",
        "few_data_amounts": "The emergence law has three parameters, and this study has barely enough (or too few) distinct finetuning amounts to fix them. Add runs at another finetuning amount.",
        "few_checkpoints_above_floor": "Only a few finetuned checkpoints sit above chance, so the point where accuracy takes off (the elbow) is poorly pinned. Treat the number as rough.",
        "alpha_prior_conflict": "You gave a prior on how the emergence law bends (alpha_prior), and the data alone point well outside it. The forecast then reflects the prior more than your measurements; a wrong prior gives a confident, wrong interval. Check the prior, or fit without it and compare.",
        "competing_optima": "Two quite different fits explain the data almost equally well and predict different emergence points. The interval covers both; more checkpoints near the elbow would decide between them.",
        "form_misfit": "The other form of the law (power instead of log-power, or the reverse) fits these data better. Try fitting with that form and compare.",
        "wide_interval": "The 5–95% interval of the emergence loss is wide: the data do not pin the emergence point down. More checkpoints or finetuning amounts narrow it.",
        "mcmc_not_converged": "The MCMC chain stopped at its step limit before it had mixed, so its interval may be too narrow or off-centre. Raise mcmc_steps, or rely on the bootstrap interval.",
        "bootstrap_failures": "Some bootstrap refits found no optimum and were dropped; the interval rests on the rest. Many failures mean the fit is fragile.",
        "unreachable": "The predicted emergence loss is at or below the scaling law's irreducible loss: under this scaling law no amount of compute reaches it.",
        "long_compute_extrapolation": "The predicted compute is over 1000× your largest checkpoint: the scaling law is extrapolated far beyond what it was fitted on.",
        "no_scaling_law": "Fewer than three checkpoints have distinct FLOPs, so loss cannot be converted to compute. Give a scaling law with the fit, or upload flops for more checkpoints.",
        "mixed_shots": "Few-shot rows use different numbers of shots; the most common one was taken as the few-shot data amount D0.",
        "d0_adjusted": "The few-shot rows use fewer than 2 shots, and the law needs D0 above 1, so D0 = 2 was used. Set d0 to choose another value.",
        "unknown_flops_excluded": "Some rows have no FLOPs (nor parameters and tokens), so the max_flops filter could not place them and left them out.",
        "fit_failed": "The optimiser found no finite optimum for these data: no prediction could be made. Check the uploaded rows for outliers or mislabelled settings.",
    ]

    /// The explanation of `code`, or a generic line for a code this page does not know yet.
    static func explain(_ code: String) -> String {
        byCode[code] ?? "A condition the fit reported; its own message says what it found."
    }

    /// The explanation of `w` as the page shows it beside `r`'s numbers: every claim it makes about
    /// the interval (that it covers both optima, that it reaches the most capable checkpoint's loss,
    /// that only a bound is given) is checked against the numbers on the same page, and said
    /// otherwise when they do not bear it out.
    static func explain(_ w: FitResult.Warning, in r: FitResult) -> String {
        let shown = interval(r)
        switch w.code {
        case "competing_optima":
            let lead = "Two quite different fits explain the data almost equally well and predict different emergence points"
            let decide = "More checkpoints near the elbow would decide between them."
            guard let other = number(after: "predicts E* = ", in: w.message) else {
                return lead + "; the fit's own message gives the other one's E*. " + decide
            }
            guard let (lo, hi) = shown else {
                return lead + " (the other one's E* = \(PageNumbers.loss(other))). No interval is shown, so neither is ruled out. " + decide
            }
            let o = displayed(other)
            if o >= displayed(lo) && o <= displayed(hi) {
                return lead + ". The interval shown (\(PageNumbers.loss(lo))–\(PageNumbers.loss(hi))) covers both: the other one's E* = \(PageNumbers.loss(other)) lies inside it. " + decide
            }
            return lead + ". The interval shown (\(PageNumbers.loss(lo))–\(PageNumbers.loss(hi))) covers only this fit's optimum: the other one's E* = \(PageNumbers.loss(other)) lies outside it, so the truth may lie outside the interval too. " + decide
        case "alpha_at_bound":
            let lead = "The data prefer an almost flat emergence law, but steeper laws fit them almost as well, so the curvature is not pinned."
            let fix = "Finetuning amounts nearer the few-shot limit would pin it."
            guard let band = r.emergence.loss.alphaBand else {
                return lead + " Only a bound is given. " + fix
            }
            let range = "for the curvatures the data allow (α from \(String(format: "%.2f", band.alphaLow)) to \(String(format: "%.2f", band.alphaHigh))) the emergence loss lies between \(PageNumbers.loss(band.lossLow)) and \(PageNumbers.loss(band.lossHigh))"
            guard shown != nil else { return lead + " No single emergence point is given: " + range + ". " + fix }
            return lead + " No single emergence point is given: " + range + ", and the interval shown spreads over that range (each bootstrap draw takes a curvature uniformly, on a log scale, from it). " + fix
        default:
            let text = explain(w.code)
            // "Only a bound is given" holds only where the page shows a bound and no interval.
            if shown != nil, text.contains("Only a bound is given") {
                return text.components(separatedBy: ". ").filter { !$0.hasPrefix("Only a bound is given") }.joined(separator: ". ")
            }
            return text
        }
    }

    /// The loss interval the page shows (5th and 95th percentiles), if any.
    static func interval(_ r: FitResult) -> (Double, Double)? {
        guard let p = r.emergence.loss.percentiles, let lo = p["5"], let hi = p["95"], lo.isFinite, hi.isFinite else { return nil }
        return (lo, hi)
    }

    /// A loss as the page prints it (three decimals), for comparisons a reader can check.
    private static func displayed(_ x: Double) -> Double { Double(PageNumbers.loss(x)) ?? x }

    /// The decimal number right after `marker` in `text`.
    static func number(after marker: String, in text: String) -> Double? {
        guard let range = text.range(of: marker) else { return nil }
        let digits = text[range.upperBound...].prefix { $0.isNumber || $0 == "." || $0 == "-" || $0 == "e" || $0 == "+" }
        let trimmed = digits.hasSuffix(".") ? digits.dropLast() : Substring(digits)
        return Double(trimmed).flatMap { $0.isFinite ? $0 : nil }
    }
}
