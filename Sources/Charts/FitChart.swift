import EmergenceCore
import Foundation

/// The paper's Figure 4: accuracy against pretraining loss for each finetuning amount D, the fitted
/// model, and the few-shot emergence point E* it extrapolates to.
///
/// The curves are docs/method.md §2's model at the fit's maximum-likelihood parameters:
///
///     finetuned with D examples:  μ_D(x) = B     + A · max(E_θ(D)  − x, 0)
///     few-shot:                   μ_0(x) = B + Δ + A · max(E_θ(D0) − x, 0),   E* = E_θ(D0)
///
/// with E_θ(D) = k·(ln D)^α + C (log power) or k·D^α + C (power). Each is a ReLU, so three points
/// (the two axis ends and the elbow) draw it exactly.
///
/// Pure: the result and rows in, SVG text out; the same input gives the same bytes. It never traps:
/// whatever the status (and a status this version does not know), it draws what the result holds and
/// says in the caption what is missing.
public enum FitChart {
    public struct Options: Sendable, Equatable {
        /// The chart's title (a study name is user data: it is escaped, and clipped to the page).
        public var title: String
        /// The task's chance accuracy, drawn as the floor; nil draws the fitted floor B instead.
        public var chance: Double?
        /// The fit's `max_flops`: rows of checkpoints above it (or with no flops) were not used, and
        /// are drawn hollow and grey.
        public var maxFlops: Double?
        /// Extra caption lines (the service says when rows changed since the fit).
        public var notes: [String]
        /// Above this many rows, rows of the same checkpoint, setting and D are averaged (a 100,000-row
        /// study would otherwise be a document of megabytes).
        public var maxPoints: Int

        public init(title: String = "Emergence fit", chance: Double? = nil, maxFlops: Double? = nil,
                    notes: [String] = [], maxPoints: Int = 2000) {
            self.title = title; self.chance = chance; self.maxFlops = maxFlops; self.notes = notes; self.maxPoints = maxPoints
        }
    }

    /// One drawn point (a row, or the mean of rows when there are too many).
    struct Mark {
        var loss: Double
        var accuracy: Double
        var fewShot: Bool
        var d: Double?
        var used: Bool
        var label: String
    }

