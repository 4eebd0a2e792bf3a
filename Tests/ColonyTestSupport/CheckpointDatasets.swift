import ColonyStorage

/// Every Float dataset under `group` of an HDF5 file (a checkpoint's `agent`), by path: what tests compare
/// between two checkpoints of one agent.
public func floatDatasets(_ file: HDF5File, under group: String = "agent") throws -> [String: [Float]] {
    var result: [String: [Float]] = [:]
    for name in try file.members(of: group) {
        let path = group + "/" + name
        if let children = try? file.members(of: path), !children.isEmpty {
            result.merge(try floatDatasets(file, under: path)) { first, _ in first }
        } else if let values = try? file.read(Float.self, at: path).values {
            result[path] = values
        }
    }
    return result
}
