import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// A host's step observations in shared memory: the host (`colony_envhost`, `shared_observations`) creates the
/// segment under `/dev/shm`, sized for its environments' uint8 observations, and writes each step's frames there; its
/// step replies then leave them out. The vector maps the segment read-only and removes its name at once, so nothing
/// is left behind once both processes end. An Atari frame then crosses processes without passing through a socket
/// (one copy fewer on each side; docs/envhost.md, "What the host costs").
///
/// The vector reads a host's rows only between that host's step reply and its next request, the only time the host
/// does not write them.
final class SharedObservations {
    let path: String
    let byteCount: Int
    private let base: UnsafeMutableRawPointer

    /// The directory segments live in, when this machine has one (Linux's tmpfs `/dev/shm`).
    static var directory: String? {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: "/dev/shm", isDirectory: &isDirectory), isDirectory.boolValue,
              access("/dev/shm", W_OK) == 0 else { return nil }
        return "/dev/shm"
    }

    /// Maps the segment at `path`, which must be a regular file of this user holding exactly `byteCount` bytes, and
    /// unlinks it. Throws a description of what is wrong.
    init(path: String, byteCount: Int) throws {
        self.path = path
        self.byteCount = byteCount
        defer { unlink(path) }
        let descriptor = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC)
        guard descriptor >= 0 else { throw SharedObservationsError("cannot open \(path): \(String(cString: strerror(errno)))") }
        defer { close(descriptor) }
        var status = stat()
        guard fstat(descriptor, &status) == 0 else { throw SharedObservationsError("cannot stat \(path): \(String(cString: strerror(errno)))") }
        guard (status.st_mode & S_IFMT) == S_IFREG, status.st_uid == getuid() else {
            throw SharedObservationsError("\(path) is not a regular file of this user")
        }
        guard Int(status.st_size) == byteCount, byteCount > 0 else {
            throw SharedObservationsError("\(path) holds \(status.st_size) bytes, the host's observations take \(byteCount)")
        }
        guard let mapped = mmap(nil, byteCount, PROT_READ, MAP_SHARED, descriptor, 0), mapped != MAP_FAILED else {
            throw SharedObservationsError("cannot map \(path): \(String(cString: strerror(errno)))")
        }
        base = mapped
    }

    deinit { munmap(base, byteCount) }

    /// The segment's bytes.
    var bytes: UnsafeBufferPointer<UInt8> { UnsafeBufferPointer(start: base.assumingMemoryBound(to: UInt8.self), count: byteCount) }
}

struct SharedObservationsError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
