import Docker
import Time
import Testing
@testable import Attacher

@Suite("attach's container table: each container's stream")
struct StreamLifecycleTests {
    static let second: UInt64 = 1_000_000_000

    /// A table following one running container, "web".
    static func following() -> (FakeEngine, ContainerTable) { FakeEngine.following(info("aaaa", name: "web")) }

    @Test("a stream that breaks while its container runs: reported, reopened with backoff (250 ms doubling to 5 s) until it works again")
    func retryWithBackoff() {
        var (engine, table) = Self.following()
        var delays: [Int] = []
        for _ in 0..<7 {
            let actions = engine.run(&table, table.streamEnded("aaaa", failure: "Connection reset by peer", at: engine.now + 9 * Self.second))
            #expect(actions.prefix(2) == [.report("logs of web: Connection reset by peer"), .inspect("aaaa", .streamEnded(backoff: true))])
            guard case .armRetry("aaaa", let delay) = actions.last else {
                Issue.record("no retry: \(actions)")
                return
            }
            delays.append(delay)
            #expect(table.containers["aaaa"]?.stream == .waitingRetry)
            #expect(engine.run(&table, table.retryTimerFired("aaaa")) == [
                .inspect("aaaa", .retry), .openStream("aaaa", since: engine.clock, onlyNew: false)])
        }
        #expect(delays == [250, 500, 1000, 2000, 4000, 5000, 5000])
        // The engine answered 200: the next break is retried after 250 ms again.
        table.streamFollowing("aaaa")
        #expect(engine.run(&table, table.streamEnded("aaaa", failure: "reset", at: engine.now + 9 * Self.second)).last == .armRetry("aaaa", delayMs: 250))
    }

    @Test("a clean end while the container runs: reopened at once, unless the stream lasted less than a second")
    func cleanEnd() {
        var (engine, table) = Self.following()
        #expect(engine.run(&table, table.streamEnded("aaaa", failure: nil, at: engine.now + 2 * Self.second)) == [
            .inspect("aaaa", .streamEnded(backoff: false)), .openStream("aaaa", since: engine.clock, onlyNew: false)])
        #expect(engine.run(&table, table.streamEnded("aaaa", failure: nil, at: engine.now + Self.second / 2)) == [
            .inspect("aaaa", .streamEnded(backoff: true)), .armRetry("aaaa", delayMs: 250)])
    }

    @Test("the container stopped: its stream is not reopened until it starts again, from its cursor")
    func stopped() {
        var (engine, table) = Self.following()
        let output = table.containers["aaaa"]!.output
        _ = output.cursor.admit(t(1_764_000_100))
        engine.containers["aaaa"]?.running = false
        #expect(engine.run(&table, table.streamEnded("aaaa", failure: nil, at: engine.now + 3 * Self.second)) == [
            .inspect("aaaa", .streamEnded(backoff: false))])
        #expect(table.containers["aaaa"]?.stream == .closed)
        engine.containers["aaaa"]?.running = true
        #expect(engine.run(&table, table.engineEvent(.start("aaaa"))) == [
            .inspect("aaaa", .start), .openStream("aaaa", since: t(1_764_000_100), onlyNew: false)])
    }

    @Test("opening fails: reported, retried; an inspection that fails or finds nothing on retry backs off further")
    func openFails() {
        var engine = FakeEngine()
        var (table, _) = engine.start()
        engine.add(info("aaaa", name: "web"))
        engine.failOpen = ["aaaa"]
        #expect(engine.run(&table, table.engineEvent(.start("aaaa"))) == [
            .inspect("aaaa", .start), .openStream("aaaa", since: engine.clock, onlyNew: false),
            .report("logs of web: connect to /x failed: Connection refused"), .armRetry("aaaa", delayMs: 250)])
        engine.failInspect = ["aaaa"]
        #expect(engine.run(&table, table.retryTimerFired("aaaa")) == [.inspect("aaaa", .retry), .armRetry("aaaa", delayMs: 500)])
        engine.failInspect = []
        engine.containers["aaaa"] = nil
        #expect(engine.run(&table, table.retryTimerFired("aaaa")) == [.inspect("aaaa", .retry), .armRetry("aaaa", delayMs: 1000)])
        // Watching the socket failed: the error as it is.
        engine.add(info("aaaa", name: "web"))
        engine.failOpen = []
        _ = engine.run(&table, table.retryTimerFired("aaaa"))
        #expect(table.containers["aaaa"]?.stream == .open(openedAt: engine.now))
        _ = table.streamEnded("aaaa", failure: nil, at: engine.now + 3 * Self.second)
        #expect(table.open("aaaa") == [.openStream("aaaa", since: engine.clock, onlyNew: false)])
        #expect(table.streamOpenFailed("aaaa", "epoll_ctl: No space left on device", registering: true) == [
            .report("epoll_ctl: No space left on device"), .armRetry("aaaa", delayMs: 2000)])
    }

    @Test("a start event while waiting to retry: opened at once, the retry cancelled")
    func startWhileWaiting() {
        var (engine, table) = Self.following()
        _ = engine.run(&table, table.streamEnded("aaaa", failure: "reset", at: engine.now + 9 * Self.second))
        #expect(engine.run(&table, table.engineEvent(.start("aaaa"))) == [
            .inspect("aaaa", .start), .cancelRetry("aaaa"), .openStream("aaaa", since: engine.clock, onlyNew: false)])
        #expect(table.retryTimerFired("aaaa").isEmpty)
    }

    @Test("a retry due while the engine is away does nothing; the reconnection reopens the stream from attach's start, since the container wrote nothing yet: what it writes meanwhile is not skipped")
    func retryWhileEngineAway() {
        var (engine, table) = Self.following()
        _ = engine.run(&table, table.streamEnded("aaaa", failure: "reset", at: engine.now + 9 * Self.second))
        _ = engine.run(&table, table.engineLost(nil))
        #expect(table.retryTimerFired("aaaa").isEmpty)
        #expect(table.containers["aaaa"]?.stream == .closed)
        #expect(engine.run(&table, table.reconnectTimerFired()).contains(.openStream("aaaa", since: engine.clock, onlyNew: false)))
    }

    @Test("shutdown: nothing opens, reopens, retries or reconnects any more; every cursor is still saved")
    func shutdownDrain() {
        var engine = FakeEngine()
        engine.add(info("aaaa"))
        engine.add(info("bbbb"))
        engine.add(info("cccc", running: false))
        var (table, _) = engine.start(saved: ["cccc": ResumeCursor(time: t(1), countAtTime: 1)])
        _ = engine.run(&table, table.streamEnded("bbbb", failure: "reset", at: engine.now + 9 * Self.second))
        _ = table.containers["aaaa"]!.output.cursor.admit(t(1_764_000_200))
        _ = engine.run(&table, table.engineEvent(.start("aaaa")))  // a reopen is due when its stream ends
        table.shutdown()
        #expect(table.streamEnded("aaaa", failure: "Connection reset by peer", at: engine.now + 9 * Self.second).isEmpty)
        #expect(table.engineEvent(.start("cccc")).isEmpty)
        #expect(table.inspected("cccc", for: .start, info("cccc")).isEmpty)
        #expect(table.retryTimerFired("bbbb").isEmpty)
        #expect(table.engineLost(nil).contains(.closeEvents))
        #expect(table.reconnectTimerFired().isEmpty)
        let cursors = Dictionary(uniqueKeysWithValues: table.cursors())
        #expect(Set(cursors.keys) == ["aaaa", "bbbb", "cccc"])
        #expect(cursors["aaaa"]?.time == t(1_764_000_200))
    }
}

