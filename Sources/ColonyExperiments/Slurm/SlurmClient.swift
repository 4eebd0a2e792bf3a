import Foundation
import Synchronization

/// A Slurm client command failed, was not installed, or answered something unexpected.
public struct SlurmError: Error, CustomStringConvertible, Sendable {
    public let message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}

/// One line of `squeue`: an array task (or a plain job) and where it stands.
public struct SlurmQueueEntry: Sendable, Equatable {
    /// The array's job id (`%F`); a plain job's own id.
    public var arrayJobID: String
    /// The array task id (`%K`), nil for a plain job.
    public var taskID: Int?
    /// Slurm's long state name: PENDING, RUNNING, COMPLETING, COMPLETED, FAILED, TIMEOUT, CANCELLED...
    public var state: String
    /// Why a job pends (BeginTime, Resources, JobArrayTaskLimit...) or "None".
    public var reason: String
    public var jobName: String

    public init(arrayJobID: String, taskID: Int?, state: String, reason: String, jobName: String) {
        self.arrayJobID = arrayJobID
        self.taskID = taskID
        self.state = state
        self.reason = reason
        self.jobName = jobName
    }

    /// Pending, running or on the way out: the task still owns its cell.
    public var isActive: Bool { Self.activeStates.contains(state) }
    public var isPending: Bool { Self.pendingStates.contains(state) }

    static let pendingStates: Set<String> = ["PENDING", "REQUEUED", "REQUEUE_HOLD", "REQUEUE_FED", "SUSPENDED", "STOPPED", "RESV_DEL_HOLD"]
    static let activeStates: Set<String> = pendingStates.union(["RUNNING", "CONFIGURING", "COMPLETING", "SIGNALING", "STAGE_OUT", "RESIZING"])
}

/// The Slurm commands Colony uses (sbatch, squeue, scontrol, scancel), run as child processes.
/// They find the cluster as every Slurm client does: `SLURM_CONF` or the system's slurm.conf.
/// Nothing here needs accounting (`sacct`): what has left the queue is read from the run directories.
public struct SlurmClient: Sendable {
    /// Extra environment for the commands (tests point `SLURM_CONF` at the local cluster).
    public var environment: [String: String]

    public init(environment: [String: String] = [:]) { self.environment = environment }

    /// Submits a batch script; returns the job id (`sbatch --parsable` prints `id` or `id;cluster`).
    public func submit(script path: String, workingDirectory: String? = nil) throws -> String {
        let output = try run("sbatch", ["--parsable", path], workingDirectory: workingDirectory)
        guard let id = output.split(separator: "\n").last?.split(separator: ";").first.map(String.init), !id.isEmpty, id.allSatisfy(\.isNumber) else {
            throw SlurmError("sbatch printed no job id: \(output)")
        }
        return id
    }

    /// Jobs of this user as squeue lists them, one line per array task, finished ones included
    /// until the controller purges them (MinJobAge).
    public func queue() throws -> [SlurmQueueEntry] {
        let output = try run("squeue", ["--noheader", "--array", "--me", "--states=all", "--format=%F|%K|%T|%r|%j"])
        return output.split(separator: "\n").compactMap { line in
            let fields = line.split(separator: "|", maxSplits: 4, omittingEmptySubsequences: false).map { $0.trimmingCharacters(in: .whitespaces) }
            guard fields.count == 5 else { return nil }
            return SlurmQueueEntry(arrayJobID: fields[0], taskID: Int(fields[1]), state: fields[2], reason: fields[3], jobName: fields[4])
        }
    }

    /// The cluster's MaxArraySize (largest array index + 1), or nil when `scontrol` cannot say.
    public func maxArraySize() -> Int? {
        guard let output = try? run("scontrol", ["show", "config"]) else { return nil }
        return Self.configValue("MaxArraySize", in: output).flatMap { Int($0) }
    }

    /// Puts a job back into the queue; it restarts from the beginning of its script. `job` is an
    /// array task ("<array job>_<task>": that task alone, never the whole array) or a plain job id.
    public func requeue(job: String) throws {
        _ = try run("scontrol", ["requeue", job])
    }

    /// Cancels whole jobs (every task of each array); jobs that already ended are not an error.
    public func cancel(jobIDs: [String]) throws {
        guard !jobIDs.isEmpty else { return }
        do {
            _ = try run("scancel", jobIDs)
        } catch let error as SlurmError where error.message.contains("Invalid job id") || error.message.contains("already completed") {
            return
        }
    }

    /// A `Key = value` line of `scontrol show config`.
    static func configValue(_ key: String, in text: String) -> String? {
        for line in text.split(separator: "\n") {
            let parts = line.split(separator: "=", maxSplits: 1)
            if parts.count == 2, parts[0].trimmingCharacters(in: .whitespaces) == key {
                return parts[1].trimmingCharacters(in: .whitespaces)
            }
        }
        return nil
    }

    /// Runs a Slurm command; a non-zero exit becomes an error carrying its standard error.
    @discardableResult
    public func run(_ tool: String, _ arguments: [String], workingDirectory: String? = nil) throws -> String {
        let result = try CommandRunner.run(tool, arguments, environment: environment, workingDirectory: workingDirectory)
        if result.status == 127 && result.standardError.contains("No such file") {
            throw SlurmError("\(tool) not found: is Slurm installed here (for a local test cluster: slurm/local-cluster.sh up)?")
        }
        guard result.status == 0 else {
            let text = result.standardError.trimmingCharacters(in: .whitespacesAndNewlines)
            throw SlurmError("\(tool) \(arguments.joined(separator: " ")) failed (exit status \(result.status)): \(text.isEmpty ? result.standardOutput : text)")
        }
        return result.standardOutput
    }
}

/// Runs a program found on PATH and collects both of its output streams.
enum CommandRunner {
    struct Result: Sendable {
        var status: Int32
        var standardOutput: String
        var standardError: String
    }

    static func run(_ tool: String, _ arguments: [String], environment: [String: String] = [:], workingDirectory: String? = nil) throws -> Result {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = [tool] + arguments
        if !environment.isEmpty {
            process.environment = ProcessInfo.processInfo.environment.merging(environment) { _, new in new }
        }
        if let workingDirectory { process.currentDirectoryURL = URL(fileURLWithPath: workingDirectory) }
        let output = Pipe(), error = Pipe()
        process.standardOutput = output
        process.standardError = error
        process.standardInput = FileHandle.nullDevice
        try process.run()
        // Standard error is drained on its own thread so that neither pipe can fill and stall the child.
        let errorText = Collected()
        let errorDone = DispatchSemaphore(value: 0)
        let errorHandle = error.fileHandleForReading
        Thread.detachNewThread {
            errorText.set(errorHandle.readDataToEndOfFile())
            errorDone.signal()
        }
        let outputData = output.fileHandleForReading.readDataToEndOfFile()
        errorDone.wait()
        process.waitUntilExit()
        return Result(status: process.terminationStatus, standardOutput: String(decoding: outputData, as: UTF8.self), standardError: errorText.text)
    }

    /// Bytes handed from the reading thread to the caller.
    private final class Collected: Sendable {
        private let data = Mutex(Data())
        func set(_ value: Data) { data.withLock { $0 = value } }
        var text: String { data.withLock { String(decoding: $0, as: UTF8.self) } }
    }
}
