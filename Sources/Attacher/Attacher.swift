import Docker
import HTTP
import JSON
import Records
import Syscall
import Time

/// attach's engine: one thread, one event loop, one socket per followed container plus the events stream.
///
/// The order of work at (re)connection is what makes it lose nothing: subscribe to events first, then list
/// the running containers and open a logs stream for each that has none. A container that starts later is
/// seen through its `start` event. Every stream resumes from its container's `ResumeCursor`.
public final class Attacher {
    let options: AttachOptions
    let client: DockerClient
    let output: Int32

    let loop: EventLoop
    var containers: [String: Tracked] = [:]
    var events: EventsStream?
    var engineUp = false
    var firstConnection = true
    var lostEngineReported = false
    var reconnectBackoff = Backoff()
    var reconnect: EventLoop.Timer?
    /// The engine's time when attach first connected: containers first seen later are read from here.
    var startTime = Timestamp.zero
    var out: [UInt8] = []
    var readBuffer = [UInt8](repeating: 0, count: 64 * 1024)
    /// Set when attach is to end: the loop stops.
    var exitCode: ExitCode? {
        didSet { if exitCode != nil { loop.stop() } }
    }
    /// When the oldest record not yet written was buffered.
    var pendingSince: UInt64?
    /// Writes the records at `pendingSince` + `lingerNanos`.
    lazy var linger = loop.makeTimer { [unowned self] in flush() }
    static let lingerNanos: UInt64 = 2_000_000
    static let batchPauseMicros: UInt64 = 1000
    var readBytesThisRound = 0
    /// Saved cursors (STATE_DIR), and those loaded at start for containers not yet seen.
    var cursorFile: CursorFile?
    var savedCursors: [String: ResumeCursor] = [:]
    /// Standard output failed or closed, perhaps in the middle of a batch: the cursors must not be saved
    /// any more, since they would account for records that never left.
    var outputLost = false
    /// Write the cursor file at most this often while records flow (as often as records are written, so a
    /// kill -9 repeats next to nothing), and make it durable (fsync) at most this often.
    static let cursorWriteNanos: UInt64 = 2_000_000
    static let cursorSyncNanos: UInt64 = 1_000_000_000
    /// How long a stream may hold a line without its "\n" before it is emitted (the local log driver
    /// never sends the "\n" of a line it cut into pieces).
    static let idleFlushNanos: UInt64 = 250_000_000

    /// A container attach knows of.
    final class Tracked {
        let id: String
        var info: ContainerInfo
        var containerJSON: [UInt8]
        var ignored: Bool
        var cursor = ResumeCursor()
        /// Where to start when there is no cursor yet: nil = only new lines (tail=0), else since.
        var baseline: Timestamp?
        var stream: LogsStream?
        /// A start event came while the old stream was still draining: reopen when it ends.
        var reopenAfterEnd = false
        var retry = Backoff(initialMs: 250, capMs: 5000)
        var retryTimer: EventLoop.Timer?

        init(info: ContainerInfo, ignored: Bool) {
            id = info.id
            self.info = info
            self.ignored = ignored
            containerJSON = Attacher.encode(info)
        }
    }

    /// One logs connection.
    final class LogsStream {
        let fd: Int32
        var registration: EventLoop.Registration?
        unowned let container: Tracked
        var http = HTTPResponseParser()
        var logs: LogStreamParser?
        var failed: String?
        var openedAt: UInt64
        var ended = false
        /// When bytes last arrived: a line held longer than `idleFlushNanos` after that is emitted.
        var lastDataAt: UInt64 = 0
        /// Armed while a line is held.
        var idleTimer: EventLoop.Timer?

        init(fd: Int32, container: Tracked, openedAt: UInt64) {
            self.fd = fd
            self.container = container
            self.openedAt = openedAt
        }
    }

    /// The events connection.
    final class EventsStream {
        let fd: Int32
        var registration: EventLoop.Registration?
        var http: HTTPResponseParser
        var pending: [UInt8] = []
        init(fd: Int32, http: HTTPResponseParser) {
            self.fd = fd
            self.http = http
        }
    }

    /// Sets up the event loop (SIGTERM and SIGINT taken through it).
    public init(options: AttachOptions, output: Int32 = 1) throws(SyscallError) {
        self.options = options
        self.client = DockerClient(endpoint: options.endpoint)
        self.output = output
        loop = try EventLoop(signals: [.terminate, .interrupt])
        out.reserveCapacity(512 * 1024)
    }

