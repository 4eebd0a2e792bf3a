// swift-tools-version:6.0
// Colony: a distributed actor–learner reinforcement-learning system.
// The layer order of the modules is described in docs/architecture.md.
import Foundation
import PackageDescription

// Release builds must run on every x86-64 node a cluster may hold, not only on the CPU that built
// them: they target `nehalem`, LLVM's name for the x86-64-v2 level (SSE4.2, POPCNT: every x86-64
// server since 2009). OpenBLAS, which does the heavy matrix work, picks its kernels for the CPU it
// runs on. `COLONY_TARGET_CPU=native make build` (or another LLVM CPU name, e.g. haswell) tunes the
// Swift code for one machine instead (docs/architecture.md, "Portable builds").
#if arch(x86_64)
let targetCPU = ProcessInfo.processInfo.environment["COLONY_TARGET_CPU"].flatMap { $0.isEmpty ? nil : $0 } ?? "nehalem"
// `COLONY_TUNED_CPU` lets colony-bench say which kind of build it is (`colony-bench targets`).
let optimized: [SwiftSetting] = [.unsafeFlags(["-target-cpu", targetCPU], .when(configuration: .release))]
    + (targetCPU == "nehalem" ? [] : [.define("COLONY_TUNED_CPU", .when(configuration: .release))])
#else
let optimized: [SwiftSetting] = []
#endif

let package = Package(
    name: "Colony",
    platforms: [.macOS(.v14)],
    products: [
        .library(name: "ColonyNumerics", targets: ["ColonyNumerics"]),
        .library(name: "ColonyEnvironments", targets: ["ColonyEnvironments"]),
        .library(name: "ColonyStorage", targets: ["ColonyStorage"]),
        .library(name: "ColonyTransport", targets: ["ColonyTransport"]),
        .library(name: "ColonyAgents", targets: ["ColonyAgents"]),
        .library(name: "ColonyExperiments", targets: ["ColonyExperiments"]),
        .library(name: "ColonyCluster", targets: ["ColonyCluster"]),
        .executable(name: "colony", targets: ["ColonyCommand"]),
        .executable(name: "colony-bench", targets: ["ColonyBench"]),
        .executable(name: "colony-coordinator", targets: ["ColonyCoordinatorCommand"]),
        .executable(name: "colony-learner", targets: ["ColonyLearnerCommand"]),
        .executable(name: "colony-worker", targets: ["ColonyWorkerCommand"]),
        .executable(name: "colony-replay", targets: ["ColonyReplayCommand"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
    ],
    targets: [
        // Native libraries, each behind one thin target.
        .systemLibrary(name: "CZeroMQ", pkgConfig: "libzmq", providers: [.apt(["libzmq3-dev"])]),
        .systemLibrary(name: "CBLAS", pkgConfig: "openblas", providers: [.apt(["libopenblas-dev"])]),
        .systemLibrary(name: "CHDF5", pkgConfig: "hdf5", providers: [.apt(["libhdf5-dev"])]),

        .target(name: "ColonyNumerics", dependencies: ["CBLAS"], swiftSettings: optimized),
        .target(name: "ColonyEnvironments", dependencies: ["ColonyNumerics", "ColonyTransport"], swiftSettings: optimized),
        .target(name: "ColonyStorage", dependencies: ["CHDF5"], swiftSettings: optimized),
        .target(name: "ColonyTransport", dependencies: ["CZeroMQ"], swiftSettings: optimized),
        .target(name: "ColonyAgents", dependencies: ["ColonyNumerics", "ColonyEnvironments", "ColonyStorage"], swiftSettings: optimized),
        .target(
            name: "ColonyExperiments", dependencies: ["ColonyNumerics", "ColonyEnvironments", "ColonyStorage", "ColonyAgents"],
            swiftSettings: optimized
        ),
        .target(
            name: "ColonyCluster",
            dependencies: ["ColonyNumerics", "ColonyEnvironments", "ColonyStorage", "ColonyTransport", "ColonyAgents", "ColonyExperiments"],
            swiftSettings: optimized
        ),
        .executableTarget(
            name: "ColonyCommand",
            dependencies: [
                "ColonyEnvironments", "ColonyStorage", "ColonyAgents", "ColonyExperiments", "ColonyCluster",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            swiftSettings: optimized
        ),
        .executableTarget(
            name: "ColonyCoordinatorCommand",
            dependencies: ["ColonyCluster", "ColonyExperiments", .product(name: "ArgumentParser", package: "swift-argument-parser")],
            swiftSettings: optimized
        ),
        .executableTarget(
            name: "ColonyLearnerCommand",
            dependencies: ["ColonyCluster", "ColonyExperiments", .product(name: "ArgumentParser", package: "swift-argument-parser")],
            swiftSettings: optimized
        ),
        .executableTarget(
            name: "ColonyWorkerCommand",
            dependencies: ["ColonyCluster", "ColonyExperiments", .product(name: "ArgumentParser", package: "swift-argument-parser")],
            swiftSettings: optimized
        ),
        .executableTarget(
            name: "ColonyReplayCommand",
            dependencies: ["ColonyStorage", "ColonyCluster", "ColonyExperiments", .product(name: "ArgumentParser", package: "swift-argument-parser")],
            swiftSettings: optimized
        ),

        .executableTarget(
            name: "ColonyBench",
            dependencies: [
                "ColonyNumerics", "ColonyEnvironments", "ColonyStorage", "ColonyTransport", "ColonyAgents", "ColonyExperiments", "ColonyCluster",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            path: "Benchmarks/ColonyBench",
            swiftSettings: optimized
        ),

        // What several test targets share (an environment that cannot be snapshotted, as a remote one;
        // the Python interpreter of the environment-host tests).
        .target(name: "ColonyTestSupport", dependencies: ["ColonyNumerics", "ColonyEnvironments", "ColonyStorage"], path: "Tests/ColonyTestSupport"),
        .testTarget(name: "ColonyNumericsTests", dependencies: ["ColonyNumerics"]),
        .testTarget(
            name: "ColonyEnvironmentsTests",
            dependencies: ["ColonyNumerics", "ColonyEnvironments", "ColonyTestSupport"],
            resources: [.copy("Recordings")]
        ),
        .testTarget(name: "ColonyStorageTests", dependencies: ["ColonyStorage"]),
        .testTarget(name: "ColonyTransportTests", dependencies: ["ColonyTransport"]),
        .testTarget(name: "ColonyAgentsTests", dependencies: ["ColonyNumerics", "ColonyEnvironments", "ColonyStorage", "ColonyAgents", "ColonyTestSupport"]),
        .testTarget(
            name: "ColonyExperimentsTests",
            dependencies: ["ColonyNumerics", "ColonyEnvironments", "ColonyStorage", "ColonyAgents", "ColonyExperiments", "ColonyTestSupport"]
        ),
        .testTarget(
            name: "ColonyClusterTests",
            dependencies: ["ColonyNumerics", "ColonyStorage", "ColonyTransport", "ColonyEnvironments", "ColonyAgents", "ColonyExperiments", "ColonyCluster", "ColonyTestSupport"]
        ),
        // Runs the `colony` binary against a real Slurm cluster on this host (slurm/local-cluster.sh).
        .testTarget(name: "ColonySlurmTests", dependencies: ["ColonyStorage", "ColonyExperiments", "ColonyCluster", "ColonyTestSupport"]),
    ]
)
