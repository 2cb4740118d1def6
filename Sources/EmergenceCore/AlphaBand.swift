import Foundation

/// The α-sensitivity band: what the data say about E* when they do not pin the law's curvature
/// (docs/method.md §6.6).
///
/// When α̂ collapses onto its lower bound the data prefer a law nearly flat in ln D, whose
/// extrapolation to D0 is low, but steeper laws through the same elbows fit almost as well. So no
/// single E* is headlined. Instead, the law is refitted at each α of a grid over α's box (every other
/// parameter refitted), and the band runs from α̂ down as far as the profile likelihood allows
/// (dev(α) < 2.71) and up to the last α whose best fit keeps E* below the few-shot boundary's
/// detection limit U (EmergenceFit.detectionLimit: the data's own 95% bound, as
/// no few-shot row has left the floor). That gives the statement "for α between a and b the data put
/// E* in [l, u]". The interval's samples come from a bootstrap in which each draw also draws α
/// uniformly in ln α across the band and refits with α held there: percentiles of that distribution,
/// with its weight on α stated, not rescalings of a collapsed fit's samples.
///
/// Why not the profile likelihood of α (dev(α) < 2.71) for the band: measured on the development
/// split, it left out the truth. Where α̂ collapses, the likelihood's preference for flat laws is the
/// very thing not to trust: on 13 collapsed `jittered` studies the profile band's interval covered 2
/// at 90%, as the profile of E* itself excluded the truth in most of them (the rows of one checkpoint
/// share its loss noise, so the likelihood overstates what they pin). Without few-shot rows there is
/// no U, and the profile band (dev(α) < 2.71, with dev the profile deviance of α) is used.
struct AlphaBand: Sendable {
    struct Point: Sendable {
        var alpha: Double
        var theta: [Double]
        var deviance: Double
        var prediction: Double
    }

    /// The constrained fits inside the band, ascending in α.
    var inside: [Point]
    /// The detection limit that closes the band from above; nil for the profile band.
    var ceiling: Double?
    var alphaLow: Double { inside.first?.alpha ?? .nan }
    var alphaHigh: Double { inside.last?.alpha ?? .nan }
    var lossLow: Double { inside.map(\.prediction).min() ?? .nan }
    var lossHigh: Double { inside.map(\.prediction).max() ?? .nan }

    /// Grid points over α's whole box, log-spaced.
    static let gridSize = 17
    /// χ²₁'s 90% point.
    static let cutoff = 2.71

    /// The band, or nil when fewer than two grid points fit (nothing to draw α from).
    static func profile(_ model: EmergenceModel, noise: FitOptions.Noise, mle: MaximumLikelihoodFit, ceiling: Double?,
                        cancel: Cancellation) -> AlphaBand? {
        let range = EmergenceModel.alphaRange(model.form)
        let lo = log(range.lowerBound), hi = log(range.upperBound)
        let alphas = (0..<gridSize).map { exp(lo + (hi - lo) * Double($0) / Double(gridSize - 1)) }
        let fits = AlphaProfile.constrainedFits(model, noise: noise, mle: mle, alphas: alphas, cancel: cancel)
        if cancel.isCancelled { return nil }
        guard let deviances = AlphaProfile.deviances(model, noise: noise, mle: mle, objectives: fits.map(\.objective))
        else { return nil }
        let points = zip(fits, deviances).map { f, deviance in
            Point(alpha: f.alpha, theta: f.theta, deviance: deviance, prediction: model.prediction(f.theta))
        }
        let inside: [Point]
        if let ceiling {
            // From the grid point nearest α̂: down while the fit stays within the profile's 90% region
            // (below α̂ the constrained fits soon fail outright), up while it keeps E* under the
            // ceiling (the few-shot boundary's detection limit; E*(α) rises with α, as a steeper law
            // drops less towards D0).
            let alphaHat = mle.theta[EmergenceModel.alpha]
            guard let centre = points.indices.min(by: { abs(log(points[$0].alpha / alphaHat)) < abs(log(points[$1].alpha / alphaHat)) })
            else { return nil }
            var lo = centre, hi = centre
            while lo > 0 && points[lo - 1].deviance < cutoff && points[lo - 1].prediction.isFinite { lo -= 1 }
            while hi + 1 < points.count && points[hi + 1].prediction.isFinite && points[hi + 1].prediction <= ceiling { hi += 1 }
            inside = Array(points[lo...hi]).filter { $0.prediction.isFinite && $0.prediction <= ceiling }
        } else {
            inside = points.filter { $0.deviance < cutoff && $0.prediction.isFinite }
        }
        guard inside.count >= 2 else { return nil }
        return AlphaBand(inside: inside, ceiling: ceiling)
    }

    /// The constrained fit nearest α (in ln α), moved to α: a start for a refit with α held there.
    func start(at alpha: Double, model: EmergenceModel) -> [Double]? {
        guard let nearest = inside.min(by: { abs(log($0.alpha) - log(alpha)) < abs(log($1.alpha) - log(alpha)) }) else { return nil }
        return model.retarget(nearest.theta, alpha: alpha)
    }

    var summary: FitResult.AlphaBandSummary {
        .init(alphaLow: alphaLow, alphaHigh: alphaHigh, lossLow: lossLow, lossHigh: lossHigh)
    }
}

extension EmergenceModel {
    /// θ with α replaced, k and C re-solved so the law keeps θ's elbows at the smallest and largest
    /// finetuning amounts; nil when the two amounts coincide.
    func retarget(_ theta: [Double], alpha: Double) -> [Double]? {
        let amounts = data.dataAmounts
        guard let dMin = amounts.first, let dMax = amounts.last else { return nil }
        let law = self.law(theta)
        let eMin = law.elbow(at: dMin), eMax = law.elbow(at: dMax)
        let gMin = EmergenceLaw.basis(form, alpha: alpha, d: dMin), gMax = EmergenceLaw.basis(form, alpha: alpha, d: dMax)
        guard gMax > gMin else { return nil }
        var t = theta
        let k = max((eMax - eMin) / (gMax - gMin), 0)
        t[Self.k] = k
        t[Self.alpha] = alpha
        t[Self.c] = eMin - k * gMin
        let l = lower, u = upper
        for j in t.indices { t[j] = min(max(t[j], l[j]), u[j]) }
        return t
    }
}
