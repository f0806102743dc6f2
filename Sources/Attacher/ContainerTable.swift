import Docker
import JSON
import Metrics
import Records
import Syscall
import Time

/// What a container's records carry and where its output stands: the container's JSON, which every
/// record embeds, and its resume cursor. Shared by the table and the container's open stream, so the
/// line path writes through it directly, never through the table.
final class ContainerOutput {
    var cursor: ResumeCursor
    var containerJSON: [UInt8]
    /// Records written, per stream (attach's metrics).
    var stdoutRecords = 0
    var stderrRecords = 0
    /// When the last records were read: the time then minus the latest record's timestamp, in seconds.
    var lagSeconds: Double?
    /// The container's label in the metrics (its short id, or `LabelBudget.other`); nil when it has none
    /// (an ignored container).
    var label: String?

    /// Where its logs are read from while its stream is open: its json-file log (true) or the endpoint.
    var fromFile = false

    /// Records written, both streams.
    var records: Int { stdoutRecords &+ stderrRecords }

    init(info: ContainerInfo, cursor: ResumeCursor, labelsBytes: Int) {
        self.cursor = cursor
        containerJSON = Self.encode(info, labelsBytes: labelsBytes)
    }

    /// The container as its records carry it: within the record's bounds whatever its metadata
    /// (`Container.bounded`).
    static func encode(_ info: ContainerInfo, labelsBytes: Int) -> [UInt8] {
        info.container.bounded(labelsBytes: labelsBytes).encodedJSON()
    }
}

/// The containers attach knows of and its connection to the engine, as a state machine with no I/O:
/// events in (connected, listed, inspected, an engine event, a stream opened or ended, a timer fired,
/// shutdown), actions out (connect, list, inspect, open a stream, arm or cancel a timer, report, stop).
///
/// `Attacher` carries the actions out in order and feeds back what came of each before the next one, so
/// the work at (re)connection keeps its order — events first, then the listing, then each container in
/// turn — and a failure in the middle of it stops what is left.
struct ContainerTable {
    /// Why a container is inspected; comes back with the answer.
    enum InspectReason: Equatable, Sendable {
        /// Reconciling: a container followed before, whose stream is to be reopened.
        case reconcileFollowed
        /// Reconciling: a running container not seen before.
        case reconcileNew
        /// At the first connection: a container with a saved cursor that does not run (it may have
        /// written lines after its cursor while attach was away).
        case reconcileSaved
        /// A `start` event.
        case start
        /// Its retry timer fired: does it still run?
        case retry
        /// Its stream ended: did it stop, or did only the stream break? With `backoff`, a reopen waits
        /// (the stream failed, or ended within a second of opening).
        case streamEnded(backoff: Bool)

        var reconciling: Bool { self == .reconcileFollowed || self == .reconcileNew || self == .reconcileSaved }
    }

    enum Action: Equatable, Sendable {
        /// Negotiate the API version (with `readEngineTime`, read the engine's clock), open the events
        /// stream; then `engineConnected` or `connectFailed`.
        case connect(readEngineTime: Bool)
        /// List the running containers; then `listed` or `reconcileFailed`.
        case listRunning
        /// Inspect a container; then `inspected` or `inspectFailed` with the same reason.
        case inspect(String, InspectReason)
        /// Open a container's logs stream; then `streamOpened` or `streamOpenFailed`.
        case openStream(String, since: Timestamp?, onlyNew: Bool)
        /// Arm (or move) a container's retry timer; `retryTimerFired` when it is due.
        case armRetry(String, delayMs: Int)
        case cancelRetry(String)
        /// Arm the reconnection timer; `reconnectTimerFired` when it is due.
        case armReconnect(delayMs: Int)
        /// Close the events stream.
        case closeEvents
        /// Handle the events that came while reconciling.
        case handleBufferedEvents
        /// The cursors to save changed (a container was forgotten).
        case cursorsChanged
        /// A diagnostic line.
        case report(String)
        /// attach is to end with this status.
        case stop(ExitCode)
    }

    /// Where a container's logs stream stands.
    enum StreamPhase: Equatable, Sendable {
        case closed
        /// Asked for, not yet known to be open.
        case opening
        case open(openedAt: UInt64)
        /// Closed, its retry timer armed.
        case waitingRetry

