import ArgumentParser
import EmergenceCore
import Foundation

/// `emergence fuzz-fit` (hidden): drives random option sets and degenerate studies through
/// `FitOptions.problems` and `EmergenceFit.run` (see `FitFuzzing`), and prints a JSON tally.
/// A trap would end the process; violations of the property make it exit 1.
///
/// `--rss-loop N` instead fits the mmlu-like study N times in-process (bootstrap 50) and reports the
/// resident set after each batch, to show that a fit leaves no memory behind.
struct FuzzFitCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "fuzz-fit",
        abstract: "Robustness check: random options and degenerate studies through the fit (never traps).")

    @Option(help: "Number of cases.") var cases: Int = 5000
    @Option(help: "Seed of the case generator.") var seed: UInt64 = 1
    @Flag(help: "Small studies and uncertainty sizes only (as the unit test).") var quick = false
    @Flag(help: "Print one line per case on stderr.") var verbose = false
    @Option(help: "Instead of fuzzing: fit mmlu-like this many times and report RSS growth.") var rssLoop: Int?

    func run() throws {
        guard cases >= 0 else { throw ValidationError("--cases must be >= 0") }
        if let n = rssLoop {
            guard n >= 1 && n <= 100_000 else { throw ValidationError("--rss-loop must be in 1...100000") }
            try rss(n)
            return
        }
        let started = Date()
        let tally = FitFuzzing.run(cases: cases, seed: seed, scale: quick ? .quick : .thorough) { i, c, outcome in
            guard verbose else { return }
            FileHandle.standardError.write("\(i)\t\(c.shape)\t\(outcome)\n".data(using: .utf8) ?? Data())
        }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        FileHandle.standardOutput.write(try encoder.encode(tally))
        print(String(format: "\n%d cases in %.1f s, %d violations", tally.cases, Date().timeIntervalSince(started),
                     tally.violations.count))
        if !tally.violations.isEmpty { throw ExitCode(1) }
    }

    /// Resident set size in KiB, from /proc/self/statm (second field, in pages).
    func residentKiB() -> Int {
        guard let text = try? String(contentsOfFile: "/proc/self/statm", encoding: .utf8) else { return 0 }
        let fields = text.split(separator: " ")
        guard fields.count > 1, let pages = Int(fields[1]) else { return 0 }
        return pages * Int(sysconf(Int32(_SC_PAGESIZE))) / 1024
    }

    func rss(_ n: Int) throws {
        guard let scenario = SimulationScenario.named["mmlu-like"] else { return }
        let rows = Simulator.simulate(scenario, seed: 1).evaluations
        var options = FitOptions()
        options.maxFlops = 2e22
        options.bootstrap = 50
        // Warm up (first-use allocations of the runtime and Foundation are not a leak).
        for _ in 0..<3 { _ = try EmergenceFit.run(rows, options: options, threads: 1) }
        let before = residentKiB()
        print("fits\trss_kib")
        print("0\t\(before)")
        for i in 1...n {
            options.seed = UInt64(i)
            _ = try EmergenceFit.run(rows, options: options, threads: 1)
            if i % max(n / 10, 1) == 0 || i == n { print("\(i)\t\(residentKiB())") }
        }
        let growth = Double(residentKiB() - before) / Double(n)
        print(String(format: "growth: %.1f KiB per fit over %d fits", growth, n))
    }
}
