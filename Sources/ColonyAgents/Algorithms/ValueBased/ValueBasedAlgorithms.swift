/// Registrations of this family's algorithms.
enum ValueBasedAlgorithms {
    static let all: [AlgorithmRegistration] = [
        AlgorithmRegistration(schema: DQN.schema, factory: { configuration, context in try DQN(configuration: configuration, context: context) }),
        AlgorithmRegistration(schema: QLearning.schema, factory: { configuration, context in try QLearning(configuration: configuration, context: context) }),
    ]
}
