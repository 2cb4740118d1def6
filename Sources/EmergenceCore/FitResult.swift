/// The one result document of a fit. `emergence fit` prints it and `GET /v1/fits/{id}` serves it as
/// `result`, so both are the same JSON (encoded with `FitResult.encoder`).
import Foundation

public struct FitResult: Codable, Sendable, Equatable {
    public enum Status: String, Codable, Sendable {
        /// A prediction with intervals.
        case ok
        /// No finetuned run has left the floor: only a bound exists (docs/method.md §6).
        case noSignal = "no_signal"
        /// Few-shot accuracy is already above the floor for some checkpoints.
        case alreadyEmerged = "already_emerged"
        /// Too few data amounts or points to fit the law at all.
        case insufficientData = "insufficient_data"
        /// The data bound E* but do not pin it (Identifiability.swift): α̂ at its bound, lift at fewer than
        /// 3 data amounts, E* at the few-shot boundary, or an interval reaching loss ≤ 0. Only a
        /// one-sided bound is given (`emergence.loss.upper_bound`, `emergence.flops.lower_bound`).
        case notIdentified = "not_identified"
    }

    public struct Warning: Codable, Sendable, Equatable {
        /// Stable identifier, e.g. `long_extrapolation`, `few_data_amounts`, `mcmc_not_converged`.
        public var code: String
        public var message: String
        public init(code: String, message: String) { self.code = code; self.message = message }
    }

    /// What went into the fit, after filtering.
    public struct DataSummary: Codable, Sendable, Equatable {
        public var rows: Int
        public var fewShotRows: Int
        public var finetunedRows: Int
        public var checkpoints: Int
        /// Distinct finetuning amounts D, ascending.
        public var dataAmounts: [Double]
        /// Rows dropped by `max_flops`.
        public var excludedRows: Int
        public var lossRange: [Double]
        enum CodingKeys: String, CodingKey {
            case rows, checkpoints
            case fewShotRows = "few_shot_rows"
            case finetunedRows = "finetuned_rows"
            case dataAmounts = "data_amounts"
            case excludedRows = "excluded_rows"
            case lossRange = "loss_range"
        }
    }

    /// The maximum-likelihood parameters (docs/method.md §2).
    public struct Parameters: Codable, Sendable, Equatable {
        public var k: Double
        public var alpha: Double
        public var C: Double
        public var A: Double
        public var B: Double
        public var delta: Double
        /// σ̂ of the Gaussian noise model; absent under the binomial likelihood.
        public var sigma: Double?
        /// φ̂ of the quasi-binomial likelihood (Var = φ·μ(1 − μ)/n); absent under the others.
        public var dispersion: Double? = nil
    }

    public struct Statistics: Codable, Sendable, Equatable {
        public var points: Int
        public var rss: Double
        public var rmse: Double
        public var logLikelihood: Double
        public var aic: Double
        public var bic: Double
        /// The run-to-run SD of finetuned accuracies beyond the binomial, from replicate subsets
        /// (RunNoise); absent without replicates with n_questions.
        public var runNoiseSD: Double? = nil
        /// The test of "has any finetuned run left the floor" (SignalTest); absent when no row was lifted.
        public var signalTest: SignalTestSummary? = nil
        enum CodingKeys: String, CodingKey {
            case points, rss, rmse, aic, bic
            case logLikelihood = "log_likelihood"
            case runNoiseSD = "run_noise_sd"
            case signalTest = "signal_test"
        }
    }

    /// The likelihood-ratio statistic of the lift against the floor-only model, and its null
    /// distribution simulated for this study (absent where the statistic was beyond doubt).
    public struct SignalTestSummary: Codable, Sendable, Equatable {
        public var statistic: Double
        /// Simulated floor-only studies (of `replicates`) whose statistic reached this one's.
        public var exceeding: Int? = nil
        public var replicates: Int? = nil
        /// The simulated null's 95th percentile.
        public var nullP95: Double? = nil
        public var signal: Bool
        enum CodingKeys: String, CodingKey {
            case statistic, exceeding, replicates, signal
            case nullP95 = "null_p95"
        }
    }

    /// Percentiles 5, 10, 25, 50, 75, 90, 95 keyed by their number as a string.
    public typealias Percentiles = [String: Double]

    public struct LossEstimate: Codable, Sendable, Equatable {
        /// E* = E_θ(D0) at the MLE; absent when the data cannot pin it down.
        public var mle: Double? = nil
        /// For `no_signal`: E* lies below this loss (the lowest loss seen); for `not_identified`: below
        /// the lowest few-shot loss.
        public var upperBound: Double? = nil
        /// `bootstrap` or `mcmc`: where `percentiles` came from.
        public var intervalMethod: String? = nil
        public var percentiles: Percentiles? = nil
        /// When the data do not pin the law's curvature: the band of α they allow and E* across it
        /// (AlphaBand.swift); `mle` is then absent.
        public var alphaBand: AlphaBandSummary? = nil
        enum CodingKeys: String, CodingKey {
            case mle, percentiles
            case upperBound = "upper_bound"
            case intervalMethod = "interval_method"
            case alphaBand = "alpha_band"
        }
    }

    /// "For α between alpha_low and alpha_high the data put E* between loss_low and loss_high."
    public struct AlphaBandSummary: Codable, Sendable, Equatable {
        public var alphaLow: Double
        public var alphaHigh: Double
        public var lossLow: Double
        public var lossHigh: Double
        enum CodingKeys: String, CodingKey {
            case alphaLow = "alpha_low"
            case alphaHigh = "alpha_high"
            case lossLow = "loss_low"
            case lossHigh = "loss_high"
        }
    }

