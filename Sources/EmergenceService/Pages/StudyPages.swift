import Jobs
import EmergenceCore
import Foundation

/// Server-rendered HTML for people: the study list (`GET /`) and one study (`GET /studies/{name}`).
/// Pure: models in, a complete HTML5 document out; no JavaScript. Every user string is escaped
/// (`HTMLText.escape`); every number a check may compare is also in a `<data value>` element.
enum StudyPages {
    /// The page around `body`.
    static func document(title: String, body: String) -> String {
        """
        <!DOCTYPE html>
        <html lang="en">
        <head>
        <meta charset="utf-8">
        <meta name="viewport" content="width=device-width, initial-scale=1">
        <title>\(HTMLText.escape(title))</title>
        \(PageStyle.element)
        </head>
        <body>
        \(body)
        </body>
        </html>

        """
    }

    /// The 404 page of a study that does not exist: what to do, and the way back.
    static func missing(name: String) -> String {
        let body = """
        <nav><a href="/">← All studies</a></nav>
        <main>
        <h1>No study named <q>\(HTMLText.user(name))</q></h1>
        <p>There is no study with this name or id. See <a href="/">all studies</a>, or create it with <code>POST /v1/studies</code> and the body <code>{"name": \(HTMLText.escape(JSONBody.string(name)))}</code> (the Python client: <code>emergence-client upload FILE --study NAME --create</code>).</p>
        </main>
        """
        return document(title: "No such study", body: body)
    }

    static func studyPath(_ name: String) -> String { "/studies/" + HTMLText.pathSegment(name) }
    static func apiPath(_ name: String) -> String { "/v1/studies/" + HTMLText.pathSegment(name) }

    static func badge(_ status: String) -> String {
        "<span class=\"badge \(HTMLText.escape(status))\">\(HTMLText.escape(status.replacingOccurrences(of: "_", with: " ")))</span>"
    }

    // MARK: GET /

    /// - next: the cursor of the next page (the last study id shown), nil on the last page.
    static func index(_ entries: [StudyListEntry], next: Int? = nil, isFirstPage: Bool = true) -> String {
        var b = "<header><h1>Emergence predictions</h1>\n"
        b += "<p class=\"muted\">When will a capability emerge? Each study fits the emergence law to finetuned checkpoints and converts the emergence loss to pretraining compute. JSON for all of this is under <a href=\"/v1/studies\">/v1/studies</a>; the API is described in <a href=\"/openapi.json\">openapi.json</a>.</p></header>\n<main>\n"
        if entries.isEmpty && !isFirstPage {
            b += "<p>No more studies. <a href=\"/\">Back to the first page</a>.</p>\n"
        } else if entries.isEmpty {
            b += "<p>No studies yet. Create one with <code>POST /v1/studies</code>, upload evaluations to <code>POST /v1/studies/{name}/evaluations</code> and request a fit with <code>POST /v1/studies/{name}/fits</code> (see the README).</p>\n"
        } else {
            let shown = "\(entries.count) stud\(entries.count == 1 ? "y" : "ies")" + (next != nil || !isFirstPage ? " on this page" : "")
            b += "<table>\n<caption class=\"muted\">\(shown); predicted FLOPs come from each study's newest succeeded fit.</caption>\n"
            b += "<thead><tr><th scope=\"col\">Study</th><th scope=\"col\">Rows</th><th scope=\"col\">Last fit</th><th scope=\"col\">Predicted FLOPs (5–95%)</th><th scope=\"col\">Updated</th></tr></thead>\n<tbody>\n"
            for e in entries {
                b += "<tr data-study=\"\(HTMLText.escape(e.study.name))\">"
                b += "<td><a href=\"\(studyPath(e.study.name))\">\(HTMLText.user(e.study.name))</a></td>"
                b += "<td class=\"num\">\(e.study.evaluations)</td>"
                b += "<td>"
                if let f = e.lastFit {
                    b += badge(f.status.rawValue)
                    if f.status == .succeeded, let p = e.prediction, p.id == f.id, p.result.status != .ok { b += " " + badge(p.result.status.rawValue) }
                } else {
                    b += "<span class=\"muted\">none</span>"
                }
                b += "</td><td class=\"num\">"
                b += e.prediction.map { flopsCell($0.result) } ?? "<span class=\"muted\">—</span>"
                b += "</td><td class=\"num\">\(HTMLText.escape(PageNumbers.time(e.updated)))</td></tr>\n"
            }
            b += "</tbody>\n</table>\n"
            var links: [String] = []
            if !isFirstPage { links.append("<a href=\"/\">First page</a>") }
            if let next { links.append("<a href=\"/?cursor=\(next)\" rel=\"next\">Next page</a>") }
            if !links.isEmpty { b += "<nav aria-label=\"More studies\"><p>" + links.joined(separator: " · ") + "</p></nav>\n" }
        }
        b += "</main>\n"
        return document(title: "Emergence predictions", body: b)
    }