    public static func svg(result: FitResult, evaluations: [Evaluation], options: Options = Options()) -> String {
        let layout = ChartLayout()
        let (marks, averaged) = self.marks(evaluations, options: options)
        let p = result.parameters.flatMap { validParameters($0) }
        let law = p.map { EmergenceLaw(form: result.form, k: $0.k, alpha: $0.alpha, C: $0.C) }
        let loss = result.emergence.loss
        let p5 = finite(loss.percentiles?["5"]), p95 = finite(loss.percentiles?["95"])
        let mle = finite(loss.mle), upper = finite(loss.upperBound)
        let d0 = result.d0.flatMap { $0 > 0 && $0.isFinite ? $0 : nil }
        let eStarCurve: Double? = {
            guard let law, let d0 else { return nil }
            return finite(law.elbow(at: d0))
        }()

        // Distinct finetuning amounts, over the drawn rows and the fit's, ascending: one colour each.
        let amounts = Array(Set(marks.compactMap(\.d) + result.data.dataAmounts.filter(\.isFinite))).sorted()
        func colour(_ d: Double) -> String {
            Palette.ordered(amounts.firstIndex(of: d) ?? 0, of: amounts.count)
        }
        let fittedAmounts = law == nil ? [] : result.data.dataAmounts.filter { $0.isFinite && $0 > 0 }
        let elbows: [(d: Double, e: Double)] = fittedAmounts.compactMap { d in
            finite(law?.elbow(at: d)).map { (d, $0) }
        }

        // x: the rows' losses, widened to the markers that lie near them (a marker far outside, e.g.
        // a band reaching to an absurd loss, is clipped and named in the caption instead).
        let losses = marks.map(\.loss)
        var dataLo = losses.min() ?? finite(result.data.lossRange.first) ?? 1.5
        var dataHi = losses.max() ?? finite(result.data.lossRange.last) ?? 3
        if !losses.isEmpty || result.data.lossRange.count == 2 {} else { dataLo = 1.5; dataHi = 3 }
        let span = max(dataHi - dataLo, 0.05)
        let window = (dataLo - 1.0 * span)...(dataHi + 0.5 * span)
        var lo = dataLo, hi = dataHi
        let markers = [mle, p5, p95, upper, eStarCurve].compactMap { $0 } + elbows.map(\.e)
        for m in markers where window.contains(m) { lo = min(lo, m); hi = max(hi, m) }
        // Below a no-signal bound is where E* lies: leave room to shade it.
        if let upper, window.contains(upper) { lo = min(lo, upper - 0.15 * span) }
        let pad = 0.03 * (hi - lo) + 0.005
        let xt = NiceTicks.linear(lo - pad, hi + pad, target: 8)
        // Reversed: the higher loss on the left, so capability grows to the right.
        let x = LinearScale(lo: xt.lo, hi: xt.hi, pixelLo: layout.plotRight, pixelHi: layout.plotLeft)

        // y: accuracy, the floor and the fitted floors.
        var ys = marks.map(\.accuracy)
        if let c = options.chance, c.isFinite { ys.append(c) }
        if let p { ys.append(p.B); ys.append(p.B + p.delta) }
        let yLo = max(0, (ys.min() ?? 0) - 0.03), yHi = min(1, (ys.max() ?? 1) + 0.05)
        let yt = NiceTicks.linear(yLo, max(yHi, yLo + 0.05), target: 7)
        let y = LinearScale(lo: yt.lo, hi: yt.hi, pixelLo: layout.plotBottom, pixelHi: layout.plotTop)

        // Caption first: its length sets the height.
        var caption: [(text: String, emphasis: Bool)] = []
        for line in ChartLayout.wrap(statusSentence(result, mle: mle, p5: p5, p95: p95, upper: upper, d0: d0)) {
            caption.append((line, false))
        }
        if let p {
            let lawText = result.form.rawValue == "power" ? "E(D) = k·D^α + C" : "E(D) = k·(ln D)^α + C"
            let model = "Curves: accuracy = B + A·max(E(D) − loss, 0), \(lawText); k = \(g(p.k)), α = \(g(p.alpha)), C = \(g(p.C)), A = \(g(p.A)), B = \(g(p.B)), Δ = \(g(p.delta)) (few-shot floor B + Δ)."
            for line in ChartLayout.wrap(model) { caption.append((line, false)) }
        } else {
            caption.append(("No fitted parameters: the rows are drawn without curves.", true))
        }
        let outside = [("E*", mle), ("the 5th percentile of E*", p5), ("the 95th percentile of E*", p95), ("the bound", upper)]
            .compactMap { name, v in v.flatMap { window.contains($0) ? nil : "\(name) (\(ChartNumber.fixed($0, 3)) nats)" } }
        if !outside.isEmpty {
            caption.append(("Beyond the axis, not drawn: " + outside.joined(separator: ", ") + ".", true))
        }
        if averaged { caption.append(("More than \(options.maxPoints) rows: each point is the mean of a checkpoint's rows at one D.", false)) }
        if marks.contains(where: { !$0.used }), let m = options.maxFlops {
            caption.append(("Hollow grey points: checkpoints above max_flops = \(ChartNumber.flops(m)) (or without flops), not used by the fit.", false))
        }
        for w in result.warnings {
            for (i, line) in ChartLayout.wrap("Warning (\(w.code)): \(w.message)").enumerated() {
                caption.append((i == 0 ? line : "    " + line, true))
            }
        }
        for note in options.notes { for line in ChartLayout.wrap(note) { caption.append((line, false)) } }

        let subtitle = "Accuracy against pretraining loss for each finetuning amount D; status \(result.status.rawValue)"
            + (mle.map { "; E* = \(ChartNumber.fixed($0, 3)) nats" } ?? upper.map { "; E* < \(ChartNumber.fixed($0, 3)) nats" } ?? "")
        var svg = layout.start(title: options.title, subtitle: subtitle, captionLines: caption.count)
        let decimals = NiceTicks.decimals(step: xt.step)
        layout.axes(&svg, xTicks: xt.ticks.map { (x($0), ChartNumber.fixed($0, decimals)) },
                    yTicks: yt.ticks.map { (y($0), ChartNumber.fixed($0, NiceTicks.decimals(step: yt.step))) },
                    xLabel: "pretraining loss (nats/token), reversed: ← higher · lower, more capable →",
                    yLabel: "accuracy")
        let clip = svg.clip(layout.plotLeft, layout.plotTop, layout.plotWidth, layout.plotHeight)
        svg.open("g", "clip-path=\"url(#\(clip))\"")

        // The E* band (5–95%), or the one side that exists, or the no-signal region.
        let top = layout.plotTop, bottom = layout.plotBottom
        if let p5, let p95 {
            let a = x(max(p5, p95)), b = x(min(p5, p95))
            svg.rect(a, top, b - a, bottom - top, style: "fill=\"\(Palette.band)\" fill-opacity=\"0.28\"")
        } else if let p95 {
            // Only an upper percentile (a one-sided interval): E* is below it; shade towards lower loss.
            svg.rect(x(p95), top, layout.plotRight - x(p95), bottom - top, style: "fill=\"\(Palette.band)\" fill-opacity=\"0.2\"")
        } else if let p5 {
            svg.rect(layout.plotLeft, top, x(p5) - layout.plotLeft, bottom - top, style: "fill=\"\(Palette.band)\" fill-opacity=\"0.2\"")
        }
        if let upper {
            svg.rect(x(upper), top, layout.plotRight - x(upper), bottom - top, style: "fill=\"#bbbbbb\" fill-opacity=\"0.25\"")
            svg.line(x(upper), top, x(upper), bottom, style: "stroke=\"#444\" stroke-width=\"1.5\" stroke-dasharray=\"6 4\"")
        }

        // The floor.
        let floorValue = options.chance.flatMap(finite) ?? p?.B
        if let f = floorValue {
            svg.line(layout.plotLeft, y(f), layout.plotRight, y(f), style: "stroke=\"\(Palette.floor)\" stroke-width=\"1.2\" stroke-dasharray=\"2 3\"")
        }

        // The fitted curves.
        if let p {
            for (d, e) in elbows {
                svg.poly("polyline", relu(e: e, base: p.B, slope: p.A, x: x, y: y, xt: xt),
                         style: "fill=\"none\" stroke=\"\(colour(d))\" stroke-width=\"1.8\"",
                         tooltip: "D = \(ChartNumber.count(d)): elbow E(D) = \(ChartNumber.fixed(e, 3)) nats")
            }
            if let e = eStarCurve {
                svg.poly("polyline", relu(e: e, base: p.B + p.delta, slope: p.A, x: x, y: y, xt: xt),
                         style: "fill=\"none\" stroke=\"\(Palette.fewShot)\" stroke-width=\"2\" stroke-dasharray=\"7 4\"",
                         tooltip: "few-shot (D0 = \(d0.map(ChartNumber.count) ?? "?")): elbow E* = \(ChartNumber.fixed(e, 3)) nats")
            }
        }

        // The rows: unused first (underneath), then finetuned by D, then few-shot on top.
        let order = marks.enumerated().sorted { a, b in
            func rank(_ m: Mark) -> Int { !m.used ? 0 : m.fewShot ? 2 : 1 }
            return (rank(a.element), a.offset) < (rank(b.element), b.offset)
        }.map(\.element)
        for m in order {
            let px = x(m.loss), py = y(m.accuracy)
            if m.fewShot {
                let s = 4.2
                let pts = [(px, py - s), (px + s, py), (px, py + s), (px - s, py)]
                let style = m.used ? "fill=\"\(Palette.fewShot)\" fill-opacity=\"0.85\"" : "fill=\"none\" stroke=\"\(Palette.unused)\" stroke-width=\"1.2\""
                svg.poly("polygon", pts, style: style, tooltip: m.label)
            } else {
                let style = m.used ? "fill=\"\(colour(m.d ?? 0))\" fill-opacity=\"0.85\" stroke=\"#ffffff\" stroke-width=\"0.5\""
                    : "fill=\"none\" stroke=\"\(Palette.unused)\" stroke-width=\"1.2\""
                svg.circle(px, py, r: 3.4, style: style, tooltip: m.label)
            }
        }

        // E*: the line at the estimate.
        if let mle {
            svg.line(x(mle), top, x(mle), bottom, style: "stroke=\"\(Palette.estimate)\" stroke-width=\"2\"")
        }
        svg.close("g")

        // Labels over the plot (not clipped: they are placed inside it).
        if let mle, xt.lo...xt.hi ~= mle {
            var label = "E* = \(ChartNumber.fixed(mle, 3))"
            if let p5, let p95 { label += " (5–95%: \(ChartNumber.fixed(min(p5, p95), 3))–\(ChartNumber.fixed(max(p5, p95), 3)))" }
            layout.markerLabel(&svg, at: x(mle), y: top + 16, label, colour: Palette.estimate)
        }
        if let upper, xt.lo...xt.hi ~= upper {
            layout.markerLabel(&svg, at: x(upper), y: top + 16, "E* < \(ChartNumber.fixed(upper, 3)) (no signal)", colour: "#333333")
        }
        if let f = floorValue, yt.lo...yt.hi ~= f {
            svg.text(layout.plotLeft + 6, y(f) - 5, options.chance.flatMap(finite) != nil ? "chance \(g(f))" : "fitted floor B = \(g(f))",
                     size: 11, style: "fill=\"\(Palette.floor)\"")
        }

        // Legend.
        var row = 0
        let usedAmounts = amounts
        for d in usedAmounts.prefix(14) {
            let c = colour(d)
            layout.legendRow(&svg, row: row, label: "D = \(ChartNumber.count(d))") { s, lx, ly in
                s.line(lx - 7, ly, lx + 7, ly, style: "stroke=\"\(c)\" stroke-width=\"1.8\"")
                s.circle(lx, ly, r: 3.4, style: "fill=\"\(c)\"")
            }
            row += 1
        }
        if usedAmounts.count > 14 {
            layout.legendRow(&svg, row: row, label: "… \(usedAmounts.count - 14) more D") { _, _, _ in }
            row += 1
        }
        if marks.contains(where: \.fewShot) || eStarCurve != nil {
            layout.legendRow(&svg, row: row, label: "few-shot" + (d0.map { " (D0 = \(ChartNumber.count($0)))" } ?? "")) { s, lx, ly in
                s.line(lx - 7, ly, lx + 7, ly, style: "stroke=\"\(Palette.fewShot)\" stroke-width=\"2\" stroke-dasharray=\"4 2\"")
                s.poly("polygon", [(lx, ly - 4), (lx + 4, ly), (lx, ly + 4), (lx - 4, ly)], style: "fill=\"\(Palette.fewShot)\"")
            }
            row += 1
        }
        if marks.contains(where: { !$0.used }) {
            layout.legendRow(&svg, row: row, label: "not used (> max_flops)") { s, lx, ly in
                s.circle(lx, ly, r: 3.4, style: "fill=\"none\" stroke=\"\(Palette.unused)\" stroke-width=\"1.2\"")
            }
            row += 1
        }
        if mle != nil {
            layout.legendRow(&svg, row: row, label: "E* (MLE)") { s, lx, ly in
                s.line(lx, ly - 7, lx, ly + 7, style: "stroke=\"\(Palette.estimate)\" stroke-width=\"2\"")
            }
            row += 1
        }
        if p5 != nil || p95 != nil {
            layout.legendRow(&svg, row: row, label: p5 != nil && p95 != nil ? "E* 5–95% interval" : "E* one-sided bound") { s, lx, ly in
                s.rect(lx - 7, ly - 6, 14, 12, style: "fill=\"\(Palette.band)\" fill-opacity=\"0.5\"")
            }
            row += 1
        }
        if upper != nil {
            layout.legendRow(&svg, row: row, label: "E* below (no signal)") { s, lx, ly in
                s.rect(lx - 7, ly - 6, 14, 12, style: "fill=\"#bbbbbb\" fill-opacity=\"0.5\"")
            }
            row += 1
        }
        if floorValue != nil {
            layout.legendRow(&svg, row: row, label: options.chance.flatMap(finite) != nil ? "chance" : "fitted floor B") { s, lx, ly in
                s.line(lx - 7, ly, lx + 7, ly, style: "stroke=\"\(Palette.floor)\" stroke-width=\"1.2\" stroke-dasharray=\"2 3\"")
            }
            row += 1
        }
        layout.caption(&svg, caption)

        let description = "Accuracy against pretraining loss (reversed axis) for \(amounts.count) finetuning amounts"
            + (marks.isEmpty ? "" : ", \(marks.count) points") + ". " + statusSentence(result, mle: mle, p5: p5, p95: p95, upper: upper, d0: d0)
        return svg.document(title: options.title + ": emergence fit", description: description)
    }

