import CHDF5
import Synchronization

/// Serialises every call into libhdf5, which Debian builds without thread safety.
enum HDF5Library {
    private static let mutex: Mutex<Bool> = Mutex(false)

    /// Runs `body` holding the library lock; initialises HDF5 and silences its stderr error stack once.
    static func withLock<T>(_ body: () throws -> T) rethrows -> T {
        try mutex.withLock { initialised in
            if !initialised {
                H5open()
                colony_h5_silence_errors()
                initialised = true
            }
            return try body()
        }
    }
}
