import Foundation

/// The affine-invariant ensemble sampler of Goodman & Weare (2010) with the "stretch move", as in
/// emcee.
///
/// The ensemble is split in two halves; each walker X_k of one half moves against a walker X_j drawn
/// from the other half:
///
///     Y = X_j + Z · (X_k − X_j),   Z ~ g(z) ∝ 1/√z on [1/a, a]   (a = 2)
///     accept with probability min(1, Z^(d−1) · p(Y) / p(X_k))
///
/// Updating one half at a time against the other keeps detailed balance. The move is invariant to
/// affine transformations of the parameters, so strongly correlated posteriors (k and α of the law)
/// cost no tuning.
public struct EnsembleSampler {
    public var dimension: Int
    public var walkers: Int
    public var stretch: Double = 2
    /// log p(θ) up to a constant; −∞ outside the support.
    public var logProbability: ([Double]) -> Double

    /// Throws `FitError.invalidOptions` (field `mcmc_walkers`) unless walkers is even and ≥ 2·dimension
    /// (and dimension ≥ 1): each half of the ensemble must be able to span the space the other moves in.
    public init(dimension: Int, walkers: Int, logProbability: @escaping ([Double]) -> Double) throws {
        guard dimension >= 1, walkers >= 2 * dimension, walkers % 2 == 0 else {
            throw FitError.invalidOptions([.init(field: "mcmc_walkers",
                reason: "must be an even number ≥ 2 × the dimension (\(max(dimension, 1))), not \(walkers)")])
        }
        self.dimension = dimension
        self.walkers = walkers
        self.logProbability = logProbability
    }

    public struct Chain {
        /// samples[step][walker] → θ, for the steps kept after burn-in.
        public var samples: [[[Double]]]
        public var acceptance: Double
    }

    /// Runs `burnIn + steps` ensemble steps from `initial` (one position per walker) and keeps the
    /// last `steps`. `shouldStop` is polled once per step; returns nil when it stopped the run.
    /// Throws `FitError.invalidOptions` when `initial` is not one position of `dimension` coordinates
    /// per walker, or steps/burn-in are negative.
    public func run(initial: [[Double]], steps: Int, burnIn: Int, rng: inout SeededRandom,
                    onStep: ((Int) -> Void)? = nil, shouldStop: (() -> Bool)? = nil) throws -> Chain? {
        var kept: [[[Double]]] = []
        kept.reserveCapacity(max(steps, 0))
        guard let acceptance = try walk(initial: initial, steps: steps, burnIn: burnIn, rng: &rng,
                                        keep: { kept.append($0) }, onStep: onStep, shouldStop: shouldStop, finished: nil) else { return nil }
        return Chain(samples: kept, acceptance: acceptance)
    }

    /// One scalar per walker per kept step: `traces[walker][step]`.
    public struct Traces {
        public var traces: [[Double]]
        public var acceptance: Double
    }

    /// The same walk as `run` (the same random numbers, so the same positions), keeping only
    /// `trace(θ)` of each walker at each kept step: 8 bytes per walker-step instead of a whole
    /// position (~100 bytes as an array of its own), which is what bounds an MCMC's memory.
    ///
    /// With `converged`, `steps` is a maximum: after every `checkEvery` kept steps the traces so far
    /// are handed to `converged`, and the walk ends (keeping what it has) when it answers true. The
    /// check sees only the chain itself, so the stopping point is as deterministic as the chain.
    public func run(initial: [[Double]], steps: Int, burnIn: Int, rng: inout SeededRandom,
                    trace: ([Double]) -> Double,
                    onStep: ((Int) -> Void)? = nil, shouldStop: (() -> Bool)? = nil,
                    checkEvery: Int = 500, converged: (([[Double]]) -> Bool)? = nil) throws -> Traces? {
        var traces = [[Double]](repeating: [], count: walkers)
        for w in 0..<walkers { traces[w].reserveCapacity(max(steps, 0)) }
        let every = max(checkEvery, 1)
        var done = false
        guard let acceptance = try walk(initial: initial, steps: steps, burnIn: burnIn, rng: &rng,
                                        keep: { positions in
                                            for w in 0..<walkers { traces[w].append(trace(positions[w])) }
                                            let kept = traces[0].count
                                            if let converged, kept % every == 0, kept < steps { done = converged(traces) }
                                        },
                                        onStep: onStep, shouldStop: shouldStop, finished: { done }) else { return nil }
        return Traces(traces: traces, acceptance: acceptance)
    }

