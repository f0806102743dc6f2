#if canImport(Glibc)
import Glibc
#endif
import Docker
import HTTP
import JSON
import Records
import Syscall
import Time

/// attach's engine: one thread, one epoll set, one socket per followed container plus the events stream.
///
/// The order of work at (re)connection is what makes it lose nothing: subscribe to events first, then list
/// the running containers and open a logs stream for each that has none. A container that starts later is
/// seen through its `start` event. Every stream resumes from its container's `ResumeCursor`.
public final class Attacher {
    let options: AttachOptions
    let client: DockerClient
    let output: Int32

    // Tokens in the epoll set: 0 signals, 1 the events stream, 2... logs streams.
    static let signalToken: UInt64 = 0
    static let eventsToken: UInt64 = 1

    var epoll: Epoll!
    var signals: SignalDescriptor!
    var containers: [String: Tracked] = [:]
    var streams: [UInt64: LogsStream] = [:]
    var nextToken: UInt64 = 2
    var events: EventsStream?
    var engineUp = false
    var firstConnection = true
    var lostEngineReported = false
    var reconnectBackoff = Backoff()
    var reconnectAt: UInt64?
    /// The engine's time when attach first connected: containers first seen later are read from here.
    var startTime = Timestamp.zero
    var out: [UInt8] = []
    var readBuffer = [UInt8](repeating: 0, count: 64 * 1024)
    var exitCode: AttachExit?
    /// When the oldest record not yet written was buffered.
    var pendingSince: UInt64?
    static let lingerNanos: UInt64 = 2_000_000
    static let batchPauseMicros: UInt32 = 1000
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
        var retryAt: UInt64?

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
        let token: UInt64
        unowned let container: Tracked
        var http = HTTPResponseParser()
        var logs: LogStreamParser?
        var failed: String?
        var openedAt: UInt64
        var ended = false
        /// When bytes last arrived: a line held longer than `idleFlushNanos` after that is emitted.
        var lastDataAt: UInt64 = 0

