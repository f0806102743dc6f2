// Threads without Dispatch: the two background jobs of the stages (emit-syslog's name lookups, route's
// etcd readings) run on plain threads, so no stage loads libdispatch and Swift's concurrency runtime
// (about 1.3 MB of shared libraries, relocated in every process that maps them).

#if canImport(Glibc)
import Glibc
#endif
import Synchronization

extension Sys {
    /// Runs `body` on a new thread of its own, which ends when `body` returns.
    public static func startThread(_ body: @escaping @Sendable () -> Void) throws(SyscallError) {
        let context = Unmanaged.passRetained(ThreadBody(body)).toOpaque()
        var thread = pthread_t()
        let r = pthread_create(&thread, nil, { context in
            guard let context else { return nil }
            Unmanaged<ThreadBody>.fromOpaque(context).takeRetainedValue().body()
            return nil
        }, context)
        guard r == 0 else {
            Unmanaged<ThreadBody>.fromOpaque(context).release()
            throw SyscallError("pthread_create", "", Errno(r))
        }
        pthread_detach(thread)
    }
}

private final class ThreadBody: Sendable {
    let body: @Sendable () -> Void
    init(_ body: @escaping @Sendable () -> Void) { self.body = body }
}

/// Jobs run one after the other, in the order given, on a thread of their own: started for a job when
/// none is running, ended once no job is left. A thread that cannot be started runs the jobs in the
/// caller instead.
public final class SerialWorker: Sendable {
    private let state = Mutex<(jobs: [@Sendable () -> Void], running: Bool)>(([], false))

    public init() {}

    public func run(_ job: @escaping @Sendable () -> Void) {
        let start = state.withLock { s -> Bool in
            s.jobs.append(job)
            guard !s.running else { return false }
            s.running = true
            return true
        }
        guard start else { return }
        do { try Sys.startThread { [self] in drain() } } catch { drain() }
    }

    private func drain() {
        while let job = state.withLock({ s -> (@Sendable () -> Void)? in
            guard !s.jobs.isEmpty else {
                s.running = false
                return nil
            }
            return s.jobs.removeFirst()
        }) {
            job()
        }
    }
}
