import ArgumentParser
import ColonyExperiments

@main
struct Colony: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "colony",
        abstract: "Train, evaluate and compare reinforcement-learning agents, in one process or across many.",
        discussion: """
        Start here:
          colony train --agent ppo --env CartPole-v1        train in one process, logs under runs/ppo/CartPole-v1/seed-1/
          colony algorithms                                  the agents, and `colony config ppo` for every knob of one
          colony envs                                        the environments
          colony eval --checkpoint runs/ppo/CartPole-v1/seed-1/checkpoints/latest.h5
          colony experiment run --agents dqn,ppo --envs CartPole-v1,Acrobot-v1 --seeds 3 --frames 100000
          colony plot runs -o curves.svg

        A run directory holds returns100.csv (the autonomous-learning-library's format), TensorBoard event
        files (`tensorboard --logdir runs`), HDF5 checkpoints (h5py opens them) and config.toml, the
        effective configuration. Running the same command again resumes from the latest checkpoint.
        """,
        subcommands: [Train.self, Evaluate.self, Algorithms.self, ShowConfiguration.self, Envs.self, Experiment.self, Population.self, Plot.self, Cluster.self, Status.self, Keys.self]
    )
}