        init(fd: Int32, token: UInt64, container: Tracked, openedAt: UInt64) {
            self.fd = fd
            self.token = token
            self.container = container
            self.openedAt = openedAt
        }
    }

    /// The events connection.
    final class EventsStream {
        let fd: Int32
        var http: HTTPResponseParser
        var pending: [UInt8] = []
        init(fd: Int32, http: HTTPResponseParser) {
            self.fd = fd
            self.http = http
        }
    }

    public init(options: AttachOptions, output: Int32 = 1) {
        self.options = options
        self.client = DockerClient(endpoint: options.endpoint)
        self.output = output
        out.reserveCapacity(512 * 1024)
    }

    static func encode(_ info: ContainerInfo) -> [UInt8] {
        Container(id: info.id, name: info.name, image: info.image, hostname: info.hostname,
                  pid: info.pid, labels: info.labels).encodedJSON()
    }

    static func diagnostic(_ s: String) { Sys.diagnostic("attach: " + s) }

    /// Runs until SIGTERM/SIGINT, a closed stdout, or (at start only) an unreachable engine.
    public func run() -> AttachExit {
        Sys.ignoreSIGPIPE()
        Sys.growPipe(output)
        do {
            signals = try SignalDescriptor([SIGTERM, SIGINT])
            epoll = try Epoll()
            try epoll.add(signals.fd, token: Self.signalToken)
        } catch {
            Self.diagnostic("\(error)")
            return .software
        }
        if let dir = options.stateDirectory {
            do { try Sys.makeDirectories(dir) } catch {
                Self.diagnostic("STATE_DIR: \(error)")
                return .unavailable
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
        while exitCode == nil {
            let timeout = nextTimeout()
            let ready: [(token: UInt64, events: UInt32)]
            do { ready = try epoll.wait(timeout: timeout) } catch {
                Self.diagnostic("\(error)")
                return .software
            }
            for (token, _) in ready {
                switch token {
                case Self.signalToken:
                    if !signals.drain().isEmpty { exitCode = .ok }
                case Self.eventsToken:
                    readEvents()
                default:
                    if let stream = streams[token] { readLogs(stream) }
                }
                if exitCode != nil { break }
            }
            runTimers()
            // Records linger up to 2 ms (or until 64 KiB) before they are written: the next stages then
            // wake once per batch instead of once per line.
            let now = Sys.monotonicNanos()
            if !out.isEmpty, pendingSince == nil { pendingSince = now }
            if let since = pendingSince, out.count >= 64 * 1024 || now - since >= Self.lingerNanos { flush() }
            saveCursors(force: false)
            // After a wake-up that carried log data, let more arrive before reading again: under load a read
            // then takes many lines at once instead of one (at most 1 ms more latency).
            if readBytesThisRound > 0, exitCode == nil { usleep(Self.batchPauseMicros) }
            readBytesThisRound = 0
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
            try epoll.add(opened.fd, token: Self.eventsToken)
        } catch {
            Sys.close(opened.fd)
            throw DockerError("\(error)")
        }
        events = stream
        engineUp = true
        reconnectBackoff.reset()
        reconnectAt = nil
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
            epoll.remove(events.fd)
            Sys.close(events.fd)
        }
        events = nil
        engineUp = false
        scheduleReconnect()
    }

    func scheduleReconnect() {
        reconnectAt = Sys.monotonicNanos() + UInt64(reconnectBackoff.nextDelayMs()) * 1_000_000
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
        tracked.retryAt = nil
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
        let token = nextToken
        nextToken += 1
        let stream = LogsStream(fd: fd, token: token, container: tracked, openedAt: Sys.monotonicNanos())
        do { try epoll.add(fd, token: token) } catch {
            Sys.close(fd)
            Self.diagnostic("\(error)")
            scheduleRetry(tracked)
            return
        }
        streams[token] = stream
        tracked.stream = stream
    }

    func scheduleRetry(_ tracked: Tracked) {
        tracked.retryAt = Sys.monotonicNanos() + UInt64(tracked.retry.nextDelayMs()) * 1_000_000
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
        if ended { close(stream, tracked) }
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
        epoll.remove(stream.fd)
        Sys.close(stream.fd)
        streams[stream.token] = nil
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

    // MARK: - Timers and output

    func nextTimeout() -> Int32 {
        var next = reconnectAt
        if let since = pendingSince { next = min(next ?? .max, since + Self.lingerNanos) }
        for tracked in containers.values {
            if let r = tracked.retryAt, next.map({ r < $0 }) ?? true { next = r }
        }
        for stream in streams.values where stream.logs?.hasPending == true {
            let at = stream.lastDataAt + Self.idleFlushNanos
            if next.map({ at < $0 }) ?? true { next = at }
        }
        guard let next else { return -1 }
        let now = Sys.monotonicNanos()
        return next <= now ? 0 : Int32(min((next - now + 999_999) / 1_000_000, 60_000))
    }

    func runTimers() {
        let now = Sys.monotonicNanos()
        for stream in streams.values where stream.logs?.hasPending == true && stream.lastDataAt + Self.idleFlushNanos <= now {
            // Idle with a line held: unless more bytes are already waiting, that line is complete.
            if (try? Sys.poll(stream.fd, events: Int16(POLLIN), timeout: 0)) == true { continue }
            let tracked = stream.container
            stream.logs!.finish(emit: { line in self.deliver(line, tracked) })
        }
        if let at = reconnectAt, at <= now {
            reconnectAt = nil
            do { try connectEngine() } catch {
                if !lostEngineReported {
                    Self.diagnostic("engine \(options.endpoint): \(error); reconnecting")
                    lostEngineReported = true
                }
                if engineUp == false && reconnectAt == nil { scheduleReconnect() }
            }
        }
        for tracked in containers.values where tracked.retryAt.map({ $0 <= now }) == true {
            tracked.retryAt = nil
            guard engineUp else { continue }
            if let info = try? client.inspect(tracked.id) {
                update(tracked, info)
                if info.running { open(tracked) }
            } else {
                scheduleRetry(tracked)
            }
        }
    }

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
