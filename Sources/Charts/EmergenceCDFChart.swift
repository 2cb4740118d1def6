import EmergenceCore
import Foundation

/// The paper's Figure 5: the chance that the capability has emerged by pretraining compute C,
/// P(emerged by C) = P(C* ≤ C), the CDF of C* = (a / (E* − L∞))^(1/b) over the bootstrap or MCMC
/// samples (docs/method.md §7), on a log10 FLOPs axis. It marks the MLE, shades the 5–95% interval of C*,
/// and marks the largest checkpoint's compute ("you are here").
///
/// Pure and deterministic like `FitChart`. With no compute estimate (no scaling law, E* unreachable,
/// no signal) it draws what exists — a lower bound, the checkpoint — or a panel that says why not.
public enum EmergenceCDFChart {
    public struct Options: Sendable, Equatable {
        public var title: String
        /// Extra caption lines.
        public var notes: [String]
        public init(title: String = "Emergence fit", notes: [String] = []) {
            self.title = title; self.notes = notes
        }
    }

    public static func svg(result: FitResult, largestCheckpointFlops: Double?, options: Options = Options()) -> String {
        let layout = ChartLayout()
        let flops = result.emergence.flops
        let positive: (Double?) -> Double? = { v in v.flatMap { $0.isFinite && $0 > 0 ? $0 : nil } }
        let curve = result.emergence.probabilityEmerged
            .filter { $0.flops.isFinite && $0.flops > 0 && $0.p.isFinite }
            .sorted { ($0.flops, $0.p) < ($1.flops, $1.p) }
        let mle = positive(flops?.mle)
        let p5 = positive(flops?.percentiles?["5"]), p95 = positive(flops?.percentiles?["95"])
        let lowerBound = positive(flops?.lowerBound)
        let here = positive(largestCheckpointFlops)

        // Caption: what the curve is, the numbers, then why anything is missing, then warnings.
        var caption: [(text: String, emphasis: Bool)] = []
        var sentence: String
        if let mle {
            sentence = "Capability expected at \(ChartNumber.flops(mle)) FLOPs"
            if let p5 {
                sentence += " (5–95%: \(ChartNumber.flops(p5))–\(p95.map(ChartNumber.flops) ?? "unreachable"))"
            }
            if let here { sentence += ", \(ratio(mle / here)) your largest checkpoint (\(ChartNumber.flops(here)) FLOPs)" }
            sentence += "."
        } else if let lowerBound {
            sentence = "No point estimate (status \(result.status.rawValue)): emergence needs more than \(ChartNumber.flops(lowerBound)) FLOPs."
        } else {
            sentence = "No compute estimate: " + missingReason(result) + "."
        }
        for line in ChartLayout.wrap(sentence) { caption.append((line, mle == nil)) }
        if !curve.isEmpty {
            let f = flops?.reachableFraction.flatMap { $0 < 1 ? " Only \(ChartNumber.fixed($0 * 100, 0))% of samples reach E* at any compute, so the curve levels off there." : nil } ?? ""
            for line in ChartLayout.wrap("P(emerged by C) is the share of \(result.emergence.loss.intervalMethod ?? "uncertainty") samples whose predicted compute C* is at most C.\(f)") {
                caption.append((line, false))
            }
        }
        if let law = result.scalingLaw {
            caption.append(("Scaling law (\(law.source)): L(C) = \(FitChart.g(law.lInf)) + \(FitChart.g(law.a))·C^−\(FitChart.g(law.b)).", false))
        }
        for w in result.warnings {
            for (i, line) in ChartLayout.wrap("Warning (\(w.code)): \(w.message)").enumerated() {
                caption.append((i == 0 ? line : "    " + line, true))
            }
        }
        for note in options.notes { for line in ChartLayout.wrap(note) { caption.append((line, false)) } }

        let subtitle = "P(emerged by compute C), log axis; status \(result.status.rawValue)"
            + (mle.map { "; MLE \(ChartNumber.flops($0)) FLOPs" } ?? "")
        var svg = layout.start(title: options.title, subtitle: subtitle, captionLines: caption.count)

        // Nothing to place on a compute axis at all: a panel that says so.
        let xs = curve.map(\.flops) + [mle, p5, p95, lowerBound, here].compactMap { $0 }
        guard !xs.isEmpty, curve.count > 0 || mle != nil || lowerBound != nil else {
            svg.rect(layout.plotLeft, layout.plotTop, layout.plotWidth, layout.plotHeight, style: "fill=\"#f7f7f7\" stroke=\"#999\" stroke-width=\"1\"")
            var y = (layout.plotTop + layout.plotBottom) / 2 - 10
            for line in ChartLayout.wrap("No compute estimate to draw: " + missingReason(result) + ".", width: layout.plotWidth - 40, size: 15) {
                svg.text((layout.plotLeft + layout.plotRight) / 2, y, line, size: 15, anchor: "middle", style: "fill=\"#333\"")
                y += 20
            }
            layout.caption(&svg, caption)
            return svg.document(title: options.title + ": P(emerged by compute)", description: sentence)
        }

        // x: log10 FLOPs over everything drawn, half a decade of margin, at most 20 decades wide
        // around the MLE (or the curve's middle) so one absurd sample cannot flatten the rest.
        var lo = log10(xs.min() ?? 1e20) - 0.5, hi = log10(xs.max() ?? 1e24) + 0.5
        let centre = log10(mle ?? lowerBound ?? curve[curve.count / 2].flops)
        lo = max(lo, centre - 10); hi = min(hi, centre + 10)
        if hi - lo < 2 { lo -= 1; hi += 1 }
        lo = NiceTicks.clampExponent(lo); hi = max(lo + 1, NiceTicks.clampExponent(hi))
        let x = LogScale(lo: pow(10, lo), hi: pow(10, hi), pixelLo: layout.plotLeft, pixelHi: layout.plotRight)
        let y = LinearScale(lo: 0, hi: 1, pixelLo: layout.plotBottom, pixelHi: layout.plotTop)
        let xTicks = NiceTicks.decades(pow(10, lo), pow(10, hi)).map { (x($0), "1e\(Int(log10($0).rounded()))") }
        let yTicks = stride(from: 0.0, through: 1.0, by: 0.25).map { (y($0), ChartNumber.fixed($0 * 100, 0) + "%") }
        layout.axes(&svg, xTicks: xTicks, yTicks: yTicks, xLabel: "pretraining compute C (FLOPs, log scale)",
                    yLabel: "P(emerged by C)")
        let clip = svg.clip(layout.plotLeft, layout.plotTop, layout.plotWidth, layout.plotHeight)
        svg.open("g", "clip-path=\"url(#\(clip))\"")
        let top = layout.plotTop, bottom = layout.plotBottom
        if let p5 {
            // p95 absent: that percentile is unreachable (+∞), so the band runs off the right edge.
            let right = p95.map { x($0) } ?? layout.plotRight
            svg.rect(x(p5), top, right - x(p5), bottom - top, style: "fill=\"\(Palette.band)\" fill-opacity=\"0.28\"")
        }
        if let lowerBound, mle == nil {
            svg.rect(x(lowerBound), top, layout.plotRight - x(lowerBound), bottom - top, style: "fill=\"#bbbbbb\" fill-opacity=\"0.3\"")
            svg.line(x(lowerBound), top, x(lowerBound), bottom, style: "stroke=\"#444\" stroke-width=\"1.5\" stroke-dasharray=\"6 4\"")
        }
        if !curve.isEmpty {
            // The CDF is known at the result's grid of computes; between them it is drawn straight (in
            // log C), and past the last one it stays at its last value (samples that never reach E*).
            var pts = curve.map { (x($0.flops), y($0.p)) }
            pts.append((layout.plotRight, y(curve[curve.count - 1].p)))
            svg.poly("polyline", pts, style: "fill=\"none\" stroke=\"#2a6f97\" stroke-width=\"2.2\"")
            svg.line(layout.plotLeft, y(0.5), layout.plotRight, y(0.5), style: "stroke=\"#999\" stroke-width=\"1\" stroke-dasharray=\"2 3\"")
        }
        if let mle {
            svg.line(x(mle), top, x(mle), bottom, style: "stroke=\"\(Palette.estimate)\" stroke-width=\"2\"")
        }
        if let here {
            svg.line(x(here), top, x(here), bottom, style: "stroke=\"\(Palette.here)\" stroke-width=\"2\" stroke-dasharray=\"8 4\"")
        }
        svg.close("g")

        // Labels, inside the plot, flipped to the left of their line near the right edge.
        func label(_ at: Double, _ row: Int, _ text: String, _ colour: String) {
            let px = x(at)
            guard px >= layout.plotLeft, px <= layout.plotRight else { return }
            layout.markerLabel(&svg, at: px, y: top + 18 + Double(row) * 16, text, colour: colour)
        }
        if let here { label(here, 0, "you are here: \(ChartNumber.flops(here))", Palette.here) }
        if let mle { label(mle, 1, "MLE \(ChartNumber.flops(mle))", Palette.estimate) }
        if let lowerBound, mle == nil { label(lowerBound, 1, "needs > \(ChartNumber.flops(lowerBound))", "#333") }

        var row = 0
        if !curve.isEmpty {
            layout.legendRow(&svg, row: row, label: "P(emerged by C)") { s, lx, ly in
                s.line(lx - 7, ly, lx + 7, ly, style: "stroke=\"#2a6f97\" stroke-width=\"2.2\"")
            }
            row += 1
        }
        if mle != nil {
            layout.legendRow(&svg, row: row, label: "MLE") { s, lx, ly in
                s.line(lx, ly - 7, lx, ly + 7, style: "stroke=\"\(Palette.estimate)\" stroke-width=\"2\"")
            }
            row += 1
        }
        if p5 != nil {
            layout.legendRow(&svg, row: row, label: "5–95% interval") { s, lx, ly in
                s.rect(lx - 7, ly - 6, 14, 12, style: "fill=\"\(Palette.band)\" fill-opacity=\"0.5\"")
            }
            row += 1
        }
        if lowerBound != nil && mle == nil {
            layout.legendRow(&svg, row: row, label: "emergence beyond") { s, lx, ly in
                s.rect(lx - 7, ly - 6, 14, 12, style: "fill=\"#bbbbbb\" fill-opacity=\"0.6\"")
            }
            row += 1
        }
        if here != nil {
            layout.legendRow(&svg, row: row, label: "largest checkpoint") { s, lx, ly in
                s.line(lx, ly - 7, lx, ly + 7, style: "stroke=\"\(Palette.here)\" stroke-width=\"2\" stroke-dasharray=\"4 2\"")
            }
            row += 1
        }
        layout.caption(&svg, caption)
        return svg.document(title: options.title + ": P(emerged by compute)", description: sentence)
    }

