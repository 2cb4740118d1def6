import ArgumentParser
import Jobs
#if canImport(Glibc)
import Glibc
#endif

/// `emergence fit-worker`: one job for the server (a fit or any other kind; the request names it),
/// in a process of its own (see JobProcess).
struct FitWorkerCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "fit-worker",
        abstract: "Internal: run one job for `emergence serve` in a process of its own (request on stdin, result on stdout).")

    func run() throws {
        Glibc.exit(JobProcess.runChild())
    }
}
