import Contract
import JSON
import Records
import Syscall
import Syslog
import Time

/// emit-syslog's settings, from its environment.
public struct EmitterOptions: Sendable {
    public enum Framing: String, Sendable { case newline, octetCounted = "octet-counted" }

    /// The format of routes that name none (`SYSLOG_FORMAT`).
    public var defaultFormat = SyslogFormat.rfc5424
    public var syslog = SyslogOptions()
    /// The largest UDP message; longer ones are cut on a UTF-8 boundary (`SYSLOG_MAX_SIZE`).
    public var maxDatagram = 65507
    /// TCP framing (`SYSLOG_TCP_FRAMING`): a newline after each message, or RFC 6587 octet counting.
    public var framing = Framing.newline
    /// Bytes kept per receiver while it is away or slow (`SYSLOG_BUFFER_SIZE`).
    public var bufferSize = 8 << 20
    /// How often addresses are looked up again, in seconds (`SYSLOG_RESOLVE_INTERVAL`).
    public var resolveInterval = 60
    /// `MULTILINE_PATTERN`, `MULTILINE_MATCH`, `MULTILINE_FLUSH_AFTER`, `MULTILINE_SEPARATOR`: the
    /// defaults of routes that join lines.
    public var multilineEnvironment: [String: String] = [:]
    /// How long to wait at the end of input for TCP receivers to take what is queued, in ms.
    public var drainTimeoutMs = 5000
    /// Syslog over TLS: the trust store and client certificate (`LOGSPOUT_TLS_*`).
    public var tls = TLSOptions()

    public init() {}

    /// Reads the environment; returns the options or the first bad value's message.
    public static func fromEnvironment(_ get: (String) -> String?) -> Result<EmitterOptions, TargetError> {
        var o = EmitterOptions()
        do { o.syslog = try SyslogOptions.fromEnvironment(get) } catch { return .failure(TargetError(error.message)) }
        if let f = get("SYSLOG_FORMAT"), !f.isEmpty {
            guard let format = SyslogFormat(rawValue: f) else {
                return .failure(TargetError("SYSLOG_FORMAT '\(f)' is not one of rfc5424, rfc3164, deis"))
            }
            o.defaultFormat = format
        }
        func number(_ name: String, _ range: ClosedRange<Int>, _ apply: (Int) -> Void) -> TargetError? {
            guard let text = get(name), !text.isEmpty else { return nil }
            guard let v = Int(text), range.contains(v) else {
                return TargetError("\(name) '\(text)' must be a whole number from \(range.lowerBound) to \(range.upperBound)")
            }
            apply(v)
            return nil
        }
        if let e = number("SYSLOG_MAX_SIZE", 480...65507, { o.maxDatagram = $0 }) { return .failure(e) }
        if let e = number("SYSLOG_BUFFER_SIZE", 65536...(1 << 30), { o.bufferSize = $0 }) { return .failure(e) }
        if let e = number("SYSLOG_RESOLVE_INTERVAL", 1...86400, { o.resolveInterval = $0 }) { return .failure(e) }
        if let f = get("SYSLOG_TCP_FRAMING"), !f.isEmpty {
            guard let framing = Framing(rawValue: f) else {
                return .failure(TargetError("SYSLOG_TCP_FRAMING '\(f)' is neither newline nor octet-counted"))
            }
            o.framing = framing
        }
        for name in MultilineSpec.environment {
            if let v = get(name), !v.isEmpty { o.multilineEnvironment[name] = v }
        }
        // A bad default is an error at start, not at the first multiline route.
        do { _ = try MultilineSpec(MultilineOptions(), environment: { o.multilineEnvironment[$0] }) } catch {
            return .failure(TargetError("MULTILINE_*: \(error.message)"))
        }
        switch TLSOptions.fromEnvironment(get) {
        case .success(let tls): o.tls = tls
        case .failure(let e): return .failure(e)
        }
        return .success(o)
    }

