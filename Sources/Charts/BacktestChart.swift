import Foundation

/// The paper's Figure 7: back-tests (docs/method.md §8). Each point is one fit that used only the
/// checkpoints below a compute cutoff; it shows the predicted E* with its 5–95% interval against the
/// cutoff (log10 FLOPs), beside the observed emergence loss E_true (the elbow of the ReLU fitted to
/// every checkpoint's few-shot data) and the paper's success band |E* − E_true| < 0.1 nats.
///
/// The input is this module's own type, so the chart does not depend on how back-tests are run.
public enum BacktestChart {
    public struct Point: Sendable, Equatable {
        /// The cutoff: the largest pretraining compute the fit was allowed to use.
        public var maxFlops: Double
        /// E* at the MLE; nil when that fit gave none (no signal, too little data).
        public var predicted: Double?
        public var p5: Double?
        public var p95: Double?
        /// The fit's status, shown in the point's tooltip (e.g. "ok", "no_signal").
        public var status: String?
        /// Whether |E* − E_true| < the tolerance; nil to let the chart decide from `observed`.
        public var success: Bool?

        public init(maxFlops: Double, predicted: Double?, p5: Double? = nil, p95: Double? = nil,
                    status: String? = nil, success: Bool? = nil) {
            self.maxFlops = maxFlops; self.predicted = predicted; self.p5 = p5; self.p95 = p95
            self.status = status; self.success = success
        }
    }

    public struct Options: Sendable, Equatable {
        public var title: String
        /// The paper's success criterion, in nats.
        public var tolerance: Double
        /// Compute of the first checkpoint past emergence (marked; the horizon is measured to it).
        public var emergenceFlops: Double?
        public var notes: [String]
        public init(title: String = "Back-test", tolerance: Double = 0.1, emergenceFlops: Double? = nil, notes: [String] = []) {
            self.title = title; self.tolerance = tolerance; self.emergenceFlops = emergenceFlops; self.notes = notes
        }
    }

