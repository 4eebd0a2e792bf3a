/// Registrations of this family's algorithms.
enum OnPolicyAlgorithms {
    static let all: [AlgorithmRegistration] = []
}