    public static let usage = """
        usage: emit-syslog [--ready-fd N] < routed-records.ndjson

        Reads routed records (docs/records.md) on standard input and sends each to the syslog receiver its
        route names: UDP (one message per datagram, batched with sendmmsg), TCP or TLS (one long-lived
        connection per receiver, a bounded buffer while it is away). Diagnostics go to standard error; a
        summary line at exit and on SIGUSR1. SIGTERM and SIGINT mean "finish": it reads on until its input
        ends.

        options:
          --ready-fd N             once reading its input, write a newline to descriptor N and close it
          -h, --help               print this help and exit

        environment:
          SYSLOG_FORMAT            rfc5424 (default), rfc3164 or deis, for routes that name no format
          SYSLOG_HOSTNAME          the HOSTNAME field of every message (default: the container's hostname)
          SYSLOG_TAG               the APP-NAME / TAG instead of the container's name and append_tag
                                   (these two and SYSLOG_STRUCTURED_DATA take logspout's templates:
                                   {{.ContainerName}}, {{index .Container.Config.Labels "key"}}, ...)
          SYSLOG_STRUCTURED_DATA   the STRUCTURED-DATA of rfc5424 messages (default -)
          DATETIME_FORMAT          a Go layout for the timestamps of deis and rfc3164 messages
          SYSLOG_MAX_SIZE          largest UDP message in bytes, cut on a UTF-8 boundary (default 65507)
          SYSLOG_TCP_FRAMING       newline (default) or octet-counted (RFC 6587)
          SYSLOG_BUFFER_SIZE       bytes kept per receiver while it is away or slow (default 8388608)
          SYSLOG_RESOLVE_INTERVAL  seconds between lookups of receiver addresses (default 60)
          MULTILINE_PATTERN, MULTILINE_MATCH, MULTILINE_FLUSH_AFTER, MULTILINE_SEPARATOR
                                   defaults of routes that join lines (^\\s, nonfirst, 500 ms, newline)
          LOGSPOUT_TLS_CA_CERTS    comma-separated PEM files of CAs to trust for TLS receivers
          LOGSPOUT_TLS_DISABLE_SYSTEM_ROOTS  true: trust only LOGSPOUT_TLS_CA_CERTS, not the system's CAs
          LOGSPOUT_TLS_CLIENT_CERT, LOGSPOUT_TLS_CLIENT_KEY  PEM client certificate and key (mutual TLS)
          LOGSPOUT_TLS_HARDENING   true: TLS 1.2 or later with forward-secret AEAD ciphers only

        exit status: 0 at the end of input, 64 on bad usage, 70 on an internal error, 78 on a bad
        environment value (or a TLS file that cannot be read).

        """
}

/// emit-syslog's engine: one thread, an event loop with standard input, the signals, the resolver's
/// eventfd and one socket per receiver.
public final class Emitter {
    let options: EmitterOptions
    let input: Int32
    var formatter: SyslogFormatter
    var decoder = RecordDecoder()
    var splitter = LineSplitter()
    var stats = EmitterStats()

    let loop: EventLoop
    let resolver: Resolver
    var destinations: [String: Destination] = [:]
    /// The route seen last under each id, with its target (routes repeat: each target is read once).
    var bindings: [String: (target: JSONValue, binding: Binding?)] = [:]
    var inputOpen = true
    var inputIsFile = false
    var inputRegistration: EventLoop.Registration?
    /// When the input ended, the time left to deliver what is queued.
    var drainDeadline: UInt64?
    var warnedNoRoute = false
    var readBuffer = [UInt8](repeating: 0, count: 256 * 1024)
    var message: [UInt8] = []
    /// Lines waiting to be joined into messages, for routes with `multiline`.
    var joiner = MultilineJoiner()
    /// Sends the joined messages whose lines waited long enough.
    lazy var joinTimer = loop.makeTimer { [unowned self] in joiner.expire(now: Sys.monotonicNanos()) { deliver($0) } }
    /// The TLS context, made at start when LOGSPOUT_TLS_* is set, else with the first TLS receiver.
    var tlsContext: TLSContext?

    /// Sets up the event loop (SIGTERM, SIGINT and SIGUSR1 taken through it) and the resolver.
    public init(options: EmitterOptions, input: Int32 = 0) throws(SyscallError) {
        self.options = options
        self.input = input
        formatter = SyslogFormatter(options: options.syslog)
        loop = try EventLoop(signals: [.terminate, .interrupt, .user1])
        resolver = try Resolver()
        message.reserveCapacity(4096)
    }

    static func diagnostic(_ s: String) { Sys.diagnostic("emit-syslog: " + s) }

