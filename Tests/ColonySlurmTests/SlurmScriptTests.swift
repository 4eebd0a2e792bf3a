import ColonyCluster
import ColonyExperiments
import ColonyStorage
import Foundation
import XCTest

/// What needs no cluster: array plans, scripts, options, grid files, the index mapping and how a cell's
/// state follows from the queue and its files.
final class SlurmScriptTests: XCTestCase {
    func testArraySpecificationCompressesRuns() {
        XCTAssertEqual(SlurmArray(offset: 0, taskIDs: Array(0...7)).specification(throttle: nil), "0-7")
        XCTAssertEqual(SlurmArray(offset: 0, taskIDs: Array(0...7)).specification(throttle: 3), "0-7%3")
        XCTAssertEqual(SlurmArray(offset: 0, taskIDs: [9, 1, 2, 3, 7, 10]).specification(throttle: nil), "1-3,7,9-10")
        XCTAssertEqual(SlurmArray(offset: 0, taskIDs: [5]).specification(throttle: 2), "5%2")
    }

    func testGridsLargerThanMaxArraySizeBecomeSeveralArrays() {
        let arrays = SlurmArray.covering(Array(0..<12), maxArraySize: 5)
        XCTAssertEqual(arrays.map(\.offset), [0, 5, 10])
        XCTAssertEqual(arrays.map { $0.specification(throttle: nil) }, ["0-4", "0-4", "0-1"])
        XCTAssertEqual(arrays.flatMap(\.cells), Array(0..<12))
        // A sparse resubmission keeps every task id below MaxArraySize.
        let sparse = SlurmArray.covering([2500, 3, 1001, 3], maxArraySize: 1001)
        XCTAssertEqual(sparse.map(\.offset), [0, 1001, 2002])
        XCTAssertEqual(sparse.map(\.taskIDs), [[3], [0], [498]])
        XCTAssertTrue(sparse.allSatisfy { $0.taskIDs.allSatisfy { $0 < 1001 } })
    }

    func testDistributedScriptAsksForNodesAndLaunchesLikeTheClusterScript() throws {
        var options = SlurmOptions()
        options.distributed = DistributedLayout(nodes: 3, workersPerNode: 2)
        options.signalLead = 300
        options.maxRequeues = 7
        try options.validate()
        let context = SlurmArrayScript.Context(gridName: "d", experimentDirectory: "/runs/d", workingDirectory: "/w", executable: "/bin/colony")
        let script = try SlurmArrayScript(template: SlurmArrayScript.distributedTemplate)
            .render(array: SlurmArray(offset: 0, taskIDs: [0]), options: options, context: context)
        let directives = script.split(separator: "\n").filter { $0.hasPrefix("#SBATCH ") }.map { String($0.dropFirst(8)) }
        XCTAssertEqual(directives, [
            "--job-name=colony-d", "--array=0", "--output=/runs/d/slurm/logs/%A_%a.out", "--error=/runs/d/slurm/logs/%A_%a.err", "--open-mode=append",
            "--signal=B:USR1@300", "--requeue", "--chdir=/w", "--nodes=3", "--ntasks-per-node=2", "--cpus-per-task=1",
        ])
        for line in ["workers_per_node=2", "max_requeues=7", "config=/runs/d/slurm/cluster/$index.toml", "requeue_target=${SLURM_ARRAY_JOB_ID}_${SLURM_ARRAY_TASK_ID}",
                     "trap 'on_signal USR1' USR1", "scontrol requeue \"$requeue_target\"", "scancel --signal=TERM \"$SLURM_JOB_ID\"", "wait \"$learner\""] {
            XCTAssertTrue(script.contains(line), "\(line) in\n\(script)")
        }
        XCTAssertFalse(script.contains("{{"), "every placeholder is filled")
        XCTAssertEqual(options.distributed?.workers, 4)

        // slurm/cluster.sbatch launches the same way, line for line, from the head's address to the learner's exit,
        // and stops and requeues with the same lines.
        let plain = try String(contentsOfFile: LocalCluster.repositoryRoot + "/slurm/cluster.sbatch", encoding: .utf8)
        let lines = script.split(separator: "\n").drop { !$0.hasPrefix("mapfile") }.map { $0.trimmingCharacters(in: .whitespaces) }
        let launch = lines.filter { $0.hasPrefix("srun") || $0.hasPrefix("addr=") || $0.hasPrefix("port=") || $0.hasPrefix("bash -c") }
        XCTAssertEqual(launch.count, 8)
        XCTAssertEqual(launch.filter { $0.contains("colony-replay") }.count, 1)
        for line in launch { XCTAssertTrue(plain.contains(line), "slurm/cluster.sbatch lacks: \(line)") }
        let stopping = try XCTUnwrap(script.range(of: "# Stopping.").map { script[$0.lowerBound...] })
        let block = String(stopping[..<stopping.range(of: "trap 'on_signal INT' INT\n")!.upperBound])
        XCTAssertTrue(plain.contains(block), "slurm/cluster.sbatch stops and requeues as the template does:\n\(block)")
        for line in ["#SBATCH --signal=B:USR1@120", "#SBATCH --requeue", "grep -Eq '^algorithm *= *\"apex_' \"$config\""] {
            XCTAssertTrue(plain.contains(line), "slurm/cluster.sbatch lacks: \(line)")
        }
        options.distributed = DistributedLayout(nodes: 0, workersPerNode: 1)
        XCTAssertThrowsError(try options.validate())
    }

