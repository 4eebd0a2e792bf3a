/// The algorithms Colony ships, registered in `Agents` at first use.
enum BuiltInAlgorithms {
    static var all: [AlgorithmRegistration] {
        OnPolicyAlgorithms.all + ValueBasedAlgorithms.all + ContinuousControlAlgorithms.all + BaselineAlgorithms.all
    }
}