    /// Runs until standard input ends and what is queued is sent (or the drain time is up).
    public func run() -> ExitCode {
        Sys.ignoreSIGPIPE()
        loop.onSignal = { [unowned self] signal in
            if signal == .user1 { Self.diagnostic(stats.summary) }
            // SIGTERM, SIGINT: finish — read on until the input ends (the stage before us is stopping).
        }
        do { try loop.register(resolver.eventFD) { [unowned self] _ in takeResolutions() } } catch {
            Self.diagnostic("\(error)")
            return .software
        }
        if options.tls.isCustomized {
            do { tlsContext = try Self.makeTLSContext(options.tls) } catch {
                Self.diagnostic("\(error)")
                return .config
            }
        }
        // A pipe or socket on stdin joins the event loop; a regular file (which epoll refuses) is always
        // ready: it is read a buffer per turn of the loop, between waits that do not block.
        do {
            try Sys.setNonBlocking(input)
            inputRegistration = try loop.register(input) { [unowned self] _ in readInput() }
        } catch {
            inputIsFile = true
            var reader: EventLoop.Timer?
            reader = loop.makeTimer { [unowned self] in
                readInput()
                if inputOpen { loop.arm(reader!, at: 0) } else { loop.cancel(reader!) }
            }
            loop.arm(reader!, at: 0)
        }
        Readiness.announce()  // reading its input
        do {
            try loop.run {
                flushAll()
                if let j = joiner.nextDeadline { loop.arm(joinTimer, at: j) } else { loop.disarm(joinTimer) }
                if !inputOpen { drain() }
            }
        } catch {
            Self.diagnostic("\(error)")
            return .software
        }
        for d in destinations.values where d.kind == .udp && d.fd >= 0 {
            // A refusal (ICMP) of the last datagrams is reported on the socket: count it.
            if let e = Sys.socketError(d.fd) {
                stats.sendErrors += 1
                report(d, "\(SyscallError("send to", d.address.description, e))")
            }
        }
        for d in destinations.values where !d.isEmpty {
            stats.dropped += d.ranges.count
            Self.diagnostic("\(d.key): \(d.ranges.count) messages not delivered at exit")
        }
        Self.diagnostic(stats.summary)
        for d in destinations.values {
            // Take what a TLS receiver sent last (a late session ticket): closing a socket with unread
            // input sends a reset, which may cost the receiver the end of what it had not read yet.
            _ = d.tls?.discardInput()
            closeSocket(d)
        }
        return .ok
    }

    /// The input ended: deliver what is queued, trying receivers that are away again at once, for at
    /// most the drain time; then stop.
    func drain() {
        if destinations.values.allSatisfy(\.isEmpty) {
            loop.stop()
            return
        }
        let now = Sys.monotonicNanos()
        if drainDeadline == nil {
            let deadline = now + UInt64(options.drainTimeoutMs) * 1_000_000
            drainDeadline = deadline
            loop.schedule(at: deadline) {}  // wakes the loop to end it
            for d in destinations.values where !d.isEmpty && loop.isArmed(d.retry) {
                d.backoff.reset()
                loop.arm(d.retry, at: now)
            }
        }
        if let deadline = drainDeadline, now >= deadline { loop.stop() }
    }

    /// The TLS context for `options`; files that cannot be read are named with their variable.
    static func makeTLSContext(_ options: TLSOptions) throws(TargetError) -> TLSContext {
        var files = options.caFiles.map { ("LOGSPOUT_TLS_CA_CERTS", $0) }
        if let c = options.clientCert { files.append(("LOGSPOUT_TLS_CLIENT_CERT", c)) }
        if let k = options.clientKey { files.append(("LOGSPOUT_TLS_CLIENT_KEY", k)) }
        for (name, path) in files {
            do { _ = try Sys.readFile(path) } catch { throw TargetError("\(name) '\(path)': \(error.errno)") }
        }
        return try TLSContext(options)
    }

    // MARK: - Input

