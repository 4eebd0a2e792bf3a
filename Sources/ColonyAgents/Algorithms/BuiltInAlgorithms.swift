/// The algorithms Colony ships, registered in `Agents` at first use.
enum BuiltInAlgorithms {
    static let all: [AlgorithmRegistration] = []
}