    /// The list's compact prediction: "7.4e22 (3.4e22–3.0e23)", or why there is none.
    static func flopsCell(_ r: FitResult) -> String {
        guard let f = r.emergence.flops else {
            if r.status == .noSignal, let lb = r.emergence.flops?.lowerBound { return "&gt; " + PageNumbers.data(lb, field: "flops.lower_bound", text: PageNumbers.flops(lb)) }
            return "<span class=\"muted\">no FLOPs (\(HTMLText.escape(r.status.rawValue.replacingOccurrences(of: "_", with: " "))))</span>"
        }
        if let mle = f.mle, f.reachable {
            return PageNumbers.data(mle, field: "flops.mle", text: PageNumbers.flops(mle)) + " " + interval(f.percentiles, compact: true)
        }
        // The curvature not pinned (an α band): no single C*, only the interval over the band.
        if r.emergence.loss.alphaBand != nil, f.percentiles != nil {
            return "<span class=\"muted\">curvature not pinned</span> " + interval(f.percentiles, compact: true)
        }
        if let lb = f.lowerBound { return "&gt; " + PageNumbers.data(lb, field: "flops.lower_bound", text: PageNumbers.flops(lb)) }
        return "<span class=\"muted\">unreachable</span>"
    }

    /// "(5–95%: 3.4e22–3.0e23)"; an upper percentile that no compute reaches is omitted from the
    /// JSON and read "out of reach" here.
    static func interval(_ p: FitResult.Percentiles?, compact: Bool = false) -> String {
        guard let p, let lo = p["5"] else { return "" }
        let hi = p["95"].map { PageNumbers.data($0, field: "flops.p95", text: PageNumbers.flops($0)) } ?? "out of reach"
        return "(\(compact ? "" : "5–95%: ")\(PageNumbers.data(lo, field: "flops.p5", text: PageNumbers.flops(lo)))–\(hi))"
    }

    // MARK: GET /studies/{name}

    static func study(_ m: StudyPageModel) -> String {
        let s = m.study
        var b = "<nav><a href=\"/\">← All studies</a></nav>\n<header><h1>\(HTMLText.user(s.name))</h1>\n<p class=\"muted\">"
        var facts: [String] = []
        if let t = s.task { facts.append("task " + HTMLText.escape(t)) }
        facts.append("\(s.evaluations) evaluation row\(s.evaluations == 1 ? "" : "s")")
        if let c = s.chance { facts.append("chance accuracy " + HTMLText.escape(String(format: "%g", c))) }
        if let k = s.shots { facts.append("\(k) shots") }
        facts.append("data version \(s.dataVersion)")
        b += facts.joined(separator: " · ") + "</p>\n"
        if let d = s.description, !d.isEmpty { b += "<p>\(HTMLText.user(d))</p>\n" }
        b += "</header>\n<main>\n<h2>Prediction</h2>\n"
        if let (job, r) = m.prediction {
            b += "<p class=\"prediction\" data-fit=\"\(job.id)\">\(predictionSentence(r, largest: m.largestCheckpointFlops))</p>\n"
            b += "<p>\(lossSentence(r))</p>\n"
            if let lines = priorLines(r) { b += lines }
            b += "<p class=\"muted\">From fit <a href=\"/v1/fits/\(job.id)\">\(job.id)</a>, finished \(HTMLText.escape(PageNumbers.time(job.finishedAt ?? job.createdAt))) on data version \(job.dataVersion). JSON: <a href=\"\(apiPath(s.name))/prediction\">prediction</a>.</p>\n"
            if let last = m.lastFit, last.id != job.id {
                b += "<p class=\"muted\">A newer fit (\(last.id)) is \(badge(last.status.rawValue)); this prediction is from the last one that succeeded.</p>\n"
            }
            if let advice = advice(result: r, lastFit: m.lastFit, study: s) { b += "<div class=\"advice\"><strong>What to do:</strong> \(advice)</div>\n" }
            b += plots(s, r)
            b += warnings(r)
        } else {
            b += "<p class=\"prediction\">No prediction yet.</p>\n"
            b += "<div class=\"advice\"><strong>What to do:</strong> \(advice(result: nil, lastFit: m.lastFit, study: s) ?? "")</div>\n"
        }
        if let id = m.latestBacktestID {
            b += "<h2>Back-test</h2>\n<figure><img src=\"/v1/jobs/\(id)/plots/backtest.svg\" alt=\"Predicted emergence loss against the compute cutoff of each fit, beside the observed emergence.\" width=\"720\"><figcaption>The study's latest back-test (job <a href=\"/v1/jobs/\(id)\">\(id)</a>): predictions from checkpoints under each cutoff against the emergence observed in all of them (the paper's Figure 7).</figcaption></figure>\n"
        }
        b += history(m.history)
        b += "</main>\n"
        return document(title: "\(s.name): emergence prediction", body: b)
    }