    /// "3.7× beyond" or "0.5× of" (already past).
    static func ratio(_ r: Double) -> String {
        guard r.isFinite else { return "far beyond" }
        return r >= 1 ? "\(ChartNumber.fixed(r, r < 10 ? 1 : 0))× beyond" : "below (\(ChartNumber.fixed(r, 2))×)"
    }

    /// Why there is no compute estimate, from the status and the warnings.
    static func missingReason(_ r: FitResult) -> String {
        let codes = Set(r.warnings.map(\.code))
        if r.status.rawValue == "insufficient_data" { return "too little data to fit the emergence law" }
        if r.scalingLaw == nil || codes.contains("no_scaling_law") { return "no scaling law (give one, or upload flops for at least 3 checkpoints)" }
        if let f = r.emergence.flops, !f.reachable || codes.contains("unreachable") {
            return "E* is at or below the scaling law's irreducible loss L∞, which no amount of compute reaches"
        }
        if r.status.rawValue == "no_signal" { return "no signal, and no bound in FLOPs" }
        return "the result holds no compute estimate (status \(r.status.rawValue))"
    }

    /// The largest compute among the rows the fit used: flops (or 6·N·T) at most `maxFlops`.
    public static func largestCheckpointFlops(_ rows: [Evaluation], maxFlops: Double?) -> Double? {
        rows.compactMap(\.effectiveFlops).filter { $0.isFinite && $0 > 0 && $0 <= (maxFlops ?? .infinity) }.max()
    }
}
