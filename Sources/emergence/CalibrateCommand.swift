import ArgumentParser

struct CalibrateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "calibrate", abstract: "(not implemented yet)")
    func run() throws { throw ValidationError("calibrate: not implemented yet") }
}
