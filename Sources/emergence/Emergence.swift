import ArgumentParser

@main
struct Emergence: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "emergence",
        abstract: "Predicts the pretraining compute at which a capability emerges (docs/method.md).",
        subcommands: [ServeCommand.self, FitCommand.self, SimulateCommand.self, CalibrateCommand.self, PoolAlphaCommand.self, BenchCommand.self,
                      FuzzFitCommand.self, FitWorkerCommand.self, BackupCommand.self,
                      PlotCommand.self,
                      ObserveCommand.self, BacktestCommand.self, CompareCommand.self, AblateCommand.self, AdviseCommand.self]
    )
}
