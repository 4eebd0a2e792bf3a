import ColonyAgents
import ColonyEnvironments

/// What a population run trains and how it evolves (`colony pbt run`). Saved in population.json, so a
/// rerun resumes only the same population.
public struct PopulationSettings: Codable, Sendable, Equatable {
    public var agent: String
    public var environment: String
    /// Members, each a run in its own slot.
    public var size: Int
    /// Frames each member trains between two generation boundaries.
    public var interval: Int
    /// Boundaries (evaluate → select → copy → mutate) before the run ends; every member trains
    /// `interval × (generations + 1)` frames.
    public var generations: Int
    /// "truncation" or "tournament".
    public var selection: String
    public var quantile: Double
    public var tournamentSize: Int
    public var elitism: Bool
    /// `--mutate` specifications as given (`learning_rate=log:1e-5..1e-1`).
    public var mutations: [String]
    public var resampleProbability: Double
    /// Start every member at values drawn from the mutation ranges (PBT's initial spread) rather than the
    /// configuration's own.
    public var initialSpread: Bool
    public var evaluationEpisodes: Int
    /// Fitness episodes are seeded from this, the same for every member and generation.
    public var evaluationSeed: UInt64
    public var seed: UInt64
    /// `--set key=value` assignments every member starts from.
    public var overrides: [String]
    /// "own" (each member keeps its replay buffer) or "shared" (one buffer that every member fills and samples
    /// from, as AgileRL and SEARL share theirs); shared needs an agent with a replay buffer and members trained in turn.
    public var replay: String
    /// The run ends at the first boundary where the best member's fitness reaches this (AgileRL's `target`).
    public var targetFitness: Double?
    /// σ of the Gaussian noise added to every parameter of a mutated member's acting network (0: none;
    /// AgileRL's parameter mutation).
    public var parameterNoise: Double
    /// The cluster file every member trains as (`colony pbt run --cluster FILE`): each member is a cluster learner with
    /// its own coordinator and workers; nil: members are single-process runs.
    public var cluster: String?

    public static let sizeRange = 2...1024
    public static let generationsRange = 1...100_000
    public static let intervalRange = 1...1_000_000_000_000
    public static let evaluationEpisodesRange = 1...100_000

    public init(
        agent: String, environment: String, size: Int, interval: Int, generations: Int, selection: String = "truncation",
        quantile: Double = 0.25, tournamentSize: Int = 2, elitism: Bool = true, mutations: [String] = [], resampleProbability: Double = 0.25,
        initialSpread: Bool = true, evaluationEpisodes: Int = 10, evaluationSeed: UInt64 = 1_000_000, seed: UInt64 = 1, overrides: [String] = [],
        replay: String = "own", targetFitness: Double? = nil, parameterNoise: Double = 0, cluster: String? = nil
    ) {
        (self.agent, self.environment, self.size, self.interval, self.generations) = (agent, environment, size, interval, generations)
        (self.selection, self.quantile, self.tournamentSize, self.elitism) = (selection, quantile, tournamentSize, elitism)
        (self.mutations, self.resampleProbability, self.initialSpread) = (mutations, resampleProbability, initialSpread)
        (self.evaluationEpisodes, self.evaluationSeed, self.seed, self.overrides) = (evaluationEpisodes, evaluationSeed, seed, overrides)
        (self.replay, self.targetFitness, self.parameterNoise, self.cluster) = (replay, targetFitness, parameterNoise, cluster)
    }

    private enum CodingKeys: String, CodingKey {
        case agent, environment, size, interval, generations, selection, quantile, tournamentSize, elitism, mutations, resampleProbability
        case initialSpread, evaluationEpisodes, evaluationSeed, seed, overrides, replay, targetFitness, parameterNoise, cluster
    }

