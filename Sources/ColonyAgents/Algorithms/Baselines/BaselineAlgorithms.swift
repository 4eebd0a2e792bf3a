/// Registrations of the baselines: policies that do not learn, against which learning is measured.
enum BaselineAlgorithms {
    static let all: [AlgorithmRegistration] = [
        AlgorithmRegistration(schema: RandomAgent.schema) { configuration, context in
            RandomAgent(configuration: configuration, context: context)
        },
    ]
}