    static func encode(_ info: ContainerInfo) -> [UInt8] {
        Container(id: info.id, name: info.name, image: info.image, hostname: info.hostname,
                  pid: info.pid, labels: info.labels).encodedJSON()
    }

    static func diagnostic(_ s: String) { Sys.diagnostic("attach: " + s) }

    /// Runs until SIGTERM/SIGINT, a closed stdout, or (at start only) an unreachable engine.
    public func run() -> ExitCode {
        Sys.ignoreSIGPIPE()
        Sys.growPipe(output)
        loop.onSignal = { [unowned self] _ in exitCode = .ok }
        if let dir = options.stateDirectory {
            do { try Sys.makeDirectories(dir) } catch {
                Self.diagnostic("STATE_DIR: \(error)")
                return .config
            }
            let file = CursorFile(directory: dir)
            savedCursors = file.load()
            cursorFile = file
        }
        // At start, an engine that cannot be reached or is too old is an error the user must see.
        do {
            try connectEngine()
        } catch {
            Self.diagnostic(error.description)
            return .unavailable
        }
        Readiness.announce()  // subscribed to events, every running container followed
        do {
            try loop.run {
                // Records linger up to 2 ms (or until 64 KiB) before they are written: the next stages then
                // wake once per batch instead of once per line.
                let now = Sys.monotonicNanos()
                if !out.isEmpty, pendingSince == nil {
                    pendingSince = now
                    loop.arm(linger, at: now + Self.lingerNanos)
                }
                if let since = pendingSince, out.count >= 64 * 1024 || now - since >= Self.lingerNanos { flush() }
                saveCursors(force: false)
                // After a wake-up that carried log data, let more arrive before reading again: under load a
                // read then takes many lines at once instead of one (at most 1 ms more latency).
                if readBytesThisRound > 0, exitCode == nil { Sys.sleep(microseconds: Self.batchPauseMicros) }
                readBytesThisRound = 0
            }
        } catch {
            Self.diagnostic("\(error)")
            return .software
        }
        flush()
        saveCursors(force: true)
        return exitCode ?? .ok
    }

    // MARK: - Engine connection

    /// Negotiates the API version, subscribes to events, then lists and reconciles.
    func connectEngine() throws(DockerError) {
        try client.negotiate()
        if firstConnection {
            startTime = (try? client.systemTime()).flatMap { $0 } ?? Timestamp.now(Sys.realtime)
        }
        let opened = try client.openStream(client.eventsRequest())
        guard opened.head.status == 200 else {
            Sys.close(opened.fd)
            throw DockerError("GET /events answered \(opened.head.status) \(opened.head.reason)")
        }
        let stream = EventsStream(fd: opened.fd, http: opened.parser)
        stream.pending = opened.bodyPrefix
        do {
            try Sys.setNonBlocking(opened.fd)
            stream.registration = try loop.register(opened.fd) { [unowned self] _ in readEvents() }
        } catch {
            Sys.close(opened.fd)
            throw DockerError("\(error)", cause: error)
        }
        events = stream
        engineUp = true
        reconnectBackoff.reset()
        if let reconnect { loop.cancel(reconnect) }
        reconnect = nil
        if lostEngineReported {
            Self.diagnostic("engine \(options.endpoint) is back")
            lostEngineReported = false
        }
        do {
            try reconcile()
        } catch {
            dropEvents()
            throw error
        }
        firstConnection = false
        processEventLines()
    }

    /// Lists the running containers and makes sure each one that is not ignored is followed.
    func reconcile() throws(DockerError) {
        let running = try client.runningContainers()
        for id in running {
            if let tracked = containers[id] {
                if tracked.ignored || tracked.stream != nil { continue }
                if let info = try client.inspect(id) { update(tracked, info) }
                open(tracked)
            } else {
                guard let info = try client.inspect(id), info.running else { continue }
                let tracked = track(info)
                if tracked.ignored { continue }
                if firstConnection, tracked.cursor.time == nil {
                    tracked.baseline = options.backlog ? Timestamp.zero : nil
                }
                open(tracked)
            }
        }
        if firstConnection {
            // Containers with a saved cursor that stopped while attach was away: read what they wrote
            // after the cursor (the stream ends at once when there is nothing more).
            for id in savedCursors.keys.sorted() where containers[id] == nil {
                guard let info = try client.inspect(id) else {
                    savedCursors[id] = nil
                    cursorFile?.dirty = true
                    continue
                }
                let tracked = track(info)
                if !tracked.ignored { open(tracked) }
            }
        }
    }