    /// Reads population.json files written before `replay`, `targetFitness`, `parameterNoise` and `cluster` existed as
    /// "own", none, 0 and none.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        self.init(
            agent: try container.decode(String.self, forKey: .agent), environment: try container.decode(String.self, forKey: .environment),
            size: try container.decode(Int.self, forKey: .size), interval: try container.decode(Int.self, forKey: .interval),
            generations: try container.decode(Int.self, forKey: .generations), selection: try container.decode(String.self, forKey: .selection),
            quantile: try container.decode(Double.self, forKey: .quantile), tournamentSize: try container.decode(Int.self, forKey: .tournamentSize),
            elitism: try container.decode(Bool.self, forKey: .elitism), mutations: try container.decode([String].self, forKey: .mutations),
            resampleProbability: try container.decode(Double.self, forKey: .resampleProbability),
            initialSpread: try container.decode(Bool.self, forKey: .initialSpread),
            evaluationEpisodes: try container.decode(Int.self, forKey: .evaluationEpisodes),
            evaluationSeed: try container.decode(UInt64.self, forKey: .evaluationSeed), seed: try container.decode(UInt64.self, forKey: .seed),
            overrides: try container.decode([String].self, forKey: .overrides),
            replay: try container.decodeIfPresent(String.self, forKey: .replay) ?? "own",
            targetFitness: try container.decodeIfPresent(Double.self, forKey: .targetFitness),
            parameterNoise: try container.decodeIfPresent(Double.self, forKey: .parameterNoise) ?? 0,
            cluster: try container.decodeIfPresent(String.self, forKey: .cluster))
    }

    /// Whether every member samples from one shared replay buffer.
    public var sharesReplay: Bool { replay == "shared" }

    /// The selection rule these settings name.
    public var rule: SelectionRule {
        selection == "tournament" ? .tournament(size: tournamentSize, elitism: elitism) : .truncation(quantile: quantile)
    }

    /// The parsed mutations (checked by `validate`).
    public func parsedMutations() throws -> [HyperparameterMutation] { try mutations.map(HyperparameterMutation.init(parsing:)) }

    /// Checks every field and the agent's acceptance of the overrides and mutations; each problem is one
    /// error that says what to change.
    public func validate() throws {
        guard Agents.list().contains(agent) else {
            throw PopulationError("unknown agent '\(agent)'; `colony agents` lists them")
        }
        guard Self.sizeRange.contains(size) else { throw PopulationError("--population must be in \(Self.sizeRange), not \(size)") }
        guard Self.intervalRange.contains(interval) else { throw PopulationError("--interval must be in 1...10^12 frames, not \(interval)") }
        guard Self.generationsRange.contains(generations) else {
            throw PopulationError("--generations must be in \(Self.generationsRange), not \(generations)")
        }
        switch selection {
        case "truncation":
            guard (0...0.5).contains(quantile) else { throw PopulationError("--quantile must be in 0...0.5 (0: no evolution), not \(quantile)") }
        case "tournament":
            guard (1...size).contains(tournamentSize) else {
                throw PopulationError("--tournament-size must be in 1...\(size) (the population), not \(tournamentSize)")
            }
        default:
            throw PopulationError("--selection must be truncation or tournament, not '\(selection)'")
        }
        guard (0...1).contains(resampleProbability) else {
            throw PopulationError("--resample-probability must be in 0...1, not \(resampleProbability)")
        }
        guard Self.evaluationEpisodesRange.contains(evaluationEpisodes) else {
            throw PopulationError("--eval-episodes must be in \(Self.evaluationEpisodesRange), not \(evaluationEpisodes)")
        }
        let schema = try Agents.schema(agent)
        switch replay {
        case "own": break
        case "shared":
            guard Agents.sharesReplay(agent) else {
                throw PopulationError("--replay shared needs an agent with a replay buffer (\(Agents.list().filter(Agents.sharesReplay).joined(separator: ", "))), not \(agent); use --replay own")
            }
        default:
            throw PopulationError("--replay must be own or shared, not '\(replay)'")
        }
        guard parameterNoise.isFinite, (0...10).contains(parameterNoise) else {
            throw PopulationError("--parameter-noise must be in 0...10 (0: none), not \(parameterNoise)")
        }
        guard parameterNoise == 0 || Agents.perturbsParameters(agent) else {
            throw PopulationError("--parameter-noise needs an agent with a network (\(Agents.list().filter(Agents.perturbsParameters).joined(separator: ", "))), not \(agent)")
        }
        if let targetFitness, !targetFitness.isFinite { throw PopulationError("--target-fitness must be a finite number, not \(targetFitness)") }
        let parsed = try parsedMutations()
        var seen = Set<String>()
        for mutation in parsed {
            guard seen.insert(mutation.key).inserted else { throw PopulationError("--mutate names \(mutation.key) twice") }
            try mutation.check(against: schema)
        }
        if cluster != nil {
            guard !sharesReplay else { throw PopulationError("--replay shared is for members in one process; cluster members keep their own replay") }
        }
        _ = try baseConfiguration()
    }

    /// The configuration every member starts from: the agent's defaults with `overrides`.
    public func baseConfiguration() throws -> Configuration {
        try ConfigurationSources(assignments: overrides).resolve(agent: agent)
    }
}
