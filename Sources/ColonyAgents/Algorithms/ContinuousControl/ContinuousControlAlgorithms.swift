/// Registrations of this family's algorithms.
enum ContinuousControlAlgorithms {
    static let all: [AlgorithmRegistration] = []
}
