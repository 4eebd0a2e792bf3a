/// Registrations of this family's algorithms.
enum ValueBasedAlgorithms {
    static let all: [AlgorithmRegistration] = []
}