    /// Adds a container to the table. Containers first seen after start are read from attach's start.
    func track(_ info: ContainerInfo) -> Tracked {
        let tracked = Tracked(info: info, ignored: options.ignores(info))
        tracked.baseline = startTime
        if let saved = savedCursors.removeValue(forKey: info.id) { tracked.cursor = saved }
        containers[info.id] = tracked
        return tracked
    }

    func update(_ tracked: Tracked, _ info: ContainerInfo) {
        if info != tracked.info {
            tracked.info = info
            tracked.containerJSON = Self.encode(info)
        }
    }

    /// The events stream broke: every logs stream will end too; reconnect with backoff.
    func dropEvents() {
        if let events {
            if let registration = events.registration { loop.unregister(registration) }
            Sys.close(events.fd)
        }
        events = nil
        engineUp = false
        scheduleReconnect()
    }

    func scheduleReconnect() {
        if let reconnect { loop.cancel(reconnect) }
        let at = Sys.monotonicNanos() + UInt64(reconnectBackoff.nextDelayMs()) * 1_000_000
        reconnect = loop.schedule(at: at) { [unowned self] in
            reconnect = nil
            do { try connectEngine() } catch {
                if !lostEngineReported {
                    Self.diagnostic("engine \(options.endpoint): \(error); reconnecting")
                    lostEngineReported = true
                }
                if engineUp == false && reconnect == nil { scheduleReconnect() }
            }
        }
    }

    func readEvents() {
        guard let events else { return }
        var ended = false
        var failure: String?
        while true {
            let n: Int
            do {
                n = try Sys.read(events.fd, into: &readBuffer)
            } catch {
                if error.errno == .wouldBlock { break }
                failure = error.description
                break
            }
            if n == 0 {
                ended = true
                break
            }
            do {
                try withRawBytes(readBuffer, 0..<n) { raw throws(HTTPParseError) in
                    try events.http.feed(raw) { event in
                        switch event {
                        case .body(let b): events.pending.append(contentsOf: b)
                        case .end: ended = true
                        case .head: break
                        }
                    }
                }
            } catch {
                failure = error.description
                break
            }
            if n < readBuffer.count { break }
        }
        processEventLines()
        if ended || failure != nil {
            if !lostEngineReported {
                Self.diagnostic("lost the events stream of \(options.endpoint)\(failure.map { " (\($0))" } ?? ""); reconnecting")
                lostEngineReported = true
            }
            dropEvents()
        }
    }

    /// Handles each complete line of the events stream.
    func processEventLines() {
        guard let events else { return }
        var start = 0
        let bytes = events.pending
        while let nl = bytes[start...].firstIndex(of: 10) {
            let line = bytes[start..<nl]
            start = nl + 1
            if line.allSatisfy({ $0 == 32 || $0 == 13 }) { continue }
            guard let doc = try? JSONValue.parse(Array(line)) else {
                Self.diagnostic("unreadable event: \(String(decoding: line.prefix(200), as: UTF8.self))")
                continue
            }
            handle(event: doc)
        }
        if start > 0 { events.pending.removeFirst(start) }
        if events.pending.count > 1 << 20 {
            Self.diagnostic("event over 1 MiB without a newline; dropped")
            events.pending.removeAll()
        }
    }

    func handle(event: JSONValue) {
        guard event["Type"]?.string ?? "container" == "container" else { return }
        guard let action = event["Action"]?.string ?? event["status"]?.string,
              let id = event["Actor"]?["ID"]?.string ?? event["id"]?.string else { return }
        switch action {
        case "start":
            let info: ContainerInfo?
            do { info = try client.inspect(id) } catch {
                Self.diagnostic("inspect \(id.prefix(12)): \(error)")
                return
            }
            guard let info else { return }
            let tracked = containers[id] ?? track(info)
            update(tracked, info)
            if tracked.ignored { return }
            if tracked.stream != nil {
                tracked.reopenAfterEnd = true
            } else {
                open(tracked)
            }
        case "rename":
            guard let tracked = containers[id], let name = event["Actor"]?["Attributes"]?["name"]?.string else { return }
            var info = tracked.info
            info.name = name.hasPrefix("/") ? String(name.dropFirst()) : name
            update(tracked, info)
        case "destroy":
            if let tracked = containers[id], tracked.stream == nil {
                containers[id] = nil
                cursorFile?.dirty = true
            }
        default:
            break
        }
    }

    // MARK: - Logs streams

