import Docker
import HTTP
import Metrics
import Records
import Syscall
import Time

/// attach's engine: one thread, one event loop, one socket per followed container plus the events stream.
///
/// The order of work at (re)connection is what makes it lose nothing: subscribe to events first, then list
/// the running containers and open a logs stream for each that has none. A container that starts later is
/// seen through its `start` event. Every stream resumes from its container's `ResumeCursor`.
///
/// The decisions are made by two state machines with no I/O: `ContainerTable` (the containers, their
/// streams' lifecycle, the engine connection) and, per logs connection, `LogsStreamStateMachine`. This
/// class is their driver: it feeds them what the event loop and the Docker client report and carries out
/// what they ask for. The lines themselves go straight from a stream's parser to the output buffer.
public final class Attacher {
    let options: AttachOptions
    let client: DockerClient
    let output: Int32

    let loop: EventLoop
    /// The containers and the engine connection.
    var table: ContainerTable
    var events: EventsStream?
    var reconnect: EventLoop.Timer?
    var retryTimers: [String: EventLoop.Timer] = [:]
    var out: [UInt8] = []
    /// One read of a socket or a log file. Small: what a read brings grows about fivefold into records in
    /// `out` before it is written (a line of `seq` is 70 B in its log file, 350 B as a record).
    var readBuffer = [UInt8](repeating: 0, count: 16 * 1024)
    /// Set when attach is to end: the loop stops, and nothing opens any more.
    var exitCode: ExitCode? {
        didSet {
            guard exitCode != nil else { return }
            loop.stop()
            table.shutdown()
        }
    }
    /// How long to let lines gather after a read turn (grows as the rate falls; `LOG_LINGER_MS`).
    var linger: ReadLinger
    /// Parses the times of lines read from logs streams (lines of a log file come with theirs parsed):
    /// lines come many to a second, and for those only the fraction is read.
    var streamTimes = TimeParser()
    /// Within a long read turn the records are written once this much is buffered: `out` stays within this
    /// and one read's records.
    static let outputBatchBytes = 64 * 1024
    var readBytesThisRound = 0
    /// The most records one container's read brought in this turn of the loop.
    var streamRecordsThisRound = 0
    /// Writes of the output (each a batch of records), for `/metrics`.
    var outputWrites = 0
    /// Saved cursors (STATE_DIR).
    var cursorFile: CursorFile?
    /// What the last save wrote (reused).
    var cursorEntries: [CursorFile.Entry] = []
    /// Standard output failed or closed, perhaps in the middle of a batch: the cursors must not be saved
    /// any more, since they would account for records that never left.
    var outputLost = false
    /// Make the cursor file durable (fdatasync) at most this often; it is written after every write of
    /// the output, so a kill -9 repeats at most that one batch.
    static let cursorSyncNanos: UInt64 = 1_000_000_000
    /// `attach.prom` in `LOGSPOUT_METRICS_DIR` (docs/attach.md, "Metrics"); told once per read.
    var metrics: MetricsPublisher?
    /// Records written that are a piece of a longer line (`"partial":true`).
    var partialRecords = 0

    /// Containers whose json-file log is read from disk (Attacher+Files.swift), by id; their folders'
    /// inotify watches; the inotify descriptor, made when the first file is followed.
    var files: [String: FileStream] = [:]
    var watches: [Int32: FileStream] = [:]
    var inotify: Inotify?
    /// The inotify descriptor's registration.
    var inotifyRegistration: EventLoop.Registration?
    /// The inotify events of one read (reused).
    var fileEvents: [(watch: Int32, mask: InotifyMask, isLog: Bool)] = []
    /// Where reading stopped in the log file of a container whose file is not being read (it stopped, its
    /// stream ended, or as saved in `STATE_DIR`), to go on from that byte when it is read again.
    var filePositions: [String: FilePosition] = [:]
    /// Containers skipped with `--log-source files` (reported once each).
    var skipped: Set<String> = []
    /// attach's metrics of the log files: corrupt lines skipped, truncations seen, containers skipped.
    var fileCorruptLines = 0
    var fileTruncations = 0
    var skippedContainers = 0
    var fileGaps = 0
    var fileEventOverflows = 0
    /// A read turn of a log file stopped before its end in this turn of the loop.
    var fileReadPending = false

