#if canImport(Glibc)
import Glibc
#endif
import Synchronization

/// Turns SIGINT, SIGTERM and SIGUSR1 into a flag that long loops poll, so a run (or a Slurm job told
/// to stop) writes a checkpoint and its files before exiting instead of dying mid-write.
public enum StopSignal {
    private static let received = Atomic<Int32>(0)

    /// Installs the handlers (idempotent). A second SIGINT while stopping exits at once.
    public static func install() {
        for signalNumber in [SIGINT, SIGTERM, SIGUSR1] {
            signal(signalNumber) { number in
                if number == SIGINT && StopSignal.received.load(ordering: .relaxed) == SIGINT { _exit(130) }
                StopSignal.received.store(number, ordering: .relaxed)
            }
        }
    }

    /// The signal that asked to stop, or nil.
    public static var requested: Int32? {
        let value = received.load(ordering: .relaxed)
        return value == 0 ? nil : value
    }

    /// Forgets a received signal (tests).
    public static func reset() { received.store(0, ordering: .relaxed) }
}
