/// Why a saved optimizer state cannot be restored, e.g. a checkpoint from another configuration.
public enum OptimizerStateError: Error, Equatable, CustomStringConvertible {
    case negativeStepCount(Int)
    case missingBuffer(String)
    case unexpectedBuffer(String)
    case mismatchedLengths

    public var description: String {
        switch self {
        case .negativeStepCount(let count): "optimizer state has a negative step count (\(count))"
        case .missingBuffer(let name): "optimizer state lacks buffer '\(name)'"
        case .unexpectedBuffer(let name): "optimizer state has buffer '\(name)', which this optimizer does not use"
        case .mismatchedLengths: "optimizer state buffers differ in length"
        }
    }
}
