import Contract
import JSON
import Metrics
import Records
import Syscall
import Syslog

/// emit-syslog's engine: one thread, an event loop with standard input, the signals, the resolver's
/// eventfd and one socket per receiver.
public final class Emitter {
    let options: EmitterOptions
    let input: Int32
    var formatter: SyslogFormatter
    var decoder = RecordDecoder()
    /// The record being read, in buffers kept from one record to the next.
    var parts = RecordParts()
    var splitter = LineSplitter()
    /// Records dropped before reaching a receiver (no route, a bad target); each receiver counts its own.
    var stats = EmitterStats()
    /// Receivers with a label of their own in the metrics (`METRICS_MAX_LABEL_VALUES`).
    var labels: LabelBudget
    /// `emit-syslog.prom` and `emit-syslog.health` in `LOGSPOUT_METRICS_DIR` (docs/bus.md).
    lazy var metrics = MetricsPublisher(loop: loop, file: "emit-syslog.prom") { [unowned self] in renderMetrics(&$0) }
    lazy var healthFile = MetricsPublisher(loop: loop, file: "emit-syslog.health") { [unowned self] in renderHealth(&$0) }
    /// Wakes the loop when a receiver's health would change with time alone.
    lazy var healthTimer = loop.makeTimer { [unowned self] in updateHealth() }
    /// Something happened that may change a receiver's health.
    var healthDirty = false
    /// Something happened that may change a metric (input read, messages sent, a connection's change):
    /// the metrics file is rewritten; a turn of the loop that changed nothing writes nothing.
    var metricsDirty = false
    /// Route ids in the order they were first seen: the lines of the health file.
    var routeOrder: [String] = []
    /// Why a route's target cannot be used, for the routes whose records are dropped for it.
    var badTargets: [String: String] = [:]
    /// At exit, once what was still queued is counted as dropped.
    var finished = false

    let loop: EventLoop
    let resolver: Resolver
    var destinations: [String: Destination] = [:]
    /// The same receivers in the order they were first named: what waits is sent in that order.
    var receivers: [Destination] = []
    /// The bytes the TCP and TLS receivers hold together, against `SYSLOG_BUFFER_TOTAL`. Touched per
    /// message on the loop's one thread, never while another access to it is open: not checked at run time.
    @exclusivity(unchecked) var budget: BufferBudget
    /// The TCP and TLS receivers, by their slot in `budget`.
    var streams: [Destination] = []
    /// The route seen last under each id, with its target (routes repeat: each target is read once).
    var bindings: [String: (target: JSONValue, binding: Binding?)] = [:]
    /// The binding found last, and the stamp of its route's text in `parts` (`bindingOfParts`); forgotten
    /// whenever `bindings` changes.
    var lastBound: (stamp: UInt64, binding: Binding?) = (0, nil)
    var inputOpen = true
    var inputIsFile = false
    var inputRegistration: EventLoop.Registration?
    /// When the input ended, the time left to deliver what is queued.
    var drainDeadline: UInt64?
    var warnedNoRoute = false
    var readBuffer = [UInt8](repeating: 0, count: 64 * 1024)
    var message: [UInt8] = []
    /// Lines waiting to be joined into messages, for routes with `multiline`.
    var joiner = MultilineJoiner()
    /// Sends the joined messages whose lines waited long enough.
    lazy var joinTimer = loop.makeTimer { [unowned self] in
        metricsDirty = true
        joiner.expire(now: Sys.monotonicNanos()) { deliver($0) }
    }
    /// The TLS context, made at start when LOGSPOUT_TLS_* is set, else with the first TLS receiver.
    var tlsContext: TLSContext?