    /// `submit` decides which cells start colony-replay; the script only looks its index up.
    func testDistributedScriptStartsTheReplayServerForApexCellsOnly() throws {
        let root = try temporaryDirectory()
        let grid = ExperimentGrid(name: "mixed", agents: ["impala", "apex_dqn"], environments: ["CartPole-v1"], seeds: [1, 2], frames: 1000, runsRoot: root)
        var options = SlurmOptions()
        options.distributed = DistributedLayout(nodes: 2, workersPerNode: 1)
        let experiment = try SlurmExperiment(grid: grid)
        let plans = experiment.plan(cells: [0, 1, 2, 3], options: options, template: try SlurmArrayScript(template: SlurmArrayScript.distributedTemplate),
                                    executable: "/bin/colony", workingDirectory: root, maxArraySize: 3, batch: 0)
        XCTAssertEqual(plans.map(\.array.cells), [[0, 1, 2], [3]])
        XCTAssertTrue(plans[0].script.contains("\nreplay_cells=\" 2 \"\n"), plans[0].script)
        XCTAssertTrue(plans[1].script.contains("\nreplay_cells=\" 3 \"\n"), plans[1].script)

        // What the script does with it, run by bash for each index of the first array.
        for (task, expected) in [(0, "0"), (1, "0"), (2, "1")] {
            let lines = plans[0].script.split(separator: "\n").filter { $0.hasPrefix("index=") || $0.hasPrefix("replay_cells=") || $0.hasPrefix("if [[ $replay_cells") }
            let program = "SLURM_ARRAY_TASK_ID=\(task)\n" + lines.joined(separator: "\n") + "\necho $uses_replay\n"
            let result = try LocalCluster.shell(["bash", "-c", program])
            XCTAssertEqual(result.output.trimmingCharacters(in: .whitespacesAndNewlines), expected, "task \(task)")
        }
    }

