import Foundation

/// The ablation of the law's form, Δ and D0 on one study.
public struct AblationResult: WorkflowResult {
    public struct Variant: Codable, Sendable, Equatable {
        public var form: FitOptions.Form
        public var delta: Bool
        public var status: FitResult.Status
        public var parameters: FitResult.Parameters?
        public var logLikelihood: Double?
        public var aic: Double?
        public var bic: Double?
        /// w_i = exp(−ΔAIC_i/2) / Σ_j exp(−ΔAIC_j/2), ΔAIC_i = AIC_i − min AIC, over the variants that fitted.
        public var akaikeWeight: Double?
        /// The same with BIC (Schwarz weights).
        public var bicWeight: Double?
        /// E* and C* with their intervals.
        public var emergence: EmergencePoint
        /// The codes of the fit's warnings.
        public var warnings: [String]

        enum CodingKeys: String, CodingKey {
            case form, delta, status, parameters, aic, bic, emergence, warnings
            case logLikelihood = "log_likelihood"
            case akaikeWeight = "akaike_weight"
            case bicWeight = "bic_weight"
        }
    }

    public struct Choice: Codable, Sendable, Equatable {
        public var form: FitOptions.Form
        public var delta: Bool
    }

    public struct D0Point: Codable, Sendable, Equatable {
        /// D0 / N.
        public var factor: Double
        public var d0: Double
        public var status: FitResult.Status
        public var emergence: EmergencePoint
    }

    /// log-power Δ on, log-power Δ off, power Δ on, power Δ off.
    public var variants: [Variant]
    /// The variant with the largest Akaike weight; nil when none fitted.
    public var chosen: Choice?
    /// Σ of the Akaike weights of each form's variants, keyed by form (`log_power`, `power`).
    public var formWeights: [String: Double]
    /// N: the few-shot rows' shots (the sweep's unit).
    public var shots: Double?
    /// E* at D0 = factor × N, with the base options' form and Δ.
    public var d0Sweep: [D0Point]
    public var warnings: [FitResult.Warning]

    enum CodingKeys: String, CodingKey {
        case variants, chosen, shots, warnings
        case formWeights = "form_weights"
        case d0Sweep = "d0_sweep"
    }
}