    /// Sets up the event loop (SIGTERM, SIGINT and SIGUSR1 taken through it) and the resolver.
    public init(options: EmitterOptions, input: Int32 = 0) throws(SyscallError) {
        self.options = options
        self.input = input
        formatter = SyslogFormatter(options: options.syslog)
        budget = BufferBudget(total: options.bufferTotal)
        labels = LabelBudget(limit: options.maxLabelValues)
        loop = try EventLoop(signals: [.terminate, .interrupt, .user1])
        resolver = try Resolver()
        message.reserveCapacity(4096)
    }

    static func diagnostic(_ s: String) { Sys.diagnostic("emit-syslog: " + s) }

    /// Runs until standard input ends and what is queued is sent (or the drain time is up).
    public func run() -> ExitCode {
        Sys.ignoreSIGPIPE()
        loop.onSignal = { [unowned self] signal in
            if signal == .user1 { Self.diagnostic(totals.summary) }
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
        _ = (metrics, healthFile)  // their first snapshots
        Readiness.announce()  // reading its input
        do {
            try loop.run {
                flushAll()
                if let j = joiner.nextDeadline { loop.arm(joinTimer, at: j) } else { loop.disarm(joinTimer) }
                if healthDirty { updateHealth() }
                if metricsDirty {
                    metricsDirty = false
                    metrics.changed()
                }
                if !inputOpen { drain() }
            }
        } catch {
            Self.diagnostic("\(error)")
            return .software
        }
        for d in receivers where d.kind == .udp && d.fd >= 0 {
            // A refusal (ICMP) of the last datagrams is reported on the socket: count it.
            if let e = Sys.socketError(d.fd) {
                d.stats.sendErrors += 1
                apply(d, d.machine.sendFailed("\(SyscallError("send to", d.address.description, e))", now: Sys.monotonicNanos()))
            }
        }
        for d in receivers {
            let left = d.isEmpty ? 0 : d.queued
            d.stats.drop(d.awayReason(otherwise: .exit), left)
            if let report = d.overflow.finish(left: left) {
                say(d, report)
            } else if left > 0 {
                Self.diagnostic("\(d.key): \(left) messages not delivered at exit")
            }
        }
        Self.diagnostic(totals.summary)
        // The last values stay in the files.
        finished = true
        updateHealth()
        metrics.changed()
        metrics.flush()
        healthFile.flush()
        for d in receivers {
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
        if receivers.allSatisfy(\.isEmpty) {
            loop.stop()
            return
        }
        let now = Sys.monotonicNanos()
        if drainDeadline == nil {
            let deadline = now + UInt64(options.drainTimeoutMs) * 1_000_000
            drainDeadline = deadline
            loop.schedule(at: deadline) {}  // wakes the loop to end it
            for d in receivers where !d.isEmpty { apply(d, d.machine.drainRequested(now: now)) }
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
                metricsDirty = true
                splitter.finish { piece in self.line(piece) }
                joiner.expire(now: nil) { deliver($0) }
                inputOpen = false
                if let inputRegistration { loop.unregister(inputRegistration) }
                inputRegistration = nil
                return
            }
            metricsDirty = true
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
                try decoder.decode(line: bytes, lineNumber: number, into: &parts)
                emitParts()
            } catch {
                Self.diagnostic("\(error); skipped")
            }
        }
    }

    /// Queues the record in `parts` for its route's receiver (joined with the lines around it first, when
    /// the route says so). Formatted from the parts: no record is made unless it is to be joined.
    func emitParts() {
        guard let route = bindingOfParts() else { return }
        if let multiline = route.multiline {
            joiner.feed(parts.record, route: route.id, spec: multiline, now: Sys.monotonicNanos()) { deliver($0) }
            return
        }
        let d = route.destination
        if dropsAtOnce(d) { return }
        message.removeAll(keepingCapacity: true)
        parts.time.withUnsafeBytes { time in
            parts.data.withUnsafeBytes { data in
                formatter.append(timeText: time, source: parts.source, data: data, container: parts.container, format: route.format,
                                 appendTag: route.appendTag, structuredData: route.structuredData, into: &message)
            }
        }
        enqueue(d)
    }

