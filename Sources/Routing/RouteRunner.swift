import JSON
import Metrics
import Records
import Syscall

/// route's engine: one thread, one event loop. In it: standard input (non-blocking), the signals (SIGHUP
/// reloads the routes folder; SIGTERM and SIGINT mean "finish your input"), the eventfd of etcd
/// discovery, and the bus.
///
/// Records are read in bursts, routed, and written when a burst ends, with blocking writes: a full pipe
/// downstream holds route back, which holds its input back in turn.
public final class RouteRunner {
    public let options: RouteOptions
    /// The route table; bus commands change it through this store.
    public let store: RouteStore
    let input: Int32
    let output: Int32

    /// The event loop: the bus and etcd discovery register their descriptors in it.
    public let loop: EventLoop
    var router: RecordRouter
    var out: [UInt8] = []
    var readBuffer = [UInt8](repeating: 0, count: 64 * 1024)
    /// Set when route is to end: the loop stops.
    var exitCode: ExitCode? {
        didSet { if exitCode != nil { loop.stop() } }
    }
    /// Input can be waited on with epoll (a pipe, a socket, a terminal); a regular file or /dev/null
    /// cannot, and is simply read until its end, a burst per turn of the loop.
    var inputPollable = true
    var inputWatched = false
    var inputRegistration: EventLoop.Registration?
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
    var discoveryDeadline: EventLoop.Timer?
    /// `route.prom` in `LOGSPOUT_METRICS_DIR` (docs/route.md, "Metrics"); told once per burst of input.
    var metrics: MetricsPublisher?
    var counters: RouteMetrics

    /// Sets up the event loop (SIGTERM, SIGINT and SIGHUP taken through it).
    public init(options: RouteOptions, input: Int32 = 0, output: Int32 = 1) throws(SyscallError) {
        self.options = options
        self.input = input
        self.output = output
        store = RouteStore(routesPath: options.routesPath)
        router = RecordRouter(maxLineLength: options.maxLineSize)
        counters = RouteMetrics(limit: options.maxLabelValues)
        loop = try EventLoop(signals: [.terminate, .interrupt, .hangup])
        // Written out at 64 KiB (below): one read's worth of routed records on top never makes it grow.
        out.reserveCapacity(Self.flushBytes * 2 + 256 * 1024)
    }

    static func diagnostic(_ s: String) { Sys.diagnostic("route: " + s) }

    /// Routed records are written once this many bytes wait (and at the end of each burst): big enough
    /// for few writes, small enough that the buffer stays within about 140 KiB of touched memory.
    static let flushBytes = 64 * 1024

    /// Runs until the end of the input (or a closed standard output).
    public func run() -> ExitCode {
        Sys.ignoreSIGPIPE()
        Sys.growPipe(1)
        loop.onSignal = { [unowned self] signal in handle(signal) }
        loadRoutes()
        metrics = MetricsPublisher(loop: loop, file: "route.prom") { [unowned self] text in renderMetrics(&text) }
        defer { metrics?.flush() }  // the last values stay (after the bus closed: no subscriber left)
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
                try loop.register(poller.eventFD) { [unowned self] _ in handleDiscovery() }
                self.poller = poller
                discovery = DiscoveryState(settings: settings)
                let deadline = Sys.monotonicNanos() + UInt64(settings.timeoutMs + 500) * 1_000_000
                discoveryDeadline = loop.schedule(at: deadline) { [unowned self] in watchInput() }
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
        if discoveryDeadline == nil { watchInput() }
        do {
            try loop.run { [unowned self] in
                // The route table changed (the bus, SIGHUP, discovery): the labels follow it.
                if store.table.generation != counters.generation { metrics?.changed() }
            }
        } catch {
            Self.diagnostic("\(error)")
            return .software
        }
        return exitCode ?? .ok
    }

    /// Loads the argument routes and the routes folder, reporting each bad one.
    func loadRoutes() {
        // Discovery's route id is reserved from the start, before the folder could claim it.
        if options.etcd != nil { store.reserve(DiscoveryState.routeID) }
        for error in store.addArguments(options.uris) { Self.diagnostic(error) }
        for error in store.reload().errors { Self.diagnostic(error) }
    }

    /// Starts reading the input: watched in the loop, or (a regular file, /dev/null) read a burst per turn.
    func watchInput() {
        if let discoveryDeadline { loop.cancel(discoveryDeadline) }
        discoveryDeadline = nil
        guard !inputWatched, !inputEnded, exitCode == nil else { return }
        Readiness.announce()  // routes loaded (etcd's first answer included), the bus listening
        inputWatched = true
        do {
            try Sys.setNonBlocking(input)
            madeNonBlocking = true
            inputRegistration = try loop.register(input) { [unowned self] _ in readInput() }
        } catch {
            // A regular file or /dev/null: epoll refuses it (EPERM); it never blocks, read it as it comes.
            inputPollable = false
            var reader: EventLoop.Timer?
            reader = loop.makeTimer { [unowned self] in
                readInput()
                if inputEnded || exitCode != nil { loop.cancel(reader!) } else { loop.arm(reader!, at: 0) }
            }
            loop.arm(reader!, at: 0)
        }
    }

    // MARK: Signals and discovery

    func handle(_ signal: Signal) {
        switch signal {
        case .hangup:
            let (loaded, errors) = store.reload()
            for error in errors { Self.diagnostic(error) }
            let folder = store.persisting ? options.routesPath : "\(options.routesPath) (no such folder)"
            Self.diagnostic("reloaded \(loaded) route\(loaded == 1 ? "" : "s") from \(folder); \(store.table.routes.count) in all")
        default:
            // Finish: read the input to its end, then exit. The stages upstream end first.
            finishing = true
        }
    }

    func handleDiscovery() {
        guard let poller else { return }
        var answered = false
        for reading in poller.take() {
            answered = true
            guard let (route, messages) = discovery?.apply(reading) else { continue }
            for m in messages { Self.diagnostic(m) }
            if let route { store.setDiscovered(route, id: DiscoveryState.routeID) }
        }
        // etcd's first answer is in: the records can come.
        if answered { watchInput() }
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
        metrics?.changed()
    }

    func renderMetrics(_ text: inout MetricsText) {
        let refused = router.malformedCount
        counters.render(&text, table: store.table, router: &router, refused: refused,
                        subscribers: bus?.subscribers.count ?? 0, missed: bus?.missedTotal ?? 0,
                        invalidFiles: store.invalidRouteFiles)
    }

    func endOfInput() {
        inputEnded = true
        if let inputRegistration { loop.unregister(inputRegistration) }
        inputRegistration = nil
        router.finish(table: store.table, into: &out) { error in Self.diagnostic(error.description) }
        flush()
        metrics?.changed()
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