    /// The ReLU B + A·max(E − x, 0) across the axis, as pixel points: left end, elbow (if on the
    /// axis), right end.
    static func relu(e: Double, base: Double, slope: Double, x: LinearScale, y: LinearScale,
                     xt: (ticks: [Double], lo: Double, hi: Double, step: Double)) -> [(Double, Double)] {
        func mu(_ v: Double) -> Double { base + slope * max(e - v, 0) }
        var pts = [(x(xt.hi), y(mu(xt.hi)))]
        if e > xt.lo && e < xt.hi { pts.append((x(e), y(base))) }
        pts.append((x(xt.lo), y(mu(xt.lo))))
        return pts
    }

    /// What the result says, in one sentence, for the caption and the description.
    static func statusSentence(_ r: FitResult, mle: Double?, p5: Double?, p95: Double?, upper: Double?, d0: Double?) -> String {
        let interval: String = {
            if let p5, let p95 { return " (5–95%: \(ChartNumber.fixed(min(p5, p95), 3))–\(ChartNumber.fixed(max(p5, p95), 3))\(r.emergence.loss.intervalMethod.map { ", \($0)" } ?? ""))" }
            if let p95 { return " (one-sided: below \(ChartNumber.fixed(p95, 3)) with 95%)" }
            if let p5 { return " (one-sided: above \(ChartNumber.fixed(p5, 3)) with 95%)" }
            return ""
        }()
        let atD0 = d0.map { " at D0 = \(ChartNumber.count($0))" } ?? ""
        switch r.status.rawValue {
        case "ok":
            return "Status ok: few-shot emergence predicted at E* = \(mle.map { ChartNumber.fixed($0, 3) } ?? "?") nats\(interval)\(atD0)."
        case "already_emerged":
            return "Status already_emerged: few-shot accuracy is already above the floor; E* = \(mle.map { ChartNumber.fixed($0, 3) } ?? "?") nats is the observed elbow\(interval)."
        case "no_signal":
            return "Status no_signal: no finetuned run left the floor, so there is no point estimate" + (upper.map { "; E* lies below \(ChartNumber.fixed($0, 3)) nats, the lowest loss seen." } ?? ".")
        case "insufficient_data":
            return "Status insufficient_data: too few finetuning amounts to fit the emergence law; the rows alone are drawn."
        default:
            var s = "Status \(r.status.rawValue)"
            if let mle { s += ": E* = \(ChartNumber.fixed(mle, 3)) nats\(interval)" } else if !interval.isEmpty { s += ": E*\(interval)" }
            if let upper { s += "; E* lies below \(ChartNumber.fixed(upper, 3)) nats" }
            return s + "."
        }
    }

