import EmergenceCore
import Foundation

/// A fit as stored: the request, its lifecycle, and (once succeeded) the result document.
public struct FitJob: Sendable, Equatable {
    public enum Status: String, Codable, Sendable {
        case queued, running, succeeded, failed, cancelled

        public var isFinished: Bool { self == .succeeded || self == .failed || self == .cancelled }
    }

    public var id: Int
    public var studyID: Int
    public var status: Status
    public var progress: Double
    /// Canonical FitOptions JSON (sorted keys, defaults filled in).
    public var optionsJSON: String
    public var dataVersion: Int
    public var cancelRequested: Bool
    public var attempts: Int
    public var createdAt: String
    public var startedAt: String?
    public var finishedAt: String?
    /// The `emergence fit` JSON, compact.
    public var resultJSON: [UInt8]?
    public var error: String?

    /// The options in canonical form: equal options give equal text, which is how a repeated request
    /// on unchanged data finds the fit it already made.
    public static func canonicalJSON(_ options: FitOptions) throws -> String {
        let e = JSONEncoder()
        e.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return String(decoding: try e.encode(CanonicalOptions(options)), as: UTF8.self)
    }
}

/// FitOptions with every field written (nil ones as null) so the canonical text never depends on
/// which fields a client happened to send.
private struct CanonicalOptions: Encodable {
    let o: FitOptions
    init(_ o: FitOptions) { self.o = o }

    enum K: String, CodingKey {
        case form, d0, delta, noise, uncertainty, bootstrap, resample, seed
        case mcmcSteps = "mcmc_steps", mcmcWalkers = "mcmc_walkers", mcmcBurnIn = "mcmc_burn_in"
        case maxFlops = "max_flops", scalingLaw = "scaling_law"
    }

    func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: K.self)
        try c.encode(o.form, forKey: .form)
        try c.encode(o.d0, forKey: .d0)
        try c.encode(o.delta, forKey: .delta)
        try c.encode(o.noise, forKey: .noise)
        try c.encode(o.uncertainty, forKey: .uncertainty)
        try c.encode(o.bootstrap, forKey: .bootstrap)
        try c.encode(o.resample, forKey: .resample)
        try c.encode(o.seed, forKey: .seed)
        try c.encode(o.mcmcSteps, forKey: .mcmcSteps)
        try c.encode(o.mcmcWalkers, forKey: .mcmcWalkers)
        try c.encode(o.mcmcBurnIn, forKey: .mcmcBurnIn)
        try c.encode(o.maxFlops, forKey: .maxFlops)
        try c.encode(o.scalingLaw, forKey: .scalingLaw)
    }
}
