/// An HDF5 call failed; carries the C function and the object path so the message says what and where.
public struct HDF5Error: Error, CustomStringConvertible, Sendable, Equatable {
    public let function: String
    public let path: String
    public let detail: String

    public init(function: String, path: String, detail: String = "") {
        self.function = function
        self.path = path
        self.detail = detail
    }

    public var description: String {
        let suffix = detail.isEmpty ? "" : ": \(detail)"
        return "HDF5 \(function) failed for '\(path)'\(suffix)"
    }
}
