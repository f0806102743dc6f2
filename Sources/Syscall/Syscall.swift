import CSyscall
// The one place in the project that calls the system (I/O, sockets, clocks, sleeping, signals). Callers never
// see a raw -1: every call returns its value or throws a `SyscallError` naming the operation, what it acted
// on and the errno. Outside it, only libc's memory functions (memchr, memcmp) are used, on hot paths.

#if canImport(Glibc)
import Glibc
#endif

/// An errno value with its C name and message.
public struct Errno: Error, Equatable, Hashable, Sendable, CustomStringConvertible {
    public var rawValue: Int32
    public init(_ rawValue: Int32) { self.rawValue = rawValue }

    /// The calling thread's current `errno`.
    public static var current: Errno { Errno(errno) }

    public static let interrupted = Errno(EINTR)
    public static let wouldBlock = Errno(EAGAIN)
    public static let brokenPipe = Errno(EPIPE)
    public static let inProgress = Errno(EINPROGRESS)
    public static let connectionRefused = Errno(ECONNREFUSED)
    public static let noEntry = Errno(ENOENT)
    public static let timedOut = Errno(ETIMEDOUT)

    /// The message `strerror` gives, e.g. "No such file or directory".
    public var description: String { String(cString: strerror(rawValue)) }
}

/// A failed system call: what was attempted, on what, and why.
/// Its description reads like "connect to /tmp/docker.sock failed: No such file or directory".
public struct SyscallError: Error, Equatable, Sendable, CustomStringConvertible {
    public var operation: String
    public var context: String
    public var errno: Errno

    public init(_ operation: String, _ context: String = "", _ errno: Errno) {
        self.operation = operation
        self.context = context
        self.errno = errno
    }

    public var description: String {
        context.isEmpty ? "\(operation) failed: \(errno)" : "\(operation) \(context) failed: \(errno)"
    }
}

/// Thin, errno-checked wrappers over the libc calls the project uses.
public enum Sys {
    /// Runs `body` until it returns something other than -1 with EINTR; -1 with any other errno throws.
    @inline(__always)
    static func retrying<T: BinaryInteger>(_ op: String, _ context: String, _ body: () -> T) throws(SyscallError) -> T {
        while true {
            let r = body()
            if r != -1 { return r }
            let e = Errno.current
            if e == .interrupted { continue }
            throw SyscallError(op, context, e)
        }
    }

    /// `read(2)`; returns 0 at end of file. Throws `.wouldBlock` errors on non-blocking descriptors.
    public static func read(_ fd: Int32, _ buffer: UnsafeMutableRawBufferPointer) throws(SyscallError) -> Int {
        try retrying("read", "") { Glibc.read(fd, buffer.baseAddress, buffer.count) }
    }

    /// `write(2)` once; returns how many bytes were written.
    public static func write(_ fd: Int32, _ buffer: UnsafeRawBufferPointer) throws(SyscallError) -> Int {
        try retrying("write", "") { Glibc.write(fd, buffer.baseAddress, buffer.count) }
    }

    /// Writes every byte of `buffer` to a blocking descriptor (short writes are continued).
    public static func writeAll(_ fd: Int32, _ buffer: UnsafeRawBufferPointer) throws(SyscallError) {
        var offset = 0
        while offset < buffer.count {
            let n = try write(fd, UnsafeRawBufferPointer(rebasing: buffer[offset...]))
            offset += n
        }
    }

    /// Writes every byte of `bytes`; on a non-blocking descriptor that is full, waits with `poll`.
    public static func writeAll(_ fd: Int32, _ bytes: [UInt8]) throws(SyscallError) {
        var offset = 0
        while offset < bytes.count {
            let n = bytes.withUnsafeBytes { raw in Glibc.write(fd, raw.baseAddress! + offset, raw.count - offset) }
            if n >= 0 {
                offset += n
                continue
            }
            let e = Errno.current
            if e == .interrupted { continue }
            if e == .wouldBlock {
                _ = try poll(fd, events: Int16(POLLOUT), timeout: -1)
                continue
            }
            throw SyscallError("write", "", e)
        }
    }

    /// `close(2)`; errors are ignored (the descriptor is gone either way on Linux).
    public static func close(_ fd: Int32) { _ = Glibc.close(fd) }

    /// Sets or clears `O_NONBLOCK`.
    public static func setNonBlocking(_ fd: Int32, _ on: Bool = true) throws(SyscallError) {
        let flags = try retrying("fcntl", "F_GETFL") { fcntl(fd, F_GETFL) }
        let new = on ? flags | O_NONBLOCK : flags & ~O_NONBLOCK
        _ = try retrying("fcntl", "F_SETFL") { fcntl(fd, F_SETFL, new) }
    }

