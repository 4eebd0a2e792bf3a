import Foundation
@testable import ColonyEnvironments

/// A file written by `record_gymnasium.py`: Gymnasium trajectories to replay.
struct Recording: Decodable {
    struct Render: Decodable {
        var state: [Double]
        var text: String
    }

    struct Trajectory: Decodable {
        var segments: [Segment]
    }

    /// A stretch of steps from one starting state, ending when its episode ends (or the file's
    /// step budget is used up).
    struct Segment: Decodable {
        var kind: String
        var state: [Double]
        var elapsedSteps: Int
        var observation: [Double]
        var actions: [RecordedAction]
        var observations: [[Double]]
        var rewards: [Double]
        var terminated: [Int]
        var truncated: [Int]
        var states: [[Double]]

        enum CodingKeys: String, CodingKey {
            case kind, state, observation, actions, observations, rewards, terminated, truncated, states
            case elapsedSteps = "elapsed_steps"
        }
    }

    enum RecordedAction: Decodable {
        case discrete(Int)
        case continuous([Double])

        init(from decoder: Decoder) throws {
            let container = try decoder.singleValueContainer()
            if let index = try? container.decode(Int.self) {
                self = .discrete(index)
            } else {
                self = .continuous(try container.decode([Double].self))
            }
        }

        var action: Action {
            switch self {
            case .discrete(let index): return .discrete(index)
            case .continuous(let values): return .continuous(values.map { Float($0) })
            }
        }
    }

    var id: String
    var gymnasiumVersion: String
    var maxEpisodeSteps: Int?
    var render: Render?
    var trajectories: [Trajectory]

    enum CodingKeys: String, CodingKey {
        case id, render, trajectories
        case gymnasiumVersion = "gymnasium_version"
        case maxEpisodeSteps = "max_episode_steps"
    }

    static func load(_ id: String) throws -> Recording {
        guard let url = Bundle.module.url(forResource: id, withExtension: "json", subdirectory: "Recordings") else {
            throw CocoaError(.fileNoSuchFile, userInfo: [NSFilePathErrorKey: "Recordings/\(id).json"])
        }
        return try JSONDecoder().decode(Recording.self, from: Data(contentsOf: url))
    }
}
