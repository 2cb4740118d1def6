import Foundation
import Synchronization

/// Bootstrap intervals for E* (docs/method.md §5): resample, refit from the MLE, collect E*.
///
/// Resampling is stratified. By checkpoint (default): checkpoints that carry finetuned rows and those
/// that carry only few-shot rows are drawn separately, with replacement, and each drawn checkpoint brings
/// all its rows; this keeps the noise in a checkpoint's measured loss, which all its rows share, in
/// the resamples. By row: few-shot and finetuned rows are drawn separately.
///
/// Each resample is refit by the local optimiser (softplus-smoothed pass, then exact) started near the
/// MLE and near the best competing local optimum the full-data multi-start found, so a resample that
/// prefers another mode can reach it.
enum Bootstrap {
    struct Draw: Sendable {
        var prediction: Double
        /// The resampled checkpoints (indices into FitData's checkpoint list), for refitting the
        /// scaling law on the same resample.
        var checkpoints: [Int]
    }

    struct Outcome: Sendable {
        var draws: [Draw?]
        var failed: Int { draws.filter { $0 == nil }.count }
        var predictions: [Double] { draws.compactMap { $0?.prediction } }
    }

    static func run(_ model: EmergenceModel, noise: FitOptions.Noise, mle: MaximumLikelihoodFit,
                    samples: Int, resample: FitOptions.Resample, lossSD: Double = 0, alphaBand: AlphaBand? = nil,
                    seed: UInt64, threads: Int,
                    progress: (@Sendable (Int) -> Void)?, cancel: Cancellation) throws -> Outcome {
        let data = model.data
        // Strata.
        let rowsOfCheckpoint: [[Int]] = {
            var rows = [[Int]](repeating: [], count: data.checkpointCount)
            for i in 0..<data.count { rows[data.checkpoint[i]].append(i) }
            return rows
        }()
        let finetunedCheckpoints = (0..<data.checkpointCount).filter { c in rowsOfCheckpoint[c].contains { data.fewShot[$0] == 0 } }
        let otherCheckpoints = (0..<data.checkpointCount).filter { c in !rowsOfCheckpoint[c].contains { data.fewShot[$0] == 0 } }
        let fewShotRows = (0..<data.count).filter { data.fewShot[$0] == 1 }
        let finetunedRows = (0..<data.count).filter { data.fewShot[$0] == 0 }
        // The MLE and the best competing optimum (if any) that predicts something else.
        let optima = [mle.theta] + (mle.optima.dropFirst()
            .first(where: { abs($0.prediction - mle.prediction) > 0.02 }).map { [$0.theta] } ?? [])
        // Each refit starts its smoothed pass from the full data's optimum of the smoothed objective
        // near that optimum, found once here, rather than from the optimum itself: a resample's
        // smoothed optimum lies nearer it. The smoothed passes took 29% fewer LM iterations (46,800
        // against 66,000 over 1,000 resamples of mmlu-like ≤ 2e22). It changes the refits' answers:
        // on the seven test fixtures the percentiles moved by at most 0.018 nats (another seed moves
        // them by up to 0.077); `emergence calibrate` kept its 90% coverage within two studies, with
        // intervals about 2% narrower (docs/performance.md has the figures).
        var smoothed = model
        smoothed.temperature = MaximumLikelihood.smoothingTemperature
        let starts = optima.map { theta in
            MaximumLikelihood.localFit(smoothed, noise: noise, start: theta, smooth: false, cancel: cancel) ?? theta
        }

        let shared = SharedSlots<Draw>(samples)
        // More threads than cores would only add switching (the result does not depend on the count).
        let workers = max(1, min(threads, samples, ProcessInfo.processInfo.activeProcessorCount))
        Workers.run(workers) { worker in
            // Draws are handed out one at a time, so threads that share their core with other
            // work (the MCMC, say) simply take fewer.
            while true {
                let b = shared.next.add(1, ordering: .relaxed).oldValue
                if b >= samples { return }
                if cancel.isCancelled { return }
                // Each draw has its own stream: results do not depend on which thread ran it.
                var rng = SeededRandom(seed: seed, stream: UInt64(b) &+ 1)
                var rows: [Int] = []
                var drawn: [Int] = []
                switch resample {
                case .checkpoints:
                    for stratum in [finetunedCheckpoints, otherCheckpoints] where !stratum.isEmpty {
                        for _ in 0..<stratum.count {
                            let c = stratum[rng.index(stratum.count)]
                            drawn.append(c)
                            rows.append(contentsOf: rowsOfCheckpoint[c])
                        }
                    }
                case .rows:
                    for stratum in [finetunedRows, fewShotRows] where !stratum.isEmpty {
                        for _ in 0..<stratum.count { rows.append(stratum[rng.index(stratum.count)]) }
                    }
                    drawn = Array(0..<data.checkpointCount)
                }
                var resampled = model
                (resampled.data, resampled.multiplicity) = data.distinctRows(rows)
                if let penalty = model.alphaPenalty {
                    // Under an α prior each refit also gets its own prior centre, drawn from the prior
                    // (randomised maximum likelihood: Oliver, He & Reynolds 1996; Osband et al. 2018's
                    // randomised prior functions). Resampling the data alone gives the spread of the
                    // penalised estimate, which the prior shrinks: measured 5–95 coverage 0.80–0.82
                    // (`emergence calibrate`, 200 studies, jittered and wide) against the posterior's
                    // 0.88. Drawn after the rows, so the resamples are those of the plain fit.
                    resampled.alphaPenalty = penalty.recentred(by: rng.normal())
                }
                if lossSD > 0 && model.alphaPenalty == nil {
                    // The checkpoints' losses are measured, not known: each drawn checkpoint's loss
                    // moves by its own N(0, σ̂_x²) (σ̂_x from LossNoise, shared by all its rows). Without
                    // it, an elbow that sits on a checkpoint's loss stays there in most resamples (the
                    // ReLU's objective has a kink there) and the interval's centre is a spike: on the
                    // held-out `designs` studies the 25–75% range was a median 0.31 of the 5–95% (0.41
                    // for a normal) and the 50% interval covered 0.32; with the jitter, 0.42. A smoothed
                    // bootstrap (Silverman & Young 1987), the measurement noise its bandwidth.
                    //
                    // It counts the loss noise a second time (the resampled checkpoints carry theirs),
                    // the price of a centre that does not collapse. Under an α prior there is no need
                    // to pay it: each draw's own prior centre moves the elbow off the checkpoint
                    // losses (the 25–75% range stayed 0.38 of the 5–95% without the jitter), and with
                    // the labs' exact prior the widths came to a median 1.02 of the MCMC's, whose
                    // likelihood counts the loss noise once, instead of 1.10 (docs/calibration.md).
                    let shift = (0..<data.checkpointCount).map { _ in lossSD * rng.normal() }
                    for i in 0..<resampled.data.count { resampled.data.x[i] += shift[resampled.data.checkpoint[i]] }
                }
                var drawStarts = starts
                if let alphaBand {
                    // The curvature is not pinned (AlphaBand.swift): this draw's α, uniform in ln α
                    // across the band, held fixed in the refit, started from the band's fit nearest it.
                    let lo = log(alphaBand.alphaLow), hi = log(alphaBand.alphaHigh)
                    let alpha = exp(lo + (hi - lo) * rng.uniform())
                    resampled.fixedAlpha = alpha
                    drawStarts = alphaBand.start(at: alpha, model: resampled).map { [$0] } ?? []
                }
                var best: (objective: Double, theta: [Double])? = nil
                for start in drawStarts {
                    // Smoothed first, then exact: a refit from the MLE with the exact ReLU alone
                    // stays in the MLE's kink-bounded basin and makes the intervals too narrow
                    // (90% intervals covered 78–79% of simulated truths that way, 81–85% with the
                    // smoothed pass; `emergence calibrate`).
                    guard let theta = MaximumLikelihood.localFit(resampled, noise: noise, start: start, smooth: true,
                                                                 cancel: cancel) else { continue }
                    let objective = MaximumLikelihood.objective(resampled, noise: noise, theta)
                    if objective.isFinite && objective < (best?.objective ?? .infinity) { best = (objective, theta) }
                }
                // A refit cut short by cancellation is thrown away below, never reported.
                if cancel.isCancelled { return }
                if let best {
                    let e = resampled.prediction(best.theta)
                    if e.isFinite {
                        let draw = Draw(prediction: e, checkpoints: drawn)
                        shared.record(draw, at: b)
                    }
                }
                progress?(shared.done.add(1, ordering: .relaxed).newValue)
            }
        }
        try cancel.check()
        return Outcome(draws: shared.all())
    }
}