    /// Each distributed cell's cluster file is one the learner accepts (`ClusterSettings`), with the replay
    /// server's settings for the apex algorithms, and the lists of algorithms agree with the cluster's.
    func testDistributedCellsWriteClusterFilesTheLearnerAccepts() throws {
        XCTAssertEqual(Set(SlurmExperiment.distributedAgents), Set(ClusterSettings.algorithms))
        XCTAssertEqual(SlurmExperiment.replayAgents, ClusterSettings.replayAlgorithms)
        let root = try temporaryDirectory()
        let layout = DistributedLayout(nodes: 3, workersPerNode: 2, environmentsPerWorker: 4)
        for (agent, environment) in [("impala", "CartPole-v1"), ("a3c", "CartPole-v1"), ("apex_dqn", "CartPole-v1"), ("apex_sac", "Pendulum-v1")] {
            let grid = ExperimentGrid(name: agent, agents: [agent], environments: [environment], seeds: [3], frames: 200_000, runsRoot: root, testEpisodes: 5)
            let experiment = try SlurmExperiment(grid: grid)
            let text = experiment.clusterFile(for: experiment.grid.cells[0], layout: layout, checkpointEvery: 50_000)
            let settings = try ClusterSettings(document: try TOMLDocument(parsing: text, source: agent), source: agent)
            XCTAssertEqual(settings.algorithm, agent)
            XCTAssertEqual(settings.frames, 200_000)
            XCTAssertEqual(settings.workers, 4)
            XCTAssertEqual(settings.environmentsPerWorker, 4)
            XCTAssertEqual(settings.checkpointInterval, 50_000)
            XCTAssertEqual(settings.runDirectory.path, experiment.grid.cells[0].runDirectory, "the learner writes the cell's run directory")
            XCTAssertEqual(settings.usesReplay, SlurmExperiment.replayAgents.contains(agent), agent)
            if let replay = settings.replay {
                XCTAssertEqual(replay.evaluationEpisodes, 5, "the grid's test episodes")
                XCTAssertEqual(replay.evaluationInterval, 20_000)
                XCTAssertEqual(replay.checkpointPath, experiment.grid.cells[0].runDirectory + "/replay.h5")
            }
        }
        let silent = ExperimentGrid(name: "silent", agents: ["apex_dqn"], environments: ["CartPole-v1"], seeds: [1], frames: 1000, runsRoot: root, testEpisodes: 0)
        let text = try SlurmExperiment(grid: silent).clusterFile(for: silent.cells[0], layout: layout, checkpointEvery: 0)
        XCTAssertEqual(try ClusterSettings(document: try TOMLDocument(parsing: text), source: "silent").replay?.evaluationInterval, 0)

        // A gym: cell's env.<key> overrides become the cluster file's [env] table, the rest [agent].
        var gym = ExperimentGrid(name: "gym", agents: ["impala"], environments: ["gym:ALE/Pong-v5"], seeds: [1], frames: 1000, runsRoot: root, testEpisodes: 0)
        gym.cells[0].overrides = ["env.hosts=2", "env.kwargs.frameskip=1", "env.wrappers=[\"FrameStackObservation(stack_size=4)\"]", "unroll_length=40"]
        let gymText = try SlurmExperiment(grid: gym).clusterFile(for: gym.cells[0], layout: layout, checkpointEvery: 0)
        let gymSettings = try ClusterSettings(document: try TOMLDocument(parsing: gymText), source: "gym")
        XCTAssertEqual(gymSettings.environmentSettings.id, "gym:ALE/Pong-v5", gymText)
        XCTAssertEqual(gymSettings.environmentSettings.hosts, 2, gymText)
        XCTAssertEqual(gymSettings.environmentSettings.kwargs["frameskip"], .int(1), gymText)
        XCTAssertEqual(gymSettings.environmentSettings.wrappers, ["FrameStackObservation(stack_size=4)"], gymText)
        XCTAssertEqual(gymSettings.configuration.int("unroll_length"), 40, gymText)
    }

    func testApexAgentsRunOnlyAsDistributedCells() throws {
        let root = try temporaryDirectory()
        let apex = ExperimentGrid(name: "a", agents: ["apex_dqn", "apex_sac"], environments: ["CartPole-v1"], seeds: [1], frames: 10, runsRoot: root)
        XCTAssertNoThrow(try SlurmExperiment.checkAgents(of: apex, distributed: true))
        XCTAssertThrowsError(try SlurmExperiment.checkAgents(of: apex, distributed: false)) {
            XCTAssertTrue("\($0)".contains("apex_dqn, apex_sac run only as a cluster"), "\($0)")
            XCTAssertTrue("\($0)".contains("--distributed"), "\($0)")
        }
        let single = ExperimentGrid(name: "s", agents: ["dqn", "impala"], environments: ["CartPole-v1"], seeds: [1], frames: 10, runsRoot: root)
        XCTAssertNoThrow(try SlurmExperiment.checkAgents(of: single, distributed: false))
        XCTAssertThrowsError(try SlurmExperiment.checkAgents(of: single, distributed: true)) { XCTAssertTrue("\($0)".contains("dqn cannot run distributed"), "\($0)") }
    }

