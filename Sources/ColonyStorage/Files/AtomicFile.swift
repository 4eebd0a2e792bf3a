#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Writes files so that a reader (or a crash) sees either the old file or the complete new one:
/// write a temporary file in the same directory, fsync it, rename it over the target, fsync the directory.
public enum AtomicFile {
    public struct WriteError: Error, CustomStringConvertible, Sendable {
        public let path: String
        public let operation: String
        public let errno: Int32
        public var description: String {
            "cannot \(operation) '\(path)': \(String(cString: strerror(errno)))"
        }
    }

    /// Atomically replaces `path` with `bytes`.
    public static func write(_ bytes: [UInt8], to path: String) throws {
        try replace(path) { temporary in
            let fd = open(temporary, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
            guard fd >= 0 else { throw WriteError(path: temporary, operation: "create", errno: errno) }
            defer { close(fd) }
            var offset = 0
            while offset < bytes.count {
                let written = bytes.withUnsafeBytes { posixWrite(fd, $0.baseAddress! + offset, bytes.count - offset) }
                if written < 0 {
                    if errno == EINTR { continue }
                    throw WriteError(path: temporary, operation: "write", errno: errno)
                }
                offset += written
            }
        }
    }

    /// Atomically replaces `path` with UTF-8 `text`.
    public static func write(_ text: String, to path: String) throws {
        try write(Array(text.utf8), to: path)
    }

    /// Lets `produce` write a complete file at a temporary path, then moves it over `path`.
    /// When `produce` throws, the temporary file is removed and `path` is untouched. The first
    /// write of `path` in a process removes temporary files a killed writer of it left behind.
    public static func replace(_ path: String, produce: (String) throws -> Void) throws {
        AtomicTemporaryFile.removeStale(for: path)
        let temporary = AtomicTemporaryFile.name(for: path)
        do {
            try produce(temporary)
            try syncFile(temporary)
            guard rename(temporary, path) == 0 else { throw WriteError(path: path, operation: "rename into", errno: errno) }
        } catch {
            unlink(temporary)
            throw error
        }
        syncDirectory(of: path)
    }

    /// Removes the temporary files of `path` that killed writers on this host left beside it (a
    /// writer's start; `replace` does it too, at its first write of `path`); returns their paths.
    @discardableResult
    public static func removeStaleTemporaries(of path: String) -> [String] {
        AtomicTemporaryFile.removeStale(for: path)
    }

    /// Removes the temporary files that killed writers on this host left in `directory` (a writer's
    /// start: see `AtomicTemporaryFile`); returns their paths.
    @discardableResult
    public static func removeStaleTemporaries(in directory: String) -> [String] {
        AtomicTemporaryFile.removeStale(in: directory)
    }

    /// Creates `path` and its missing parents (like `mkdir -p`).
    public static func createDirectories(_ path: String) throws {
        var prefix = path.hasPrefix("/") ? "/" : ""
        for component in path.split(separator: "/") {
            prefix += component + "/"
            if mkdir(prefix, 0o755) != 0 && errno != EEXIST {
                throw WriteError(path: prefix, operation: "create directory", errno: errno)
            }
        }
    }

    private static func syncFile(_ path: String) throws {
        let fd = open(path, O_RDONLY)
        guard fd >= 0 else { throw WriteError(path: path, operation: "open for fsync", errno: errno) }
        defer { close(fd) }
        guard fsync(fd) == 0 else { throw WriteError(path: path, operation: "fsync", errno: errno) }
    }

    private static func syncDirectory(of path: String) {
        let directory = path.split(separator: "/", omittingEmptySubsequences: false).dropLast().joined(separator: "/")
        let fd = open(directory.isEmpty ? (path.hasPrefix("/") ? "/" : ".") : directory, O_RDONLY)
        guard fd >= 0 else { return }
        fsync(fd)
        close(fd)
    }
}

@inline(__always)
private func posixWrite(_ fd: Int32, _ buffer: UnsafeRawPointer, _ count: Int) -> Int {
    #if canImport(Glibc)
    Glibc.write(fd, buffer, count)
    #else
    Darwin.write(fd, buffer, count)
    #endif
}
