import Contract
import Syscall
import Testing
@testable import Emitter

/// A machine behind a reference, so `#expect` can call its events.
@dynamicMemberLookup
final class Lifecycle {
    typealias Action = ConnectionStateMachine.Action
    var machine: ConnectionStateMachine

    init(_ transport: TargetProtocol, resolveIntervalNanos: UInt64) {
        machine = ConnectionStateMachine(transport: transport, resolveIntervalNanos: resolveIntervalNanos)
    }

    subscript<T>(dynamicMember path: KeyPath<ConnectionStateMachine, T>) -> T { machine[keyPath: path] }

    func start() -> [Action] { machine.start() }
    func resolved(_ a: [SocketAddress], summary: String, now: UInt64) -> [Action] { machine.resolved(a, summary: summary, now: now) }
    func resolveFailed(summary: String, now: UInt64) -> [Action] { machine.resolveFailed(summary: summary, now: now) }
    func connected(now: UInt64) -> [Action] { machine.connected(now: now) }
    func connectFailed(_ why: String, now: UInt64) -> [Action] { machine.connectFailed(why, now: now) }
    func connectRefused(_ e: Errno, now: UInt64) -> [Action] { machine.connectRefused(e, now: now) }
    func handshake(_ step: ConnectionStateMachine.HandshakeStep, now: UInt64) -> [Action] { machine.handshake(step, now: now) }
    func tlsAccepted(now: UInt64) -> [Action] { machine.tlsAccepted(now: now) }
    func tlsRefused(_ why: String, now: UInt64) -> [Action] { machine.tlsRefused(why, now: now) }
    func peerClosed(now: UInt64) -> [Action] { machine.peerClosed(now: now) }
    func connectionLost(_ why: String, now: UInt64) -> [Action] { machine.connectionLost(why, now: now) }
    func wrote() -> [Action] { machine.wrote() }
    func timerFired(_ t: ConnectionStateMachine.Timer, now: UInt64) -> [Action] { machine.timerFired(t, now: now) }
    func drainRequested(now: UInt64) -> [Action] { machine.drainRequested(now: now) }
    func sendFailed(_ why: String) -> [Action] { machine.sendFailed(why) }
}

/// Drives a receiver's connection lifecycle without sockets, resolver or clock.
@Suite("emit-syslog: a receiver's connection lifecycle")
struct ConnectionStateMachineTests {
    typealias Machine = ConnectionStateMachine
    typealias Action = ConnectionStateMachine.Action

    static let ms: UInt64 = 1_000_000
    static let interval: UInt64 = 60_000 * ms

    static func address(_ host: String, _ port: UInt16 = 514) -> SocketAddress {
        // A numeric host: getaddrinfo answers without asking anyone.
        (try? Sys.resolve(host: host, port: port, kind: .tcp).first)!
    }

    let a = Self.address("10.0.0.1")
    let b = Self.address("10.0.0.2")
    let c = Self.address("10.0.0.3")

    /// A machine that looked `addresses` up at 0 and is connecting to the first.
    func connecting(_ transport: TargetProtocol, _ addresses: [SocketAddress]) -> Lifecycle {
        let m = Lifecycle(transport, resolveIntervalNanos: Self.interval)
        _ = m.start()
        _ = m.resolved(addresses, summary: "logs → \(addresses[0])", now: 0)
        return m
    }

    /// A machine that looked `addresses` up and connected to the first: ready at 0.
    func ready(_ transport: TargetProtocol, _ addresses: [SocketAddress]) -> Lifecycle {
        let m = connecting(transport, addresses)
        _ = m.connected(now: 0)
        if transport == .tls { _ = m.handshake(.done(tls13: false), now: 0) }
        return m
    }

    /// The delays (ms after `now`) of the retries armed by `actions`.
    static func retryDelays(_ actions: [Action], now: UInt64) -> [UInt64] {
        actions.compactMap { if case .arm(.retry, let at) = $0 { (at - now) / ms } else { nil } }
    }

    static func reports(_ actions: [Action]) -> [String] {
        actions.compactMap { if case .report(let r) = $0 { r.description } else { nil } }
    }

