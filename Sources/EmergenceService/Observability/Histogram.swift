/// A Prometheus histogram's state: cumulative counts are made at exposition, so recording is one
/// bucket increment (a linear scan of a dozen bounds) plus the sum and count.
struct Histogram: Sendable {
    let bounds: [Double]
    /// counts[i]: observations ≤ bounds[i] and > bounds[i-1]; the last slot holds those above every bound.
    private(set) var counts: [UInt64]
    private(set) var sum: Double = 0
    private(set) var count: UInt64 = 0

    init(bounds: [Double]) {
        self.bounds = bounds
        counts = Array(repeating: 0, count: bounds.count + 1)
    }

    mutating func observe(_ value: Double) {
        // NaN or negative durations cannot come from a monotonic clock; clamp rather than trust.
        let v = value.isFinite ? max(0, value) : 0
        var i = 0
        while i < bounds.count && v > bounds[i] { i += 1 }
        counts[i] += 1
        sum += v
        count += 1
    }

    /// The `le` series of the exposition: (bound text, cumulative count), ending with "+Inf".
    var cumulative: [(le: String, count: UInt64)] {
        var out: [(String, UInt64)] = []
        out.reserveCapacity(counts.count)
        var running: UInt64 = 0
        for (i, bound) in bounds.enumerated() {
            running += counts[i]
            out.append((PrometheusText.number(bound), running))
        }
        out.append(("+Inf", count))
        return out
    }

    /// Request latencies: sub-millisecond answers to slow uploads.
    static let requestBounds: [Double] = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30]
    /// Fit durations: a quick MLE to the 600 s default limit and past it.
    static let fitBounds: [Double] = [0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600, 1800]
}
