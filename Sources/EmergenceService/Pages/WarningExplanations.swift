/// Each warning code of a fit result in plain language, for the study page (README "Study pages"
/// lists the same table). The fit's own message, with its numbers, is shown beside it.
enum WarningExplanations {
    static let byCode: [String: String] = [
        "no_signal": "None of the finetuned checkpoints has risen above chance accuracy yet, so the law has nothing to bend. The service can only say the capability emerges below the lowest loss you have measured. Finetune larger checkpoints, or with more data.",
        "already_emerged": "Few-shot accuracy is already above chance for some checkpoints: the capability has emerged. The reported point is where it happened, not a forecast.",
        "few_lifted_amounts": "Finetuning lifts accuracy above chance at fewer than three data amounts, and a three-parameter law through two points can bend any way. Only a bound is given: the capability emerges below the lowest loss you measured. The warning's own message names the finetuning amount to add.",
        "pinned_at_few_shot_boundary": "The fitted emergence point sits right at your most capable checkpoint's loss, where the data cannot place it more finely; an interval there would look precise and be wrong. Only a bound is given. Checkpoints with lower loss, or finetuning amounts nearer the few-shot limit, would pin it.",
        "unphysical_interval": "The interval reached a loss of zero or below, which no model can have: the data cannot pin the emergence point. Only a bound is given. More finetuning amounts or checkpoints near the elbow would help.",
        "weak_signal": "Finetuning lifts accuracy above chance, but only faintly (a few times the measurement noise): too little to fix how the emergence law bends, and intervals from such data have looked precise and been wrong. Only a bound is given: the capability emerges below the lowest loss you measured. Lower-loss checkpoints, larger finetuning amounts or more questions per evaluation would make the lift clearer.",
        "alpha_at_bound": "The data prefer an almost flat emergence law, which tends to extrapolate too low. The interval has been widened up to your most capable checkpoint's loss so that it still holds; finetuning amounts nearer the few-shot limit would narrow it.",
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
}
