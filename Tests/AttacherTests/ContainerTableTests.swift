import Docker
import JSON
import Records
import Syscall
import Time
import Testing
@testable import Attacher

typealias Action = ContainerTable.Action

func info(_ id: String, name: String? = nil, running: Bool = true, tty: Bool = false,
          env: [String] = [], labels: Labels = [:]) -> ContainerInfo {
    ContainerInfo(id: id, name: name ?? "c-\(id)", image: "busybox", hostname: String(id.prefix(12)), pid: running ? 42 : 0,
                  labels: labels, env: env, tty: tty, running: running)
}

func t(_ s: Int64, _ n: Int32 = 0) -> Timestamp { Timestamp(seconds: s, nanoseconds: n) }

/// Carries out a table's actions against a pretend engine, in the order `Attacher` does against a real
/// one (what comes of an action is fed back before the next), and records every action.
struct FakeEngine {
    var containers: [String: ContainerInfo] = [:]
    var reachable = true
    var failInspect: Set<String> = []
    var failOpen: Set<String> = []
    var clock = t(1_764_000_000)
    /// Monotonic nanoseconds, for streams opened and ended.
    var now: UInt64 = 1_000_000_000_000
    var log: [Action] = []

    mutating func add(_ c: ContainerInfo) { containers[c.id] = c }

    /// Carries out `actions`; returns those carried out.
    @discardableResult
    mutating func run(_ table: inout ContainerTable, _ actions: [Action]) -> [Action] {
        let before = log.count
        var stack = Array(actions.reversed())
        while let action = stack.popLast() {
            log.append(action)
            var next: [Action] = []
            switch action {
            case .connect(let readEngineTime):
                next = reachable ? table.engineConnected(engineTime: readEngineTime ? clock : nil)
                    : table.connectFailed("connect to /x failed: Connection refused")
            case .listRunning:
                next = reachable ? table.listed(containers.values.filter(\.running).map(\.id).sorted())
                    : table.reconcileFailed("GET /containers/json: Connection refused")
            case .inspect(let id, let reason):
                next = failInspect.contains(id) || !reachable ? table.inspectFailed(id, for: reason, "Connection refused")
                    : table.inspected(id, for: reason, containers[id])
            case .openStream(let id, _, _):
                if failOpen.contains(id) || !reachable {
                    next = table.streamOpenFailed(id, "connect to /x failed: Connection refused")
                } else {
                    table.streamOpened(id, at: now)
                }
            default:
                break
            }
            stack.append(contentsOf: next.reversed())
        }
        return Array(log[before...])
    }

    /// A table on an engine running one container, which it follows.
    static func following(_ container: ContainerInfo) -> (FakeEngine, ContainerTable) {
        var engine = FakeEngine()
        engine.add(container)
        let (table, _) = engine.start()
        return (engine, table)
    }

    /// Starts a table on this engine.
    mutating func start(_ options: AttachOptions = AttachOptions(endpoint: .unix("/x")),
                        saved: [String: ResumeCursor] = [:]) -> (ContainerTable, [Action]) {
        var table = ContainerTable(options: options, savedCursors: saved)
        let actions = run(&table, table.start())
        return (table, actions)
    }
}