    /// Ignores `SIGPIPE`, so writes to a closed pipe or socket fail with `EPIPE` instead of killing us.
    public static func ignoreSIGPIPE() { _ = signal(SIGPIPE, SIG_IGN) }

    /// Opens a connected Unix stream socket to `path` (blocking, close-on-exec).
    public static func connectUnix(path: String) throws(SyscallError) -> Int32 {
        var addr = sockaddr_un()
        addr.sun_family = sa_family_t(AF_UNIX)
        let capacity = MemoryLayout.size(ofValue: addr.sun_path)
        let utf8 = Array(path.utf8)
        guard utf8.count < capacity else { throw SyscallError("connect to", path, Errno(ENAMETOOLONG)) }
        withUnsafeMutableBytes(of: &addr.sun_path) { raw in
            raw.copyBytes(from: utf8)
            raw[utf8.count] = 0
        }
        let fd = try retrying("socket", "AF_UNIX") { Glibc.socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0) }
        let r = withUnsafePointer(to: &addr) { p in
            p.withMemoryRebound(to: sockaddr.self, capacity: 1) { sp in
                Glibc.connect(fd, sp, socklen_t(MemoryLayout<sockaddr_un>.size))
            }
        }
        if r != 0 {
            let e = Errno.current
            close(fd)
            throw SyscallError("connect to", path, e)
        }
        return fd
    }

    /// Opens a connected TCP socket to `host:port`, trying each address `getaddrinfo` returns.
    public static func connectTCP(host: String, port: UInt16) throws(SyscallError) -> Int32 {
        var hints = addrinfo()
        hints.ai_family = AF_UNSPEC
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        var list: UnsafeMutablePointer<addrinfo>?
        let context = "\(host):\(port)"
        let gai = getaddrinfo(host, String(port), &hints, &list)
        guard gai == 0, let first = list else {
            throw SyscallError("resolve", context + " (" + String(cString: gai_strerror(gai)) + ")", Errno(EHOSTUNREACH))
        }
        defer { freeaddrinfo(list) }
        var lastError = Errno(ECONNREFUSED)
        var cursor: UnsafeMutablePointer<addrinfo>? = first
        while let ai = cursor {
            cursor = ai.pointee.ai_next
            let fd = Glibc.socket(ai.pointee.ai_family, ai.pointee.ai_socktype | Int32(SOCK_CLOEXEC.rawValue), ai.pointee.ai_protocol)
            if fd < 0 { lastError = .current; continue }
            if Glibc.connect(fd, ai.pointee.ai_addr, ai.pointee.ai_addrlen) == 0 {
                var one: Int32 = 1
                _ = setsockopt(fd, Int32(IPPROTO_TCP), TCP_NODELAY, &one, socklen_t(MemoryLayout<Int32>.size))
                return fd
            }
            lastError = .current
            close(fd)
        }
        throw SyscallError("connect to", context, lastError)
    }

    /// Sets `SO_RCVTIMEO` and `SO_SNDTIMEO` on a blocking socket (0 clears them).
    public static func setTimeouts(_ fd: Int32, milliseconds: Int) {
        var tv = timeval(tv_sec: milliseconds / 1000, tv_usec: (milliseconds % 1000) * 1000)
        _ = setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
        _ = setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
    }

    /// `poll(2)` on one descriptor; returns true when `events` are ready before `timeout` ms.
    public static func poll(_ fd: Int32, events: Int16, timeout: Int32) throws(SyscallError) -> Bool {
        var p = pollfd(fd: fd, events: events, revents: 0)
        let n = try retrying("poll", "") { Glibc.poll(&p, 1, timeout) }
        return n > 0
    }

    /// Whether `fd` has input waiting right now (`poll` without waiting); false when it cannot tell.
    public static func hasInput(_ fd: Int32) -> Bool {
        (try? poll(fd, events: Int16(POLLIN), timeout: 0)) == true
    }

    /// Waits up to `timeout` ms for `fd` to take output; true when it can.
    public static func waitWritable(_ fd: Int32, timeout: Int32) throws(SyscallError) -> Bool {
        try poll(fd, events: Int16(POLLOUT), timeout: timeout)
    }

    /// Sleeps for `microseconds` (`nanosleep`; a signal cuts it short).
    public static func sleep(microseconds: UInt64) {
        var ts = timespec(tv_sec: Int(microseconds / 1_000_000), tv_nsec: Int(microseconds % 1_000_000) * 1000)
        _ = nanosleep(&ts, nil)
    }

    /// Ends the process with `code`.
    public static func exit(_ code: ExitCode) -> Never { Glibc.exit(code.rawValue) }

    /// Gives the memory malloc holds free back to the system (`malloc_trim`): called when a burst of
    /// clients went away, so a stage's resident size falls back instead of staying at its peak.
    public static func releaseFreeMemory() {
        _ = malloc_trim(0)
    }

    /// Monotonic time in nanoseconds (`CLOCK_MONOTONIC`), for timers and backoff.
    public static func monotonicNanos() -> UInt64 {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return UInt64(ts.tv_sec) &* 1_000_000_000 &+ UInt64(ts.tv_nsec)
    }

    /// Wall-clock time (`CLOCK_REALTIME`) as seconds and nanoseconds since the epoch.
    public static func realtime() -> (seconds: Int64, nanoseconds: Int32) {
        var ts = timespec()
        clock_gettime(CLOCK_REALTIME, &ts)
        return (Int64(ts.tv_sec), Int32(ts.tv_nsec))
    }

    /// CPU time used by this process, in nanoseconds (`CLOCK_PROCESS_CPUTIME_ID`).
    public static func processCPUNanos() -> UInt64 {
        var ts = timespec()
        clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts)
        return UInt64(ts.tv_sec) &* 1_000_000_000 &+ UInt64(ts.tv_nsec)
    }

    /// The value of environment variable `name`, if set.
    public static func environment(_ name: String) -> String? {
        guard let p = getenv(name) else { return nil }
        return String(cString: p)
    }

    /// This host's name (`gethostname`); inside a container, Docker sets it to the short container id.
    public static func hostname() -> String {
        var buf = [CChar](repeating: 0, count: 256)
        guard gethostname(&buf, buf.count - 1) == 0 else { return "" }
        return String(decoding: buf.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    /// Writes one line to standard error (the message plus "\n"), ignoring failures.
    public static func diagnostic(_ line: String) {
        _ = try? writeAll(2, diagnosticLine(line))
    }

    /// The bytes of `diagnostic(_:)`: one line whatever the message quotes (a pattern, a URI, a name), its
    /// CR and LF written as `\r` and `\n`.
    public static func diagnosticLine(_ line: String) -> [UInt8] {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(line.utf8.count + 1)
        for b in line.utf8 {
            switch b {
            case 10: bytes.append(contentsOf: [92, 110])
            case 13: bytes.append(contentsOf: [92, 114])
            default: bytes.append(b)
            }
        }
        bytes.append(10)
        return bytes
    }

    /// Whether `path` exists (`access(F_OK)`).
    public static func exists(_ path: String) -> Bool { access(path, F_OK) == 0 }
}

extension Sys {
    /// `read(2)` into an array's storage; returns 0 at end of file.
    public static func read(_ fd: Int32, into buffer: inout [UInt8]) throws(SyscallError) -> Int {
        try retrying("read", "") { buffer.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress, $0.count) } }
    }
}

