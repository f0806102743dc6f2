import CSyscall
#if canImport(Glibc)
import Glibc
#endif

/// An `epoll(7)` instance: one thread waits on many descriptors, so idle ones cost nothing.
public final class Epoll {
    public let fd: Int32
    private var events: [epoll_event]

    /// `epoll_create1(EPOLL_CLOEXEC)`.
    public init(capacity: Int = 256) throws(SyscallError) {
        fd = try Sys.retrying("epoll_create1", "") { epoll_create1(Int32(EPOLL_CLOEXEC)) }
        events = [epoll_event](repeating: epoll_event(), count: capacity)
    }

    deinit { Sys.close(fd) }

    /// Readable interest (level-triggered), with hang-up and error always reported.
    public static let readable = EPOLLIN.rawValue | EPOLLRDHUP.rawValue
    /// Writable interest.
    public static let writable = EPOLLOUT.rawValue
    /// The events that mean "look at this socket": input, or the peer or the connection gone.
    public static let inputOrHangup = EPOLLIN.rawValue | EPOLLRDHUP.rawValue | EPOLLHUP.rawValue | EPOLLERR.rawValue

    /// `epoll_ctl(EPOLL_CTL_ADD)`: watch `watched` for `events`, reporting `token` when ready.
    public func add(_ watched: Int32, events: UInt32 = Epoll.readable, token: UInt64) throws(SyscallError) {
        var ev = epoll_event()
        ev.events = events
        ev.data.u64 = token
        _ = try Sys.retrying("epoll_ctl", "add") { epoll_ctl(fd, EPOLL_CTL_ADD, watched, &ev) }
    }

    /// `epoll_ctl(EPOLL_CTL_DEL)`; a descriptor already closed is fine.
    public func remove(_ watched: Int32) {
        var ev = epoll_event()
        _ = epoll_ctl(fd, EPOLL_CTL_DEL, watched, &ev)
    }

    /// `epoll_wait`: waits up to `timeout` ms (-1 forever) and returns the ready tokens with their events.
    public func wait(timeout: Int32) throws(SyscallError) -> [(token: UInt64, events: UInt32)] {
        let n = try events.withUnsafeMutableBufferPointer { buf throws(SyscallError) in
            try Sys.retrying("epoll_wait", "") { epoll_wait(fd, buf.baseAddress, Int32(buf.count), timeout) }
        }
        var out: [(token: UInt64, events: UInt32)] = []
        out.reserveCapacity(Int(n))
        for i in 0..<Int(n) { out.append((events[i].data.u64, events[i].events)) }
        return out
    }
}

/// A `signalfd(2)` for SIGTERM, SIGINT and friends: signals become readable events in an event loop.
/// The signals are blocked for the calling thread (call this before starting other threads).
public final class SignalDescriptor {
    public let fd: Int32

    public init(_ signals: [Int32]) throws(SyscallError) {
        var mask = sigset_t()
        sigemptyset(&mask)
        for s in signals { sigaddset(&mask, s) }
        _ = try Sys.retrying("sigprocmask", "") { sigprocmask(SIG_BLOCK, &mask, nil) }
        fd = try Sys.retrying("signalfd", "") { signalfd(-1, &mask, Int32(SFD_CLOEXEC | SFD_NONBLOCK)) }
    }

    deinit { Sys.close(fd) }

    /// Reads pending signals; returns their numbers (empty when none is pending).
    public func drain() -> [Int32] {
        var result: [Int32] = []
        var info = signalfd_siginfo()
        while true {
            let n = withUnsafeMutableBytes(of: &info) { Glibc.read(fd, $0.baseAddress, $0.count) }
            if n != MemoryLayout<signalfd_siginfo>.size { break }
            result.append(Int32(info.ssi_signo))
        }
        return result
    }
}