    func testBuiltInTemplateIsTheOneInTheRepository() throws {
        let file = try String(contentsOfFile: LocalCluster.repositoryRoot + "/slurm/array.sbatch.template", encoding: .utf8)
        XCTAssertEqual(SlurmArrayScript.defaultTemplate, file, "slurm/array.sbatch.template and SlurmArrayScript.defaultTemplate must stay identical")
    }

    func testScriptHasEveryDirectiveAndExecsTheCell() throws {
        var options = SlurmOptions()
        options.partition = "cpu"
        options.time = "1:30:00"
        options.cpusPerTask = 2
        options.memory = "4G"
        options.throttle = 3
        options.sbatchArguments = ["--account=lab", "--exclusive"]
        options.signalLead = 300
        options.maxRequeues = 7
        options.checkpointEvery = 50_000
        let context = SlurmArrayScript.Context(
            gridName: "g", experimentDirectory: "/data/runs/g", workingDirectory: "/home/me", executable: "/opt/colony/bin/colony")
        let script = try SlurmArrayScript().render(array: SlurmArray(offset: 1001, taskIDs: [0, 1, 2, 5]), options: options, context: context)
        let directives = script.split(separator: "\n").filter { $0.hasPrefix("#SBATCH ") }.map { String($0.dropFirst(8)) }
        XCTAssertEqual(directives, [
            "--job-name=colony-g", "--array=0-2,5%3", "--output=/data/runs/g/slurm/logs/%A_%a.out", "--error=/data/runs/g/slurm/logs/%A_%a.err",
            "--open-mode=append", "--signal=B:USR1@300", "--requeue", "--chdir=/home/me", "--ntasks=1", "--cpus-per-task=2",
            "--partition=cpu", "--time=1:30:00", "--mem=4G", "--account=lab", "--exclusive",
        ])
        XCTAssertTrue(script.hasPrefix("#!/bin/bash\n"))
        XCTAssertTrue(script.contains("index=$(( SLURM_ARRAY_TASK_ID + 1001 ))"))
        XCTAssertTrue(script.contains("\nexec /opt/colony/bin/colony experiment cell /data/runs/g \"$index\" --max-requeues 7 --checkpoint-every 50000\n"))
        XCTAssertFalse(script.contains("{{"), "every placeholder is filled")
        // Directives must come before the first command, or sbatch ignores them.
        let firstCommand = script.split(separator: "\n").firstIndex { !$0.hasPrefix("#") && !$0.isEmpty }!
        let lastDirective = script.split(separator: "\n").lastIndex { $0.hasPrefix("#SBATCH") }!
        XCTAssertLessThan(lastDirective, firstCommand)
    }

    func testPathsWithSpacesAreQuoted() throws {
        let context = SlurmArrayScript.Context(gridName: "g", experimentDirectory: "/data/my runs/g", workingDirectory: "/home/me", executable: "/opt/it's/colony")
        let script = try SlurmArrayScript().render(array: SlurmArray(offset: 0, taskIDs: [0]), options: SlurmOptions(), context: context)
        XCTAssertTrue(script.contains("#SBATCH --output=\"/data/my runs/g/slurm/logs/%A_%a.out\""))
        XCTAssertTrue(script.contains("exec '/opt/it'\\''s/colony' experiment cell '/data/my runs/g' \"$index\""))
    }

    func testTemplateWithoutPlaceholdersIsRefused() {
        XCTAssertThrowsError(try SlurmArrayScript(template: "#!/bin/bash\necho hi\n"))
    }

    func testTimeLimits() {
        XCTAssertEqual(SlurmOptions.seconds(ofTimeLimit: "30"), 1800)
        XCTAssertEqual(SlurmOptions.seconds(ofTimeLimit: "10:30"), 630)
        XCTAssertEqual(SlurmOptions.seconds(ofTimeLimit: "2:00:00"), 7200)
        XCTAssertEqual(SlurmOptions.seconds(ofTimeLimit: "1-12"), 129_600)
        XCTAssertEqual(SlurmOptions.seconds(ofTimeLimit: "1-0:30"), 88_200)
        XCTAssertEqual(SlurmOptions.seconds(ofTimeLimit: "2-00:00:10"), 172_810)
        XCTAssertEqual(SlurmOptions.seconds(ofTimeLimit: "UNLIMITED"), 0)
        XCTAssertNil(SlurmOptions.seconds(ofTimeLimit: "an hour"))
        XCTAssertNil(SlurmOptions.seconds(ofTimeLimit: "1:2:3:4"))
    }