    @Test("a new receiver is looked up once; its first connection is ready without a report")
    func firstConnection() {
        let m = Lifecycle(.tcp, resolveIntervalNanos: Self.interval)
        #expect(m.start() == [.resolve])
        #expect(m.timerFired(.refresh, now: 0) == [], "a lookup runs already")
        #expect(m.resolved([a, b], summary: "logs → 10.0.0.1:514", now: 5) == [.arm(.refresh, at: 5 + Self.interval), .connect(a)])
        #expect(m.state == .connecting(a) && m.hasSocket && !m.isReady)
        #expect(m.connected(now: 7) == [.flush])
        #expect(m.state == .ready(since: 7) && m.lastReport == nil)
        #expect(m.wrote() == [], "nothing to say after a write when all went well")
    }

    @Test("refused: the next address after backoff, then a new lookup once all were tried")
    func refused() {
        let m = connecting(.tcp, [a, b])
        let refused = m.connectRefused(.connectionRefused, now: 10)
        #expect(refused == [.close, .arm(.retry, at: 10 + 100 * Self.ms),
                            .report(.retrying("connect to 10.0.0.1:514 failed: Connection refused"))])
        #expect(Self.reports(refused) == ["connect to 10.0.0.1:514 failed: Connection refused; retrying"])
        #expect(m.state == .idle && !m.hasSocket)
        #expect(m.timerFired(.retry, now: 110 * Self.ms) == [.connect(b)])
        let again = m.connectRefused(.connectionRefused, now: 120 * Self.ms)
        #expect(Self.retryDelays(again, now: 120 * Self.ms) == [200])
        #expect(Self.reports(again) == ["connect to 10.0.0.2:514 failed: Connection refused; retrying"])
        #expect(m.timerFired(.retry, now: 320 * Self.ms) == [.resolve], "both tried: look the name up again")
        // The same set in another order, nothing connected: connect at once, to the answer's first.
        #expect(m.resolved([b, a], summary: "s", now: 330 * Self.ms) == [.arm(.refresh, at: 330 * Self.ms + Self.interval), .connect(b)])
    }

    @Test("a connect that fails at once (socket, connect) is retried like a refused one; UDP counts a send error")
    func connectFailed() {
        let m = connecting(.udp, [a])
        let actions = m.connectFailed("connect to 10.0.0.1:514 failed: Network is unreachable", now: 0)
        #expect(actions == [.close, .arm(.retry, at: 100 * Self.ms),
                            .report(.retrying("connect to 10.0.0.1:514 failed: Network is unreachable")), .countSendError])
        #expect(m.connectFailed("again", now: 1) == [], "no connect in progress: nothing to fail")
    }

    @Test("UDP: a connected socket is ready, silently; send errors are said once")
    func udp() {
        let m = Lifecycle(.udp, resolveIntervalNanos: Self.interval)
        _ = m.start()
        _ = m.resolveFailed(summary: "logs: no such name", now: 0)
        _ = m.timerFired(.retry, now: 100 * Self.ms)
        _ = m.resolved([a], summary: "s", now: 200 * Self.ms)
        #expect(m.connected(now: 200 * Self.ms) == [], "UDP never says connected")
        #expect(m.isReady)
        let refused = "sendmmsg failed: Connection refused"
        #expect(m.sendFailed(refused) == [.report(.sendFailed(refused))])
        #expect(m.sendFailed(refused) == [])
    }

    @Test("reset or hang-up: closed, retried with backoff; the reconnection is said")
    func reset() {
        let m = ready(.tcp, [a])
        let lost = m.peerClosed(now: 100 * Self.ms)
        #expect(Self.reports(lost) == ["the receiver closed the connection; retrying"])
        #expect(lost.first == .close && m.state == .idle)
        #expect(m.peerClosed(now: 101 * Self.ms) == [], "no connection: nothing to lose")
        // One address: the retry looks it up again, and the same answer connects at once.
        #expect(m.timerFired(.retry, now: 200 * Self.ms) == [.resolve])
        #expect(m.resolved([a], summary: "s", now: 210 * Self.ms) == [.arm(.refresh, at: 210 * Self.ms + Self.interval), .connect(a)])
        #expect(m.connected(now: 220 * Self.ms) == [.report(.connected), .flush])
        // A write failure (a reset) with the reason the kernel gave.
        let reset = m.connectionLost("write to the receiver failed: Connection reset by peer", now: 300 * Self.ms)
        #expect(Self.reports(reset) == ["write to the receiver failed: Connection reset by peer; retrying"])
    }

    @Test("backoff doubles from 100 ms to 2 s, and starts over only after a connection stayed up 1 s")
    func backoff() {
        let m = ready(.tcp, [a, b, c])
        var now: UInt64 = 0
        var delays: [UInt64] = []
        // Each connection is dropped at once (a receiver that accepts and closes).
        for _ in 0..<7 {
            now += 10 * Self.ms
            let lost = m.peerClosed(now: now)
            delays += Self.retryDelays(lost, now: now)
            now += delays.last! * Self.ms
            let retry = m.timerFired(.retry, now: now)
            if retry == [.resolve] { _ = m.resolved([a, b, c], summary: "s", now: now) }
            _ = m.connected(now: now)
            #expect(m.isReady)
        }
        #expect(delays == [100, 200, 400, 800, 1600, 2000, 2000])
        // Up 999 ms: still backing off.
        let short = m.peerClosed(now: now + 999 * Self.ms)
        #expect(Self.retryDelays(short, now: now + 999 * Self.ms) == [2000])
        now += 999 * Self.ms + 2000 * Self.ms
        _ = m.timerFired(.retry, now: now)
        _ = m.resolved([a, b, c], summary: "s", now: now)
        _ = m.connected(now: now)
        // Up a full second: the backoff starts over.
        let stable = m.peerClosed(now: now + 1000 * Self.ms)
        #expect(Self.retryDelays(stable, now: now + 1000 * Self.ms) == [100])
    }

    @Test("the same failure twice is said once; a write after trouble says connected")
    func reportsOnce() {
        let m = ready(.tcp, [a])
        _ = m.peerClosed(now: 0)
        _ = m.timerFired(.retry, now: 100 * Self.ms)
        _ = m.resolved([a], summary: "s", now: 100 * Self.ms)
        #expect(Self.reports(m.connectRefused(.connectionRefused, now: 110 * Self.ms)) == ["connect to 10.0.0.1:514 failed: Connection refused; retrying"])
        _ = m.timerFired(.retry, now: 400 * Self.ms)
        _ = m.resolved([a], summary: "s", now: 400 * Self.ms)
        #expect(Self.reports(m.connectRefused(.connectionRefused, now: 410 * Self.ms)) == [])
        _ = m.timerFired(.retry, now: 900 * Self.ms)
        _ = m.resolved([a], summary: "s", now: 900 * Self.ms)
        #expect(Self.reports(m.connected(now: 910 * Self.ms)) == ["connected"])
        // Writes while connected: nothing to say (a full buffer is no change of the connection).
        #expect(m.wrote() == [])
    }

    @Test("address change: said once, the old connection closed, the new address connected; reordered answers are no change")
    func addressChange() {
        let m = ready(.tcp, [a, b])
        #expect(m.resolved([b, a], summary: "logs → 10.0.0.2:514", now: 5) == [.arm(.refresh, at: 5 + Self.interval)])
        #expect(m.state == .ready(since: 0), "the connection is kept")
        let moved = m.resolved([c], summary: "logs → 10.0.0.3:514", now: 10)
        #expect(moved == [.arm(.refresh, at: 10 + Self.interval), .report(.addressChanged("logs → 10.0.0.3:514")), .close, .connect(c)])
        #expect(Self.reports(moved) == ["address changed: logs → 10.0.0.3:514"])
        #expect(m.state == .connecting(c) && m.addresses == [c] && m.nextAddress == 0)
        #expect(m.connected(now: 20) == [.report(.connected), .flush])
    }

    @Test("a receiver waiting to retry that is looked up again connects at once")
    func refreshWhileAway() {
        let m = ready(.tcp, [a])
        _ = m.peerClosed(now: 0)
        #expect(m.retryDeadline == 100 * Self.ms)
        #expect(m.timerFired(.refresh, now: 50 * Self.ms) == [.resolve])
        #expect(m.resolved([a], summary: "s", now: 60 * Self.ms) == [.arm(.refresh, at: 60 * Self.ms + Self.interval), .disarm(.retry), .connect(a)])
        #expect(m.retryDeadline == nil)
    }

    @Test("cannot resolve: retried with backoff while no address is known; kept quiet for a known one")
    func resolveFailures() {
        let m = Lifecycle(.tcp, resolveIntervalNanos: Self.interval)
        _ = m.start()
        let first = m.resolveFailed(summary: "logs:514: no such name", now: 0)
        #expect(first == [.arm(.refresh, at: Self.interval), .report(.cannotResolve("logs:514: no such name")), .arm(.retry, at: 100 * Self.ms)])
        #expect(Self.reports(first) == ["logs:514: no such name"], "the lookup's own sentence")
        #expect(m.state == .idle)
        #expect(m.timerFired(.retry, now: 100 * Self.ms) == [.resolve])
        #expect(Self.retryDelays(m.resolveFailed(summary: "logs:514: no such name", now: 100 * Self.ms), now: 100 * Self.ms) == [200])
        // Later the name resolves; a failed refresh then leaves the connection alone.
        _ = m.timerFired(.retry, now: 300 * Self.ms)
        _ = m.resolved([a], summary: "s", now: 300 * Self.ms)
        #expect(m.connected(now: 300 * Self.ms) == [.report(.connected), .flush])
        let refresh = m.resolveFailed(summary: "logs:514: name server failure", now: 400 * Self.ms)
        #expect(refresh == [.arm(.refresh, at: 400 * Self.ms + Self.interval), .report(.cannotResolve("logs:514: name server failure"))])
        #expect(m.isReady)
        #expect(m.wrote() == [.report(.connected)])
    }

    @Test("TLS: the handshake's steps set the writable interest; done (TLS 1.2) is ready")
    func tlsHandshake() {
        let m = connecting(.tls, [a])
        #expect(m.connected(now: 1) == [.arm(.handshake, at: 1 + Machine.handshakeNanos), .startTLS])
        #expect(m.state == .handshaking)
        #expect(m.handshake(.wantWrite, now: 2) == [.watchWritable(true)])
        #expect(m.handshake(.wantRead, now: 3) == [.watchWritable(false)])
        #expect(m.handshake(.done(tls13: false), now: 4) == [.disarm(.handshake), .flush])
        #expect(m.state == .ready(since: 4) && m.handshakeDeadline == nil)
        #expect(m.handshake(.wantRead, now: 5) == [], "no handshake in progress")
    }

    @Test("TLS: a handshake the receiver never answers is given up after 10 s")
    func tlsTimeout() {
        let m = connecting(.tls, [a])
        _ = m.connected(now: 0)
        _ = m.handshake(.wantRead, now: 0)
        let timeout = m.timerFired(.handshake, now: Machine.handshakeNanos)
        #expect(timeout == [.close, .arm(.retry, at: Machine.handshakeNanos + 100 * Self.ms),
                            .report(.retrying("TLS handshake: no answer within 10 s"))])
        #expect(Self.reports(timeout) == ["TLS handshake: no answer within 10 s; retrying"])
        #expect(m.timerFired(.handshake, now: Machine.handshakeNanos) == [], "idle: a stale deadline does nothing")
    }

    @Test("TLS: a handshake failure (certificate not trusted) is retried with backoff")
    func tlsFailure() {
        let m = connecting(.tls, [a])
        _ = m.connected(now: 0)
        let why = "TLS handshake: certificate verify failed (unable to get local issuer certificate)"
        let failed = m.handshake(.failed(why), now: 5)
        #expect(failed == [.close, .disarm(.handshake), .arm(.retry, at: 5 + 100 * Self.ms), .report(.retrying(why))])
        #expect(m.handshakeDeadline == nil && m.retryDeadline == 5 + 100 * Self.ms)
    }

    @Test("TLS 1.3: 200 ms for the receiver's verdict; a refusal is retried with growing backoff and never said connected")
    func tlsVerdict() {
        let m = connecting(.tls, [a])
        var now: UInt64 = 0
        var delays: [UInt64] = []
        var said: [String] = []
        for _ in 0..<4 {
            _ = m.connected(now: now)
            #expect(m.handshake(.done(tls13: true), now: now) == [.arm(.handshake, at: now + 200 * Self.ms), .watchWritable(false)])
            #expect(m.state == .confirming)
            let refused = m.tlsRefused("TLS read: tlsv13 alert certificate required", now: now + 50 * Self.ms)
            delays += Self.retryDelays(refused, now: now + 50 * Self.ms)
            said += Self.reports(refused)
            #expect(refused.contains(.disarm(.handshake)))
            now += 50 * Self.ms + delays.last! * Self.ms
            let retry = m.timerFired(.retry, now: now)
            if retry == [.resolve] { _ = m.resolved([a], summary: "s", now: now) }
        }
        #expect(delays == [100, 200, 400, 800])
        #expect(said == ["TLS read: tlsv13 alert certificate required; retrying"])
        // Accepted: a session ticket came, or nothing within 200 ms.
        _ = m.connected(now: now)
        _ = m.handshake(.done(tls13: true), now: now)
        #expect(m.tlsAccepted(now: now + 1) == [.disarm(.handshake), .report(.connected), .flush])
        _ = m.peerClosed(now: now + 2)
        _ = m.timerFired(.retry, now: now + 2 * Self.ms)
        _ = m.resolved([a], summary: "s", now: now + 2 * Self.ms)
        _ = m.connected(now: now + 3)
        _ = m.handshake(.done(tls13: true), now: now + 3)
        #expect(m.timerFired(.handshake, now: now + 3 + Machine.confirmNanos) == [.report(.connected), .flush])
        #expect(m.tlsAccepted(now: now + 4) == [], "already ready")
    }

    @Test("TLS could not start on the connection (no context, no session): retried like a failed handshake")
    func tlsStartFails() {
        let m = connecting(.tls, [a])
        _ = m.connected(now: 0)
        let lost = m.connectionLost("TLS session: out of memory", now: 1)
        #expect(lost == [.close, .disarm(.handshake), .arm(.retry, at: 1 + 100 * Self.ms), .report(.retrying("TLS session: out of memory"))])
    }

    @Test("drain with a receiver down: tried again at once, its backoff started over; a connected one is left alone")
    func drain() {
        let m = ready(.tcp, [a])
        #expect(m.drainRequested(now: 5) == [])
        _ = m.peerClosed(now: 10)
        _ = m.timerFired(.retry, now: 110 * Self.ms)
        _ = m.resolved([a], summary: "s", now: 110 * Self.ms)
        _ = m.connectRefused(.connectionRefused, now: 120 * Self.ms)
        #expect(m.retryDeadline == 320 * Self.ms)
        #expect(m.drainRequested(now: 130 * Self.ms) == [.arm(.retry, at: 130 * Self.ms)])
        #expect(m.backoff.failures == 0)
        #expect(m.timerFired(.retry, now: 130 * Self.ms) == [.resolve])
        #expect(m.drainRequested(now: 140 * Self.ms) == [], "a lookup runs: no retry to hurry")
    }

    @Test("the reports read as they always have")
    func reportText() {
        typealias R = ConnectionStateMachine.Report
        #expect(R.connected.description == "connected")
        #expect(R.cannotResolve("cannot resolve x: no such host").description == "cannot resolve x: no such host")
        #expect(R.addressChanged("x").description == "address changed: x")
        #expect(R.retrying("x").description == "x; retrying")
        #expect(R.sendFailed("send to a:514 failed: Connection refused").description == "send to a:514 failed: Connection refused")
    }
}
