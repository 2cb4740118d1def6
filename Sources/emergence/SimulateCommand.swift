import ArgumentParser
import EmergenceCore
import Foundation

/// `emergence simulate`: writes a simulated study (CSV) and its known truth (JSON).
struct SimulateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "simulate",
        abstract: "Write a simulated study CSV and its truth JSON.",
        discussion: "Scenarios: \(SimulationScenario.named.keys.sorted().joined(separator: ", ")).")

    @Option(help: "Scenario name.") var scenario: String
    @Option(help: "Random seed.") var seed: UInt64 = 1
    @Option(help: "Output folder (created if missing): NAME.csv and NAME.truth.json.") var out: String

    func run() throws {
        guard let s = SimulationScenario.named[scenario] else {
            throw ValidationError("unknown scenario '\(scenario)'; one of: \(SimulationScenario.named.keys.sorted().joined(separator: ", "))")
        }
        let (rows, truth) = Simulator.simulate(s, seed: seed)
        try FileManager.default.createDirectory(atPath: out, withIntermediateDirectories: true)
        let base = (out as NSString).appendingPathComponent(scenario)
        try Simulator.csv(rows).write(toFile: base + ".csv", atomically: true, encoding: .utf8)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        try encoder.encode(truth).write(to: URL(fileURLWithPath: base + ".truth.json"))
        print("\(base).csv (\(rows.count) rows), \(base).truth.json")
    }
}
