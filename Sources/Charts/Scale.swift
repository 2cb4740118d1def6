import Foundation

/// Maps a data interval onto a pixel interval. A reversed axis is a pixel interval given high to low
/// (the fit chart's loss axis: lower loss, a more capable model, to the right).
struct LinearScale {
    var lo: Double
    var hi: Double
    var pixelLo: Double
    var pixelHi: Double

    /// p = p_lo + (v − lo) / (hi − lo) · (p_hi − p_lo); a degenerate domain maps to its middle.
    func callAsFunction(_ v: Double) -> Double {
        let span = hi - lo
        guard span > 0, span.isFinite else { return (pixelLo + pixelHi) / 2 }
        return pixelLo + (v - lo) / span * (pixelHi - pixelLo)
    }

    func contains(_ v: Double) -> Bool { v >= min(lo, hi) && v <= max(lo, hi) }
}

/// A log10 axis: p = linear(log10 v). Values ≤ 0 have no place on it and map to the low edge.
struct LogScale {
    var linear: LinearScale

    init(lo: Double, hi: Double, pixelLo: Double, pixelHi: Double) {
        linear = LinearScale(lo: log10(lo), hi: log10(hi), pixelLo: pixelLo, pixelHi: pixelHi)
    }

    func callAsFunction(_ v: Double) -> Double {
        guard v > 0 else { return linear.pixelLo }
        return linear(log10(v))
    }

    func contains(_ v: Double) -> Bool { v > 0 && linear.contains(log10(v)) }
}

/// Tick positions that read well: steps of 1, 2 or 5 × 10^k (Heckbert's "nice numbers").
enum NiceTicks {
    /// The log10 bounds of a log axis kept where 10^x is a normal, finite Double.
    static func clampExponent(_ x: Double) -> Double { max(-300, min(300, x.isFinite ? x : 0)) }

    /// About `target` ticks covering [lo, hi], and the domain widened to whole steps.
    static func linear(_ lo: Double, _ hi: Double, target: Int = 6) -> (ticks: [Double], lo: Double, hi: Double, step: Double) {
        var lo = lo, hi = hi
        if !(lo.isFinite && hi.isFinite) { lo = 0; hi = 1 }
        if hi < lo { swap(&lo, &hi) }
        if hi - lo < 1e-12 { lo -= 0.5; hi += 0.5 }
        let raw = (hi - lo) / Double(max(1, target - 1))
        let magnitude = pow(10, floor(log10(raw)))
        let fraction = raw / magnitude
        let step = (fraction < 1.5 ? 1 : fraction < 3 ? 2 : fraction < 7 ? 5 : 10) * magnitude
        let first = floor(lo / step + 1e-9) * step
        let last = ceil(hi / step - 1e-9) * step
        var ticks: [Double] = []
        var i = 0
        while true {
            let t = first + Double(i) * step
            if t > last + step * 1e-6 || i > 100 { break }
            ticks.append(abs(t) < step * 1e-9 ? 0 : t)
            i += 1
        }
        return (ticks, first, last, step)
    }

    /// Decades 10^k within [lo, hi] (both > 0), every second or third one when there are many.
    static func decades(_ lo: Double, _ hi: Double) -> [Double] {
        // Exponents clamped to what a Double holds, so that Int(…) never meets ±∞ or NaN.
        let l = log10(lo), h = log10(hi)
        guard l.isFinite || h.isFinite else { return [] }
        let a = Int(max(-300, min(300, ceil((l.isFinite ? l : -300) - 1e-9))))
        let b = Int(max(-300, min(300, floor((h.isFinite ? h : 300) + 1e-9))))
        guard a <= b else { return [] }
        let every = (b - a) > 16 ? 4 : (b - a) > 10 ? 2 : 1
        // Parsed rather than pow(10, k): "1e23" is the double nearest 10^23, pow may be one ulp off.
        return stride(from: a, through: b, by: every).map { Double("1e\($0)") ?? pow(10, Double($0)) }
    }

    /// Decimals needed to print ticks `step` apart without two looking alike.
    static func decimals(step: Double) -> Int {
        guard step > 0, step.isFinite else { return 2 }
        return max(0, min(6, Int(ceil(-log10(step) - 1e-9))))
    }
}