    /// The rows as marks; averaged per (checkpoint, setting, D) when there are more than `maxPoints`.
    static func marks(_ rows: [Evaluation], options: Options) -> (marks: [Mark], averaged: Bool) {
        func used(_ e: Evaluation) -> Bool {
            guard let m = options.maxFlops else { return true }
            return (e.effectiveFlops ?? .infinity) <= m
        }
        let valid = rows.filter { $0.pretrainLoss.isFinite && $0.accuracy.isFinite }
        func amount(_ e: Evaluation) -> Double? {
            e.setting == .finetuned ? e.finetuneExamples.flatMap { $0.isFinite ? $0 : nil } : nil
        }
        if valid.count <= options.maxPoints {
            let marks = valid.map { e in
                let what = e.setting == .fewShot ? "few-shot\(e.shots.map { ", \($0) shots" } ?? "")" : "D = \(ChartNumber.count(e.finetuneExamples ?? 0))"
                return Mark(loss: e.pretrainLoss, accuracy: e.accuracy, fewShot: e.setting == .fewShot, d: amount(e), used: used(e),
                            label: "\(ChartLayout.clipped(e.checkpoint, 80)): \(what)\(e.subset.map { ", subset \(ChartLayout.clipped($0, 40))" } ?? ""), loss \(ChartNumber.fixed(e.pretrainLoss, 4)), accuracy \(ChartNumber.fixed(e.accuracy, 3))")
            }
            return (marks, false)
        }
        struct Key: Hashable, Comparable {
            var checkpoint: String, fewShot: Bool, d: Double
            static func < (a: Key, b: Key) -> Bool { (a.checkpoint, a.fewShot ? 0 : 1, a.d) < (b.checkpoint, b.fewShot ? 0 : 1, b.d) }
        }
        var sums: [Key: (loss: Double, acc: Double, n: Int, used: Bool)] = [:]
        for e in valid {
            let key = Key(checkpoint: e.checkpoint, fewShot: e.setting == .fewShot, d: amount(e) ?? -1)
            var s = sums[key] ?? (0, 0, 0, true)
            s.loss += e.pretrainLoss; s.acc += e.accuracy; s.n += 1; s.used = s.used && used(e)
            sums[key] = s
        }
        let marks = sums.sorted { $0.key < $1.key }.map { k, s -> Mark in
            return Mark(loss: s.loss / Double(s.n), accuracy: s.acc / Double(s.n), fewShot: k.fewShot, d: k.d >= 0 ? k.d : nil,
                        used: s.used, label: "\(ChartLayout.clipped(k.checkpoint, 80)): mean of \(s.n) rows")
        }
        return (marks, true)
    }

    /// Parameters usable for drawing: every one finite.
    static func validParameters(_ p: FitResult.Parameters) -> FitResult.Parameters? {
        [p.k, p.alpha, p.C, p.A, p.B, p.delta].allSatisfy(\.isFinite) ? p : nil
    }

    static func finite(_ v: Double?) -> Double? { v.flatMap { $0.isFinite ? $0 : nil } }

    /// Four significant digits.
    static func g(_ v: Double) -> String { String(format: "%.4g", v) }
}