    /// "Capability expected at 7.4e22 FLOPs (5–95%: 3.4e22–3.0e23), 3.7× beyond your largest checkpoint."
    static func predictionSentence(_ r: FitResult, largest: Double?) -> String {
        let f = r.emergence.flops
        switch r.status {
        case .noSignal:
            var t = "No signal yet: no finetuned checkpoint has left chance accuracy, so the capability emerges only below pretraining loss "
            t += r.emergence.loss.upperBound.map { PageNumbers.data($0, field: "loss.upper_bound", text: PageNumbers.loss($0)) } ?? "the lowest seen"
            if let lb = f?.lowerBound { t += ", that is beyond " + PageNumbers.data(lb, field: "flops.lower_bound", text: PageNumbers.flops(lb)) + " FLOPs" }
            return t + "."
        case .insufficientData:
            return "Not enough data for a prediction: the emergence law needs finetuned runs at three or more data amounts."
        case .notIdentified:
            // The data bound E* but do not pin it (Identifiability.swift): say the bound, not a number.
            var t = "Not yet predictable: the data show the capability emerges below pretraining loss "
            t += r.emergence.loss.upperBound.map { PageNumbers.data($0, field: "loss.upper_bound", text: PageNumbers.loss($0)) } ?? "the lowest seen"
            if let lb = f?.lowerBound { t += ", that is beyond " + PageNumbers.data(lb, field: "flops.lower_bound", text: PageNumbers.flops(lb)) + " FLOPs" }
            return t + ", but they cannot pin where; the warnings below say which runs would."
        case .ok, .alreadyEmerged:
            let lead = r.status == .alreadyEmerged ? "Capability already emerged, at about " : "Capability expected at "
            guard let f else {
                return lead + "pretraining loss " + (r.emergence.loss.mle.map { PageNumbers.data($0, field: "loss.mle", text: PageNumbers.loss($0)) } ?? "—")
                    + "; without a scaling law it cannot be put in FLOPs."
            }
            if let band = r.emergence.loss.alphaBand {
                // The curvature is not pinned: no single C* is headlined, only the interval and the band.
                var t = lead + "compute that the data do not pin down"
                let iv = interval(f.percentiles)
                if !iv.isEmpty { t += " " + iv }
                return t + ": " + bandSentence(band) + "."
            }
            guard f.reachable, let mle = f.mle else {
                return "Out of reach: the emergence loss is at or below the scaling law's irreducible loss, so no amount of compute reaches it under this law."
            }
            var t = lead + PageNumbers.data(mle, field: "flops.mle", text: PageNumbers.flops(mle)) + " FLOPs"
            let iv = interval(f.percentiles)
            if !iv.isEmpty { t += " " + iv }
            if let largest, largest > 0 {
                let ratio = mle / largest
                let data = PageNumbers.data(ratio, field: "flops.ratio_to_largest", text: PageNumbers.ratio(ratio))
                t += ratio >= 1 ? ", \(data) beyond your largest checkpoint" : ", \(data) the compute of your largest checkpoint (within reach)"
                t += " (" + PageNumbers.data(largest, field: "flops.largest_checkpoint", text: PageNumbers.flops(largest)) + " FLOPs)"
            }
            return t + "."
        }
    }