    /// Every coordinate traced: `traces[coordinate][walker][step]`.
    public struct CoordinateTraces {
        public var traces: [[[Double]]]
        public var acceptance: Double
    }

    /// The same walk as `run`, keeping every coordinate of every walker at each kept step, so that
    /// convergence can be judged on each parameter, not on one summary of them (a chain can mix in
    /// E* while α is still stuck in one of two modes). `converged` sees all the traces.
    public func runTracingAll(initial: [[Double]], steps: Int, burnIn: Int, rng: inout SeededRandom,
                              onStep: ((Int) -> Void)? = nil, shouldStop: (() -> Bool)? = nil,
                              checkEvery: Int = 500, converged: (([[[Double]]]) -> Bool)? = nil) throws -> CoordinateTraces? {
        var traces = [[[Double]]](repeating: [[Double]](repeating: [], count: walkers), count: dimension)
        for d in 0..<dimension { for w in 0..<walkers { traces[d][w].reserveCapacity(max(steps, 0)) } }
        let every = max(checkEvery, 1)
        var done = false
        guard let acceptance = try walk(initial: initial, steps: steps, burnIn: burnIn, rng: &rng,
                                        keep: { positions in
                                            for d in 0..<dimension { for w in 0..<walkers { traces[d][w].append(positions[w][d]) } }
                                            let kept = traces[0][0].count
                                            if let converged, kept % every == 0, kept < steps { done = converged(traces) }
                                        },
                                        onStep: onStep, shouldStop: shouldStop, finished: { done }) else { return nil }
        return CoordinateTraces(traces: traces, acceptance: acceptance)
    }

    /// The stretch-move walk; hands every kept step's positions to `keep` and returns the acceptance
    /// rate (nil when stopped). `finished`, asked after each kept step, ends the walk early.
    private func walk(initial: [[Double]], steps: Int, burnIn: Int, rng: inout SeededRandom,
                      keep: ([[Double]]) -> Void,
                      onStep: ((Int) -> Void)?, shouldStop: (() -> Bool)?, finished: (() -> Bool)?) throws -> Double? {
        guard initial.count == walkers, initial.allSatisfy({ $0.count == dimension }) else {
            throw FitError.invalidOptions([.init(field: "initial",
                reason: "must hold \(walkers) positions of \(dimension) coordinates")])
        }
        guard steps >= 0, burnIn >= 0, !burnIn.addingReportingOverflow(steps).overflow else {
            throw FitError.invalidOptions([.init(field: "mcmc_steps", reason: "steps and burn-in must be >= 0")])
        }
        var position = initial
        var logP = position.map(logProbability)
        var accepted = 0, proposed = 0
        let half = walkers / 2
        let d = Double(dimension)
        var proposal = [Double](repeating: 0, count: dimension)
        for step in 0..<(burnIn + steps) {
            if let shouldStop, shouldStop() { return nil }
            for part in 0..<2 {
                let mine = part == 0 ? 0..<half : half..<walkers
                let other = part == 0 ? half..<walkers : 0..<half
                for k in mine {
                    let j = other.lowerBound + rng.index(half)
                    // Z = ((a − 1)u + 1)² / a has density ∝ 1/√z on [1/a, a].
                    let u = rng.uniform()
                    let z = pow((stretch - 1) * u + 1, 2) / stretch
                    for i in 0..<dimension {
                        proposal[i] = position[j][i] + z * (position[k][i] - position[j][i])
                    }
                    let lp = logProbability(proposal)
                    let logAccept = (d - 1) * log(z) + lp - logP[k]
                    if step >= burnIn { proposed += 1 }
                    if lp.isFinite && log(rng.uniform()) < logAccept {
                        position[k] = proposal
                        logP[k] = lp
                        if step >= burnIn { accepted += 1 }
                    }
                }
            }
            if step >= burnIn { keep(position) }
            onStep?(step)
            if step >= burnIn, let finished, finished() { break }
        }
        return proposed > 0 ? Double(accepted) / Double(proposed) : 0
    }
}