        /// Asked for or open: a stream the container must not get twice.
        var isOpen: Bool {
            switch self {
            case .opening, .open: true
            case .closed, .waitingRetry: false
            }
        }
    }

    /// A container attach knows of.
    struct Entry {
        let id: String
        var info: ContainerInfo
        let ignored: Bool
        let output: ContainerOutput
        /// Where to start when there is no cursor yet: nil = only new lines (tail=0), else since.
        var baseline: Timestamp?
        var stream = StreamPhase.closed
        /// A start event came while the old stream was still draining: reopen when it ends.
        var reopenAfterEnd = false
        var retry = Backoff(initialMs: 250, capMs: 5000)
    }

    enum Engine: Equatable, Sendable {
        case down, connecting, reconciling, up
    }

    let options: AttachOptions
    /// Changed only by the transitions (here and in ContainerTable+Streams.swift).
    var containers: [String: Entry] = [:]
    /// Cursors loaded at start for containers not seen yet.
    private(set) var savedCursors: [String: ResumeCursor]
    private(set) var engine = Engine.down
    private(set) var firstConnection = true
    private(set) var lostEngineReported = false
    private var reconnectBackoff = Backoff()
    /// The engine's time when attach first connected: containers first seen later are read from here.
    private(set) var startTime = Timestamp.zero
    private(set) var shuttingDown = false
    /// The containers left to reconcile, and whether they are those with a saved cursor.
    private var reconcileQueue: [String] = []
    private var reconcileNext = 0
    private var reconcilingSaved = false
    /// The metrics labels of the containers followed, bounded (`METRICS_MAX_LABEL_VALUES`).
    private(set) var labels: LabelBudget
    /// Records of containers counted under `LabelBudget.other` and forgotten since, per stream.
    private(set) var forgottenOther = (stdout: 0, stderr: 0)
    /// Times the engine connection was made again after it was lost (the events stream reopened).
    private(set) var reconnects = 0
    /// Times connecting failed (negotiating, opening the events stream, listing or inspecting while
    /// reconciling) or the events stream ended or broke: each is followed by a reconnection attempt.
    private(set) var engineFailures = 0

    init(options: AttachOptions, savedCursors: [String: ResumeCursor] = [:]) {
        self.options = options
        self.savedCursors = savedCursors
        labels = LabelBudget(limit: options.maxLabelValues)
    }

    /// Whether the events stream is open (set before the listing, cleared when the stream is lost).
    var engineUp: Bool { engine == .reconciling || engine == .up }

    /// The cursors to save: every container's, and those loaded at start for containers not seen yet.
    func cursors() -> [(String, ResumeCursor)] {
        var all: [(String, ResumeCursor)] = []
        forEachCursor { all.append(($0, $1)) }
        return all
    }

    /// `cursors()` one by one, with no list made.
    func forEachCursor(_ body: (String, ResumeCursor) -> Void) {
        for (id, entry) in containers { body(id, entry.output.cursor) }
        for (id, cursor) in savedCursors { body(id, cursor) }
    }

    // MARK: - The engine connection

    /// At start: connect (attach ends, 69, when the engine cannot be reached or is too old).
    mutating func start() -> [Action] {
        engine = .connecting
        return [.connect(readEngineTime: true)]
    }

    /// The events stream is open: list the running containers. `engineTime` is the engine's clock (or
    /// the local one) at the first connection.
    mutating func engineConnected(engineTime: Timestamp?) -> [Action] {
        if firstConnection, let engineTime { startTime = engineTime }
        if !firstConnection { reconnects &+= 1 }
        engine = .reconciling
        reconnectBackoff.reset()
        var actions: [Action] = []
        if lostEngineReported {
            actions.append(.report("engine \(options.endpoint) is back"))
            lostEngineReported = false
        }
        actions.append(.listRunning)
        return actions
    }

    /// Negotiating or opening the events stream failed.
    mutating func connectFailed(_ error: String) -> [Action] {
        engine = .down
        engineFailures &+= 1
        if firstConnection { return [.report(error), .stop(.unavailable)] }
        var actions = reportLostOnce("engine \(options.endpoint): \(error); reconnecting")
        actions.append(.armReconnect(delayMs: reconnectBackoff.nextDelayMs()))
        return actions
    }