    /// "for α between a and b the data put E* between l and u": what a band answer means, in words.
    static func bandSentence(_ band: FitResult.AlphaBandSummary) -> String {
        "the law's curvature is not pinned; for α between " + HTMLText.escape(String(format: "%.2f", band.alphaLow))
            + " and " + HTMLText.escape(String(format: "%.2f", band.alphaHigh))
            + " (the values the data do not rule out at 90%) the data put E* between "
            + PageNumbers.data(band.lossLow, field: "loss.alpha_band.loss_low", text: PageNumbers.loss(band.lossLow)) + " and "
            + PageNumbers.data(band.lossHigh, field: "loss.alpha_band.loss_high", text: PageNumbers.loss(band.lossHigh)) + " nats"
    }

    /// The loss-side numbers: E* and its interval, and where the interval came from.
    static func lossSentence(_ r: FitResult) -> String {
        let l = r.emergence.loss
        if l.mle == nil, let band = l.alphaBand {
            var t = "No single emergence loss: " + bandSentence(band)
            if let p = l.percentiles, let lo = p["5"], let hi = p["95"] {
                t += " (5–95% over that band: " + PageNumbers.data(lo, field: "loss.p5", text: PageNumbers.loss(lo)) + "–"
                    + PageNumbers.data(hi, field: "loss.p95", text: PageNumbers.loss(hi)) + (l.intervalMethod.map { ", " + HTMLText.escape($0) } ?? "") + ")"
            }
            return t + "."
        }
        guard let mle = l.mle else { return "<span class=\"muted\">No emergence loss was estimated.</span>" }
        var t = "Emergence loss E* = " + PageNumbers.data(mle, field: "loss.mle", text: PageNumbers.loss(mle)) + " nats"
        if let p = l.percentiles, let lo = p["5"], let hi = p["95"] {
            t += " (5–95%: " + PageNumbers.data(lo, field: "loss.p5", text: PageNumbers.loss(lo)) + "–"
                + PageNumbers.data(hi, field: "loss.p95", text: PageNumbers.loss(hi)) + (l.intervalMethod.map { ", " + HTMLText.escape($0) } ?? "") + ")"
        }
        t += "; \(r.data.checkpoints) checkpoints, \(r.data.rows) rows, finetuning amounts "
        t += r.data.dataAmounts.map { HTMLText.escape(String(format: "%g", $0)) }.joined(separator: ", ")
        return t + "."
    }

    /// Under a prior on α: the answer with it beside the study's own, as two lines, and a conflict
    /// between them said in words (the fit's `alpha_prior_conflict`).
    static func priorLines(_ r: FitResult) -> String? {
        guard let prior = r.alphaPrior else { return nil }
        let source: String
        if let p = prior.pooled {
            source = "the lab's prior, pooled from \(p.studies) stud\(p.studies == 1 ? "y" : "ies")"
                + (p.pool.map { " of pool " + HTMLText.escape($0) } ?? "")
                + (p.estimatedAt.map { " on " + HTMLText.escape(PageNumbers.time($0)) } ?? "")
        } else {
            source = "the given prior"
        }
        let median = HTMLText.escape(String(format: "%.2f", prior.median)), sd = HTMLText.escape(String(format: "%.2f", prior.logSD))
        var withPrior = "With \(source) (α around \(median), log-sd \(sd)): "
        if let mle = r.emergence.loss.mle {
            withPrior += "E* = " + PageNumbers.data(mle, field: "loss.mle", text: PageNumbers.loss(mle)) + " nats"
            if let p = r.emergence.loss.percentiles, let lo = p["5"], let hi = p["95"] {
                withPrior += " (5–95%: " + PageNumbers.loss(lo) + "–" + PageNumbers.loss(hi) + ")"
            }
            if let a = r.parameters?.alpha { withPrior += ", α = " + HTMLText.escape(String(format: "%.2f", a)) }
        } else {
            withPrior += "no single E* (see above)"
        }
        var alone = "From this study alone: "
        if let w = r.withoutPrior {
            alone += "E* = " + PageNumbers.data(w.emergenceLoss, field: "without_prior.emergence_loss", text: PageNumbers.loss(w.emergenceLoss))
                + " nats, α = " + HTMLText.escape(String(format: "%.2f", w.alpha)) + " (plain maximum likelihood)"
        } else {
            alone += "no plain fit was possible"
        }
        var t = "<p class=\"prior\">\(withPrior).<br>\(alone).</p>\n"
        if r.warnings.contains(where: { $0.code == "alpha_prior_conflict" }) {
            t += "<p class=\"prior-conflict\"><strong>The two disagree:</strong> this study's own data put the law's curvature outside the central 95% of \(prior.pooled == nil ? "the prior" : "the lab's prior"), so the answer above leans on \(prior.pooled == nil ? "the prior" : "the other studies") more than on these measurements. This task may bend differently from the lab's others; compare the two lines, and trust the second if the task is unlike them.</p>\n"
        }
        return t
    }

