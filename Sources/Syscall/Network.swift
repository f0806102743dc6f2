import CSyscall
#if canImport(Glibc)
import Glibc
#endif

/// An IPv4 or IPv6 socket address (`sockaddr_storage` and its length).
public struct SocketAddress: Sendable, Hashable, CustomStringConvertible {
    public var storage: sockaddr_storage
    public var length: socklen_t

    public init(storage: sockaddr_storage, length: socklen_t) {
        self.storage = storage
        self.length = length
    }

    public var family: Int32 { Int32(storage.ss_family) }

    /// `host:port`, IPv6 in brackets.
    public var description: String {
        var s = storage
        var host = [CChar](repeating: 0, count: Int(NI_MAXHOST))
        var serv = [CChar](repeating: 0, count: 32)
        let r = withUnsafePointer(to: &s) { p in
            p.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                getnameinfo($0, length, &host, socklen_t(host.count), &serv, socklen_t(serv.count), NI_NUMERICHOST | NI_NUMERICSERV)
            }
        }
        guard r == 0 else { return "?" }
        let h = String(decoding: host.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        let p = String(decoding: serv.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        return h.contains(":") ? "[\(h)]:\(p)" : "\(h):\(p)"
    }

    public static func == (a: SocketAddress, b: SocketAddress) -> Bool {
        guard a.length == b.length else { return false }
        var x = a.storage, y = b.storage
        return memcmp(&x, &y, Int(a.length)) == 0
    }

    public func hash(into h: inout Hasher) {
        var x = storage
        withUnsafeBytes(of: &x) { h.combine(bytes: UnsafeRawBufferPointer(rebasing: $0.prefix(Int(length)))) }
    }

    /// Calls `body` with the address as a `sockaddr` pointer.
    public func withSockaddr<R>(_ body: (UnsafePointer<sockaddr>, socklen_t) -> R) -> R {
        var s = storage
        return withUnsafePointer(to: &s) { p in p.withMemoryRebound(to: sockaddr.self, capacity: 1) { body($0, length) } }
    }
}

/// A name `getaddrinfo` found no address for, and why in a few words.
public struct ResolveError: Error, Equatable, Sendable, CustomStringConvertible {
    public var host: String
    /// Why: `no such host`, `no answer from the name server`, …
    public var reason: String
    /// The system's error, for `EAI_SYSTEM`.
    public var errno: Errno?

    public init(host: String, reason: String, errno: Errno? = nil) {
        self.host = host
        self.reason = reason
        self.errno = errno
    }

    /// The error of a `getaddrinfo` result code.
    public init(host: String, code: Int32, errno: Errno?) {
        let reason: String
        switch code {
        case EAI_NONAME: reason = "no such host"
        case EAI_AGAIN: reason = "no answer from the name server"
        case EAI_FAIL: reason = "name server failure"
        case -5: reason = "the name has no address"  // EAI_NODATA
        case -9: reason = "the name has no address of a usable family"  // EAI_ADDRFAMILY
        case EAI_SERVICE: reason = "bad port"
        case EAI_SYSTEM: reason = errno.map { "\($0)" } ?? "system error"
        default:
            var text = String(cString: gai_strerror(code))
            if let first = text.first { text = first.lowercased() + text.dropFirst() }
            reason = text
        }
        self.init(host: host, reason: reason, errno: errno)
    }

    public var description: String { "cannot resolve \(host): \(reason)" }
}

/// A socket type for `Sys.resolve` and `Sys.socket`.
public enum SocketKind: Sendable {
    case udp, tcp
    var type: Int32 { self == .udp ? Int32(SOCK_DGRAM.rawValue) : Int32(SOCK_STREAM.rawValue) }
}

extension Sys {
    /// `getaddrinfo(3)`: the addresses of `host` (a name or an IPv4/IPv6 literal) at `port`.
    public static func resolve(host: String, port: UInt16, kind: SocketKind) throws(SyscallError) -> [SocketAddress] {
        do { return try lookup(host: host, port: port, kind: kind) } catch {
            throw SyscallError("resolve", "\(host) (\(error.reason))", error.errno ?? Errno(EHOSTUNREACH))
        }
    }

