import Foundation
import Synchronization

/// Dedicated threads that take shares of one job at a time, the calling thread taking the first; started on first
/// use, as many as a job has asked for (`BLAS.threads − 1` in a run). A worker spins for a short while after a job
/// before it sleeps, as OpenMP's and OpenBLAS's pools do: a network's parallel regions are about a hundred
/// microseconds apart, and waking a sleeping thread costs about as much as a share (GCD's `concurrentPerform`
/// gave a 1.1× speed-up on 2 cores for 90 µs shares; this pool 1.5× for 9 µs shares, 1.7× for 90 µs).
final class WorkerPool: @unchecked Sendable {
    static let shared = WorkerPool()

    /// Atomic loads a worker spins through before it sleeps (tens of microseconds).
    private static let spinLimit = 20_000

    /// Started threads; grows only while `owner` is held and no job runs.
    private var workers = 0
    /// Bumped once per job, after `job` and `shares` are set; workers wait for it to move.
    private let generation = Atomic<Int>(0)
    /// Workers still inside the current job.
    private let busy = Atomic<Int>(0)
    private let sleepers = Atomic<Int>(0)
    /// One caller at a time; another caller meanwhile runs its shares itself.
    private let owner = Mutex<Bool>(false)
    private var job: ((Int) -> Void)?
    private var shares = 0
    private let condition = NSCondition()

    private init() {}

    /// Starts threads until `count` serve; a new thread waits for the generation after the current one.
    private func startWorkers(_ count: Int) {
        let seen = generation.load(ordering: .acquiring)
        while workers < count {
            workers += 1
            let share = workers
            let thread = Thread { [unowned self] in self.serve(share: share, seen: seen) }
            thread.name = "colony-numerics-\(share)"
            thread.start()
        }
    }

    /// Calls `body(share)` for share in 0..<shares, share 0 on this thread; returns when all are done.
    func run(shares: Int, _ body: (Int) -> Void) {
        let acquired = owner.withLock { running in
            if running { return false }
            running = true
            return true
        }
        guard acquired, shares > 1 else {
            for share in 0..<shares { body(share) }
            if acquired { owner.withLock { $0 = false } }
            return
        }
        startWorkers(shares - 1)
        withoutActuallyEscaping(body) { body in
            job = body
            self.shares = shares
            busy.store(workers, ordering: .releasing)
            // Sequentially consistent with the worker's `sleepers.add` then `generation.load`: one of the two sees the other.
            generation.add(1, ordering: .sequentiallyConsistent)
            if sleepers.load(ordering: .sequentiallyConsistent) > 0 {
                condition.lock()
                condition.broadcast()
                condition.unlock()
            }
            body(0)
            while busy.load(ordering: .acquiring) > 0 {}
            job = nil
        }
        owner.withLock { $0 = false }
    }

    private func serve(share: Int, seen: Int) {
        var seen = seen
        while true {
            var spins = 0
            while generation.load(ordering: .acquiring) == seen {
                spins += 1
                guard spins > Self.spinLimit else { continue }
                condition.lock()
                sleepers.add(1, ordering: .sequentiallyConsistent)
                while generation.load(ordering: .sequentiallyConsistent) == seen { condition.wait() }
                sleepers.subtract(1, ordering: .sequentiallyConsistent)
                condition.unlock()
            }
            seen = generation.load(ordering: .acquiring)
            if share < shares, let job { job(share) }
            busy.subtract(1, ordering: .releasing)
        }
    }
}