    func testOptionsValidation() {
        var options = SlurmOptions()
        XCTAssertNoThrow(try options.validate())
        options.time = "2"  // two minutes, pre-timeout signal 120 s before the end: at the start
        XCTAssertThrowsError(try options.validate()) { XCTAssertTrue("\($0)".contains("--signal-lead")) }
        options.time = "10"
        XCTAssertNoThrow(try options.validate())
        options.sbatchArguments = ["account=lab"]
        XCTAssertThrowsError(try options.validate()) { XCTAssertTrue("\($0)".contains("--sbatch-arg=--account=lab")) }
        for argument in ["--job-name=x", "-Jx", "--array=0-3", "-a", "-a0-3"] {
            options.sbatchArguments = [argument]
            XCTAssertThrowsError(try options.validate(), argument)
        }
        options.sbatchArguments = ["--account=lab", "--exclusive", "-A", "lab"]
        XCTAssertThrowsError(try options.validate(), "a value must be attached: -A lab is two arguments")
        options.sbatchArguments = ["--account=lab", "--exclusive", "-Alab"]
        XCTAssertNoThrow(try options.validate())
        options.sbatchArguments = []
        options.throttle = 0
        XCTAssertThrowsError(try options.validate())
    }

    func testIndexMappingIsAgentsThenEnvironmentsThenSeedsAndTheManifestDecodesAnyIndex() throws {
        let root = try temporaryDirectory()
        let grid = ExperimentGrid(name: "map", agents: ["a", "b"], environments: ["E1", "E2", "E3"], seeds: [1, 2], frames: 10, runsRoot: root)
        for (index, cell) in grid.cells.enumerated() {
            let agent = index / (3 * 2), environment = index / 2 % 3, seed = index % 2
            XCTAssertEqual(cell.index, index)
            XCTAssertEqual(cell.agent, ["a", "b"][agent])
            XCTAssertEqual(cell.environment, ["E1", "E2", "E3"][environment])
            XCTAssertEqual(cell.seed, [1, 2][seed])
        }
        try grid.writeManifest()
        // Wherever the directory is read from, every index decodes to the same cell and its run directory.
        let moved = root + "/elsewhere"
        try FileManager.default.moveItem(atPath: root + "/map", toPath: moved)
        let experiment = try SlurmExperiment(directory: moved)
        XCTAssertEqual(try experiment.cell(7).agent, "b")
        XCTAssertEqual(try experiment.cell(7).environment, "E1")
        XCTAssertEqual(try experiment.cell(7).seed, 2)
        XCTAssertEqual(try experiment.cell(7).runDirectory, moved + "/b/E1/seed-2")
        XCTAssertThrowsError(try experiment.cell(12))
    }

