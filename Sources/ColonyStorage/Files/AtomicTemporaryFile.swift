#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Foundation
import Synchronization

/// The temporary file `AtomicFile.replace` writes before renaming it over its target:
/// `<target>.tmp-<host>-<pid>-<random>`. The host and pid say who writes it, so a later writer of the
/// same target can tell a file left by a killed process (removed) from one still being written by a
/// live one (kept). Files from other hosts (a shared file system) are never touched: their pids mean
/// nothing here.
enum AtomicTemporaryFile {
    /// A fresh name for a temporary file of `target`, next to it.
    static func name(for target: String) -> String {
        "\(target).tmp-\(hostName)-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
    }

    /// Removes the temporary files of `target` whose writer on this host is no longer running; the
    /// first call per target and process does the work (a writer's later calls find nothing new).
    /// Returns the paths removed.
    @discardableResult
    static func removeStale(for target: String) -> [String] {
        let isFirst = cleanedTargets.withLock { $0.insert(target).inserted }
        guard isFirst else { return [] }
        let (directory, base) = split(target)
        return removeStale(in: directory) { writer(of: $0, base: base) }
    }

    /// Removes the temporary files of any target in `directory` whose writer on this host is no
    /// longer running (a run's checkpoints/ at its start: numbered targets are rarely written twice).
    @discardableResult
    static func removeStale(in directory: String) -> [String] {
        removeStale(in: directory) { name in
            guard let marker = name.range(of: ".tmp-", options: .backwards), marker.lowerBound > name.startIndex else { return nil }
            return writer(of: name, base: String(name[..<marker.lowerBound]))
        }
    }

    private static func removeStale(in directory: String, writerOf: (String) -> (host: String, pid: pid_t)?) -> [String] {
        guard let names = try? FileManager.default.contentsOfDirectory(atPath: directory) else { return [] }
        var removed: [String] = []
        for name in names {
            guard let writer = writerOf(name), writer.host == hostName || writer.host.isEmpty, !isRunning(writer.pid) else { continue }
            let path = directory == "." ? name : directory + "/" + name
            if unlink(path) == 0 { removed.append(path) }
        }
        return removed
    }

    /// The host (empty in names written before hosts were part of them) and pid in `name`, when it
    /// is a temporary file of `base`.
    static func writer(of name: String, base: String) -> (host: String, pid: pid_t)? {
        let prefix = base + ".tmp-"
        guard name.hasPrefix(prefix) else { return nil }
        var parts = name.dropFirst(prefix.count).split(separator: "-", omittingEmptySubsequences: false)
        guard parts.count >= 2, let random = parts.popLast(), UInt32(random) != nil, let pidText = parts.popLast(), let pid = pid_t(pidText), pid > 0 else {
            return nil
        }
        return (parts.joined(separator: "-"), pid)
    }

    private static func isRunning(_ pid: pid_t) -> Bool {
        kill(pid, 0) == 0 || errno != ESRCH
    }

    private static func split(_ target: String) -> (directory: String, base: String) {
        guard let slash = target.lastIndex(of: "/") else { return (".", target) }
        let directory = String(target[..<slash])
        return (directory.isEmpty ? "/" : directory, String(target[target.index(after: slash)...]))
    }

    static let hostName: String = {
        var buffer = [CChar](repeating: 0, count: 256)
        guard gethostname(&buffer, buffer.count - 1) == 0 else { return "localhost" }
        return String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }()

    private static let cleanedTargets = Mutex<Set<String>>([])
}
