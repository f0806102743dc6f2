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
    /// How far, in bytes of the live stream, a stream client may fall behind before it misses records
    /// (`HTTPD_CLIENT_BUFFER`); the shared buffer holds no more than this, whatever the number of clients.
    public var clientBufferBytes = 4 << 20
    /// Live streams served at once (`HTTPD_MAX_STREAMS`); one more is answered 503.
    public var maxStreams = 256
    /// Who may ask: the token, the origins and hosts let in, read-only routes (docs/http.md).
    public var access = AccessPolicy()
    /// The stages' snapshot files (`LOGSPOUT_METRICS_DIR`) for `/metrics`, `/ready` and `/health`; nil: none.
    public var metricsDirectory: String?
    public init() {}
}

/// httpd: one thread, one event loop, every client and its bus connection in it. Holds no state of its
/// own: live streams and routes come from route's bus (docs/bus.md).
public final class HTTPDaemon {
    let options: ServerOptions
    let loop: EventLoop
    var listener: Int32 = -1
    var accepting: Listener?
    var clients: [UInt64: Client] = [:] {
        didSet {
            accepting?.descriptorFreed()  // a client gone: accept again at once if out of descriptors
            mostClients = max(mostClients, clients.count)
            if clients.isEmpty && mostClients >= 32 {  // a crowd went away: its buffers back to the system
                mostClients = 0
                Sys.releaseFreeMemory()
            }
        }
    }
    /// The most clients at once since the heap was last given back.
    var mostClients = 0
    var nextID: UInt64 = 1
    var readBuffer = [UInt8](repeating: 0, count: 64 * 1024)
    /// The one subscription every live stream reads from.
    private(set) lazy var fanOut = FanOut(server: self)
    /// httpd's own counters, and the stages' snapshot files: `/metrics`, `/ready`, `/health`.
    var stats = HTTPDStats()
    let stageFiles: StageFiles

    /// Sets up the event loop (SIGTERM and SIGINT taken through it); the port is opened by `run`.
    public init(options: ServerOptions) throws(SyscallError) {
        self.options = options
        stageFiles = StageFiles(directory: options.metricsDirectory)
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
            let accepting = try Listener(fd: listener, loop: loop, report: Self.diagnostic) { [unowned self] fd in accepted(fd) }
            self.accepting = accepting
            defer { accepting.stop() }
            Readiness.announce()  // listening
            try loop.run()
        } catch {
            Self.diagnostic("\(error)")
            return .software
        }
        for client in Array(clients.values) { client.close() }
        return .ok
    }

    /// The `/metrics` body: httpd's own metrics, then the stages' snapshot files.
    func metricsBody() -> [UInt8] {
        let now = HTTPDStats.Now(connections: clients.count, streams: fanOut.streams.count, bufferedBytes: fanOut.buffer.bytes)
        return stageFiles.metricsBody(&stats, now: now)
    }

    /// Reads `fd` until it would block, handing each read's bytes to `take`; true when it ended (closed by
    /// the peer, or failed).
    func readAvailable(_ fd: Int32, _ take: (UnsafeRawBufferPointer) -> Void) -> Bool {
        var buffer = readBuffer
        defer { readBuffer = buffer }
        while true {
            let n: Int
            do { n = try Sys.read(fd, into: &buffer) } catch {
                return error.errno != .wouldBlock
            }
            if n == 0 { return true }
            buffer.withUnsafeBytes { raw in take(UnsafeRawBufferPointer(rebasing: raw[0..<n])) }
            if n < buffer.count { return false }
        }
    }

    func accepted(_ fd: Int32) {
        let id = nextID
        nextID += 1
        let timer = loop.makeTimer { [unowned self] in clients[id]?.timerFired(Sys.monotonicNanos()) }
        let client = Client(id: id, fd: fd, server: self, timer: timer)
        do {
            client.socket = try loop.register(fd) { [unowned client] events in client.socketEvent(events) }
        } catch {
            loop.cancel(timer)
            Sys.close(fd)
            return
        }
        clients[id] = client
    }
}