@Suite("attach's logs stream state machine")
struct LogsStreamStateMachineTests {
    typealias Machine = LogsStreamStateMachine

    @Test("framing from the head: multiplexed unless a TTY, or when the engine says so")
    func framing() {
        var m = Machine()
        #expect(m.headReceived(status: 200, reason: "OK", contentType: nil, tty: false) == .follow(multiplexed: true))
        #expect(m.state == .following && !m.isOver)
        m = Machine()
        #expect(m.headReceived(status: 200, reason: "OK", contentType: nil, tty: true) == .follow(multiplexed: false))
        m = Machine()
        #expect(m.headReceived(status: 200, reason: "OK", contentType: "application/vnd.docker.raw-stream", tty: true) == .follow(multiplexed: false))
        m = Machine()
        #expect(m.headReceived(status: 200, reason: "OK", contentType: "application/vnd.docker.multiplexed-stream", tty: true) == .follow(multiplexed: true))
    }

    @Test("404 and 409 end quietly (a --rm container already gone); another status is a failure")
    func statuses() {
        for status in [404, 409] {
            var m = Machine()
            #expect(m.headReceived(status: status, reason: "x", contentType: nil, tty: false) == .end)
            #expect(m.isOver && m.closing() == .init(emitHeldLine: true, failure: nil))
        }
        var m = Machine()
        #expect(m.headReceived(status: 500, reason: "Internal Server Error", contentType: nil, tty: false) == .end)
        #expect(m.closing() == .init(emitHeldLine: false, failure: "GET logs answered 500 Internal Server Error"))
        m.responseEnded()
        #expect(m.closing().failure != nil)
    }

