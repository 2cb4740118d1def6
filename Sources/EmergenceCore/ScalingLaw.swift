import Foundation

/// A pretraining scaling law L(C) = L∞ + a · C^(−b) (docs/method.md §7), in loss (nats) against compute.
public struct ScalingLaw: Codable, Sendable, Equatable, Hashable {
    public var lInf: Double
    public var a: Double
    public var b: Double

    public init(lInf: Double, a: Double, b: Double) {
        self.lInf = lInf; self.a = a; self.b = b
    }

    enum CodingKeys: String, CodingKey {
        case lInf = "l_inf"
        case a, b
    }

    /// L(C) = L∞ + a · C^(−b).
    public func loss(atCompute c: Double) -> Double {
        lInf + a * pow(c, -b)
    }

    /// The inverse C* = (a / (E − L∞))^(1/b); nil when E ≤ L∞ (no compute reaches that loss).
    public func compute(atLoss e: Double) -> Double? {
        guard e > lInf else { return nil }
        // Computed in logs: C* can be ~1e25 with b ~ 0.05, where a direct pow loses nothing but
        // an intermediate (a/(E−L∞)) raised to 1/b may overflow for tiny b.
        let logC = (log(a) - log(e - lInf)) / b
        guard logC < 709 else { return .infinity }
        return exp(logC)
    }
}
