import ArgumentParser
import ColonyCluster
import ColonyExperiments
import Foundation

struct Evaluate: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "eval",
        abstract: "Evaluate a checkpoint: deterministic episodes, mean ± standard error, min and max.",
        discussion: """
        Example: colony eval --checkpoint runs/ppo/CartPole-v1/seed-1/checkpoints/latest.h5 --episodes 100 --render
        --render draws text environments in the terminal; image environments (gym:ALE/Pong-v5, MuJoCo) are written as a
        video instead: --video PATH (.mp4 or .gif), by default videos/eval-seed-<seed>.mp4 in the run's directory.
        A cluster learner's checkpoint is evaluated with the cluster file it trained with:
          colony eval --checkpoint runs/cluster/impala/CartPole-v1/seed-1/checkpoints/latest.h5 --cluster cluster/impala-cartpole.toml
        """
    )

    @Option(help: "A checkpoint written by `colony train` (checkpoints/latest.h5 or frame-N.h5).")
    var checkpoint: String

    @Option(help: ArgumentHelp("The cluster file a learner's checkpoint was trained with: its learner is rebuilt from it and its acting "
                               + "parameters played (no --render or --video).", valueName: "cluster.toml"))
    var cluster: String?

    @Option(help: "Evaluation episodes.")
    var episodes: Int = 100

    @Option(help: "Seed of the evaluation environments.")
    var seed: UInt64 = 12345

    @Flag(help: "Show one episode first: text frames in the terminal, or a video for image environments.")
    var render = false

    @Option(help: "Seconds between text frames.")
    var frameDelay: Double = 0.03

    @Option(help: "Write one episode's rgb_array frames to this .mp4 or .gif (implies --render for image environments).")
    var video: String?

    @Option(help: "Frames per second of the video.")
    var fps: Double = 30

    func validate() throws {
        if episodes < 1 { throw ValidationError("--episodes must be at least 1") }
        if !(fps > 0) { throw ValidationError("--fps must be positive") }
        if cluster != nil && (render || video != nil) { throw ValidationError("--render and --video play a `colony train` checkpoint; drop them with --cluster") }
        if let video, !(video.lowercased().hasSuffix(".mp4") || video.lowercased().hasSuffix(".gif")) {
            throw ValidationError("--video must name an .mp4 or .gif file, got \(video)")
        }
    }

    /// `runs/<agent>/<env>/seed-<s>/checkpoints/latest.h5` → `runs/<agent>/<env>/seed-<s>/videos/eval-seed-<seed>.mp4`.
    private var defaultVideoPath: String {
        let checkpoints = URL(fileURLWithPath: checkpoint).deletingLastPathComponent()
        let run = checkpoints.lastPathComponent == "checkpoints" ? checkpoints.deletingLastPathComponent() : checkpoints
        return run.appendingPathComponent("videos/eval-seed-\(seed).mp4").path
    }

    func run() throws {
        try reportingErrors {
            if let cluster {
                let settings = try ClusterSettings(path: cluster)
                let returns = try LearnerCheckpointEvaluation(checkpoint: checkpoint, settings: settings).returns(episodes: episodes, seed: seed)
                return report(returns, of: "the \(settings.algorithm) learner", on: settings.environment)
            }
            let evaluation = try CheckpointEvaluation(checkpoint: checkpoint)
            if video != nil || (render && !evaluation.rendersText) {
                let path = video ?? defaultVideoPath
                let (episodeReturn, frames) = try evaluation.record(seed: seed, to: path, fps: fps)
                print("recorded one episode (\(frames) frames, return \(String(format: "%.2f", episodeReturn))) to \(path)")
            } else if render {
                let episodeReturn = try evaluation.render(seed: seed) { frame, step, total in
                    print("\u{1B}[H\u{1B}[2J\(evaluation.environment)  step \(step)  return \(String(format: "%.1f", total))\n\(frame)")
                    Thread.sleep(forTimeInterval: frameDelay)
                }
                print("rendered episode return: \(String(format: "%.2f", episodeReturn))")
            }
            report(try evaluation.returns(episodes: episodes, seed: seed), of: evaluation.agent.id, on: evaluation.environment)
        }
    }

    private func report(_ returns: [Double], of agent: String, on environment: String) {
        let mean = returns.reduce(0, +) / Double(returns.count)
        let variance = returns.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Double(max(1, returns.count - 1))
        let standardError = (variance / Double(returns.count)).squareRoot()
        print("\(agent) on \(environment), \(returns.count) episodes: "
            + String(format: "%.2f ± %.2f (standard error), min %.2f, max %.2f", mean, standardError, returns.min()!, returns.max()!))
    }
}
