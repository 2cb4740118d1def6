import ArgumentParser

struct BenchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "bench", abstract: "(not implemented yet)")
    func run() throws { throw ValidationError("bench: not implemented yet") }
}
