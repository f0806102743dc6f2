import Contract
import Syscall
import Time

/// The life of one receiver's connection: lookups, connects, the TLS handshake, losses, backoff and the
/// reports on stderr, as a state machine.
///
/// Events go in (a lookup's answer, a connect's outcome, a handshake step, the receiver's verdict, a
/// loss, a timer that fired, the end of input), actions come out (look up, connect to an address, start
/// TLS, arm or disarm a timer, close, flush, say a change). It does no I/O and reads no clock: the driver
/// (`Emitter`) carries out the actions, in order, and passes the time with each event. An action that
/// can fail at once (`connect`, `startTLS`, `flush`) comes last, and its outcome is the next event.
/// Messages never pass through it; only changes of the connection do.
struct ConnectionStateMachine {
    enum State: Equatable {
        /// No address yet: the first lookup runs.
        case resolving
        /// No socket: waiting for the retry timer, or for a lookup's answer.
        case idle
        /// A socket to this address is being connected (UDP: set up).
        case connecting(SocketAddress)
        /// TLS handshake in progress; the handshake timer holds its deadline.
        case handshaking
        /// TLS 1.3 handshake done on our side: waiting briefly for the receiver's verdict (a session
        /// ticket, or an alert refusing us) before anything is sent, so a refusal loses no message.
        case confirming
        /// Ready to send, since this time.
        case ready(since: UInt64)
    }

    /// The timers of a receiver (the driver keeps one event-loop timer for each).
    enum Timer: Equatable, CaseIterable {
        /// To connect again (the next address), or to look the address up again when all were tried.
        case retry
        /// The TLS handshake's deadline, or the end of the wait for a TLS 1.3 receiver's verdict.
        case handshake
        /// The next lookup, `SYSLOG_RESOLVE_INTERVAL` after the last answer.
        case refresh
    }

    /// A change said on stderr (`emit-syslog: KEY: TEXT`), once: the same report twice in a row is said
    /// once. (A full buffer is no change of the connection: `Overflow` says it.)
    enum Report: Equatable, CustomStringConvertible {
        case connected
        /// The lookup found nothing: one sentence (`cannot resolve logs: no such host`).
        case cannotResolve(String)
        case addressChanged(String)
        /// The connection failed or broke (why), and is tried again.
        case retrying(String)
        /// The kernel refused datagrams (UDP).
        case sendFailed(String)

        var description: String {
            switch self {
            case .connected: "connected"
            case .cannotResolve(let why): why
            case .addressChanged(let summary): "address changed: \(summary)"
            case .retrying(let why): "\(why); retrying"
            case .sendFailed(let why): why
            }
        }
    }

    /// One step of a TLS handshake, as the session reported it.
    enum HandshakeStep: Equatable {
        case done(tls13: Bool)
        case wantRead
        case wantWrite
        case failed(String)
    }

    enum Action: Equatable {
        /// Look the receiver's address up (the answer comes back as `resolved` or `resolveFailed`).
        case resolve
        /// Open a socket to the address and connect it: then `connected`, or `connectFailed`.
        case connect(SocketAddress)
        /// Start a TLS session on the connection and take its first handshake step (`handshake`), or
        /// report it could not (`connectionLost`).
        case startTLS
        /// Watch the socket for room to write (or stop).
        case watchWritable(Bool)
        case arm(Timer, at: UInt64)
        case disarm(Timer)
        /// Close the socket (and the TLS session).
        case close
        /// The connection is ready: send what waits.
        case flush
        /// Say this on stderr.
        case report(Report)
        /// Count a send error (a UDP socket that could not be set up).
        case countSendError
    }

    /// How long a connection must stay up before a loss of it starts the reconnect backoff over.
    static let stableNanos: UInt64 = 1_000_000_000
    /// How long a TLS 1.3 receiver has to refuse us (an alert) before messages are sent.
    static let confirmNanos: UInt64 = 200_000_000
    /// How long a TLS handshake may take (a receiver that accepts connections but never answers).
    static let handshakeNanos: UInt64 = 10_000_000_000

    let transport: TargetProtocol
    /// Between the answer of a lookup and the next one.
    let resolveIntervalNanos: UInt64

    private(set) var state = State.resolving
    /// The receiver's addresses, best first (the last answer that had any).
    private(set) var addresses: [SocketAddress] = []
    /// Which of `addresses` the next connect tries.
    private(set) var nextAddress = 0
    private(set) var lookupPending = false
    private(set) var backoff = Backoff(initialMs: 100, capMs: 2000)
    /// The last report said, so each change is said once.
    private(set) var lastReport: Report?
    /// The deadlines of the timers armed (mirrors the driver's timers).
    private(set) var retryDeadline: UInt64?
    private(set) var handshakeDeadline: UInt64?
    private(set) var refreshDeadline: UInt64?
    /// Whether the receiver is fine, for the health file.
    private(set) var health: ReceiverHealth
    /// How many times a connection was made (UDP: the socket set up to an address).
    private(set) var connections = 0