/// Convergence diagnostics of a scalar quantity traced by every walker (docs/method.md §5).
public enum ChainDiagnostics {
    /// Integrated autocorrelation time τ: the normalised autocorrelation function is averaged over
    /// walkers and summed, τ = 1 + 2 Σ_{t=1}^{M} ρ(t), with Sokal's automatic window (the smallest M with
    /// M ≥ 5 τ(M)), as emcee does. The autocovariances come from an FFT (Wiener–Khinchin: the inverse
    /// transform of |FFT(x)|² of the zero-padded chain), O(N log N) per walker.
    public static func autocorrelationTime(_ chains: [[Double]]) -> Double {
        guard let n = chains.first?.count, n > 2 else { return .nan }
        var size = 1
        while size < 2 * n { size <<= 1 }
        var acf = [Double](repeating: 0, count: n)
        var re = [Double](repeating: 0, count: size), im = [Double](repeating: 0, count: size)
        for c in chains {
            let mean = c.reduce(0, +) / Double(n)
            for i in 0..<size { re[i] = i < n ? c[i] - mean : 0; im[i] = 0 }
            FFT.transform(&re, &im, inverse: false)
            for i in 0..<size { re[i] = re[i] * re[i] + im[i] * im[i]; im[i] = 0 }
            FFT.transform(&re, &im, inverse: true)
            guard re[0] > 0 else { continue }
            for t in 0..<n { acf[t] += re[t] / re[0] }
        }
        let w = Double(chains.count)
        guard acf[0] > 0 else { return 1 }
        var tau = 1.0
        for lag in 1..<n {
            tau += 2 * acf[lag] / w
            if Double(lag) >= 5 * tau { break }
        }
        return max(tau, 1)
    }

    /// Split-R̂ (Gelman et al.): every walker's chain is cut in half and the halves are compared;
    /// values near 1 mean the walkers agree, above ~1.05 that they have not mixed.
    public static func splitRHat(_ chains: [[Double]]) -> Double {
        guard let n0 = chains.first?.count, n0 >= 4 else { return .nan }
        let n = n0 / 2
        var halves: [ArraySlice<Double>] = []
        for c in chains {
            halves.append(c[0..<n])
            halves.append(c[n..<(2 * n)])
        }
        let m = Double(halves.count), nn = Double(n)
        let means = halves.map { $0.reduce(0, +) / nn }
        let grand = means.reduce(0, +) / m
        let between = nn / (m - 1) * means.reduce(0) { $0 + ($1 - grand) * ($1 - grand) }
        var within = 0.0
        for (h, mu) in zip(halves, means) {
            within += h.reduce(0) { $0 + ($1 - mu) * ($1 - mu) } / (nn - 1)
        }
        within /= m
        guard within > 0 else { return between > 0 ? .infinity : 1 }
        let varianceEstimate = (nn - 1) / nn * within + between / nn
        return sqrt(varianceEstimate / within)
    }
}

/// An in-place iterative radix-2 complex FFT (length a power of two). The inverse is unscaled
/// (callers here only use ratios of its outputs).
enum FFT {
    static func transform(_ re: inout [Double], _ im: inout [Double], inverse: Bool) {
        let n = re.count
        var j = 0
        for i in 1..<n {
            var bit = n >> 1
            while j & bit != 0 { j ^= bit; bit >>= 1 }
            j |= bit
            if i < j { re.swapAt(i, j); im.swapAt(i, j) }
        }
        var length = 2
        let sign = inverse ? 1.0 : -1.0
        while length <= n {
            let angle = sign * 2 * Double.pi / Double(length)
            let wr = cos(angle), wi = sin(angle)
            var start = 0
            while start < n {
                var cr = 1.0, ci = 0.0
                for k in 0..<(length / 2) {
                    let a = start + k, b = a + length / 2
                    let tr = re[b] * cr - im[b] * ci, ti = re[b] * ci + im[b] * cr
                    re[b] = re[a] - tr; im[b] = im[a] - ti
                    re[a] += tr; im[a] += ti
                    let next = cr * wr - ci * wi
                    ci = cr * wi + ci * wr
                    cr = next
                }
                start += length
            }
            length <<= 1
        }
    }
}
