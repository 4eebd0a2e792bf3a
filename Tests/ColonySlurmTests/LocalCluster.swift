import ColonyExperiments
import Foundation
import XCTest

/// The real Slurm cluster the tests submit to: `slurm/local-cluster.sh`'s three nodes on this host,
/// started here when it is not up (`make test` starts it before the tests and stops it after).
enum LocalCluster {
    static let repositoryRoot: String = {
        var url = URL(fileURLWithPath: #filePath)
        for _ in 0..<3 { url.deleteLastPathComponent() }  // Tests/ColonySlurmTests/LocalCluster.swift
        return url.path
    }()

    static let script = repositoryRoot + "/slurm/local-cluster.sh"
    static var configuration: String {
        (ProcessInfo.processInfo.environment["COLONY_SLURM_DIR"] ?? "/tmp/colony-slurm") + "/slurm.conf"
    }

    /// What child processes need to find the cluster.
    static var environment: [String: String] { ["SLURM_CONF": configuration] }
    static var client: SlurmClient { SlurmClient(environment: environment) }

    /// Brings the cluster up when it is not. Skips only where it cannot be had: not root, or no apt-get
    /// to install Slurm with; on CI (root, Debian) the tests run for real.
    static func ensureUp() throws {
        if try shell(["bash", script, "is-up"]).status == 0 { return }
        let installed = FileManager.default.isExecutableFile(atPath: "/usr/sbin/slurmctld")
        if getuid() != 0 {
            throw XCTSkip("the local Slurm cluster needs root (slurm/local-cluster.sh up)")
        }
        if !installed && !FileManager.default.isExecutableFile(atPath: "/usr/bin/apt-get") {
            throw XCTSkip("Slurm is not installed and there is no apt-get to install it with")
        }
        let result = try shell(["bash", script, "up"])
        guard result.status == 0 else {
            throw ClusterError("slurm/local-cluster.sh up failed (\(result.status)):\n\(result.output)")
        }
    }

    /// The `colony` binary built beside this test bundle (or $COLONY_BINARY).
    static func colonyBinary() throws -> String {
        if let path = ProcessInfo.processInfo.environment["COLONY_BINARY"] { return path }
        let bundle = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0]
        let path = URL(fileURLWithPath: bundle).deletingLastPathComponent().appendingPathComponent("colony").path
        guard FileManager.default.isExecutableFile(atPath: path) else {
            throw ClusterError("no colony binary at \(path): build it first (swift build --build-tests builds every product)")
        }
        return path
    }

    struct Result {
        var status: Int32
        var output: String
    }

    /// Runs a command with the cluster's environment; standard output and error together.
    @discardableResult
    static func shell(_ arguments: [String], in directory: String? = nil) throws -> Result {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = arguments
        process.environment = ProcessInfo.processInfo.environment.merging(environment) { _, new in new }
        if let directory { process.currentDirectoryURL = URL(fileURLWithPath: directory) }
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = pipe
        process.standardInput = FileHandle.nullDevice
        try process.run()
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return Result(status: process.terminationStatus, output: String(decoding: data, as: UTF8.self))
    }
}

struct ClusterError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
