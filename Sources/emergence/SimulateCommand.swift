import ArgumentParser

struct SimulateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "simulate", abstract: "(not implemented yet)")
    func run() throws { throw ValidationError("simulate: not implemented yet") }
}