    init(transport: TargetProtocol, resolveIntervalNanos: UInt64, unhealthyAfterNanos: UInt64 = 30_000_000_000) {
        self.transport = transport
        self.resolveIntervalNanos = resolveIntervalNanos
        health = ReceiverHealth(udp: transport == .udp, unhealthyAfter: unhealthyAfterNanos)
    }

    var isReady: Bool {
        if case .ready = state { return true }
        return false
    }

    /// Whether a socket is open (from `connect` until `close`).
    var hasSocket: Bool {
        switch state {
        case .resolving, .idle: false
        case .connecting, .handshaking, .confirming, .ready: true
        }
    }

    func deadline(of timer: Timer) -> UInt64? {
        switch timer {
        case .retry: retryDeadline
        case .handshake: handshakeDeadline
        case .refresh: refreshDeadline
        }
    }

    // MARK: - Events

    /// A new receiver: look it up.
    mutating func start(now: UInt64 = 0) -> [Action] {
        health.started(now: now)
        var actions: [Action] = []
        lookup(&actions)
        return actions
    }

    /// A lookup found `answer` (best first). An unchanged set (in any order: round-robin DNS shuffles)
    /// keeps the connection; a new one is connected to at once, the old connection closed.
    mutating func resolved(_ answer: [SocketAddress], summary: String, now: UInt64) -> [Action] {
        guard !answer.isEmpty else { return resolveFailed(summary: summary, now: now) }
        lookupPending = false
        health.resolved()
        var actions: [Action] = []
        arm(.refresh, at: now + resolveIntervalNanos, &actions)
        let same = Set(answer) == Set(addresses)
        if same, hasSocket { return actions }
        if !addresses.isEmpty, !same { say(.addressChanged(summary), &actions) }
        addresses = answer
        nextAddress = 0
        if hasSocket {
            close(&actions)
            health.down(nil, now: now)
        }
        state = .idle
        disarm(.retry, &actions)
        connect(&actions)
        return actions
    }

    /// A lookup found nothing. Known addresses are kept; without any, the lookup is tried again with
    /// backoff.
    mutating func resolveFailed(summary: String, now: UInt64) -> [Action] {
        lookupPending = false
        var actions: [Action] = []
        arm(.refresh, at: now + resolveIntervalNanos, &actions)
        say(.cannotResolve(summary), &actions)
        if addresses.isEmpty {
            health.unresolvable(summary)
            state = .idle
            arm(.retry, at: now + Self.nanos(ms: backoff.nextDelayMs()), &actions)
        }
        return actions
    }

    /// The socket is connected (UDP: set up): TCP is ready, TLS starts its handshake.
    mutating func connected(now: UInt64) -> [Action] {
        guard case .connecting = state else { return [] }
        switch transport {
        case .udp:
            state = .ready(since: now)
            connections += 1
            health.connected(now: now)
            return []
        case .tcp:
            return becomeReady(now: now)
        case .tls:
            state = .handshaking
            var actions: [Action] = []
            arm(.handshake, at: now + Self.handshakeNanos, &actions)
            actions.append(.startTLS)
            return actions
        }
    }

    /// The socket could not be opened or connected (`why` names the call and the address).
    mutating func connectFailed(_ why: String, now: UInt64) -> [Action] {
        guard case .connecting = state else { return [] }
        return lost(why, now: now)
    }

    /// A connect in progress failed with `errno` (ECONNREFUSED: no one listens).
    mutating func connectRefused(_ errno: Errno, now: UInt64) -> [Action] {
        guard case .connecting(let address) = state else { return [] }
        return lost(SyscallError("connect to", address.description, errno).description, now: now)
    }

    mutating func handshake(_ step: HandshakeStep, now: UInt64) -> [Action] {
        guard state == .handshaking else { return [] }
        switch step {
        case .done(tls13: true):
            state = .confirming
            var actions: [Action] = []
            arm(.handshake, at: now + Self.confirmNanos, &actions)
            actions.append(.watchWritable(false))
            return actions
        case .done: return becomeReady(now: now)
        case .wantRead: return [.watchWritable(false)]
        case .wantWrite: return [.watchWritable(true)]
        case .failed(let why): return lost(why, now: now)
        }
    }

    /// The TLS 1.3 receiver's first word after the handshake was not a refusal.
    mutating func tlsAccepted(now: UInt64) -> [Action] {
        guard state == .confirming else { return [] }
        return becomeReady(now: now)
    }