    func readInput() {
        while inputOpen {
            let n: Int
            do { n = try Sys.read(input, into: &readBuffer) } catch {
                if error.errno == .wouldBlock { return }
                Self.diagnostic("standard input: \(error)")
                n = 0
            }
            if n == 0 {
                splitter.finish { piece in self.line(piece) }
                joiner.expire(now: nil) { deliver($0) }
                inputOpen = false
                if let inputRegistration { loop.unregister(inputRegistration) }
                inputRegistration = nil
                return
            }
            readBuffer.withUnsafeBytes { raw in
                splitter.feed(UnsafeRawBufferPointer(rebasing: raw[0..<n])) { piece in self.line(piece) }
            }
            if n < readBuffer.count || inputIsFile { return }
        }
    }

    func line(_ piece: LineSplitter.Piece) {
        switch piece {
        case .tooLong(let error):
            Self.diagnostic("\(error); skipped")
        case .line(let number, let bytes):
            if bytes.isEmpty || (bytes.count == 1 && bytes[0] == 13) { return }
            do {
                let record = try decoder.decode(line: bytes, lineNumber: number)
                emit(record)
            } catch {
                Self.diagnostic("\(error); skipped")
            }
        }
    }

    /// Queues `record` for its route's receiver (joined with the lines around it first, when the route
    /// says so).
    func emit(_ record: Record) {
        guard let route = binding(of: record) else { return }
        if let multiline = route.multiline {
            joiner.feed(record, route: route.id, spec: multiline, now: Sys.monotonicNanos()) { deliver($0) }
            return
        }
        deliver(record, route)
    }

    /// Formats a joined message and queues it for its route's receiver.
    func deliver(_ record: Record) {
        guard let route = binding(of: record) else { return }
        deliver(record, route)
    }

    func deliver(_ record: Record, _ route: Binding) {
        message.removeAll(keepingCapacity: true)
        formatter.append(record, format: route.format, appendTag: route.appendTag, structuredData: route.structuredData,
                         into: &message)
        enqueue(route.destination)
    }

    /// A route as emit-syslog knows it: what its target says, worked out once, and its receiver.
    final class Binding {
        let id: String
        let format: SyslogFormat
        let appendTag: String
        let structuredData: ContainerTemplate?
        let multiline: MultilineMatcher?
        let destination: Destination

        init(id: String, target: RouteTarget, options: EmitterOptions, destination: Destination) throws(TargetError) {
            self.id = id
            format = target.format ?? options.defaultFormat
            appendTag = target.appendTag ?? ""
            structuredData = target.structuredData
            multiline = try target.multiline.map { (given) throws(TargetError) in
                try MultilineMatcher(MultilineSpec(given, environment: { options.multilineEnvironment[$0] }))
            }
            self.destination = destination
        }
    }

    /// The binding of `record`'s route; nil (counted as dropped) when it has none that works.
    func binding(of record: Record) -> Binding? {
        guard let route = record.route else {
            stats.dropped += 1
            if !warnedNoRoute {
                Self.diagnostic("a record without a route was dropped (emit-syslog reads the output of route)")
                warnedNoRoute = true
            }
            return nil
        }
        if let cached = bindings[route.id], cached.target == route.target {
            guard let binding = cached.binding else {
                stats.dropped += 1
                return nil
            }
            return binding
        }
        var binding: Binding?
        do {
            let target = try RouteTarget(json: route.target)
            binding = try Binding(id: route.id, target: target, options: options, destination: destination(for: target))
        } catch {
            Self.diagnostic("route \(route.id): \(error); its records are dropped")
            stats.dropped += 1
        }
        bindings[route.id] = (route.target, binding)
        return binding
    }

    /// The receiver of `target`: routes to the same address with the same protocol share one.
    func destination(for target: RouteTarget) -> Destination {
        let key = "\(target.transport)://\(target.address)"
        if let d = destinations[key] { return d }
        let d = Destination(key: key, address: target.address, kind: target.transport == .udp ? .udp : .tcp,
                            secure: target.transport == .tls, capacity: options.bufferSize,
                            retry: loop.makeTimer { [unowned self] in destinations[key].map(retry) },
                            deadline: loop.makeTimer { [unowned self] in destinations[key].map(deadlinePassed) },
                            refresh: loop.makeTimer { [unowned self] in destinations[key].map(refresh) })
        destinations[key] = d
        lookup(d)
        return d
    }