    /// `getaddrinfo(3)`, as `resolve`, failing with a short reason (`cannot resolve logs: no such host`).
    public static func lookup(host: String, port: UInt16, kind: SocketKind) throws(ResolveError) -> [SocketAddress] {
        var hints = addrinfo()
        hints.ai_family = AF_UNSPEC
        hints.ai_socktype = kind.type
        var list: UnsafeMutablePointer<addrinfo>?
        let r = getaddrinfo(host, String(port), &hints, &list)
        guard r == 0 else {
            let saved = errno
            throw ResolveError(host: host, code: r, errno: r == EAI_SYSTEM ? Errno(saved) : nil)
        }
        defer { freeaddrinfo(list) }
        var result: [SocketAddress] = []
        var cursor = list
        while let ai = cursor {
            cursor = ai.pointee.ai_next
            var storage = sockaddr_storage()
            let len = min(Int(ai.pointee.ai_addrlen), MemoryLayout<sockaddr_storage>.size)
            withUnsafeMutableBytes(of: &storage) { dst in
                dst.copyMemory(from: UnsafeRawBufferPointer(start: ai.pointee.ai_addr, count: len))
            }
            let address = SocketAddress(storage: storage, length: socklen_t(len))
            if !result.contains(address) { result.append(address) }
        }
        return result
    }

    /// A non-blocking, close-on-exec socket for `address`'s family.
    public static func socket(for address: SocketAddress, kind: SocketKind) throws(SyscallError) -> Int32 {
        try retrying("socket", address.description) {
            Glibc.socket(address.family, kind.type | Int32(SOCK_NONBLOCK.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        }
    }

    /// `connect(2)` on a non-blocking socket: true when connected at once, false when in progress
    /// (wait for it to become writable, then check `socketError`).
    public static func connect(_ fd: Int32, to address: SocketAddress) throws(SyscallError) -> Bool {
        while true {
            let r = address.withSockaddr { Glibc.connect(fd, $0, $1) }
            if r == 0 { return true }
            let e = Errno.current
            if e == .interrupted { continue }
            if e == .inProgress { return false }
            throw SyscallError("connect to", address.description, e)
        }
    }

    /// The pending error of a socket (`SO_ERROR`), e.g. the outcome of a non-blocking connect.
    public static func socketError(_ fd: Int32) -> Errno? {
        var err: Int32 = 0
        var len = socklen_t(MemoryLayout<Int32>.size)
        guard getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) == 0 else { return .current }
        return err == 0 ? nil : Errno(err)
    }

    /// Sets an integer socket option, ignoring failure (buffer sizes and the like are hints).
    public static func setOption(_ fd: Int32, _ level: Int32, _ name: Int32, _ value: Int32) {
        var v = value
        _ = setsockopt(fd, level, name, &v, socklen_t(MemoryLayout<Int32>.size))
    }

    /// Turns off Nagle's algorithm on a TCP socket (`TCP_NODELAY`): each write leaves at once.
    public static func setNoDelay(_ fd: Int32) {
        setOption(fd, Int32(IPPROTO_TCP), TCP_NODELAY, 1)
    }

    /// Asks for a send buffer of `bytes` (`SO_SNDBUF`; the kernel may give less).
    public static func setSendBuffer(_ fd: Int32, bytes: Int32) {
        setOption(fd, SOL_SOCKET, SO_SNDBUF, bytes)
    }

    /// `sendmmsg(2)` on a connected datagram socket: sends `messages` (ranges of `buffer`) as one datagram
    /// each, as many as the kernel takes; returns how many were sent (at least 1, or it throws).
    public static func sendmmsg(_ fd: Int32, _ buffer: UnsafeRawBufferPointer, _ messages: ArraySlice<Range<Int>>) throws(SyscallError) -> Int {
        let count = min(messages.count, 1024)
        guard count > 0, let base = buffer.baseAddress else { return 0 }
        var iovecs = [iovec](repeating: iovec(), count: count)
        var i = 0
        for range in messages.prefix(count) {
            iovecs[i] = iovec(iov_base: UnsafeMutableRawPointer(mutating: base + range.lowerBound), iov_len: range.count)
            i += 1
        }
        while true {
            let n = logspout_sendmmsg(fd, iovecs, UInt32(count), Int32(MSG_DONTWAIT | MSG_NOSIGNAL))
            if n >= 0 { return Int(n) }
            let e = Errno.current
            if e == .interrupted { continue }
            throw SyscallError("sendmmsg", "", e)
        }
    }

    /// One SRV record.
    public struct SRVRecord: Sendable, Equatable {
        public var priority: UInt16
        public var weight: UInt16
        public var port: UInt16
        public var target: String
        public init(priority: UInt16, weight: UInt16, port: UInt16, target: String) {
            self.priority = priority
            self.weight = weight
            self.port = port
            self.target = target
        }
    }

    /// The DNS SRV records of `name`, through the system resolver (libresolv `res_query`).
    public static func srvLookup(_ name: String) throws(SyscallError) -> [SRVRecord] {
        var records = [logspout_srv](repeating: logspout_srv(), count: 64)
        var herr: Int32 = 0
        let n = records.withUnsafeMutableBufferPointer { logspout_srv_lookup(name, $0.baseAddress, Int32($0.count), &herr) }
        if n == -2 { throw SyscallError("SRV lookup of", name + " (unreadable answer)", Errno(EBADMSG)) }
        if n < 0 {
            let reason = herr == HOST_NOT_FOUND ? "no such name" : herr == NO_DATA ? "no SRV records"
                : herr == TRY_AGAIN ? "no answer from the name server" : "name server failure"
            throw SyscallError("SRV lookup of", "\(name) (\(reason))", Errno(EHOSTUNREACH))
        }
        return records.prefix(Int(n)).map { r in
            var t = r.target
            let target = withUnsafeBytes(of: &t) { raw in String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self) }
            return SRVRecord(priority: r.priority, weight: r.weight, port: r.port, target: target)
        }
    }

