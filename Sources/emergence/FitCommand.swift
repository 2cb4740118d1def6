import ArgumentParser

struct FitCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "fit", abstract: "(not implemented yet)")
    func run() throws { throw ValidationError("fit: not implemented yet") }
}
