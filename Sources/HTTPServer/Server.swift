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
    /// Who may ask: the token, the origins and hosts let in, read-only routes (docs/http.md).
    public var access = AccessPolicy()
    public init() {}
}

/// httpd: one thread, one event loop, every client and its bus connection in it. Holds no state of its
/// own: live streams and routes come from route's bus (docs/bus.md).
public final class HTTPDaemon {
    let options: ServerOptions
    let loop: EventLoop
    var listener: Int32 = -1
    var clients: [UInt64: Client] = [:]
    var nextID: UInt64 = 1
    var readBuffer = [UInt8](repeating: 0, count: 64 * 1024)

    /// Sets up the event loop (SIGTERM and SIGINT taken through it); the port is opened by `run`.
    public init(options: ServerOptions) throws(SyscallError) {
        self.options = options
        loop = try EventLoop(signals: [.terminate, .interrupt], capacity: 512)
    }

    static func diagnostic(_ s: String) { Sys.diagnostic("httpd: " + s) }

    /// Serves until SIGTERM or SIGINT. Returns the exit status.
    public func run() -> ExitCode {
        Sys.ignoreSIGPIPE()
        do {
            listener = try Sys.listenTCP(host: options.host, port: options.port)
        } catch {
            Self.diagnostic("\(error)")
            return .unavailable
        }
        defer { Sys.close(listener) }
        loop.onSignal = { [unowned self] _ in loop.stop() }
        do {
            let registration = try loop.register(listener) { [unowned self] _ in accept() }
            defer { loop.unregister(registration) }
            Readiness.announce()  // listening
            try loop.run()
        } catch {
            Self.diagnostic("\(error)")
            return .software
        }
        for client in Array(clients.values) { client.close() }
        return .ok
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
            let timer = loop.makeTimer { [unowned self] in clients[id]?.timerFired(Sys.monotonicNanos()) }
            let client = Client(id: id, fd: fd, server: self, timer: timer)
            do {
                client.socket = try loop.register(fd) { [unowned client] events in client.socketEvent(events) }
            } catch {
                loop.cancel(timer)
                Sys.close(fd)
                continue
            }
            clients[id] = client
        }
    }
}
