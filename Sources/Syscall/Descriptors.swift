#if canImport(Glibc)
import Glibc
#endif

// Descriptors: the process's limit, raised at start, and a listener that stops accepting while there are
// none to spare instead of spinning on EMFILE.

extension Sys {
    /// Raises the soft `RLIMIT_NOFILE` to the hard limit (every stage does at start: a connection per
    /// client or container, and the soft default of 1024 is low). Failures are ignored: the limit stays.
    public static func raiseDescriptorLimit() {
        var limit = rlimit()
        guard getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit) == 0, limit.rlim_cur < limit.rlim_max else { return }
        limit.rlim_cur = limit.rlim_max
        _ = setrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit)
    }

    /// The soft `RLIMIT_NOFILE`: how many descriptors the process may have open; nil when unlimited.
    public static func descriptorLimit() -> Int? {
        var limit = rlimit()
        guard getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit) == 0, limit.rlim_cur != rlim_t.max else { return nil }
        return Int(clamping: limit.rlim_cur)
    }
}

/// A listening socket served from an event loop: every connection waiting is accepted and handed to
/// `onConnection`. When `accept` fails for want of resources (EMFILE, ENFILE, ENOBUFS, ENOMEM) or for any
/// reason that would fail again at once, the listener stops watching the socket and tries again after
/// `pauseNanos`, or as soon as `descriptorFreed()` says a connection closed; connections meanwhile wait in
/// the socket's backlog. It says so once when it stops and once when it has caught up with the backlog
/// again, never per attempt.
public final class Listener {
    public let fd: Int32
    unowned let loop: EventLoop
    let onConnection: (Int32) -> Void
    let report: (String) -> Void
    var registration: EventLoop.Registration?
    var timer: EventLoop.Timer?
    /// Failed attempts in the current pause (the first included); 0 while accepting.
    public private(set) var failedAttempts = 0
    /// How long accepting stops after a failure.
    public var pauseNanos: UInt64 = 100_000_000

    /// Watches `fd` (listening, non-blocking) on `loop`. `report` gets one line per change of state.
    public init(fd: Int32, loop: EventLoop, report: @escaping (String) -> Void,
                onConnection: @escaping (Int32) -> Void) throws(SyscallError) {
        self.fd = fd
        self.loop = loop
        self.report = report
        self.onConnection = onConnection
        registration = try loop.register(fd) { [unowned self] _ in accept() }
    }

    /// Whether accepting is stopped for now.
    public var isPaused: Bool { failedAttempts > 0 }

    /// Stops watching the socket (it is not closed).
    public func stop() {
        if let registration { loop.unregister(registration) }
        registration = nil
        if let timer { loop.cancel(timer) }
        timer = nil
    }

    /// A descriptor was closed: while paused, try again now.
    public func descriptorFreed() {
        if isPaused, let timer, loop.isArmed(timer) { loop.arm(timer, at: 0) }
    }

    func accept() {
        while true {
            let fd: Int32?
            do { fd = try Sys.accept(self.fd) } catch {
                pause(error)
                return
            }
            guard let fd else { break }
            onConnection(fd)
        }
        resumed()  // caught up with the backlog
    }

    func pause(_ error: SyscallError) {
        failedAttempts += 1
        if failedAttempts == 1 {  // once per pause, however many connections it takes to catch up
            let e = error.errno.rawValue
            if e == EMFILE || e == ENFILE {
                let open = e == EMFILE ? Sys.descriptorLimit().map { "\($0) open" } ?? "limit reached" : "system-wide table full"
                report("out of descriptors (\(open)); not accepting for now")
            } else {
                report("\(error); not accepting for now")
            }
        }
        if let registration { loop.unregister(registration) }
        registration = nil
        if timer == nil { timer = loop.makeTimer { [unowned self] in retry() } }
        loop.arm(timer!, at: Sys.monotonicNanos() + pauseNanos)
    }

    func retry() {
        guard registration == nil else { return }
        do {
            registration = try loop.register(fd) { [unowned self] _ in accept() }
        } catch {
            loop.arm(timer!, at: Sys.monotonicNanos() + pauseNanos)
            return
        }
        accept()
    }

    func resumed() {
        guard failedAttempts > 0 else { return }
        let tries = failedAttempts
        failedAttempts = 0
        report("accepting again (after \(tries) failed attempt\(tries == 1 ? "" : "s"))")
    }
}
