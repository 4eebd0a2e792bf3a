/// Registrations of this family's algorithms.
enum OnPolicyAlgorithms {
    static let all: [AlgorithmRegistration] = [
        AlgorithmRegistration(schema: PPO.schema, factory: { configuration, context in try PPO(configuration: configuration, context: context) }),
        AlgorithmRegistration(schema: A2C.schema, factory: { configuration, context in try A2C(configuration: configuration, context: context) }),
        AlgorithmRegistration(schema: IMPALA.schema, factory: { configuration, context in try IMPALA(configuration: configuration, context: context) }),
    ]
}