    /// Sets up the event loop (SIGTERM and SIGINT taken through it).
    public init(options: AttachOptions, output: Int32 = 1) throws(SyscallError) {
        self.options = options
        self.client = DockerClient(endpoint: options.endpoint)
        self.output = output
        table = ContainerTable(options: options)
        linger = ReadLinger(maximumMs: options.lingerMs)
        loop = try EventLoop(signals: [.terminate, .interrupt])
        out.reserveCapacity(256 * 1024)
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
            let saved = file.load()
            table = ContainerTable(options: options, savedCursors: saved)
            for (id, position) in file.files {
                guard let cursor = saved[id] else { continue }
                filePositions[id] = FilePosition(file: position, cursor: cursor)
            }
            cursorFile = file
        }
        metrics = MetricsPublisher(loop: loop, file: "attach.prom") { [unowned self] text in
            AttachMetrics.render(&text, table: table, partialRecords: partialRecords,
                                 files: .init(corruptLines: fileCorruptLines, truncations: fileTruncations, skipped: skippedContainers,
                                              gaps: fileGaps, eventOverflows: fileEventOverflows),
                                 outputWrites: outputWrites)
        }
        defer { metrics?.flush() }
        // At start, an engine that cannot be reached or is too old is an error the user must see.
        perform(table.start())
        if let exitCode { return exitCode }
        Readiness.announce()  // subscribed to events, every running container followed
        do {
            try loop.run {
                // What the turn read is written at once, in one write; then, after a turn that read log data,
                // lines gather for the linger before the next read (not when a log file has more to read
                // already: its next turn is due at once). Lines that trickle in then cost every stage one
                // wake-up per linger, not one per line; at full speed the linger stays near 1 ms.
                flush()
                saveCursors(force: false)
                let pause = linger.turnRead(bytes: readBytesThisRound, streamRecords: streamRecordsThisRound)
                if pause > 0, exitCode == nil, !fileReadPending { Sys.sleep(microseconds: pause / 1000) }
                readBytesThisRound = 0
                streamRecordsThisRound = 0
                fileReadPending = false
            }
        } catch {
            Self.diagnostic("\(error)")
            return .software
        }
        flush()
        saveCursors(force: true)
        return exitCode ?? .ok
    }

    // MARK: - Carrying out the table's actions

    /// Carries out the table's actions in order. What comes of each is fed back to the table at once, and
    /// the actions that brings are carried out before the next action of the list.
    func perform(_ actions: [ContainerTable.Action]) {
        guard !actions.isEmpty else { return }
        var stack = Array(actions.reversed())
        while let action = stack.popLast() {
            let next = carryOut(action)
            if !next.isEmpty { stack.append(contentsOf: next.reversed()) }
        }
        metrics?.changed()
    }

    /// Carries out one action; returns the table's answer to what came of it.
    func carryOut(_ action: ContainerTable.Action) -> [ContainerTable.Action] {
        switch action {
        case .connect(let readEngineTime):
            return connect(readEngineTime: readEngineTime)
        case .listRunning:
            let running: [String]
            do { running = try client.runningContainers() } catch {
                return table.reconcileFailed(error.description)
            }
            // A log file followed whose container stopped while the engine was away: it has all it gets.
            let stillRunning = Set(running)
            for id in files.keys.sorted() where !stillRunning.contains(id) { fileContainerDied(id) }
            return table.listed(running)
        case .inspect(let id, let reason):
            do { return table.inspected(id, for: reason, try client.inspect(id)) } catch {
                return table.inspectFailed(id, for: reason, error.description)
            }
        case .openStream(let id, let since, let onlyNew):
            return openStream(id, since: since, onlyNew: onlyNew)
        case .armRetry(let id, let delayMs):
            if let timer = retryTimers[id] { loop.cancel(timer) }
            retryTimers[id] = loop.schedule(at: Self.deadline(afterMs: delayMs)) { [unowned self] in
                retryTimers[id] = nil
                perform(table.retryTimerFired(id))
            }
        case .cancelRetry(let id):
            if let timer = retryTimers.removeValue(forKey: id) { loop.cancel(timer) }
        case .armReconnect(let delayMs):
            if let reconnect { loop.cancel(reconnect) }
            reconnect = loop.schedule(at: Self.deadline(afterMs: delayMs)) { [unowned self] in
                reconnect = nil
                perform(table.reconnectTimerFired())
            }
        case .closeEvents:
            closeEvents()
        case .handleBufferedEvents:
            processEventLines()
        case .cursorsChanged:
            cursorFile?.dirty = true
        case .report(let text):
            Self.diagnostic(text)
        case .stop(let code):
            exitCode = code
        }
        return []
    }

    static func deadline(afterMs delay: Int) -> UInt64 {
        Sys.monotonicNanos() + UInt64(delay) * 1_000_000
    }

    // MARK: - Cursors and output

    /// Saves every container's cursor, after the records it accounts for were written: right after each
    /// write of the output (`flush`), so what a kill -9 repeats is at most the batch written last, and
    /// when the table changed them (a container forgotten). fdatasynced at most once a second and at exit
    /// (`force`): what a killed attach wrote stays in the page cache; only a power cut needs the sync.
    func saveCursors(force: Bool) {
        guard let file = cursorFile, file.dirty || (force && file.unsynced), out.isEmpty, !outputLost else { return }
        let now = Sys.monotonicNanos()
        let durable = force || now - file.lastDurableWrite >= Self.cursorSyncNanos
        do {
            cursorEntries.removeAll(keepingCapacity: true)
            table.forEachCursor { id, cursor in
                cursorEntries.append(CursorFile.Entry(id: id, cursor: cursor, file: fileCursor(id, cursor)))
            }
            try file.save(&cursorEntries, durable: durable)
            file.dirty = false
            if durable { file.lastDurableWrite = now }
        } catch {
            Self.diagnostic("STATE_DIR: \(error)")
        }
    }

    /// Writes the buffered records to stdout (blocking: a full pipe holds attach back, which is the
    /// backpressure the pipeline relies on).
    func flush() {
        guard !out.isEmpty else { return }
        outputWrites &+= 1
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
        // The batch is out: the cursors account for it now (one pwrite).
        saveCursors(force: false)
    }
}