    public struct FlopsEstimate: Codable, Sendable, Equatable {
        public var mle: Double?
        /// False when E* ≤ L∞: no amount of compute reaches it under the scaling law.
        public var reachable: Bool
        /// Fraction of samples whose E* is reachable.
        public var reachableFraction: Double?
        /// Percentiles over samples; unreachable samples count as +∞ (a percentile that is +∞ is omitted).
        public var percentiles: Percentiles?
        /// For `no_signal` and `not_identified`: emergence needs more than this many FLOPs.
        public var lowerBound: Double?
        enum CodingKeys: String, CodingKey {
            case mle, reachable, percentiles
            case reachableFraction = "reachable_fraction"
            case lowerBound = "lower_bound"
        }
    }

    public struct ProbabilityPoint: Codable, Sendable, Equatable {
        public var flops: Double
        public var p: Double
    }

    public struct Emergence: Codable, Sendable, Equatable {
        public var loss: LossEstimate
        public var flops: FlopsEstimate?
        /// P(emerged by compute C): the CDF of C* over samples.
        public var probabilityEmerged: [ProbabilityPoint]
        enum CodingKeys: String, CodingKey {
            case loss, flops
            case probabilityEmerged = "probability_emerged"
        }
    }

    public struct BootstrapSummary: Codable, Sendable, Equatable {
        public var samples: Int
        public var failed: Int
        public var resample: String
        /// σ̂ of the checkpoints' measured losses (nats, LossNoise), by which each resample's losses
        /// were jittered (reported under an α prior too, where they are not: docs/method.md §5.2);
        /// absent when no model had three checkpoints of known compute or tokens.
        public var lossNoise: Double?
        public var percentiles: Percentiles
        enum CodingKeys: String, CodingKey {
            case samples, failed, resample, percentiles
            case lossNoise = "loss_noise"
        }
    }

    public struct MCMCSummary: Codable, Sendable, Equatable {
        public var walkers: Int
        public var steps: Int
        public var burnIn: Int
        public var acceptance: Double
        /// Effective sample size of E* (ensemble integrated autocorrelation time, Sokal window);
        /// absent when undefined (a chain that never moved).
        public var ess: Double?
        public var autocorrelationTime: Double?
        /// Split-R̂ of E* over walkers' half-chains; absent when undefined.
        public var rhat: Double?
        public var percentiles: Percentiles
        enum CodingKeys: String, CodingKey {
            case walkers, steps, acceptance, ess, rhat, percentiles
            case burnIn = "burn_in"
            case autocorrelationTime = "autocorrelation_time"
        }
    }

    public struct UncertaintySummary: Codable, Sendable, Equatable {
        public var bootstrap: BootstrapSummary?
        public var mcmc: MCMCSummary?
    }

    public struct ScalingLawSummary: Codable, Sendable, Equatable {
        /// `fitted` (to the checkpoints' flops and pretrain_loss) or `given`.
        public var source: String
        public var lInf: Double
        public var a: Double
        public var b: Double
        public var points: Int?
        public var rmse: Double?
        enum CodingKeys: String, CodingKey {
            case source, a, b, points, rmse
            case lInf = "l_inf"
        }
    }

    public var status: Status
    public var warnings: [Warning]
    public var form: FitOptions.Form
    public var d0: Double?
    public var delta: Bool
    public var noise: FitOptions.Noise
    public var seed: UInt64
    public var data: DataSummary
    public var parameters: Parameters?
    public var fit: Statistics?
    public var emergence: Emergence
    public var uncertainty: UncertaintySummary
    public var scalingLaw: ScalingLawSummary?
    /// The prior on α this fit used (nil: none, the plain maximum likelihood), with its provenance when pooled.
    public var alphaPrior: AlphaPrior? = nil
    /// What the data alone say about α (the plain likelihood's profile; AlphaProfile.swift): what a
    /// lab's pooled prior is estimated from. nil when there was no plain fit to profile.
    public var alphaProfile: AlphaProfile? = nil
    /// Under a prior: E* and α of the plain maximum likelihood, from the study's data alone, shown
    /// beside the answer with the prior.
    public var withoutPrior: WithoutPrior? = nil

    public struct WithoutPrior: Codable, Sendable, Equatable {
        public var alpha: Double
        public var emergenceLoss: Double
        enum CodingKeys: String, CodingKey {
            case alpha
            case emergenceLoss = "emergence_loss"
        }
    }

    enum CodingKeys: String, CodingKey {
        case status, warnings, form, d0, delta, noise, seed, data, parameters, fit, emergence, uncertainty
        case scalingLaw = "scaling_law"
        case alphaPrior = "alpha_prior"
        case alphaProfile = "alpha_profile"
        case withoutPrior = "without_prior"
    }

    /// The encoder that makes the JSON byte-for-byte reproducible (sorted keys).
    public static func makeEncoder(pretty: Bool = true) -> JSONEncoder {
        let e = JSONEncoder()
        e.outputFormatting = pretty ? [.sortedKeys, .prettyPrinted, .withoutEscapingSlashes] : [.sortedKeys, .withoutEscapingSlashes]
        return e
    }

    public func jsonData(pretty: Bool = true) throws -> Data {
        try FitResult.makeEncoder(pretty: pretty).encode(self)
    }
}
