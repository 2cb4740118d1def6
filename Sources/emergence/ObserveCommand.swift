import ArgumentParser
import EmergenceCore
import Foundation

/// `emergence observe FILE.csv`: the observed emergence point from the few-shot rows alone.
struct ObserveCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "observe",
        abstract: "Fit the ReLU of few-shot accuracy against pretraining loss over every checkpoint and print the observed emergence point as JSON.")

    @Argument(help: "Study CSV (the `fit` command's columns; pretrain_loss may be empty or absent with --axis flops, as in leaderboards; finetuned rows only bound a not-yet-emerged study).") var file: String
    @Option(help: "The ReLU's x-axis: loss (default) or flops (log10 FLOPs; the loss then comes from the scaling law).")
    var axis: String = "loss"
    @Option(help: "Bootstrap resamples of whole checkpoints for the interval (0 = none).") var bootstrap: Int = 1000
    @Option(help: "Random seed: the same data, options and seed give the same JSON.") var seed: UInt64 = 0
    @Option(help: "Keep only checkpoints with flops ≤ F.") var maxFlops: Double?
    @Option(help: "A given compute scaling law L(C) = L∞ + a·C^-b as LINF,A,B (default: fitted to the checkpoints).")
    var scalingLaw: String?

    func run() throws {
        var o = ObserveOptions()
        guard let a = ObserveOptions.Axis(rawValue: axis) else { throw ValidationError("--axis must be loss or flops, not '\(axis)'") }
        o.axis = a
        o.bootstrap = bootstrap
        o.seed = seed
        o.maxFlops = maxFlops
        if let s = scalingLaw {
            let p = try WorkflowCommand.numbers(s, flag: "--scaling-law")
            guard p.count == 3 else { throw ValidationError("--scaling-law must be three numbers LINF,A,B, not '\(s)'") }
            o.scalingLaw = ScalingLaw(lInf: p[0], a: p[1], b: p[2])
        }
        try WorkflowCommand.validate(o.problems(budget: .default))
        let rows = WorkflowCommand.read(file, requireLoss: false)
        try WorkflowCommand.emit(file) { try Observation.run(rows, options: o) }
    }
}
