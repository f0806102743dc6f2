#if canImport(Glibc)
import Glibc
#endif
import HTTP
import JSON
import Records
import Syscall

/// httpd's settings.
public struct ServerOptions: Sendable {
    /// `PORT`.
    public var port: UInt16 = 8000
    /// The address to listen on ("" for every IPv4 address; "::" for every address).
    public var host = ""
    /// route's bus (`LOGSPOUT_BUS`).
    public var busPath = "/tmp/logspout-bus.sock"
    /// How long a client may take to send a whole request head (slow clients, slowloris), in ms.
    public var headTimeoutMs = 10_000
    /// How long an idle keep-alive connection is kept, in ms.
    public var idleTimeoutMs = 60_000
    /// How much a stream client may have waiting before its records are held back (and dropped by route).
    public var clientBufferBytes = 1 << 20
    public init() {}
}

/// httpd: one thread, one epoll set, every client and its bus connection in it. Holds no state of its
/// own: live streams and routes come from route's bus (docs/bus.md).
public final class HTTPDaemon {
    let options: ServerOptions
    var epoll: Epoll!
    var signals: SignalDescriptor!
    var listener: Int32 = -1
    var clients: [UInt64: Client] = [:]
    var nextID: UInt64 = 1
    var stopping = false
    var readBuffer = [UInt8](repeating: 0, count: 64 * 1024)

    static let signalToken: UInt64 = 0
    static let listenToken: UInt64 = 1

    public init(options: ServerOptions) {
        self.options = options
    }

    static func diagnostic(_ s: String) { Sys.diagnostic("httpd: " + s) }

    /// Serves until SIGTERM or SIGINT. Returns the exit status.
    public func run() -> Int32 {
        Sys.ignoreSIGPIPE()
        do {
            signals = try SignalDescriptor([SIGTERM, SIGINT])
            epoll = try Epoll(capacity: 512)
            try epoll.add(signals.fd, token: Self.signalToken)
            listener = try Sys.listenTCP(host: options.host, port: options.port)
            try epoll.add(listener, token: Self.listenToken)
        } catch {
            Self.diagnostic("\(error)")
            return 69
        }
        while !stopping {
            let ready: [(token: UInt64, events: UInt32)]
            do { ready = try epoll.wait(timeout: nextTimeout()) } catch {
                Self.diagnostic("\(error)")
                return 70
            }
            for (token, events) in ready {
                switch token {
                case Self.signalToken:
                    if !signals.drain().isEmpty { stopping = true }
                case Self.listenToken:
                    accept()
                default:
                    guard let client = clients[token >> 1] else { continue }
                    if token & 1 == 0 { client.socketEvent(events) } else { client.busEvent(events) }
                }
            }
            runTimers()
        }
        for client in Array(clients.values) { client.close() }
        Sys.close(listener)
        return 0
    }

    func accept() {
        while true {
            let fd: Int32?
            do { fd = try Sys.accept(listener) } catch {
                Self.diagnostic("\(error)")
                return
            }
            guard let fd else { return }
            let id = nextID
            nextID += 1
            let client = Client(id: id, fd: fd, server: self)
            do { try epoll.add(fd, events: Epoll.readable, token: id << 1) } catch {
                Sys.close(fd)
                continue
            }
            clients[id] = client
        }
    }

    func nextTimeout() -> Int32 {
        var next: UInt64?
        for c in clients.values {
            if let d = c.deadline, next.map({ d < $0 }) ?? true { next = d }
        }
        guard let next else { return -1 }
        let now = Sys.monotonicNanos()
        return next <= now ? 0 : Int32(min((next - now + 999_999) / 1_000_000, 60_000))
    }

    func runTimers() {
        let now = Sys.monotonicNanos()
        for c in Array(clients.values) {
            if let d = c.deadline, d <= now { c.timerFired(now) }
        }
    }

    /// Changes the events watched on a client's socket or bus connection.
    func watch(_ fd: Int32, token: UInt64, events: UInt32) {
        epoll.remove(fd)
        try? epoll.add(fd, events: events, token: token)
    }
}