@Suite("attach's container table: connecting and reconciling")
struct ContainerTableConnectTests {
    @Test("first connection: events, then the listing; running containers from now, saved cursors resumed, ignored ones skipped")
    func firstConnection() {
        var engine = FakeEngine()
        engine.add(info("aaaa"))
        engine.add(info("bbbb", env: ["LOGSPOUT=ignore"]))
        engine.add(info("cccc", running: false))
        engine.add(info("eeee"))
        let saved = ["cccc": ResumeCursor(time: t(5), countAtTime: 2), "dddd": ResumeCursor(time: t(6), countAtTime: 1),
                     "eeee": ResumeCursor(time: t(7), countAtTime: 1)]
        let (table, actions) = engine.start(saved: saved)
        #expect(actions == [
            .connect(readEngineTime: true), .listRunning,
            .inspect("aaaa", .reconcileNew), .openStream("aaaa", since: nil, onlyNew: true),
            .inspect("bbbb", .reconcileNew),
            .inspect("eeee", .reconcileNew), .openStream("eeee", since: t(7), onlyNew: false),
            // Not running, with a saved cursor: what it wrote while attach was away; a container gone is forgotten.
            .inspect("cccc", .reconcileSaved), .openStream("cccc", since: t(5), onlyNew: false),
            .inspect("dddd", .reconcileSaved), .cursorsChanged,
            .handleBufferedEvents,
        ])
        #expect(table.engine == .up && !table.firstConnection && table.startTime == engine.clock)
        #expect(table.savedCursors.isEmpty)
        #expect(table.containers["bbbb"]?.ignored == true && table.containers["bbbb"]?.stream == .closed)
        #expect(table.containers["aaaa"]?.stream == .open(openedAt: engine.now))
        #expect(Set(table.cursors().map(\.0)) == ["aaaa", "bbbb", "cccc", "eeee"])
    }

    @Test("--backlog: containers running at start are read from their first line")
    func backlog() {
        var engine = FakeEngine()
        engine.add(info("aaaa"))
        var options = AttachOptions(endpoint: .unix("/x"))
        options.backlog = true
        let (_, actions) = engine.start(options)
        #expect(actions.contains(.openStream("aaaa", since: nil, onlyNew: false)))
    }

    @Test("an engine that cannot be reached at start: its error, then exit 69")
    func unreachableAtStart() {
        var engine = FakeEngine()
        engine.reachable = false
        let (table, actions) = engine.start()
        #expect(actions == [.connect(readEngineTime: true), .report("connect to /x failed: Connection refused"), .stop(.unavailable)])
        #expect(table.engine == .down)
    }

    @Test("a listing or an inspection failing at start: events dropped, exit 69; later, reconnect (said once until it is back)")
    func reconcileFails() {
        var engine = FakeEngine()
        engine.add(info("aaaa"))
        engine.failInspect = ["aaaa"]
        let (_, first) = engine.start()
        #expect(first == [.connect(readEngineTime: true), .listRunning, .inspect("aaaa", .reconcileNew),
                          .closeEvents, .armReconnect(delayMs: 100), .report("Connection refused"), .stop(.unavailable)])

        engine.failInspect = []
        var (table, _) = engine.start()
        engine.add(info("bbbb"))
        engine.failInspect = ["bbbb"]
        #expect(engine.run(&table, table.engineLost(nil)) == [
            .report("lost the events stream of unix:///x; reconnecting"), .closeEvents, .armReconnect(delayMs: 100)])
        // aaaa's stream is still open: not reconciled. bbbb cannot be inspected: the connection starts over.
        #expect(engine.run(&table, table.reconnectTimerFired()) == [
            .connect(readEngineTime: false), .report("engine unix:///x is back"), .listRunning, .inspect("bbbb", .reconcileNew),
            .closeEvents, .armReconnect(delayMs: 100), .report("engine unix:///x: Connection refused; reconnecting")])
        engine.reachable = false
        #expect(engine.run(&table, table.reconnectTimerFired()) == [.connect(readEngineTime: false), .armReconnect(delayMs: 200)])
        #expect(table.engine == .down && table.lostEngineReported)
    }

    @Test("engine lost and back: said once each; streams resume from their cursors, nothing twice; new containers from attach's start")
    func engineLostAndRestored() {
        var (engine, table) = FakeEngine.following(info("aaaa", name: "web"))
        let output = table.containers["aaaa"]!.output
        for x in [t(1_764_000_001), t(1_764_000_005), t(1_764_000_005)] {
            let admitted = output.cursor.admit(x)
            #expect(admitted)
        }

        #expect(engine.run(&table, table.engineLost("Connection reset by peer")) == [
            .report("lost the events stream of unix:///x (Connection reset by peer); reconnecting"),
            .closeEvents, .armReconnect(delayMs: 100)])
        // Its stream breaks too: not reported, not reopened while the engine is away.
        #expect(table.streamEnded("aaaa", failure: "Connection reset by peer", at: engine.now + 5_000_000_000).isEmpty)
        engine.reachable = false
        #expect(engine.run(&table, table.reconnectTimerFired()) == [.connect(readEngineTime: false), .armReconnect(delayMs: 200)])
        #expect(engine.run(&table, table.reconnectTimerFired()) == [.connect(readEngineTime: false), .armReconnect(delayMs: 400)])

        engine.reachable = true
        engine.add(info("ffff"))  // started while attach was away
        #expect(engine.run(&table, table.reconnectTimerFired()) == [
            .connect(readEngineTime: false), .report("engine unix:///x is back"), .listRunning,
            .inspect("aaaa", .reconcileFollowed), .openStream("aaaa", since: t(1_764_000_005), onlyNew: false),
            .inspect("ffff", .reconcileNew), .openStream("ffff", since: engine.clock, onlyNew: false),
            .handleBufferedEvents])
        // The reopened stream replays from the cursor's time (inclusive): the two lines already out are skipped.
        #expect([t(1_764_000_005), t(1_764_000_005), t(1_764_000_006)].map { output.cursor.admit($0) } == [false, false, true])
        // The backoff started over.
        #expect(table.engineLost(nil) == [
            .report("lost the events stream of unix:///x; reconnecting"), .closeEvents, .armReconnect(delayMs: 100)])
    }
}