    /// Listing or inspecting failed while reconciling: drop the events stream and start over later.
    mutating func reconcileFailed(_ error: String) -> [Action] {
        engine = .down
        engineFailures &+= 1
        reconcileQueue = []
        reconcilingSaved = false
        var actions: [Action] = [.closeEvents, .armReconnect(delayMs: reconnectBackoff.nextDelayMs())]
        if firstConnection {
            actions += [.report(error), .stop(.unavailable)]
        } else {
            actions += reportLostOnce("engine \(options.endpoint): \(error); reconnecting")
        }
        return actions
    }

    /// The events stream ended or broke (dockerd restarting): every logs stream will end too; reconnect
    /// with backoff.
    mutating func engineLost(_ failure: String?) -> [Action] {
        var actions = reportLostOnce("lost the events stream of \(options.endpoint)\(failure.map { " (\($0))" } ?? ""); reconnecting")
        engine = .down
        engineFailures &+= 1
        actions += [.closeEvents, .armReconnect(delayMs: reconnectBackoff.nextDelayMs())]
        return actions
    }

    mutating func reconnectTimerFired() -> [Action] {
        guard engine == .down, !shuttingDown else { return [] }
        engine = .connecting
        return [.connect(readEngineTime: firstConnection)]
    }

    private mutating func reportLostOnce(_ text: String) -> [Action] {
        if lostEngineReported { return [] }
        lostEngineReported = true
        return [.report(text)]
    }

    // MARK: - Reconciling

    /// The running containers: each one not ignored and not followed gets its stream, in turn.
    mutating func listed(_ running: [String]) -> [Action] {
        reconcileQueue = running
        reconcileNext = 0
        reconcilingSaved = false
        return nextToReconcile()
    }

    private mutating func nextToReconcile() -> [Action] {
        while reconcileNext < reconcileQueue.count {
            let id = reconcileQueue[reconcileNext]
            reconcileNext += 1
            if reconcilingSaved {
                if containers[id] == nil { return [.inspect(id, .reconcileSaved)] }
            } else if let entry = containers[id] {
                if !entry.ignored && !entry.stream.isOpen { return [.inspect(id, .reconcileFollowed)] }
            } else {
                return [.inspect(id, .reconcileNew)]
            }
        }
        if firstConnection && !reconcilingSaved {
            // Containers with a saved cursor that stopped while attach was away: read what they wrote
            // after the cursor (the stream ends at once when there is nothing more).
            reconcilingSaved = true
            reconcileQueue = savedCursors.keys.sorted()
            reconcileNext = 0
            return nextToReconcile()
        }
        reconcileQueue = []
        reconcilingSaved = false
        firstConnection = false
        engine = .up
        return [.handleBufferedEvents]
    }

    // MARK: - Inspections and engine events

    mutating func inspected(_ id: String, for reason: InspectReason, _ info: ContainerInfo?) -> [Action] {
        switch reason {
        case .reconcileFollowed:
            if let info { update(id, info) }
            return open(id) + nextToReconcile()
        case .reconcileNew:
            guard let info, info.running else { return nextToReconcile() }
            let entry = track(info)
            if entry.ignored { return nextToReconcile() }
            if firstConnection, entry.output.cursor.time == nil {
                containers[id]?.baseline = options.backlog ? Timestamp.zero : nil
            }
            return open(id) + nextToReconcile()
        case .reconcileSaved:
            guard let info else {
                savedCursors[id] = nil
                return [.cursorsChanged] + nextToReconcile()
            }
            let entry = track(info)
            return (entry.ignored ? [] : open(id)) + nextToReconcile()
        case .start:
            guard let info, !shuttingDown else { return [] }
            if containers[id] == nil { track(info) }
            update(id, info)
            guard let entry = containers[id], !entry.ignored else { return [] }
            if entry.stream.isOpen {
                containers[id]?.reopenAfterEnd = true
                return []
            }
            return open(id)
        case .retry:
            guard containers[id] != nil else { return [] }
            guard let info else { return armRetry(id) }
            update(id, info)
            return info.running ? open(id) : []
        case .streamEnded(let backoff):
            guard containers[id] != nil else { return [] }
            guard let info else {
                forget(id)
                return []
            }
            update(id, info)
            guard info.running else { return [] }
            // It still runs: reopen, at once the first time, backing off if the stream keeps breaking.
            return backoff ? armRetry(id) : open(id)
        }
    }

