import Foundation

/// xoshiro256** seeded through SplitMix64: a small, fast generator whose stream depends only on the
/// seed, so every fit, bootstrap and chain is reproducible on every platform.
public struct SeededRandom: RandomNumberGenerator, Sendable {
    private var s0: UInt64, s1: UInt64, s2: UInt64, s3: UInt64

    public init(seed: UInt64) {
        var sm = seed
        func splitMix(_ x: inout UInt64) -> UInt64 {
            x &+= 0x9E37_79B9_7F4A_7C15
            var z = x
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
        s0 = splitMix(&sm); s1 = splitMix(&sm); s2 = splitMix(&sm); s3 = splitMix(&sm)
    }

    /// An independent stream for sub-task `index` (bootstrap draw, walker, study), so work can be
    /// split without the results depending on the order in which it runs.
    public init(seed: UInt64, stream index: UInt64) {
        self.init(seed: seed ^ (index &* 0xD1B5_4A32_D192_ED03) &+ 0x632B_E59B_D9B4_E019)
    }

    @inline(__always)
    public mutating func next() -> UInt64 {
        let result = ((s1 &* 5) << 7 | (s1 &* 5) >> 57) &* 9
        let t = s1 << 17
        s2 ^= s0; s3 ^= s1; s1 ^= s2; s0 ^= s3
        s2 ^= t
        s3 = (s3 << 45) | (s3 >> 19)
        return result
    }

    /// Uniform in [0, 1).
    @inline(__always)
    public mutating func uniform() -> Double {
        Double(next() >> 11) * 0x1.0p-53
    }

    /// Uniform integer in 0..<n (n > 0), by Lemire's multiply-shift (bias below 2^-64·n, negligible).
    @inline(__always)
    public mutating func index(_ n: Int) -> Int {
        Int(next().multipliedFullWidth(by: UInt64(n)).high)
    }

    /// Standard normal by the Box–Muller transform.
    public mutating func normal() -> Double {
        var u = uniform()
        while u <= 0 { u = uniform() }
        let v = uniform()
        return sqrt(-2 * log(u)) * cos(2 * Double.pi * v)
    }

    /// A Binomial(n, p) draw: exact inversion for small n·p·(1−p), a rounded normal otherwise
    /// (the simulator's only use; its error there is far below the noise it models).
    public mutating func binomial(n: Int, p: Double) -> Int {
        let p = min(max(p, 0), 1)
        let variance = Double(n) * p * (1 - p)
        if variance > 25 {
            let draw = (Double(n) * p + sqrt(variance) * normal()).rounded()
            return Int(min(max(draw, 0), Double(n)))
        }
        if n > 1_000_000 {
            // A huge n with a tiny (or near-one) p: the law of rare events, Binomial(n, p) ≈
            // Poisson(n·p) for the rarer outcome, whose mean is then at most 2·25 = 50. Counting n
            // uniforms would take as long as n is large; no study the simulator draws comes here.
            let rare = min(p, 1 - p)
            let count = min(poisson(mean: Double(n) * rare), n)
            return p <= 0.5 ? count : n - count
        }
        var count = 0
        for _ in 0..<max(n, 0) where uniform() < p { count += 1 }
        return count
    }

    /// A Poisson draw by multiplying uniforms (Knuth), for small means only (here ≤ 50).
    mutating func poisson(mean: Double) -> Int {
        let limit = exp(-min(max(mean, 0), 700))
        var product = uniform(), count = 0
        while product > limit && count < 10_000 {
            product *= uniform()
            count += 1
        }
        return count
    }
}