/// What a pool of worker threads shares: the next item to hand out, how many are done, and the
/// results, one slot per item (each item writes only its own, so the lock is never contended for
/// long; a refit costs milliseconds, the lock nanoseconds). The bootstrap's draws and the replicate
/// yardstick's fits use it.
///
/// The atomic hand-over inside the lock is for the thread sanitizer (a CI step), as in
/// Storage/Lock.swift, which this pure module cannot import: on Linux a contended `Mutex` passes to
/// the next thread inside the kernel, where the sanitizer sees no order, and it reported two threads'
/// slot writes as a race. A load-acquire after locking and a store-release before unlocking state
/// the order where it can see it (plain moves on x86-64).
final class SharedSlots<Element: Sendable>: Sendable {
    let next = Atomic<Int>(0)
    let done = Atomic<Int>(0)
    private let slots: Mutex<[Element?]>
    private let handOver = Atomic<UInt8>(0)

    init(_ count: Int) {
        slots = Mutex([Element?](repeating: nil, count: max(count, 0)))
    }

    func record(_ value: Element, at slot: Int) {
        slots.withLock { s in
            _ = handOver.load(ordering: .acquiring)
            s[slot] = value
            handOver.store(0, ordering: .releasing)
        }
    }

    func all() -> [Element?] {
        slots.withLock { s in
            _ = handOver.load(ordering: .acquiring)
            return s
        }
    }
}

/// Runs `body(0..<count)` on `count` threads of its own (the caller's is one of them) and waits.
///
/// Not `DispatchQueue.concurrentPerform`: that occupies libdispatch's shared worker threads for the
/// whole bootstrap, and a server whose handlers run on Dispatch then waits for a thread (a 30 s stall
/// was measured under two concurrent fits).
enum Workers {
    static func run(_ count: Int, _ body: @escaping @Sendable (Int) -> Void) {
        guard count > 1 else { body(0); return }
        let done = DispatchSemaphore(value: 0)
        for worker in 1..<count {
            let thread = Thread { body(worker); done.signal() }
            thread.stackSize = 1 << 22
            thread.start()
        }
        body(0)
        for _ in 1..<count { done.wait() }
    }
}