    /// The receiver refused us after the handshake (an alert: no or an untrusted client certificate).
    mutating func tlsRefused(_ why: String, now: UInt64) -> [Action] {
        guard state == .confirming else { return [] }
        return lost(why, now: now)
    }

    /// The receiver closed the connection (a hang-up seen before a write, or on the socket).
    mutating func peerClosed(now: UInt64) -> [Action] {
        connectionLost("the receiver closed the connection", now: now)
    }

    /// The connection broke (`why`: a reset, a failed write, a TLS alert), or TLS could not start on it.
    mutating func connectionLost(_ why: String, now: UInt64) -> [Action] {
        guard hasSocket else { return [] }
        return lost(why, now: now)
    }

    /// A write went through (some or all of what waits): after a report of trouble, say it is fine again.
    mutating func wrote() -> [Action] {
        guard let last = lastReport, last != .connected else { return [] }
        var actions: [Action] = []
        say(.connected, &actions)
        return actions
    }

    mutating func timerFired(_ timer: Timer, now: UInt64) -> [Action] {
        var actions: [Action] = []
        switch timer {
        case .retry:
            retryDeadline = nil
            if addresses.isEmpty || nextAddress >= addresses.count {
                // All addresses tried: look the name up again.
                nextAddress = 0
                lookup(&actions)
            } else {
                connect(&actions)
            }
        case .handshake:
            handshakeDeadline = nil
            if state == .confirming { return becomeReady(now: now) }
            if state == .handshaking { return lost("TLS handshake: no answer within 10 s", now: now) }
        case .refresh:
            refreshDeadline = nil
            lookup(&actions)
        }
        return actions
    }

    /// The input ended and messages wait: a receiver waiting to be tried again is tried at once, its
    /// backoff started over.
    mutating func drainRequested(now: UInt64) -> [Action] {
        guard retryDeadline != nil else { return [] }
        backoff.reset()
        var actions: [Action] = []
        arm(.retry, at: now, &actions)
        return actions
    }

    /// The kernel refused datagrams (`why`: the error).
    mutating func sendFailed(_ why: String, now: UInt64 = 0) -> [Action] {
        health.refused(why, now: now)
        var actions: [Action] = []
        say(.sendFailed(why), &actions)
        return actions
    }

    // MARK: - Steps

    /// The connection failed or broke: close it and try again later (the next address first).
    private mutating func lost(_ why: String, now: UInt64) -> [Action] {
        // A connection that was up for a while starts the backoff over; one refused right after it was
        // made (a TLS receiver that rejects us after the handshake) keeps backing off.
        if case .ready(let since) = state, now >= since + Self.stableNanos { backoff.reset() }
        var actions: [Action] = []
        close(&actions)
        health.down(why, now: now)
        state = .idle
        nextAddress += 1
        arm(.retry, at: now + Self.nanos(ms: backoff.nextDelayMs()), &actions)
        say(.retrying(why), &actions)
        if transport == .udp { actions.append(.countSendError) }
        return actions
    }

    /// The connection (and TLS session) is up: send what waits.
    private mutating func becomeReady(now: UInt64) -> [Action] {
        state = .ready(since: now)
        connections += 1
        health.connected(now: now)
        var actions: [Action] = []
        disarm(.handshake, &actions)
        if lastReport != nil { say(.connected, &actions) }
        actions.append(.flush)
        return actions
    }

    private mutating func lookup(_ actions: inout [Action]) {
        guard !lookupPending else { return }
        lookupPending = true
        actions.append(.resolve)
    }

    private mutating func connect(_ actions: inout [Action]) {
        guard !addresses.isEmpty, !hasSocket else { return }
        let address = addresses[nextAddress % addresses.count]
        state = .connecting(address)
        actions.append(.connect(address))
    }

    private mutating func close(_ actions: inout [Action]) {
        actions.append(.close)
        disarm(.handshake, &actions)
    }

    private mutating func say(_ report: Report, _ actions: inout [Action]) {
        guard lastReport != report else { return }
        lastReport = report
        actions.append(.report(report))
    }

    private mutating func arm(_ timer: Timer, at deadline: UInt64, _ actions: inout [Action]) {
        setDeadline(timer, deadline)
        actions.append(.arm(timer, at: deadline))
    }

    private mutating func disarm(_ timer: Timer, _ actions: inout [Action]) {
        guard deadline(of: timer) != nil else { return }
        setDeadline(timer, nil)
        actions.append(.disarm(timer))
    }

    private mutating func setDeadline(_ timer: Timer, _ deadline: UInt64?) {
        switch timer {
        case .retry: retryDeadline = deadline
        case .handshake: handshakeDeadline = deadline
        case .refresh: refreshDeadline = deadline
        }
    }

    static func nanos(ms: Int) -> UInt64 { UInt64(ms) * 1_000_000 }
}