    /// What a person can do next, when the prediction is not a plain `ok` or no fit succeeded.
    static func advice(result: FitResult?, lastFit: Job?, study s: Study) -> String? {
        let fits = "<code>POST " + HTMLText.escape(apiPath(s.name)) + "/fits</code>"
        if let last = lastFit, result == nil || last.status != .succeeded {
            switch last.status {
            case .queued, .running:
                return "fit \(last.id) is \(last.status.rawValue); reload this page when it has finished."
            case .failed, .timedOut, .cancelled:
                var t = "the newest fit (\(last.id)) \(last.status == .timedOut ? "ran out of time" : last.status.rawValue)"
                if let e = last.error, !e.isEmpty { t += ": <q>\(HTMLText.escape(e))</q>" }
                t += ". Check the uploaded rows, then request a new fit with \(fits)"
                if last.status == .timedOut { t += " (fewer bootstrap samples or MCMC steps finish sooner)" }
                return t + "."
            case .succeeded:
                break
            }
        }
        guard let r = result else {
            if s.evaluations == 0 {
                return "upload evaluations to <code>POST " + HTMLText.escape(apiPath(s.name)) + "/evaluations</code> (CSV, JSON or lm-evaluation-harness results), then request a fit with \(fits)."
            }
            return "request a fit with \(fits)."
        }
        switch r.status {
        case .ok:
            return nil
        case .noSignal:
            return "finetune larger checkpoints (closer to emergence) or with more data, upload those runs, and fit again."
        case .alreadyEmerged:
            return "the capability is already visible few-shot; the reported compute is where it appeared, not a forecast. To forecast a harder task, start a new study."
        case .insufficientData:
            return "upload finetuned runs at three or more finetuning amounts (for example 100, 1,000 and 10,000 examples) and fit again."
        case .notIdentified:
            return "add the runs the warnings name (another finetuning amount, or checkpoints at lower loss), upload them, and fit again; until then only the bound holds."
        }
    }

    static func plots(_ s: Study, _ r: FitResult) -> String {
        var fitAlt = "Accuracy against pretraining loss (reversed axis) for each finetuning amount, with the fitted emergence law"
        if let mle = r.emergence.loss.mle {
            fitAlt += " and the extrapolated few-shot emergence point E* = \(PageNumbers.loss(mle))"
            if let p = r.emergence.loss.percentiles, let lo = p["5"], let hi = p["95"] { fitAlt += " (5–95%: \(PageNumbers.loss(lo))–\(PageNumbers.loss(hi)))" }
        }
        var cdfAlt = "Probability that the capability has emerged against pretraining FLOPs on a log axis"
        if let f = r.emergence.flops, let mle = f.mle, f.reachable {
            cdfAlt += ", with the maximum-likelihood estimate \(PageNumbers.flops(mle)) FLOPs"
            if let lo = f.percentiles?["5"] { cdfAlt += ", 5–95% interval from \(PageNumbers.flops(lo)) to \(f.percentiles?["95"].map(PageNumbers.flops) ?? "out of reach")" }
            cdfAlt += " and the largest checkpoint's compute marked"
        }
        let base = HTMLText.escape(apiPath(s.name))
        return """
            <h2>Plots</h2>
            <div class="plots">
            <figure><img src="\(base)/plots/fit.svg" alt="\(HTMLText.escape(fitAlt + "."))" width="720" height="480"><figcaption>The emergence law fitted to each finetuning amount, extrapolated to the few-shot point (the paper's Figure 4).</figcaption></figure>
            <figure><img src="\(base)/plots/emergence-cdf.svg" alt="\(HTMLText.escape(cdfAlt + "."))" width="720" height="480"><figcaption>The chance that the capability has emerged by a given compute (the paper's Figure 5).</figcaption></figure>
            </div>

            """
    }