    func testGridFileWithPerCellOverridesAndSlurmTable() throws {
        let root = try temporaryDirectory()
        let path = root + "/grid.toml"
        try """
        name = "classic"
        agents = ["random", "other"]
        envs = ["CartPole-v1", "Acrobot-v1"]
        seeds = [1, 7]
        frames = 5000
        test_episodes = 3

        [overrides.random]
        num_envs = 2
        [overrides."random/Acrobot-v1"]
        num_envs = 3
        [overrides."random/Acrobot-v1/7"]
        num_envs = 4

        [slurm]
        partition = "cpu"
        time = "1:00:00"
        throttle = 4
        sbatch_args = ["--account=lab"]
        """.write(toFile: path, atomically: true, encoding: .utf8)
        let file = try GridFile(path: path)
        let grid = try ExperimentGrid.make(
            name: file.name!, agents: file.agents!, environments: file.environments!, seeds: file.seeds!, frames: file.frames!,
            runsRoot: root, overrides: file.overrides, testEpisodes: file.testEpisodes!)
        XCTAssertEqual(grid.cells.count, 8)
        XCTAssertEqual(grid.cells[0].overrides, ["num_envs=2"])                                          // random CartPole 1
        XCTAssertEqual(grid.cells[2].overrides, ["num_envs=2", "num_envs=3"])                            // random Acrobot 1
        XCTAssertEqual(grid.cells[3].overrides, ["num_envs=2", "num_envs=3", "num_envs=4"])              // random Acrobot 7
        XCTAssertEqual(grid.cells[4].overrides, [])                                                      // other
        XCTAssertEqual(try ConfigurationSources(assignments: grid.cells[3].overrides).resolve(agent: "random").int("num_envs"), 4)
        var options = SlurmOptions()
        try options.apply(table: file.slurm, source: path)
        XCTAssertEqual(options.partition, "cpu")
        XCTAssertEqual(options.time, "1:00:00")
        XCTAssertEqual(options.throttle, 4)
        XCTAssertEqual(options.sbatchArguments, ["--account=lab"])

        XCTAssertThrowsError(try ExperimentGrid.make(name: "x", agents: ["random"], environments: ["CartPole-v1"], seeds: [1], frames: 1,
                                                     runsRoot: root, overrides: ["random/Acrobot-v1": ["num_envs=2"]], testEpisodes: 0))
        try "agents = [\"random\"]\nenvs = [\"CartPole-v1\"]\n[slurm]\nthrotle = 4\n".write(toFile: path, atomically: true, encoding: .utf8)
        var unknown = SlurmOptions()
        XCTAssertThrowsError(try unknown.apply(table: try GridFile(path: path).slurm, source: path)) { XCTAssertTrue("\($0)".contains("throttle")) }
    }

    /// `[env]` reaches every gym: cell (first, so per-cell overrides win), never a native one; targets
    /// name Gymnasium ids whole although they contain "/".
    func testGridFileEnvTableGoesToGymCellsAndTargetsMayNameNamespacedIds() throws {
        let root = try temporaryDirectory()
        let path = root + "/grid.toml"
        try """
        agents = ["ppo"]
        envs = ["CartPole-v1", "gym:ALE/Pong-v5"]
        seeds = [1, 2]

        [env]
        hosts = 2
        wrappers = ["FrameStackObservation(stack_size=4)"]
        [env.kwargs]
        frameskip = 4

        [overrides."ppo/gym:ALE/Pong-v5/2"]
        env.hosts = 1
        """.write(toFile: path, atomically: true, encoding: .utf8)
        let file = try GridFile(path: path)
        XCTAssertEqual(file.environment, ["env.hosts=2", "env.wrappers=[\"FrameStackObservation(stack_size=4)\"]", "env.kwargs.frameskip=4"])
        let grid = try ExperimentGrid.make(
            name: "g", agents: file.agents!, environments: file.environments!, seeds: file.seeds!, frames: 1000, runsRoot: root,
            overrides: file.overrides, environment: file.environment, testEpisodes: 0)
        XCTAssertEqual(grid.cells.map(\.environment), ["CartPole-v1", "CartPole-v1", "gym:ALE/Pong-v5", "gym:ALE/Pong-v5"])
        XCTAssertEqual(grid.cells[0].overrides, [], "native cells take no host settings")
        XCTAssertEqual(grid.cells[2].overrides, file.environment)
        XCTAssertEqual(grid.cells[3].overrides, file.environment + ["env.hosts=1"])
        let settings = try XCTUnwrap(ConfigurationSources(assignments: grid.cells[3].overrides).environmentSettings(id: "gym:ALE/Pong-v5"))
        XCTAssertEqual(settings.hosts, 1)
        XCTAssertEqual(settings.wrappers, ["FrameStackObservation(stack_size=4)"])
        XCTAssertEqual(settings.kwargs["frameskip"], .int(4))
        XCTAssertTrue(grid.cells[2].runDirectory.hasSuffix("/ppo/gym-ALE-Pong-v5/seed-1"), grid.cells[2].runDirectory)

        XCTAssertThrowsError(try ExperimentGrid.make(name: "x", agents: ["ppo"], environments: ["gym:ALE/Pong-v5"], seeds: [1], frames: 1,
                                                     runsRoot: root, overrides: ["ppo/gym:ALE/Pong-v5/3": ["num_envs=2"]], testEpisodes: 0)) {
            XCTAssertTrue("\($0)".contains("match no cell"), "\($0)")
        }
        XCTAssertThrowsError(try ExperimentGrid.make(name: "x", agents: ["ppo"], environments: ["CartPole-v1"], seeds: [1], frames: 1,
                                                     runsRoot: root, overrides: [:], environment: ["env.hosts=2"], testEpisodes: 0)) {
            XCTAssertTrue("\($0)".contains("gym:"), "\($0)")
        }
        try "agents = [\"ppo\"]\nenvs = [\"gym:CartPole-v1\"]\n[env]\nhost = 2\n".write(toFile: path, atomically: true, encoding: .utf8)
        XCTAssertThrowsError(try GridFile(path: path)) { XCTAssertTrue("\($0)".contains("unknown key 'host' in [env]"), "\($0)") }
    }

