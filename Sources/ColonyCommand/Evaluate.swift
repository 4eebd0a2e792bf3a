import ArgumentParser
import ColonyExperiments
import Foundation

struct Evaluate: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "eval",
        abstract: "Evaluate a checkpoint: deterministic episodes, mean ± standard error, min and max.",
        discussion: "Example: colony eval --checkpoint runs/ppo/CartPole-v1/seed-1/checkpoints/latest.h5 --episodes 100 --render"
    )

    @Option(help: "A checkpoint written by `colony train` (checkpoints/latest.h5 or frame-N.h5).")
    var checkpoint: String

    @Option(help: "Evaluation episodes.")
    var episodes: Int = 100

    @Option(help: "Seed of the evaluation environments.")
    var seed: UInt64 = 12345

    @Flag(help: "Draw one episode as text frames in the terminal first (classic-control environments).")
    var render = false

    @Option(help: "Seconds between rendered frames.")
    var frameDelay: Double = 0.03

    func validate() throws {
        if episodes < 1 { throw ValidationError("--episodes must be at least 1") }
    }

    func run() throws {
        try reportingErrors {
            let evaluation = try CheckpointEvaluation(checkpoint: checkpoint)
            if render {
                let episodeReturn = try evaluation.render(seed: seed) { frame, step, total in
                    print("\u{1B}[H\u{1B}[2J\(evaluation.environment)  step \(step)  return \(String(format: "%.1f", total))\n\(frame)")
                    Thread.sleep(forTimeInterval: frameDelay)
                }
                print("rendered episode return: \(String(format: "%.2f", episodeReturn))")
            }
            let returns = try evaluation.returns(episodes: episodes, seed: seed)
            let mean = returns.reduce(0, +) / Double(returns.count)
            let variance = returns.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Double(max(1, returns.count - 1))
            let standardError = (variance / Double(returns.count)).squareRoot()
            print("\(evaluation.agent.id) on \(evaluation.environment), \(returns.count) episodes: "
                + String(format: "%.2f ± %.2f (standard error), min %.2f, max %.2f", mean, standardError, returns.min()!, returns.max()!))
        }
    }
}
