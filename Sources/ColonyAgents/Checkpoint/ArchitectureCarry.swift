import ColonyNumerics
import ColonyStorage
import Foundation

/// Resuming a checkpoint under a new architecture (a population member whose `hidden_sizes` mutated): the layer-stack
/// entries of the file are carried into the shapes of the agent that resumes, keeping every weight, bias and optimizer
/// moment that has a place in the new stacks (AgileRL's `preserve_parameters`); new units and layers keep the agent's
/// own fresh initialization, their moments start at zero. Everything else of the file (replay, counters, random
/// streams) is loaded as it is.
public enum ArchitectureCarry {
    /// The values of `agent`'s resizable keys in a checkpoint's saved configuration that differ from the agent's own.
    public static func changedValues(savedConfiguration toml: String, for agent: any ParallelAgent) -> [String: ConfigurationValue] {
        changedValues(savedConfiguration: toml, for: agent.configuration)
    }

    /// The values of `configuration`'s resizable keys in a saved configuration (TOML) that differ from its own.
    public static func changedValues(savedConfiguration toml: String, for configuration: Configuration) -> [String: ConfigurationValue] {
        var changed: [String: ConfigurationValue] = [:]
        for line in toml.split(separator: "\n") {
            for name in configuration.schema.resizable where line.hasPrefix("\(name) = ") {
                guard let kind = configuration.schema.key(name)?.kind,
                      let saved = ConfigurationValue.parse(String(line.dropFirst(name.count + 3)), as: kind) else { continue }
                if saved != configuration.value(name) { changed[name] = saved }
            }
        }
        return changed
    }

    /// Writes to `destination` a copy of the checkpoint at `path`, saved with `savedValues` of the resizable keys,
    /// whose layer-stack entries have `agent`'s shapes. The agent the file was saved from is rebuilt (same spaces,
    /// `environments` and `seed`) to learn its shapes.
    public static func carry(checkpoint path: String, savedValues: [String: ConfigurationValue], into destination: String,
                             for agent: any ArchitectureResizing, environments: Int, seed: UInt64) throws {
        let saved = try agent.configuration.overriding(savedValues)
        let savedAgent = try Agents.makeParallel(
            saved, observationSpace: agent.observationSpace, actionSpace: agent.actionSpace, environments: environments, seed: seed)
        try carry(checkpoint: path, group: "agent", saved: (savedAgent as? any ArchitectureResizing)?.layerStackEntries ?? [],
                  into: destination, entries: agent.layerStackEntries, owner: "\(agent.id) with \(savedValues)")
    }

    /// Writes to `destination` a copy of the checkpoint at `path` whose layer-stack entries under `group`, laid out as
    /// `saved` (the networks the file was saved from), take the shapes of `entries`; `owner` names the saved networks
    /// in errors. Agents' checkpoints keep their entries under `agent`, cluster learners' under their own group.
    public static func carry(checkpoint path: String, group: String, saved: [LayerStackEntry], into destination: String,
                             entries: [LayerStackEntry], owner: String) throws {
        let savedEntries = Dictionary(uniqueKeysWithValues: saved.map { ($0.path, $0) })
        if FileManager.default.fileExists(atPath: destination) { try FileManager.default.removeItem(atPath: destination) }
        try FileManager.default.copyItem(atPath: path, toPath: destination)
        let file = try HDF5File.open(destination, mode: .readWrite)
        defer { file.close() }
        let reader = CheckpointReader(file: file, prefix: group)
        for entry in entries {
            guard let before = savedEntries[entry.path] else {
                throw AgentError("\(owner) has no checkpoint entry \(entry.path) to carry into the new architecture")
            }
            var names = [entry.path]
            if entry.fresh == nil {
                // An optimizer's group: every moment buffer (an optimizer that never stepped has none).
                guard reader.contains(entry.path) else { continue }
                names = try file.members(of: reader.path(entry.path)).filter { $0 != "step" }.map { entry.path + "/" + $0 }
            }
            for name in names {
                let values = try reader.floats(name)
                guard values.count == before.count else {
                    throw CheckpointError.shapeMismatch(entry: reader.path(name), expected: before.count, found: values.count)
                }
                var carried = entry.fresh ?? [Float](repeating: 0, count: entry.count)
                LayerStackCarry.carry(values, layers: before.layers, into: &carried, layers: entry.layers)
                try file.write(carried, at: reader.path(name))
            }
        }
    }
}
