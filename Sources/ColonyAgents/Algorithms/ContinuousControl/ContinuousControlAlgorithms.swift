/// Registrations of this family's algorithms.
enum ContinuousControlAlgorithms {
    static let all: [AlgorithmRegistration] = [
        AlgorithmRegistration(schema: SAC.schema, factory: { configuration, context in try SAC(configuration: configuration, context: context) }),
        AlgorithmRegistration(schema: TD3.schema, factory: { configuration, context in try TD3(configuration: configuration, context: context) }),
        AlgorithmRegistration(schema: DDPG.schema, factory: { configuration, context in try DDPG(configuration: configuration, context: context) }),
    ]
}