    /// Formats a joined message and queues it for its route's receiver.
    func deliver(_ record: Record) {
        guard let route = binding(of: record) else { return }
        deliver(record, route)
    }

    func deliver(_ record: Record, _ route: Binding) {
        if dropsAtOnce(route.destination) { return }
        message.removeAll(keepingCapacity: true)
        formatter.append(record, format: route.format, appendTag: route.appendTag, structuredData: route.structuredData,
                         into: &message)
        enqueue(route.destination)
    }

    /// No room for `d`'s messages since the last try: the next one is dropped (and counted) before any work.
    @inline(__always)
    func dropsAtOnce(_ d: Destination) -> Bool {
        guard d.overflow.dropping else { return false }
        d.overflow.skipped()
        d.stats.drop(d.dropReason)
        return true
    }

    /// Queues the formatted message for `d`: a datagram (cut to `SYSLOG_MAX_SIZE`), or framed onto the
    /// stream; dropped and counted when the receiver's buffer is full, or the buffers' total is and
    /// nobody gives way (`BufferBudget`).
    func enqueue(_ d: Destination) {
        if d.kind == .udp {
            if message.count > options.maxDatagram {
                _ = truncateUTF8(&message, from: 0, max: options.maxDatagram)
                d.stats.truncated += 1
            }
            if !d.datagrams.append(message) {
                flush(d)  // a full batch is sent at once when the socket is ready
                guard d.datagrams.append(message) else { return refuse(d, .buffer(bytes: nil), d.awayReason(otherwise: .bufferFull)) }
            }
            // Send in batches even within a long read burst.
            if d.datagrams.count >= 1024 { flush(d) }
            return
        }
        var appended = d.stream.append(message, room: budget.room)
        if case .noRoom(let cost) = appended {
            guard makeRoom(cost, for: d) else { return refuse(d, .total(bytes: options.bufferTotal), d.awayReason(otherwise: .bufferFull)) }
            appended = d.stream.append(message, room: .max)
        }
        guard case .taken(let cost, let pending) = appended else {
            let reason = d.stream.fitsEmpty(message) ? d.awayReason(otherwise: .bufferFull) : .tooLarge
            return refuse(d, .buffer(bytes: options.bufferSize), reason)
        }
        budget.charge(d.slot, cost)
        // A receiver whose connection is full is written when the event loop says it has room again.
        if pending >= 256 * 1024 && !d.wantsWritable { flush(d) }
    }

    /// Room for `bytes` more for the stream `d` in the buffers' total: the receiver holding the most gives
    /// way (its oldest messages are dropped) while it holds more than its fair share and is not `d`.
    func makeRoom(_ bytes: Int, for d: Destination) -> Bool {
        while true {
            switch budget.admit(bytes, for: d.slot) {
            case .take: return true
            case .refuse: return false
            case .evict(let slot, let wanted):
                let v = streams[slot]
                let before = v.stream.heldBytes
                let (messages, _) = v.stream.dropOldest(atLeast: wanted)
                guard messages > 0 else { return false }
                budget.update(slot, holding: v.stream.heldBytes)
                v.stats.drop(v.awayReason(otherwise: .bufferFull), messages)
                if let report = v.overflow.evicted(messages, .total(bytes: options.bufferTotal), holding: before) { say(v, report) }
            }
        }
    }

    /// A message found no room: counted (for `reason`, as the receiver's next ones until there is room),
    /// and said when it is the first since there was room.
    func refuse(_ d: Destination, _ cause: Overflow.Cause, _ reason: DropReason) {
        d.stats.drop(reason)
        d.dropReason = reason == .tooLarge ? d.awayReason(otherwise: .bufferFull) : reason
        if let report = d.overflow.refused(cause, holding: d.heldBytes) { say(d, report) }
    }

    func say(_ d: Destination, _ report: Overflow.Report) { Self.diagnostic("\(d.key): \(report)") }
}