    func enqueue(_ d: Destination) {
        if d.kind == .udp {
            if message.count > options.maxDatagram {
                _ = truncateUTF8(&message, from: 0, max: options.maxDatagram)
                stats.truncated += 1
            }
            guard d.hasRoom(message.count) else {
                stats.dropped += 1
                report(d, "buffer full; dropping messages")
                return
            }
            let start = d.buffer.count
            d.buffer.append(contentsOf: message)
            d.ranges.append(start..<d.buffer.count)
            // Send in batches even within a long read burst.
            if d.ranges.count >= 1024 { flush(d) }
            return
        }
        var prefix: [UInt8] = []
        if options.framing == .octetCounted { prefix = Array("\(message.count) ".utf8) }
        let total = prefix.count + message.count + (options.framing == .newline ? 1 : 0)
        guard d.hasRoom(total) else {
            stats.dropped += 1
            report(d, "buffer of \(options.bufferSize) bytes full; dropping messages")
            return
        }
        d.buffer.append(contentsOf: prefix)
        d.buffer.append(contentsOf: message)
        if options.framing == .newline { d.buffer.append(10) }
        d.ranges.append(0..<0)  // counts messages for the statistics
        if d.pendingBytes >= 256 * 1024 { flush(d) }
    }

    // MARK: - Sending

    func flushAll() {
        for d in destinations.values where !d.isEmpty { flush(d) }
    }

    func flush(_ d: Destination) {
        guard d.state == .ready, d.fd >= 0 else { return }
        if d.kind == .udp { flushUDP(d) } else { flushTCP(d) }
    }

    func flushUDP(_ d: Destination) {
        var done = 0
        var attempts = 0
        d.buffer.withUnsafeBytes { raw in
            while done < d.ranges.count {
                do throws(SyscallError) {
                    let n = try Sys.sendmmsg(d.fd, raw, d.ranges[done...])
                    done += n
                    stats.sent += n
                } catch {
                    if error.errno == .wouldBlock {
                        // The socket buffer is full: give the kernel a moment, then drop what is left.
                        attempts += 1
                        if attempts > 3 || (try? Sys.waitWritable(d.fd, timeout: 10)) != true { break }
                        continue
                    }
                    // ECONNREFUSED (an ICMP refusal of an earlier datagram) and the like: count, go on.
                    stats.sendErrors += 1
                    report(d, "\(error)")
                    done += error.errno == .connectionRefused ? 0 : 1
                    attempts += 1
                    if attempts > 8 { break }
                }
            }
        }
        if done < d.ranges.count {
            stats.dropped += d.ranges.count - done
        }
        d.ranges.removeAll(keepingCapacity: true)
        d.buffer.removeAll(keepingCapacity: d.buffer.capacity <= 4 << 20)
    }

    func flushTCP(_ d: Destination) {
        if let tls = d.tls {
            flushTLS(d, tls)
            return
        }
        if Sys.peerClosed(d.fd) {
            lost(d, "the receiver closed the connection")
            return
        }
        var failure: String?
        d.buffer.withUnsafeBytes { raw in
            while d.head < raw.count {
                do throws(SyscallError) {
                    let n = try Sys.writeNonBlocking(d.fd, UnsafeRawBufferPointer(rebasing: raw[d.head...]))
                    if n == 0 { break }
                    d.head += n
                } catch {
                    failure = error.description
                    break
                }
            }
        }
        wrote(d, failure: failure, wantsWritable: d.pendingBytes > 0)
    }

    /// Writes the queue through the TLS session, as far as it takes it.
    func flushTLS(_ d: Destination, _ tls: TLSSession) {
        var failure: String?
        var wantsWritable = false
        d.buffer.withUnsafeBytes { raw in
            while d.head < raw.count {
                let (n, step) = tls.write(UnsafeRawBufferPointer(rebasing: raw[d.head...]))
                d.head += n
                switch step {
                case .done: continue
                case .wantWrite: wantsWritable = true
                case .wantRead: break  // readable interest is always on
                case .closed(let why), .failed(let why): failure = why
                }
                break
            }
        }
        wrote(d, failure: failure, wantsWritable: wantsWritable)
    }