    /// The five states, from the queue while Slurm lists a task and from status.json after it has left.
    func testCellStateFromQueueAndStatusFiles() {
        func status(_ state: RunStatus.State, _ frames: Int = 50) -> RunStatus { RunStatus(state: state, frames: frames, totalFrames: 100, episodes: 1) }
        func queue(_ state: String, _ reason: String = "None") -> SlurmQueueEntry { SlurmQueueEntry(arrayJobID: "7", taskID: 1, state: state, reason: reason, jobName: "colony-g") }
        func state(_ file: RunStatus?, _ entry: SlurmQueueEntry?, known: Bool = true, submitted: Bool = true, cancelled: Bool = false) -> CellState {
            SlurmExperiment.state(status: file, totalFrames: 100, queue: entry, queueKnown: known, submitted: submitted, cancelled: cancelled).0
        }
        // In the queue.
        XCTAssertEqual(state(nil, queue("PENDING", "Resources")), .pending)
        XCTAssertEqual(state(status(.failed), queue("PENDING")), .pending, "resubmitted after a failure")
        XCTAssertEqual(state(status(.requeued), queue("PENDING", "BeginTime")), .requeued)
        XCTAssertEqual(state(status(.requeued), queue("COMPLETING")), .requeued)
        XCTAssertEqual(state(nil, queue("RUNNING")), .running)
        XCTAssertEqual(state(status(.running), queue("RUNNING")), .running)
        XCTAssertEqual(state(status(.done, 100), queue("COMPLETING")), .done)
        XCTAssertEqual(state(status(.done, 100), queue("COMPLETED")), .done)
        XCTAssertEqual(state(status(.running), queue("TIMEOUT")), .failed)
        XCTAssertEqual(state(nil, queue("FAILED")), .failed)
        // Gone from the queue (purged after MinJobAge; no accounting needed): the files decide.
        XCTAssertEqual(state(status(.done, 100), nil), .done)
        XCTAssertEqual(state(status(.failed), nil), .failed)
        XCTAssertEqual(state(status(.running), nil), .failed, "ended without saying so: killed")
        XCTAssertEqual(state(status(.requeued), nil), .failed, "requeued, then cancelled while pending")
        XCTAssertEqual(state(nil, nil), .failed, "ended before training began")
        XCTAssertEqual(state(nil, nil, cancelled: true), .failed)
        XCTAssertEqual(state(nil, nil, submitted: false), .unsubmitted)
        // Slurm unreachable: the files alone.
        XCTAssertEqual(state(status(.running), nil, known: false), .running)
        XCTAssertEqual(state(status(.requeued), nil, known: false), .requeued)
        XCTAssertEqual(state(nil, nil, known: false), .pending)
        XCTAssertEqual(state(status(.done, 100), nil, known: false), .done)
    }

    private func temporaryDirectory() throws -> String {
        let path = NSTemporaryDirectory() + "colony-slurm-unit-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        addTeardownBlock { try? FileManager.default.removeItem(atPath: path) }
        return path
    }
}
