#if canImport(Glibc)
import Glibc
#endif
import JSON
import Records
import Syscall

/// route's engine: one thread, one epoll set. In it: standard input (non-blocking), a signalfd (SIGHUP
/// reloads the routes folder; SIGTERM and SIGINT mean "finish your input"), the eventfd of etcd
/// discovery, and whatever `watch(_:handler:)` adds (the bus, next).
///
/// Records are read in bursts, routed, and written when a burst ends, with blocking writes: a full pipe
/// downstream holds route back, which holds its input back in turn.
public final class RouteRunner {
    public let options: RouteOptions
    /// The route table; bus commands change it through this store.
    public let store: RouteStore
    let input: Int32
    let output: Int32

    var epoll: Epoll!
    var signals: SignalDescriptor!
    var router: RecordRouter
    var out: [UInt8] = []
    var readBuffer = [UInt8](repeating: 0, count: 64 * 1024)
    var exitCode: RouteExit?
    /// Input can be waited on with epoll (a pipe, a socket, a terminal); a regular file or /dev/null
    /// cannot, and is simply read until its end.
    var inputPollable = true
    var inputWatched = false
    var inputEnded = false
    var madeNonBlocking = false
    /// SIGTERM or SIGINT came: route ends at the end of its input.
    public private(set) var finishing = false

    /// The bus (docs/bus.md), when it could listen.
    var bus: Bus?
    var poller: EtcdPoller?
    var discovery: DiscoveryState?
    /// While starting with discovery: input waits until etcd's first answer (or this deadline), so the
    /// first records are not read before their route is known.
    var discoveryDeadline: UInt64?

    static let signalToken: UInt64 = 0
    static let inputToken: UInt64 = 1
    static let etcdToken: UInt64 = 2
    var nextToken: UInt64 = 16
    var handlers: [UInt64: (UInt32) -> Void] = [:]

    public init(options: RouteOptions, input: Int32 = 0, output: Int32 = 1) {
        self.options = options
        self.input = input
        self.output = output
        store = RouteStore(routesPath: options.routesPath)
        router = RecordRouter(maxLineLength: options.maxLineSize)
        // Written out at 256 KiB (below): one read's worth of routed records on top never makes it grow.
        out.reserveCapacity(Self.flushBytes * 2 + 256 * 1024)
    }

    static func diagnostic(_ s: String) { Sys.diagnostic("route: " + s) }

    /// Routed records are written once this many bytes wait (and at the end of each burst): big enough
    /// for few writes, small enough that the buffer stays in a few hundred KiB of memory.
    static let flushBytes = 256 * 1024

    /// Adds a descriptor to the event loop: `handler` runs with the epoll events whenever it is ready.
    /// Returns the token (for `unwatch`).
    @discardableResult
    public func watch(_ fd: Int32, events: UInt32 = Epoll.readable, handler: @escaping (UInt32) -> Void) throws(SyscallError) -> UInt64 {
        let token = nextToken
        nextToken += 1
        try epoll.add(fd, events: events, token: token)
        handlers[token] = handler
        return token
    }

    /// Takes a descriptor out of the event loop.
    public func unwatch(_ fd: Int32, token: UInt64) {
        epoll.remove(fd)
        handlers[token] = nil
    }

    /// Runs until the end of the input (or a closed standard output).
    public func run() -> RouteExit {
        Sys.ignoreSIGPIPE()
        Sys.growPipe(1)
        do {
            signals = try SignalDescriptor([SIGTERM, SIGINT, SIGHUP])
            epoll = try Epoll()
            try epoll.add(signals.fd, token: Self.signalToken)
        } catch {
            Self.diagnostic("\(error)")
            return .software
        }
        loadRoutes()
        if let path = options.busPath {
            let bus = Bus(path: path, runner: self)
            do {
                try bus.start()
                self.bus = bus
            } catch {
                Self.diagnostic("bus: \(error); live streams and the routes API are off")
            }
        }
        defer { bus?.stop() }
        if let settings = options.etcd {
            do {
                let poller = try EtcdPoller(settings: settings)
                try epoll.add(poller.eventFD, token: Self.etcdToken)
                self.poller = poller
                discovery = DiscoveryState(settings: settings)
                discoveryDeadline = Sys.monotonicNanos() + UInt64(settings.timeoutMs + 500) * 1_000_000
                poller.start()
            } catch {
                Self.diagnostic("etcd discovery: \(error)")
                return .software
            }
        }
        if store.table.routes.isEmpty && options.etcd == nil {
            Self.diagnostic("no routes yet: records are read and dropped until a route is added")
        }
        defer {
            if madeNonBlocking { try? Sys.setNonBlocking(input, false) }
        }
        while exitCode == nil {
            if discoveryDeadline.map({ Sys.monotonicNanos() >= $0 }) == true { discoveryDeadline = nil }
            if discoveryDeadline == nil && !inputWatched && !inputEnded { watchInput() }
            let ready: [(token: UInt64, events: UInt32)]
            do { ready = try epoll.wait(timeout: nextTimeout()) } catch {
                Self.diagnostic("\(error)")
                return .software
            }
            for (token, events) in ready {
                switch token {
                case Self.signalToken: handleSignals()
                case Self.inputToken: readInput()
                case Self.etcdToken: handleDiscovery()
                default: handlers[token]?(events)
                }
                if exitCode != nil { break }
            }
            if exitCode == nil, inputWatched, !inputPollable, !inputEnded { readInput() }
        }
        return exitCode ?? .ok
    }