    /// After a write to a TCP or TLS receiver: count, compact, and wait for room if needed.
    func wrote(_ d: Destination, failure: String?, wantsWritable: Bool) {
        // Count whole messages handed to the kernel.
        if d.head == d.buffer.count {
            stats.sent += d.ranges.count
            d.ranges.removeAll(keepingCapacity: true)
        }
        d.compact()
        if let failure {
            lost(d, failure)
            return
        }
        setWritable(d, wantsWritable)
        if d.lastReport != "" && d.lastReport != "connected" { report(d, "connected") }
    }

    func setWritable(_ d: Destination, _ on: Bool) {
        guard d.fd >= 0, d.wantsWritable != on, let registration = d.registration else { return }
        d.wantsWritable = on
        try? loop.modify(registration, interest: on ? [.readable, .writable] : .readable)
    }

    /// Says a receiver's new state on stderr, once per change.
    func report(_ d: Destination, _ what: String) {
        guard d.lastReport != what else { return }
        d.lastReport = what
        Self.diagnostic("\(d.key): \(what)")
    }

    // MARK: - Connections

    func lookup(_ d: Destination) {
        guard !d.lookupPending else { return }
        d.lookupPending = true
        resolver.resolve(key: d.key, address: d.address, kind: d.kind)
    }

    func takeResolutions() {
        for r in resolver.take() {
            guard let d = destinations[r.key] else { continue }
            d.lookupPending = false
            // Looked up again after the resolve interval.
            loop.arm(d.refresh, at: Sys.monotonicNanos() + UInt64(options.resolveInterval) * 1_000_000_000)
            guard r.error == nil, !r.addresses.isEmpty else {
                report(d, "cannot resolve: \(r.summary)")
                if d.addresses.isEmpty {
                    // Nothing to send to: retry the lookup with backoff.
                    d.state = .idle
                    loop.arm(d.retry, at: Sys.monotonicNanos() + UInt64(d.backoff.nextDelayMs()) * 1_000_000)
                }
                continue
            }
            // Unchanged (in any order: round-robin DNS shuffles), and connected or connecting: keep it.
            let same = Set(r.addresses) == Set(d.addresses)
            if same, d.fd >= 0 { continue }
            if !d.addresses.isEmpty, !same { report(d, "address changed: \(r.summary)") }
            d.addresses = r.addresses
            d.nextAddress = 0
            // A moved receiver: reconnect to the new address.
            if d.fd >= 0 { closeSocket(d) }
            d.state = .idle
            loop.disarm(d.retry)
            open(d)
        }
    }

    /// Opens the socket of a resolved destination.
    func open(_ d: Destination) {
        guard !d.addresses.isEmpty, d.fd < 0 else { return }
        let address = d.addresses[d.nextAddress % d.addresses.count]
        do {
            d.fd = try Sys.socket(for: address, kind: d.kind)
            if d.kind == .udp {
                Sys.setSendBuffer(d.fd, bytes: 4 << 20)
                _ = try Sys.connect(d.fd, to: address)
                d.state = .ready
                d.registration = try loop.register(d.fd) { [unowned self, unowned d] events in socketEvent(d, events) }
                return
            }
            let connected = try Sys.connect(d.fd, to: address)
            d.state = connected ? .ready : .connecting
            d.wantsWritable = !connected || !d.isEmpty
            d.registration = try loop.register(d.fd, interest: d.wantsWritable ? [.readable, .writable] : .readable) { [unowned self, unowned d] events in
                socketEvent(d, events)
            }
            if connected { connectedTCP(d) }
        } catch {
            lost(d, error.description)
        }
    }

    func connectedTCP(_ d: Destination) {
        Sys.setNoDelay(d.fd)
        if d.secure {
            do {
                if tlsContext == nil { tlsContext = try Self.makeTLSContext(options.tls) }
                d.tls = try TLSSession(context: tlsContext!, fd: d.fd, host: d.address.host)
            } catch {
                lost(d, error.description)
                return
            }
            d.state = .handshaking
            loop.arm(d.deadline, at: Sys.monotonicNanos() + Self.handshakeNanos)
            handshake(d)
            return
        }
        ready(d)
    }

    /// How long a connection must stay up before a loss of it starts the reconnect backoff over.
    static let stableNanos: UInt64 = 1_000_000_000
    /// How long a TLS 1.3 receiver has to refuse us (an alert) before messages are sent.
    static let confirmNanos: UInt64 = 200_000_000
    /// How long a TLS handshake may take (a receiver that accepts connections but never answers).
    static let handshakeNanos: UInt64 = 10_000_000_000

