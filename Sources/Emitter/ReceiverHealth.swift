/// Whether a receiver is fine, as `emit-syslog.health` and httpd's `/ready` say it: `ok`, `failing` (with
/// one sentence saying why) or `unknown`. A pure type: the connection's machine tells it what happened and
/// when; it reads no clock.
///
/// - TCP and TLS: `ok` while connected, and for `unhealthyAfter` after a connection was lost; `failing`
///   once it has been without a connection for `unhealthyAfter`; `unknown` before its first connection
///   (within `unhealthyAfter` of its start).
/// - UDP: `failing` while its name cannot be resolved (no address known), and for `unhealthyAfter` after
///   the kernel reported a refusal (ICMP: nobody listens) or the socket could not be set up; else `ok`
///   once a datagram went out, `unknown` before.
struct ReceiverHealth: Equatable {
    enum State: String, Equatable {
        case ok, failing, unknown
    }

    let udp: Bool
    let unhealthyAfter: UInt64
    private(set) var connected = false
    private(set) var everConnected = false
    /// Since when it has been without a connection (its start, before the first).
    private(set) var downSince: UInt64 = 0
    /// Why the last connection failed or broke.
    private(set) var lastError: String?
    /// Why no address is known (the last lookup failed), while none is.
    private(set) var resolveError: String?
    /// UDP: when the kernel last refused datagrams, and what it said.
    private(set) var refusedAt: UInt64?
    private(set) var refusal: String?

    init(udp: Bool, unhealthyAfter: UInt64, now: UInt64 = 0) {
        self.udp = udp
        self.unhealthyAfter = unhealthyAfter
        downSince = now
    }

    // MARK: - What happened

    /// Its start (the first lookup).
    mutating func started(now: UInt64) {
        if !connected { downSince = now }
    }

    /// A connection is up (UDP: the socket is set up to an address).
    mutating func connected(now: UInt64) {
        connected = true
        everConnected = true
        lastError = nil
    }

    /// The connection failed or broke (`why`; nil for a planned close, as when the address moved).
    mutating func down(_ why: String?, now: UInt64) {
        if connected { downSince = now }
        connected = false
        if let why {
            lastError = why
            if udp { refused(why, now: now) }
        }
    }

    /// A lookup found nothing and no address is known (`why`: one sentence).
    mutating func unresolvable(_ why: String) { resolveError = why }

    /// A lookup found addresses.
    mutating func resolved() { resolveError = nil }

    /// The kernel refused datagrams (UDP).
    mutating func refused(_ why: String, now: UInt64) {
        refusedAt = now
        refusal = why
    }

    // MARK: - What it says

    /// The state at `now`, and why when failing. `hasSent`: a message went out to the receiver.
    func state(now: UInt64, hasSent: Bool) -> (state: State, error: String?) {
        if udp {
            if let resolveError { return (.failing, resolveError) }
            if let refusedAt, now < refusedAt &+ unhealthyAfter { return (.failing, refusal) }
            return (hasSent ? .ok : .unknown, nil)
        }
        if connected { return (.ok, nil) }
        if now >= downSince &+ unhealthyAfter {
            let seconds = unhealthyAfter / 1_000_000_000
            return (.failing, resolveError ?? lastError ?? "no connection for \(seconds) s")
        }
        return (everConnected ? .ok : .unknown, nil)
    }

    /// When the state would change with nothing else happening (a timer to arm), if it would.
    func nextChange(now: UInt64) -> UInt64? {
        if udp {
            guard resolveError == nil, let refusedAt, now < refusedAt &+ unhealthyAfter else { return nil }
            return refusedAt &+ unhealthyAfter
        }
        guard !connected, now < downSince &+ unhealthyAfter else { return nil }
        return downSince &+ unhealthyAfter
    }
}