    static func warnings(_ r: FitResult) -> String {
        guard !r.warnings.isEmpty else { return "<h2>Warnings</h2>\n<p>None: the fit raised no warnings.</p>\n" }
        var b = "<h2>Warnings</h2>\n<table>\n<thead><tr><th scope=\"col\">Code</th><th scope=\"col\">What it means</th><th scope=\"col\">What the fit found</th></tr></thead>\n<tbody>\n"
        for w in r.warnings {
            b += "<tr data-warning=\"\(HTMLText.escape(w.code))\"><td><code>\(HTMLText.escape(w.code))</code></td><td>\(HTMLText.escape(WarningExplanations.explain(w, in: r)))</td><td class=\"muted\">\(HTMLText.escape(w.message))</td></tr>\n"
        }
        return b + "</tbody>\n</table>\n"
    }

    static func history(_ fits: [FitHistoryEntry]) -> String {
        var b = "<h2>Fit history</h2>\n"
        guard !fits.isEmpty else { return b + "<p>No fits yet.</p>\n" }
        b += "<table>\n<thead><tr><th scope=\"col\">Fit</th><th scope=\"col\">Status</th><th scope=\"col\">Created</th><th scope=\"col\">Options</th><th scope=\"col\">E* (nats)</th></tr></thead>\n<tbody>\n"
        for e in fits {
            let j = e.job
            b += "<tr data-fit=\"\(j.id)\"><td><a href=\"/v1/fits/\(j.id)\">\(j.id)</a></td><td>\(badge(j.status.rawValue))"
            if let rs = e.resultStatus, rs != "ok" { b += " " + badge(rs) }
            b += "</td><td class=\"num\">\(HTMLText.escape(PageNumbers.time(j.createdAt)))</td>"
            b += "<td>\(HTMLText.escape(optionsSummary(j.optionsJSON)))</td><td class=\"num\">"
            b += e.lossMLE.map { PageNumbers.data($0, field: "history.loss.mle", text: PageNumbers.loss($0)) } ?? "—"
            b += "</td></tr>\n"
        }
        return b + "</tbody>\n</table>\n"
    }

    /// "log_power · gaussian · bootstrap 1000 · seed 1 · max_flops 2.0e22" from the canonical options.
    static func optionsSummary(_ json: String) -> String {
        guard let o = (try? JSONSerialization.jsonObject(with: Data(json.utf8))) as? [String: Any] else { return json }
        var parts: [String] = []
        if let form = o["form"] as? String { parts.append(form) }
        if let noise = o["noise"] as? String { parts.append(noise) }
        if let u = o["uncertainty"] as? String {
            switch u {
            case "bootstrap": parts.append("bootstrap \((o["bootstrap"] as? NSNumber)?.intValue ?? 0)")
            case "mcmc": parts.append("mcmc \((o["mcmc_steps"] as? NSNumber)?.intValue ?? 0) steps")
            case "both": parts.append("bootstrap \((o["bootstrap"] as? NSNumber)?.intValue ?? 0) + mcmc")
            default: parts.append("no interval")
            }
        }
        if let seed = o["seed"] as? NSNumber { parts.append("seed \(seed)") }
        if let mf = (o["max_flops"] as? NSNumber)?.doubleValue { parts.append("max_flops \(PageNumbers.flops(mf))") }
        if let d0 = (o["d0"] as? NSNumber)?.doubleValue { parts.append("d0 \(String(format: "%g", d0))") }
        if o["scaling_law"] is [String: Any] { parts.append("given scaling law") }
        if let p = o["alpha_prior"] as? [String: Any], let m = (p["median"] as? NSNumber)?.doubleValue,
           let sd = (p["log_sd"] as? NSNumber)?.doubleValue {
            parts.append("α prior\(p["pooled"] is [String: Any] ? " (the lab's, pooled)" : ""): median \(String(format: "%.3g", m)), log-sd \(String(format: "%.3g", sd))")
        } else if o["alpha_prior"] as? String == "pooled" {
            parts.append("α prior: the lab's, pooled")
        }
        return parts.joined(separator: " · ")
    }
}