    /// One step of a TLS handshake; the socket's events drive the next.
    func handshake(_ d: Destination) {
        guard let tls = d.tls else { return }
        switch tls.handshake() {
        case .done where tls.isTLS13:
            d.state = .confirming
            loop.arm(d.deadline, at: Sys.monotonicNanos() + Self.confirmNanos)
            setWritable(d, false)
        case .done: ready(d)
        case .wantRead: setWritable(d, false)
        case .wantWrite: setWritable(d, true)
        case .closed(let why), .failed(let why): lost(d, why)
        }
    }

    /// The connection (and TLS session) is up: send what waits.
    func ready(_ d: Destination) {
        d.state = .ready
        loop.disarm(d.deadline)
        d.readySince = Sys.monotonicNanos()
        if d.lastReport != "" { report(d, "connected") }
        flushTCP(d)
    }

    /// The connection failed or broke: close it and try again later (the next address first).
    func lost(_ d: Destination, _ why: String) {
        // A connection that was up for a while starts the backoff over; one refused right after it was
        // made (a TLS receiver that rejects us after the handshake) keeps backing off.
        if let since = d.readySince, Sys.monotonicNanos() - since >= Self.stableNanos { d.backoff.reset() }
        closeSocket(d)
        d.state = .idle
        d.nextAddress += 1
        let delay = d.backoff.nextDelayMs()
        loop.arm(d.retry, at: Sys.monotonicNanos() + UInt64(delay) * 1_000_000)
        report(d, "\(why); retrying")
        if d.kind == .udp { stats.sendErrors += 1 }
    }

    /// Closes a receiver's socket (and TLS session), out of the loop.
    func closeSocket(_ d: Destination) {
        if let registration = d.registration { loop.unregister(registration) }
        d.registration = nil
        loop.disarm(d.deadline)
        d.closeSocket()
    }

    func socketEvent(_ d: Destination, _ events: IOEvents) {
        guard d.fd >= 0 else { return }
        if d.kind == .udp {
            // A readable UDP socket carries an ICMP error (connection refused): count it.
            if let e = Sys.socketError(d.fd) {
                stats.sendErrors += 1
                report(d, "\(SyscallError("send to", d.address.description, e))")
            }
            return
        }
        if d.state == .connecting {
            if let e = Sys.socketError(d.fd) {
                lost(d, SyscallError("connect to", d.addresses[d.nextAddress % max(1, d.addresses.count)].description, e).description)
            } else if events.canWrite {
                connectedTCP(d)
            }
            return
        }
        if d.state == .handshaking {
            handshake(d)
            return
        }
        if d.state == .confirming, let tls = d.tls {
            // The receiver's first word after the handshake: a session ticket (accepted) or an alert.
            switch tls.discardInput() {
            case .closed(let why), .failed(let why): lost(d, why)
            default: ready(d)
            }
            return
        }
        if let tls = d.tls {
            // What a TLS receiver sends (session tickets, alerts, its close) is read and let go.
            if events.hasInputOrHangup {
                switch tls.discardInput() {
                case .closed(let why), .failed(let why):
                    lost(d, why)
                    return
                default: break
                }
            }
            if !d.isEmpty { flushTCP(d) }
            return
        }
        if events.hasInputOrHangup, Sys.peerClosed(d.fd) {
            lost(d, "the receiver closed the connection")
            return
        }
        if events.canWrite { flushTCP(d) }
    }

    // MARK: - Deadlines

    /// The time to try a receiver again: the next address, or a new lookup once all were tried.
    func retry(_ d: Destination) {
        if d.addresses.isEmpty || d.nextAddress >= d.addresses.count {
            d.nextAddress = 0
            lookup(d)
        } else {
            open(d)
        }
    }

    /// A TLS receiver's verdict did not come (it accepted us), or its handshake took too long.
    func deadlinePassed(_ d: Destination) {
        if d.state == .confirming { ready(d) }
        if d.state == .handshaking { lost(d, "TLS handshake: no answer within 10 s") }
    }

    /// The resolve interval is over: look the receiver up again.
    func refresh(_ d: Destination) {
        if !d.lookupPending { lookup(d) }
    }
}