    mutating func inspectFailed(_ id: String, for reason: InspectReason, _ error: String) -> [Action] {
        switch reason {
        case .reconcileFollowed, .reconcileNew, .reconcileSaved:
            return reconcileFailed(error)
        case .start:
            return [.report("inspect \(id.prefix(12)): \(error)")]
        case .retry, .streamEnded:
            return containers[id] == nil ? [] : armRetry(id)
        }
    }

    mutating func engineEvent(_ event: EngineEvent) -> [Action] {
        guard !shuttingDown else { return [] }
        switch event {
        case .start(let id):
            return [.inspect(id, .start)]
        case .rename(let id, let name):
            guard var info = containers[id]?.info else { return [] }
            info.name = name.hasPrefix("/") ? String(name.dropFirst()) : name
            update(id, info)
            return []
        case .die:
            return []  // a logs stream ends by itself; a log file followed is told by the driver
        case .destroy(let id):
            guard let entry = containers[id], !entry.stream.isOpen else { return [] }
            forget(id)
            return entry.stream == .waitingRetry ? [.cancelRetry(id), .cursorsChanged] : [.cursorsChanged]
        }
    }

    /// Adds a container to the table. Containers first seen after start are read from attach's start.
    @discardableResult
    private mutating func track(_ info: ContainerInfo) -> Entry {
        let cursor = savedCursors.removeValue(forKey: info.id) ?? ResumeCursor()
        let entry = Entry(id: info.id, info: info, ignored: options.ignores(info),
                          output: ContainerOutput(info: info, cursor: cursor, labelsBytes: options.maxLabelsSize), baseline: startTime)
        containers[info.id] = entry
        if !entry.ignored { entry.output.label = labels.take(String(info.id.prefix(12))) }
        return entry
    }

    /// Removes a container from the table: its metrics label is given back (its series go).
    private mutating func forget(_ id: String) {
        guard let entry = containers.removeValue(forKey: id), let label = entry.output.label else { return }
        if label == LabelBudget.other {
            forgottenOther.stdout &+= entry.output.stdoutRecords
            forgottenOther.stderr &+= entry.output.stderrRecords
        }
        labels.release(label)
        entry.output.label = nil
    }

    private mutating func update(_ id: String, _ info: ContainerInfo) {
        guard let entry = containers[id], info != entry.info else { return }
        containers[id]?.info = info
        entry.output.containerJSON = ContainerOutput.encode(info, labelsBytes: options.maxLabelsSize)
    }

    /// attach is ending: nothing opens or reopens any more.
    mutating func shutdown() {
        shuttingDown = true
    }
}

/// The events of the engine's events stream that attach acts on.
enum EngineEvent: Equatable, Sendable {
    case start(String)
    case rename(String, name: String)
    /// The container stopped (its log file, when one is followed, has all it will get).
    case die(String)
    case destroy(String)

    /// Reads one line of `GET /events` (`Action` and `Actor.ID`, or the older `status` and `id`); nil for
    /// an event attach has nothing to do with.
    init?(_ event: JSONValue) {
        self.init(type: event["Type"]?.string, action: event["Action"]?.string ?? event["status"]?.string,
                  id: event["Actor"]?["ID"]?.string ?? event["id"]?.string, name: event["Actor"]?["Attributes"]?["name"]?.string)
    }

    /// The event from its fields (`EventSkimmer`); nil for an event attach has nothing to do with.
    init?(type: String?, action: String?, id: String?, name: String?) {
        guard type ?? "container" == "container", let action, let id else { return nil }
        switch action {
        case "start":
            self = .start(id)
        case "rename":
            guard let name else { return nil }
            self = .rename(id, name: name)
        case "die":
            self = .die(id)
        case "destroy":
            self = .destroy(id)
        default:
            return nil
        }
    }
}