@Suite("attach's container table: engine events")
struct ContainerTableEventTests {
    @Test("a start event: inspected, then read from attach's start (its first line)")
    func start() {
        var engine = FakeEngine()
        var (table, _) = engine.start()
        engine.add(info("aaaa"))
        #expect(engine.run(&table, table.engineEvent(.start("aaaa"))) == [
            .inspect("aaaa", .start), .openStream("aaaa", since: engine.clock, onlyNew: false)])
        // A second start while the stream runs opens nothing now.
        #expect(engine.run(&table, table.engineEvent(.start("aaaa"))) == [.inspect("aaaa", .start)])
        #expect(table.containers["aaaa"]?.reopenAfterEnd == true)
    }

    @Test("excluded containers: tracked, never opened, skipped when reconciling")
    func excluded() {
        var engine = FakeEngine()
        var options = AttachOptions(endpoint: .unix("/x"))
        options.excludeLabels = AttachOptions.parseLabels("tier:db")
        var (table, _) = engine.start(options)
        engine.add(info("dbdb", labels: ["tier": "db"]))
        #expect(engine.run(&table, table.engineEvent(.start("dbdb"))) == [.inspect("dbdb", .start)])
        #expect(table.containers["dbdb"]?.ignored == true)
        _ = table.engineEvent(.rename("dbdb", name: "/db2"))
        #expect(table.containers["dbdb"]?.info.name == "db2")
        _ = engine.run(&table, table.engineLost(nil))
        #expect(!engine.run(&table, table.reconnectTimerFired()).contains { if case .inspect = $0 { true } else { false } })
    }

    @Test("a rename shows in the container JSON of later records")
    func rename() {
        var (_, table) = FakeEngine.following(info("aaaa", name: "old"))
        let output = table.containers["aaaa"]!.output
        #expect(String(decoding: output.containerJSON, as: UTF8.self).contains(#""name":"old""#))
        #expect(table.engineEvent(.rename("aaaa", name: "/new")).isEmpty)
        #expect(String(decoding: output.containerJSON, as: UTF8.self).contains(#""name":"new""#))
        #expect(table.engineEvent(.rename("unknown", name: "x")).isEmpty)
    }

    @Test("destroy: forgotten when its stream is closed (its retry cancelled), else once its stream ends")
    func destroy() {
        var engine = FakeEngine()
        engine.add(info("aaaa"))
        engine.add(info("bbbb"))
        engine.add(info("cccc"))
        var (table, _) = engine.start()
        // Closed: stopped, then destroyed.
        engine.containers["aaaa"]?.running = false
        #expect(engine.run(&table, table.streamEnded("aaaa", failure: nil, at: engine.now + 5_000_000_000)) == [
            .inspect("aaaa", .streamEnded(backoff: false))])
        #expect(table.engineEvent(.destroy("aaaa")) == [.cursorsChanged])
        #expect(table.containers["aaaa"] == nil)
        // Open: kept until its stream ends; the engine then no longer knows it.
        #expect(table.engineEvent(.destroy("bbbb")).isEmpty)
        engine.containers["bbbb"] = nil
        #expect(engine.run(&table, table.streamEnded("bbbb", failure: nil, at: engine.now + 5_000_000_000)) == [
            .inspect("bbbb", .streamEnded(backoff: false))])
        #expect(table.containers["bbbb"] == nil)
        // Waiting to retry.
        #expect(engine.run(&table, table.streamEnded("cccc", failure: "reset", at: engine.now + 5_000_000_000)) == [
            .report("logs of c-cccc: reset"), .inspect("cccc", .streamEnded(backoff: true)), .armRetry("cccc", delayMs: 250)])
        #expect(table.engineEvent(.destroy("cccc")) == [.cancelRetry("cccc"), .cursorsChanged])
        #expect(table.retryTimerFired("cccc").isEmpty)
    }

    @Test("out of order: a container that died (or was destroyed) before its start was answered")
    func outOfOrder() {
        var engine = FakeEngine()
        var (table, _) = engine.start()
        // Started and already ended when inspected: its stream is still opened, to read what it wrote.
        #expect(table.engineEvent(.start("aaaa")) == [.inspect("aaaa", .start)])
        #expect(table.inspected("aaaa", for: .start, info("aaaa", running: false)) == [
            .openStream("aaaa", since: engine.clock, onlyNew: false)])
        // Destroyed before its start was answered: the answer finds nothing, nothing is tracked.
        #expect(table.engineEvent(.start("bbbb")) == [.inspect("bbbb", .start)])
        #expect(table.engineEvent(.destroy("bbbb")).isEmpty)
        #expect(table.engineEvent(.rename("bbbb", name: "x")).isEmpty)
        #expect(table.inspected("bbbb", for: .start, nil).isEmpty)
        #expect(table.containers["bbbb"] == nil)
        // An inspection that fails is reported, nothing else.
        #expect(table.inspectFailed("cccc0123456789", for: .start, "Connection refused") == [.report("inspect cccc01234567: Connection refused")])
    }

    @Test("a restart whose start comes while the old stream drains: reopened from the cursor when it ends")
    func startWhileDraining() {
        var (engine, table) = FakeEngine.following(info("aaaa"))
        let output = table.containers["aaaa"]!.output
        _ = output.cursor.admit(t(1_764_000_009))
        #expect(engine.run(&table, table.engineEvent(.start("aaaa"))) == [.inspect("aaaa", .start)])
        #expect(engine.run(&table, table.streamEnded("aaaa", failure: nil, at: engine.now + 9_000_000_000)) == [
            .openStream("aaaa", since: t(1_764_000_009), onlyNew: false)])
        #expect(table.containers["aaaa"]?.reopenAfterEnd == false)
    }

    @Test("engine events read from JSON: Type, Action or status, Actor.ID or id")
    func parse() throws {
        func event(_ json: String) throws -> EngineEvent? { EngineEvent(try JSONValue.parse(Array(json.utf8))) }
        #expect(try event(#"{"Type":"container","Action":"start","Actor":{"ID":"abc"}}"#) == .start("abc"))
        #expect(try event(#"{"status":"destroy","id":"abc"}"#) == .destroy("abc"))
        #expect(try event(#"{"Type":"container","Action":"rename","Actor":{"ID":"abc","Attributes":{"name":"/n"}}}"#) == .rename("abc", name: "/n"))
        #expect(try event(#"{"Type":"container","Action":"rename","Actor":{"ID":"abc"}}"#) == nil)
        #expect(try event(#"{"Type":"network","Action":"start","Actor":{"ID":"abc"}}"#) == nil)
        #expect(try event(#"{"Type":"container","Action":"die","Actor":{"ID":"abc"}}"#) == .die("abc"))
        #expect(try event(#"{"Type":"container","Action":"start"}"#) == nil)
    }
}
