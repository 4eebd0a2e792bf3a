import Foundation

/// Streams RGB frames into an mp4 or GIF file through Python's imageio
/// (`python -m colony_envhost.video`, in `make envhost`'s venv), so a long Atari episode is never
/// held in memory. The file appears complete or not at all: frames go to a temporary name that
/// `finish()` renames.
public final class VideoRecorder {
    public let path: String
    public private(set) var frames = 0
    private let fps: Double
    private let python: String
    private var process: Process?
    private var input: FileHandle?
    private var errors: Pipe?
    private var size: (width: Int, height: Int)?
    private let temporaryPath: String

    /// `path` ends in `.mp4` or `.gif`; `python` as `EnvironmentSettings.python` (nil: the usual search).
    public init(path: String, fps: Double = 30, python: String? = nil) throws {
        let lowered = path.lowercased()
        guard lowered.hasSuffix(".mp4") || lowered.hasSuffix(".gif") else {
            throw VideoError("cannot write \(path): a video must end in .mp4 or .gif")
        }
        self.path = path
        self.fps = fps
        var settings = EnvironmentSettings(id: "gym:")
        settings.python = python
        self.python = PythonInterpreter.resolve(settings)
        let url = URL(fileURLWithPath: path)
        temporaryPath = url.deletingLastPathComponent().path + "/.\(url.lastPathComponent).\(getpid()).partial." + url.pathExtension
    }

    deinit {
        if let process, process.isRunning { process.terminate() }
        try? FileManager.default.removeItem(atPath: temporaryPath)
    }

    /// Appends one frame; every frame has the first one's size.
    public func append(width: Int, height: Int, rgb: [UInt8]) throws {
        precondition(rgb.count == width * height * 3, "an RGB frame of \(width)×\(height) has \(width * height * 3) bytes, not \(rgb.count)")
        if size == nil { try start(width: width, height: height) }
        guard let size, size == (width, height) else {
            throw VideoError("frame \(frames) is \(width)×\(height), but the video is \(size!.width)×\(size!.height)")
        }
        do {
            try input?.write(contentsOf: Data(rgb))
        } catch {
            throw VideoError("the video writer stopped: \(finishProcess().message)")
        }
        frames += 1
    }

    /// Closes the video and moves it to `path`.
    public func finish() throws {
        guard process != nil else { throw VideoError("no frames to write to \(path)") }
        let (status, message) = finishProcess()
        guard status == 0 else { throw VideoError("could not write \(path): \(message)") }
        if FileManager.default.fileExists(atPath: path) { try FileManager.default.removeItem(atPath: path) }
        try FileManager.default.moveItem(atPath: temporaryPath, toPath: path)
    }

    private func start(width: Int, height: Int) throws {
        let directory = URL(fileURLWithPath: path).deletingLastPathComponent().path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let process = PythonInterpreter.process(python, [
            "-m", "colony_envhost.video", "--output", temporaryPath, "--width", "\(width)", "--height", "\(height)", "--fps", "\(fps)",
        ])
        let input = Pipe(), errors = Pipe()
        process.standardInput = input
        process.standardOutput = FileHandle.nullDevice
        process.standardError = errors
        // A writer that dies mid-video must surface as a write error here, not kill this process.
        signal(SIGPIPE, SIG_IGN)
        do { try process.run() } catch { throw VideoError("cannot start \(python) to write videos: \(error); run `make envhost` or pass --python") }
        self.process = process
        self.input = input.fileHandleForWriting
        self.errors = errors
        size = (width, height)
    }

    /// Ends the writer's input and waits for it; its exit status and last line of errors.
    private func finishProcess() -> (status: Int32, message: String) {
        try? input?.close()
        input = nil
        guard let process else { return (-1, "not started") }
        let data = errors?.fileHandleForReading.readDataToEndOfFile() ?? Data()
        process.waitUntilExit()
        let message = String(decoding: data, as: UTF8.self).split(separator: "\n").last.map(String.init) ?? "exit status \(process.terminationStatus)"
        return (process.terminationStatus, message)
    }
}

/// A video that could not be written.
public struct VideoError: Error, CustomStringConvertible {
    public let description: String
    init(_ description: String) { self.description = description }
}