/// Calls `body` with the bytes of `array[range]`, keeping `body`'s typed error (the standard library's
/// `withUnsafeBytes` erases it).
public func withRawBytes<R, E: Error>(_ array: [UInt8], _ range: Range<Int>,
                                      _ body: (UnsafeRawBufferPointer) throws(E) -> R) throws(E) -> R {
    let result: Result<R, E> = array.withUnsafeBytes { raw in
        do throws(E) { return .success(try body(UnsafeRawBufferPointer(rebasing: raw[range]))) } catch { return .failure(error) }
    }
    return try result.get()
}

/// How a stage ends (sysexits.h): the same code means the same in every stage (docs/*.md, "Exit status").
public enum ExitCode: Int32, Sendable {
    /// Done: the input ended, a stop signal came, or the reader of standard output went away.
    case ok = 0
    /// A check that failed: `logspout health` found the appliance not healthy (what a container health
    /// check reads as unhealthy).
    case unhealthy = 1
    /// A bad command line: an unknown argument or a bad option value.
    case usage = 64
    /// Something needed at start is not there: the Docker engine cannot be reached, httpd's port cannot be
    /// opened.
    case unavailable = 69
    /// An internal error (epoll, signalfd or eventfd could not be set up).
    case software = 70
    /// Reading standard input or writing standard output failed (other than a closed pipe).
    case ioError = 74
    /// Bad configuration: an environment value, a file or folder it names.
    case config = 78
}

/// How writing a stage's standard output went.
public enum OutputStatus: Equatable, Sendable {
    case written
    /// The reader is gone (EPIPE): the stage ends quietly, like `yes | head`.
    case closed
    case failed(SyscallError)
}

extension Sys {
    /// Writes `bytes` to a stage's output (waiting while the pipe is full: that is the backpressure
    /// between stages) and says how it went.
    public static func writeOutput(_ fd: Int32, _ bytes: [UInt8]) -> OutputStatus {
        do {
            try writeAll(fd, bytes)
            return .written
        } catch {
            return error.errno == .brokenPipe ? .closed : .failed(error)
        }
    }
}