    /// Opens the logs stream of `tracked`, resuming from its cursor.
    func open(_ tracked: Tracked) {
        guard tracked.stream == nil, exitCode == nil else { return }
        tracked.reopenAfterEnd = false
        if let timer = tracked.retryTimer { loop.cancel(timer) }
        tracked.retryTimer = nil
        let since: Timestamp?
        let onlyNew: Bool
        if let t = tracked.cursor.time {
            since = t
            onlyNew = false
        } else if let b = tracked.baseline {
            since = b == .zero ? nil : b
            onlyNew = false
        } else {
            since = nil
            onlyNew = true
        }
        tracked.cursor.reopened()
        let fd: Int32
        do {
            fd = try client.endpoint.connect()
            try Sys.writeAll(fd, client.logsRequest(id: tracked.id, since: since, onlyNew: onlyNew))
            try Sys.setNonBlocking(fd)
        } catch {
            Self.diagnostic("logs of \(tracked.info.name): \(error)")
            scheduleRetry(tracked)
            return
        }
        let stream = LogsStream(fd: fd, container: tracked, openedAt: Sys.monotonicNanos())
        do { stream.registration = try loop.register(fd) { [unowned self] _ in readLogs(stream) } } catch {
            Sys.close(fd)
            Self.diagnostic("\(error)")
            scheduleRetry(tracked)
            return
        }
        tracked.stream = stream
    }

    /// Tries the container again after its backoff: reopens its stream if it still runs.
    func scheduleRetry(_ tracked: Tracked) {
        if let timer = tracked.retryTimer { loop.cancel(timer) }
        let at = Sys.monotonicNanos() + UInt64(tracked.retry.nextDelayMs()) * 1_000_000
        tracked.retryTimer = loop.schedule(at: at) { [unowned self] in
            tracked.retryTimer = nil
            guard containers[tracked.id] === tracked, engineUp else { return }
            if let info = try? client.inspect(tracked.id) {
                update(tracked, info)
                if info.running { open(tracked) }
            } else {
                scheduleRetry(tracked)
            }
        }
    }

    func readLogs(_ stream: LogsStream) {
        let tracked = stream.container
        var ended = false
        // Read at most a few buffers per wake-up, so one busy container cannot starve the others.
        for _ in 0..<4 {
            let n: Int
            do {
                n = try Sys.read(stream.fd, into: &readBuffer)
            } catch {
                if error.errno == .wouldBlock { break }
                stream.failed = error.description
                ended = true
                break
            }
            readBytesThisRound += n
            if n == 0 {
                do {
                    try stream.http.finish { event in if case .end = event { stream.ended = true } }
                } catch {
                    stream.failed = error.description
                }
                ended = true
                break
            }
            do {
                try withRawBytes(readBuffer, 0..<n) { raw throws(HTTPParseError) in
                    try stream.http.feed(raw) { event in
                        switch event {
                        case .head(let head): self.started(stream, head)
                        case .body(let body): self.logBytes(stream, body)
                        case .end: stream.ended = true
                        }
                    }
                }
            } catch {
                stream.failed = error.description
                ended = true
                break
            }
            if stream.ended || stream.failed != nil {
                ended = true
                break
            }
            if n < readBuffer.count { break }
            if out.count > 256 * 1024 { flush() }
        }
        if ended {
            close(stream, tracked)
        } else if stream.idleTimer == nil, stream.logs?.hasPending == true {
            scheduleIdleFlush(stream)
        }
    }

    /// A line held without its "\n": emitted once the stream stays idle for `idleFlushNanos`.
    func scheduleIdleFlush(_ stream: LogsStream) {
        stream.idleTimer = loop.schedule(at: stream.lastDataAt + Self.idleFlushNanos) { [unowned self] in
            stream.idleTimer = nil
            guard stream.container.stream === stream, stream.logs?.hasPending == true else { return }
            if stream.lastDataAt + Self.idleFlushNanos > Sys.monotonicNanos() {
                scheduleIdleFlush(stream)
                return
            }
            // Idle with a line held: unless more bytes are already waiting, that line is complete (when
            // they are, reading them schedules this again).
            if Sys.hasInput(stream.fd) { return }
            let tracked = stream.container
            stream.logs!.finish(emit: { line in self.deliver(line, tracked) })
        }
    }

    func started(_ stream: LogsStream, _ head: HTTPHead) {
        guard head.status == 200 else {
            // 404: gone; 409: being removed (a --rm container that already ended). Nothing to read either way.
            if head.status != 404 && head.status != 409 { stream.failed = "GET logs answered \(head.status) \(head.reason)" }
            stream.ended = true
            return
        }
        // API 1.42+ says which framing it uses; older engines send multiplexed frames unless the container has a TTY.
        let contentType = head.header("Content-Type") ?? ""
        let multiplexed = contentType.contains("multiplexed") || !stream.container.info.tty
        stream.logs = LogStreamParser(multiplexed: multiplexed, maxLineSize: options.maxLineSize)
        stream.container.retry.reset()
    }