    @Test("how a stream ends: the response's end emits the held line; a cut or a failure does not")
    func endings() {
        var m = Machine()
        _ = m.headReceived(status: 200, reason: "OK", contentType: nil, tty: false)
        m.responseEnded()
        m.closedByPeer()
        #expect(m.state == .ended && m.closing() == .init(emitHeldLine: true, failure: nil))

        m = Machine()
        _ = m.headReceived(status: 200, reason: "OK", contentType: nil, tty: false)
        m.closedByPeer()
        #expect(m.state == .cut && m.isOver && m.closing() == .init(emitHeldLine: false, failure: nil))

        m = Machine()
        _ = m.headReceived(status: 200, reason: "OK", contentType: nil, tty: false)
        m.failed("read: Connection reset by peer")
        m.closedByPeer()
        #expect(m.closing() == .init(emitHeldLine: false, failure: "read: Connection reset by peer"))
    }

    @Test("a container that dies mid-line: its last line, without a \\n, is emitted when the stream ends")
    func diesMidLine() {
        var m = Machine()
        guard case .follow(let multiplexed) = m.headReceived(status: 200, reason: "OK", contentType: nil, tty: false) else {
            Issue.record("not followed")
            return
        }
        var parser = LogStreamParser(multiplexed: multiplexed)
        var emitted: [String] = []
        let emit: (LogLine) -> Void = { emitted.append(String(decoding: $0.data, as: UTF8.self)) }
        let payload = Array("2026-11-24T20:42:17.123456789Z first\n".utf8)
        let last = Array("2026-11-24T20:42:17.223456789Z last words".utf8)
        var bytes: [UInt8] = []
        for p in [payload, last] { bytes += [1, 0, 0, 0, 0, 0, 0, UInt8(p.count)] + p }
        bytes.withUnsafeBytes { parser.feed($0, emit: emit) }
        #expect(emitted == ["first"] && parser.hasPending)
        m.responseEnded()
        if m.closing().emitHeldLine { parser.finish(emit: emit) }
        #expect(emitted == ["first", "last words"])
    }

    @Test("the idle flush: armed once while a line is held, moved while bytes keep coming, then the line is emitted")
    func idleFlush() {
        let idle = Machine.idleFlushNanos
        var m = Machine()
        _ = m.headReceived(status: 200, reason: "OK", contentType: nil, tty: false)
        m.dataArrived(at: 1000)
        #expect(m.readDone(lineHeld: false) == .none)
        #expect(m.readDone(lineHeld: true) == .arm(at: 1000 + idle))
        m.dataArrived(at: 2000)
        #expect(m.readDone(lineHeld: true) == .none)                       // already armed
        #expect(m.idleTimerFired(now: 1000 + idle, lineHeld: true) == .arm(at: 2000 + idle))
        #expect(m.idleTimerFired(now: 2000 + idle, lineHeld: true) == .emitHeldLineUnlessInputWaits)
        #expect(!m.idleArmed)
        #expect(m.readDone(lineHeld: true) == .arm(at: 2000 + idle))      // input was waiting: read, armed again
        #expect(m.idleTimerFired(now: 3000 + idle, lineHeld: false) == .none)
        m.responseEnded()
        #expect(m.idleTimerFired(now: 9000 + idle, lineHeld: true) == .none)  // over: closing emits it
    }
}