    func nextTimeout() -> Int32 {
        if let deadline = discoveryDeadline {
            let now = Sys.monotonicNanos()
            return deadline <= now ? 0 : Int32((deadline - now + 999_999) / 1_000_000)
        }
        if inputWatched && !inputPollable && !inputEnded { return 0 }
        return -1
    }

    /// Loads the argument routes and the routes folder, reporting each bad one.
    func loadRoutes() {
        for error in store.addArguments(options.uris) { Self.diagnostic(error) }
        for error in store.reload().errors { Self.diagnostic(error) }
    }

    func watchInput() {
        inputWatched = true
        do {
            try Sys.setNonBlocking(input)
            madeNonBlocking = true
            try epoll.add(input, token: Self.inputToken)
        } catch {
            // A regular file or /dev/null: epoll refuses it (EPERM); it never blocks, read it as it comes.
            inputPollable = false
        }
    }

    // MARK: Signals and discovery

    func handleSignals() {
        for signal in signals.drain() {
            switch signal {
            case SIGHUP:
                let (loaded, errors) = store.reload()
                for error in errors { Self.diagnostic(error) }
                let folder = store.persisting ? options.routesPath : "\(options.routesPath) (no such folder)"
                Self.diagnostic("reloaded \(loaded) route\(loaded == 1 ? "" : "s") from \(folder); \(store.table.routes.count) in all")
            default:
                // Finish: read the input to its end, then exit. The stages upstream end first.
                finishing = true
            }
        }
    }

    func handleDiscovery() {
        guard let poller else { return }
        for reading in poller.take() {
            discoveryDeadline = nil
            guard let (route, messages) = discovery?.apply(reading) else { continue }
            for m in messages { Self.diagnostic(m) }
            if let route { store.setDiscovered(route, id: DiscoveryState.routeID) }
        }
    }

    // MARK: Records

    /// Reads what the input has (a burst: up to 4 MiB), routes it, and writes the result.
    func readInput() {
        var total = 0
        while total < 4 << 20 {
            let n: Int
            do {
                n = try Sys.read(input, into: &readBuffer)
            } catch {
                if error.errno == .wouldBlock { break }
                Self.diagnostic("reading standard input: \(error)")
                flush()
                if exitCode == nil { exitCode = .ioError }
                return
            }
            if n == 0 {
                endOfInput()
                return
            }
            total += n
            let table = store.table
            readBuffer.withUnsafeBytes { raw in
                router.feed(UnsafeRawBufferPointer(rebasing: raw[0..<n]), table: table, into: &out) { error in
                    Self.diagnostic(error.description)
                }
            }
            if out.count >= Self.flushBytes {
                flush()
                if exitCode != nil { return }
            }
            if n < readBuffer.count && inputPollable { break }
        }
        flush()
        bus?.flushSubscribers()
    }

    func endOfInput() {
        inputEnded = true
        if inputPollable { epoll.remove(input) }
        router.finish(table: store.table, into: &out) { error in Self.diagnostic(error.description) }
        flush()
        if exitCode == nil { exitCode = .ok }
    }

    /// Writes the routed records (blocking: a full pipe holds route back).
    func flush() {
        guard !out.isEmpty else { return }
        switch Sys.writeOutput(output, out) {
        case .written: break
        case .closed: exitCode = .ok
        case .failed(let error):
            Self.diagnostic("standard output: \(error)")
            exitCode = .ioError
        }
        out.removeAll(keepingCapacity: true)
    }
}
