#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import ColonyStorage
import Foundation

/// The exclusive right to write one run directory: an `flock` on its `run.lock`, held by a trainer or
/// learner for as long as it runs and released when the process ends, however it ends (the kernel
/// drops the lock with the file descriptor, so a killed run never leaves a stale lock). A second
/// trainer or learner on the same directory would interleave checkpoints and CSV rows; it is refused
/// with the holder's pid instead. The lock file holds "<pid> <host>" of the holder, for that message.
public final class RunDirectoryLock {
    private let descriptor: Int32

    /// Takes the lock, creating the directory and its lock file when needed; throws at once, naming
    /// the holder, when another process holds it.
    public init(_ directory: RunDirectory) throws {
        try AtomicFile.createDirectories(directory.path)
        let path = directory.lock
        descriptor = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o644)
        guard descriptor >= 0 else { throw TrainingError("cannot open \(path): \(String(cString: strerror(errno)))") }
        guard flock(descriptor, LOCK_EX | LOCK_NB) == 0 else {
            let holder = (try? String(contentsOfFile: path, encoding: .utf8))?.trimmingCharacters(in: .whitespacesAndNewlines) ?? ""
            close(descriptor)
            let who = holder.isEmpty ? "another process" : "process \(holder.replacingOccurrences(of: " ", with: " on "))"
            throw TrainingError("\(directory.path) is in use by \(who) (it holds \(path)); wait for that run to end or stop it, or use another --runs-dir or --seed")
        }
        var host = [CChar](repeating: 0, count: 256)
        if gethostname(&host, host.count - 1) != 0 { host = Array("localhost".utf8CString) }
        let owner = "\(getpid()) \(String(decoding: host.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self))\n"
        _ = ftruncate(descriptor, 0)
        _ = owner.withCString { pwrite(descriptor, $0, strlen($0), 0) }
    }

    deinit { close(descriptor) }
}
