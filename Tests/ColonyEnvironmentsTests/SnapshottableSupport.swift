import XCTest
@testable import ColonyEnvironments

/// The registered environment `id` as a `SnapshottableEnvironment` (every built-in one is), for
/// tests that set its exact state or random stream.
func makeSnapshottable(_ id: String, seed: UInt64, file: StaticString = #filePath, line: UInt = #line) throws -> any SnapshottableEnvironment {
    try XCTUnwrap(Environments.make(id, seed: seed) as? any SnapshottableEnvironment, "\(id) is not snapshottable", file: file, line: line)
}