    /// Whether the peer of a stream socket has closed it (a zero-byte read is waiting); drains what the
    /// peer sent meanwhile (syslog receivers send nothing).
    public static func peerClosed(_ fd: Int32) -> Bool {
        var buf = [UInt8](repeating: 0, count: 512)
        while true {
            let n = buf.withUnsafeMutableBytes { Glibc.recv(fd, $0.baseAddress, $0.count, Int32(MSG_DONTWAIT)) }
            if n == 0 { return true }
            if n > 0 { continue }
            let e = Errno.current
            if e == .interrupted { continue }
            return e != .wouldBlock
        }
    }

    /// An `eventfd(2)` (non-blocking, close-on-exec), for waking an event loop from another thread.
    public static func eventfd() throws(SyscallError) -> Int32 {
        try retrying("eventfd", "") { CSyscall.eventfd(0, Int32(EFD_NONBLOCK | EFD_CLOEXEC)) }
    }

    /// Adds 1 to an eventfd.
    public static func signalEvent(_ fd: Int32) {
        var one: UInt64 = 1
        _ = Glibc.write(fd, &one, 8)
    }

    /// Resets an eventfd.
    public static func drainEvent(_ fd: Int32) {
        var v: UInt64 = 0
        _ = Glibc.read(fd, &v, 8)
    }
}

extension Sys {
    /// A listening Unix stream socket at `path` (non-blocking, close-on-exec), replacing a stale socket
    /// file, with the given permission bits.
    public static func listenUnix(path: String, mode: mode_t = 0o600, backlog: Int32 = 128) throws(SyscallError) -> Int32 {
        var addr = sockaddr_un()
        addr.sun_family = sa_family_t(AF_UNIX)
        let utf8 = Array(path.utf8)
        guard utf8.count < MemoryLayout.size(ofValue: addr.sun_path) else { throw SyscallError("listen on", path, Errno(ENAMETOOLONG)) }
        withUnsafeMutableBytes(of: &addr.sun_path) { raw in
            raw.copyBytes(from: utf8)
            raw[utf8.count] = 0
        }
        let fd = try retrying("socket", "AF_UNIX") {
            Glibc.socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_NONBLOCK.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        }
        // A socket file left by a process that is gone: nobody answers on it.
        if let probe = try? connectUnix(path: path) {
            Glibc.close(probe)
            Glibc.close(fd)
            throw SyscallError("listen on", path + " (another process serves it)", Errno(EADDRINUSE))
        }
        _ = Glibc.unlink(path)
        let r = withUnsafePointer(to: &addr) { p in
            p.withMemoryRebound(to: sockaddr.self, capacity: 1) { Glibc.bind(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
        if r != 0 {
            let e = Errno.current
            Glibc.close(fd)
            throw SyscallError("bind", path, e)
        }
        _ = chmod(path, mode)
        if Glibc.listen(fd, backlog) != 0 {
            let e = Errno.current
            Glibc.close(fd)
            throw SyscallError("listen on", path, e)
        }
        return fd
    }

    /// A listening TCP socket on `host:port` (non-blocking, close-on-exec, SO_REUSEADDR); host "" or
    /// "0.0.0.0" for every IPv4 address, "::" for every address.
    public static func listenTCP(host: String, port: UInt16, backlog: Int32 = 512) throws(SyscallError) -> Int32 {
        let name = host.isEmpty ? "0.0.0.0" : host
        guard let address = try resolve(host: name, port: port, kind: .tcp).first else {
            throw SyscallError("listen on", "\(name):\(port)", Errno(EADDRNOTAVAIL))
        }
        let fd = try socket(for: address, kind: .tcp)
        setOption(fd, SOL_SOCKET, SO_REUSEADDR, 1)
        let r = address.withSockaddr { Glibc.bind(fd, $0, $1) }
        if r != 0 {
            let e = Errno.current
            Glibc.close(fd)
            throw SyscallError("bind", address.description, e)
        }
        if Glibc.listen(fd, backlog) != 0 {
            let e = Errno.current
            Glibc.close(fd)
            throw SyscallError("listen on", address.description, e)
        }
        return fd
    }

    /// `accept4(2)` without blocking: the new connection (non-blocking, close-on-exec), or nil when none
    /// is waiting.
    public static func accept(_ fd: Int32) throws(SyscallError) -> Int32? {
        while true {
            let c = logspout_accept(fd)
            if c >= 0 { return c }
            let e = Errno.current
            // The connection at the head of the queue failed (accept(2): these are its network errors,
            // reported by accept on Linux); it is gone, the next one is taken.
            if e == .interrupted || Self.acceptPerConnectionErrors.contains(e.rawValue) { continue }
            if e == .wouldBlock { return nil }
            throw SyscallError("accept", "", e)
        }
    }

    static let acceptPerConnectionErrors: Set<Int32> = [
        ECONNABORTED, EPROTO, EPERM, ENETDOWN, ENOPROTOOPT, EHOSTDOWN, ENONET, EHOSTUNREACH, ENETUNREACH,
    ]

    /// `write(2)` without blocking on a non-blocking descriptor: bytes written, 0 when it is full.
    public static func writeNonBlocking(_ fd: Int32, _ buffer: UnsafeRawBufferPointer) throws(SyscallError) -> Int {
        while true {
            let n = Glibc.send(fd, buffer.baseAddress, buffer.count, Int32(MSG_DONTWAIT | MSG_NOSIGNAL))
            if n >= 0 { return n }
            let e = Errno.current
            if e == .interrupted { continue }
            if e == .wouldBlock { return 0 }
            throw SyscallError("write", "", e)
        }
    }
}