    public static func svg(points: [Point], observedEmergenceLoss: Double?, options: Options = Options()) -> String {
        let layout = ChartLayout()
        let finite: (Double?) -> Double? = { v in v.flatMap { $0.isFinite ? $0 : nil } }
        let observed = finite(observedEmergenceLoss)
        let tolerance = options.tolerance.isFinite && options.tolerance > 0 ? options.tolerance : 0.1
        let pts = points.filter { $0.maxFlops.isFinite && $0.maxFlops > 0 }.sorted { $0.maxFlops < $1.maxFlops }
        func success(_ p: Point) -> Bool? {
            if let s = p.success { return s }
            guard let e = finite(p.predicted), let observed else { return nil }
            return abs(e - observed) < tolerance
        }
        let emergenceFlops = options.emergenceFlops.flatMap { $0.isFinite && $0 > 0 ? $0 : nil }

        // Caption: counts, the horizon, notes.
        var caption: [(text: String, emphasis: Bool)] = []
        let judged = pts.compactMap(success)
        var summary = "\(pts.count) cutoffs; \(judged.filter { $0 }.count) of \(judged.count) judged within \(ChartNumber.fixed(tolerance, 2)) nats of the observed emergence"
        if let emergenceFlops, let widest = pts.filter({ success($0) == true }).map(\.maxFlops).min() {
            summary += "; the earliest success is \(ChartNumber.fixed(emergenceFlops / widest, 1))× below the first post-emergence checkpoint (\(ChartNumber.flops(emergenceFlops)) FLOPs)"
        }
        for line in ChartLayout.wrap(summary + ".") { caption.append((line, false)) }
        let missing = pts.filter { finite($0.predicted) == nil }.count
        if missing > 0 { caption.append(("\(missing) cutoff(s) gave no point estimate: marked × on the lower edge.", true)) }
        if observed == nil { caption.append(("No observed emergence loss: success is not judged.", true)) }
        for note in options.notes { for line in ChartLayout.wrap(note) { caption.append((line, false)) } }

        var svg = layout.start(title: options.title, subtitle: "Predicted emergence loss E* (5–95%) against the compute cutoff of the fit",
                               captionLines: caption.count)
        let xs = pts.map(\.maxFlops) + [emergenceFlops].compactMap { $0 }
        guard let xMin = xs.min(), let xMax = xs.max() else {
            svg.rect(layout.plotLeft, layout.plotTop, layout.plotWidth, layout.plotHeight, style: "fill=\"#f7f7f7\" stroke=\"#999\" stroke-width=\"1\"")
            svg.text((layout.plotLeft + layout.plotRight) / 2, (layout.plotTop + layout.plotBottom) / 2, "No back-test points to draw.",
                     size: 15, anchor: "middle", style: "fill=\"#333\"")
            layout.caption(&svg, caption)
            return svg.document(title: options.title, description: "No back-test points.")
        }
        var lo = log10(xMin) - 0.3, hi = log10(xMax) + 0.3
        if hi - lo < 1 { lo -= 0.5; hi += 0.5 }
        lo = NiceTicks.clampExponent(lo); hi = max(lo + 1, NiceTicks.clampExponent(hi))
        let x = LogScale(lo: pow(10, lo), hi: pow(10, hi), pixelLo: layout.plotLeft, pixelHi: layout.plotRight)

        // y: loss, lower (more capable) upwards, like the fit chart's capability-to-the-right.
        var ys = pts.flatMap { [finite($0.predicted), finite($0.p5), finite($0.p95)].compactMap { $0 } }
        if let observed { ys += [observed - tolerance, observed + tolerance] }
        let yCentre = observed ?? ys.sorted().dropFirst(ys.count / 2).first ?? 2
        // One wild interval must not flatten the rest: at most ±1.5 nats around the observed loss.
        ys = ys.filter { abs($0 - yCentre) <= 1.5 }
        let yt = NiceTicks.linear((ys.min() ?? yCentre - 0.5) - 0.02, (ys.max() ?? yCentre + 0.5) + 0.02, target: 7)
        let y = LinearScale(lo: yt.lo, hi: yt.hi, pixelLo: layout.plotTop, pixelHi: layout.plotBottom)
        layout.axes(&svg,
                    xTicks: NiceTicks.decades(pow(10, lo), pow(10, hi)).map { (x($0), "1e\(Int(log10($0).rounded()))") },
                    yTicks: yt.ticks.map { (y($0), ChartNumber.fixed($0, NiceTicks.decimals(step: yt.step))) },
                    xLabel: "compute cutoff of the fit (FLOPs, log scale)",
                    yLabel: "emergence loss E* (nats/token), lower is up")
        let clip = svg.clip(layout.plotLeft, layout.plotTop, layout.plotWidth, layout.plotHeight)
        svg.open("g", "clip-path=\"url(#\(clip))\"")
        if let observed {
            let a = y(observed - tolerance), b = y(observed + tolerance)
            svg.rect(layout.plotLeft, min(a, b), layout.plotWidth, abs(b - a), style: "fill=\"#2a9d8f\" fill-opacity=\"0.15\"")
            svg.line(layout.plotLeft, y(observed), layout.plotRight, y(observed), style: "stroke=\"#1b6f65\" stroke-width=\"2\"")
        }
        if let emergenceFlops {
            svg.line(x(emergenceFlops), layout.plotTop, x(emergenceFlops), layout.plotBottom,
                     style: "stroke=\"#1b6f65\" stroke-width=\"1.5\" stroke-dasharray=\"6 4\"")
        }
        for p in pts {
            let px = x(p.maxFlops)
            let colour: String = { switch success(p) { case true?: return "#2a7d2e"; case false?: return "#c0392b"; case nil: return "#777777" } }()
            let tip = "cutoff \(ChartNumber.flops(p.maxFlops)) FLOPs" + (p.status.map { ", status \($0)" } ?? "")
                + (finite(p.predicted).map { ", E* \(ChartNumber.fixed($0, 3))" } ?? ", no estimate")
                + ((finite(p.p5) != nil && finite(p.p95) != nil) ? " (5–95%: \(ChartNumber.fixed(finite(p.p5) ?? 0, 3))–\(ChartNumber.fixed(finite(p.p95) ?? 0, 3)))" : "")
            if let a = finite(p.p5), let b = finite(p.p95) {
                svg.line(px, y(a), px, y(b), style: "stroke=\"\(colour)\" stroke-width=\"2\"")
                svg.line(px - 5, y(a), px + 5, y(a), style: "stroke=\"\(colour)\" stroke-width=\"2\"")
                svg.line(px - 5, y(b), px + 5, y(b), style: "stroke=\"\(colour)\" stroke-width=\"2\"")
            }
            if let e = finite(p.predicted) {
                svg.circle(px, y(e), r: 5, style: "fill=\"\(colour)\" stroke=\"#ffffff\" stroke-width=\"1\"", tooltip: tip)
            } else {
                let by = layout.plotBottom - 8
                svg.poly("polyline", [(px - 5, by - 5), (px + 5, by + 5), (px, by), (px - 5, by + 5), (px + 5, by - 5)],
                         style: "fill=\"none\" stroke=\"#777777\" stroke-width=\"2\"", tooltip: tip)
            }
        }
        svg.close("g")
        if let observed, yt.lo...yt.hi ~= observed {
            svg.text(layout.plotLeft + 6, y(observed) - 6, "observed emergence \(ChartNumber.fixed(observed, 3)) ± \(ChartNumber.fixed(tolerance, 2))",
                     size: 12, style: "fill=\"#1b6f65\" font-weight=\"bold\" stroke=\"#ffffff\" stroke-width=\"3\" paint-order=\"stroke\"")
        }
        var row = 0
        for (label, colour) in [("within tolerance", "#2a7d2e"), ("outside", "#c0392b"), ("not judged", "#777777")] {
            layout.legendRow(&svg, row: row, label: label) { s, lx, ly in
                s.line(lx, ly - 7, lx, ly + 7, style: "stroke=\"\(colour)\" stroke-width=\"2\"")
                s.circle(lx, ly, r: 4.5, style: "fill=\"\(colour)\"")
            }
            row += 1
        }
        if observed != nil {
            layout.legendRow(&svg, row: row, label: "observed ± tolerance") { s, lx, ly in
                s.rect(lx - 7, ly - 6, 14, 12, style: "fill=\"#2a9d8f\" fill-opacity=\"0.3\"")
                s.line(lx - 7, ly, lx + 7, ly, style: "stroke=\"#1b6f65\" stroke-width=\"2\"")
            }
            row += 1
        }
        if emergenceFlops != nil {
            layout.legendRow(&svg, row: row, label: "first emerged checkpoint") { s, lx, ly in
                s.line(lx, ly - 7, lx, ly + 7, style: "stroke=\"#1b6f65\" stroke-width=\"1.5\" stroke-dasharray=\"4 2\"")
            }
        }
        layout.caption(&svg, caption)
        return svg.document(title: options.title, description: summary + ".")
    }
}