    func logBytes(_ stream: LogsStream, _ body: UnsafeRawBufferPointer) {
        guard stream.logs != nil else { return }
        stream.lastDataAt = Sys.monotonicNanos()
        let tracked = stream.container
        stream.logs!.feed(body, emit: { line in self.deliver(line, tracked) },
                          daemonError: { text in Self.diagnostic("logs of \(tracked.info.name): engine says: \(text)") })
    }

    /// Writes one record, unless the cursor says it was delivered before.
    func deliver(_ line: LogLine, _ tracked: Tracked) {
        guard let t = Timestamp(rfc3339Bytes: line.time) else {
            // No usable timestamp (never seen from Docker): stamp it now, outside the cursor.
            let now = Timestamp.now(Sys.realtime).description
            var n = now
            n.withUTF8 { time in
                RecordCodec.append(time: UnsafeRawBufferPointer(time), source: line.stream == .stderr ? .stderr : .stdout,
                                   data: line.data, partial: line.partial, containerJSON: tracked.containerJSON, into: &out)
            }
            return
        }
        guard tracked.cursor.admit(t) else { return }
        cursorFile?.dirty = true
        RecordCodec.append(time: line.time, source: line.stream == .stderr ? .stderr : .stdout, data: line.data,
                           partial: line.partial, containerJSON: tracked.containerJSON, into: &out)
    }

    func close(_ stream: LogsStream, _ tracked: Tracked) {
        if stream.failed == nil, stream.ended {
            // A clean end: the container stopped. Its last unterminated line is complete now.
            stream.logs?.finish(emit: { line in self.deliver(line, tracked) })
        }
        if let registration = stream.registration { loop.unregister(registration) }
        if let timer = stream.idleTimer { loop.cancel(timer) }
        stream.idleTimer = nil
        Sys.close(stream.fd)
        tracked.stream = nil
        if exitCode != nil { return }
        if let failure = stream.failed, engineUp {
            Self.diagnostic("logs of \(tracked.info.name): \(failure)")
        }
        if tracked.reopenAfterEnd {
            open(tracked)
            return
        }
        guard engineUp else { return }  // reconcile reopens what still runs
        // Did it stop, or did only the stream break?
        let info: ContainerInfo?
        do { info = try client.inspect(tracked.id) } catch {
            scheduleRetry(tracked)
            return
        }
        guard let info else {
            containers[tracked.id] = nil
            return
        }
        update(tracked, info)
        if info.running {
            // It still runs: reopen, at once the first time, backing off if the stream keeps breaking.
            let quick = Sys.monotonicNanos() - stream.openedAt < 1_000_000_000
            if quick || stream.failed != nil { scheduleRetry(tracked) } else { open(tracked) }
        }
    }

    // MARK: - Cursors and output

    /// Saves every container's cursor, after the records it accounts for were written: at most every
    /// 2 ms while records flow (as often as they are written), fsynced at most once a second and at exit
    /// (what a killed attach wrote stays in the page cache; only a power cut needs the fsync).
    func saveCursors(force: Bool) {
        guard let file = cursorFile, file.dirty, out.isEmpty, !outputLost else { return }
        let now = Sys.monotonicNanos()
        guard force || now - file.lastWrite >= Self.cursorWriteNanos else { return }
        var all = containers.map { ($0.key, $0.value.cursor) }
        all += savedCursors.map { ($0.key, $0.value) }
        let durable = force || now - file.lastDurableWrite >= Self.cursorSyncNanos
        do {
            try file.save(all, durable: durable)
            file.dirty = false
            if durable { file.lastDurableWrite = now }
        } catch {
            Self.diagnostic("STATE_DIR: \(error)")
        }
        file.lastWrite = now
    }

    /// Writes the buffered records to stdout (blocking: a full pipe holds attach back, which is the
    /// backpressure the pipeline relies on).
    func flush() {
        pendingSince = nil
        loop.disarm(linger)
        guard !out.isEmpty else { return }
        switch Sys.writeOutput(output, out) {
        case .written: break
        case .closed:
            exitCode = .ok
            outputLost = true
        case .failed(let error):
            Self.diagnostic("standard output: \(error)")
            exitCode = .ioError
            outputLost = true
        }
        out.removeAll(keepingCapacity: true)
    }
}
