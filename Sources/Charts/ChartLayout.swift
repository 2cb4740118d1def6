import Foundation

/// The shared page of every chart: title and subtitle above, the plot area, a legend column to the
/// right, and a caption (status notes, warnings) below that grows the height line by line.
struct ChartLayout {
    static let width = 900
    let plotLeft = 78.0
    let plotRight = 700.0
    let plotTop = 64.0
    let plotBottom = 480.0
    var legendX: Double { plotRight + 22 }

    var plotWidth: Double { plotRight - plotLeft }
    var plotHeight: Double { plotBottom - plotTop }

    /// Caption lines, wrapped to the page: about 6.4 px per character at 12 px (DejaVu Sans average).
    static func wrap(_ text: String, width: Double = Double(ChartLayout.width) - 60, size: Double = 12) -> [String] {
        let maxChars = max(20, Int(width / (size * 0.56)))
        var lines: [String] = []
        var current = ""
        for word in text.split(separator: " ", omittingEmptySubsequences: true) {
            var w = String(word)
            // A single "word" longer than a line (a long name with no spaces) is cut.
            while w.count > maxChars {
                if !current.isEmpty { lines.append(current); current = "" }
                lines.append(String(w.prefix(maxChars)))
                w = String(w.dropFirst(maxChars))
            }
            if current.isEmpty { current = w }
            else if current.count + 1 + w.count <= maxChars { current += " " + w }
            else { lines.append(current); current = w }
        }
        if !current.isEmpty { lines.append(current) }
        return lines
    }

    /// Shortens user text (a study name in a title) to `limit` characters.
    static func clipped(_ s: String, _ limit: Int) -> String {
        s.count <= limit ? s : String(s.prefix(limit - 1)) + "…"
    }

    /// Title, subtitle, frame. Returns the writer with its height set for `captionLines`.
    func start(title: String, subtitle: String, captionLines: Int) -> SVGWriter {
        let height = Int(plotBottom + 62 + Double(captionLines) * 17 + 14)
        var svg = SVGWriter(width: Self.width, height: height)
        svg.text(plotLeft, 26, Self.clipped(title, 90), size: 17, style: "fill=\"#111\" font-weight=\"bold\"")
        svg.text(plotLeft, 46, Self.clipped(subtitle, 120), size: 12.5, style: "fill=\"#333\"")
        return svg
    }

    /// The plot's border, grid lines and tick labels.
    func axes(_ svg: inout SVGWriter, xTicks: [(Double, String)], yTicks: [(Double, String)], xLabel: String, yLabel: String) {
        for (px, label) in xTicks {
            svg.line(px, plotTop, px, plotBottom, style: "stroke=\"#e6e6e6\" stroke-width=\"1\"")
            svg.line(px, plotBottom, px, plotBottom + 5, style: "stroke=\"#555\" stroke-width=\"1\"")
            svg.text(px, plotBottom + 19, label, size: 11.5, anchor: "middle", style: "fill=\"#333\"")
        }
        for (py, label) in yTicks {
            svg.line(plotLeft, py, plotRight, py, style: "stroke=\"#e6e6e6\" stroke-width=\"1\"")
            svg.line(plotLeft - 5, py, plotLeft, py, style: "stroke=\"#555\" stroke-width=\"1\"")
            svg.text(plotLeft - 8, py + 4, label, size: 11.5, anchor: "end", style: "fill=\"#333\"")
        }
        svg.rect(plotLeft, plotTop, plotWidth, plotHeight, style: "fill=\"none\" stroke=\"#555\" stroke-width=\"1\"")
        svg.text((plotLeft + plotRight) / 2, plotBottom + 42, xLabel, size: 13, anchor: "middle", style: "fill=\"#111\"")
        svg.text(22, (plotTop + plotBottom) / 2, yLabel, size: 13, anchor: "middle", style: "fill=\"#111\"", rotate: -90)
    }

    /// The caption under the x-axis label.
    func caption(_ svg: inout SVGWriter, _ lines: [(text: String, emphasis: Bool)]) {
        var y = plotBottom + 70
        for line in lines {
            svg.text(30, y, line.text, size: 12, style: line.emphasis ? "fill=\"#8a3b00\"" : "fill=\"#333\"")
            y += 17
        }
    }

    /// A bold label beside a vertical marker at `px`, on its right unless it would leave the plot,
    /// with a white halo so that it stays readable over curves and points.
    func markerLabel(_ svg: inout SVGWriter, at px: Double, y: Double, _ text: String, colour: String, size: Double = 12) {
        let width = Double(text.count) * size * 0.62
        let right = px + 6 + width <= plotRight - 2 || px - 6 - width < plotLeft
        svg.text(right ? px + 6 : px - 6, y, text, size: size, anchor: right ? "start" : "end",
                 style: "fill=\"\(colour)\" font-weight=\"bold\" stroke=\"#ffffff\" stroke-width=\"3\" paint-order=\"stroke\"")
    }

    /// One legend row: a swatch drawn by `swatch` at (x, y) and its label.
    func legendRow(_ svg: inout SVGWriter, row: Int, label: String, swatch: (inout SVGWriter, Double, Double) -> Void) {
        let y = plotTop + 8 + Double(row) * 20
        swatch(&svg, legendX + 8, y)
        svg.text(legendX + 24, y + 4, Self.clipped(label, 24), size: 11.5, style: "fill=\"#222\"")
    }
}
