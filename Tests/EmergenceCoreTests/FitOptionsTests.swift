import XCTest
@testable import EmergenceCore

final class FitOptionsTests: XCTestCase {
    /// The service finds an existing fit by the options' text, so the encoding must be canonical:
    /// every field present (absent ones as null) and a lossless round trip.
    func testEncodingIsCanonicalAndRoundTrips() throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        let defaults = FitOptions()
        let sent = try JSONDecoder().decode(FitOptions.self, from: Data(#"{"seed": 0}"#.utf8))
        XCTAssertEqual(try encoder.encode(defaults), try encoder.encode(sent))
        let object = try XCTUnwrap(JSONSerialization.jsonObject(with: encoder.encode(defaults)) as? [String: Any])
        XCTAssertEqual(Set(object.keys), ["form", "d0", "delta", "noise", "uncertainty", "bootstrap", "resample",
                                          "mcmc_steps", "mcmc_walkers", "mcmc_burn_in", "seed", "max_flops", "scaling_law", "alpha_prior"])
        XCTAssertTrue(object["d0"] is NSNull)
        var o = FitOptions()
        o.form = .power; o.d0 = 8; o.delta = false; o.noise = .binomial; o.uncertainty = .both
        o.bootstrap = 12; o.resample = .rows; o.mcmcSteps = 300; o.mcmcWalkers = 16; o.mcmcBurnIn = 50
        o.seed = 9; o.maxFlops = 2e22; o.scalingLaw = ScalingLaw(lInf: 1, a: 50, b: 0.1)
        o.alphaPrior = AlphaPrior(median: 1.4, logSD: 0.35)
        XCTAssertEqual(try JSONDecoder().decode(FitOptions.self, from: encoder.encode(o)), o)
    }
}
