import Contract
import Syscall

/// Why a message was dropped: the `reason` label of `logspout_syslog_messages_dropped_total`.
public enum DropReason: Int, CaseIterable, Sendable {
    /// No room in its receiver's buffer or in the buffers' total (or its oldest gave way for another
    /// receiver's), or a UDP socket that could not take it in time.
    case bufferFull
    /// Larger than a receiver's whole buffer.
    case tooLarge
    /// No room, or still queued at exit, while the receiver's name could not be resolved.
    case unresolvable
    /// No room, or still queued at exit, while the receiver refused or could not be connected to; or
    /// given up on after repeated refusals (ICMP) of datagrams.
    case refused
    /// The kernel refused the datagram itself (too large for the path, …).
    case sendFailed
    /// Still queued when emit-syslog ended, the receiver connected.
    case exit
    /// A record without a route.
    case noRoute
    /// A record whose route's target is bad.
    case badTarget

    public var label: String {
        switch self {
        case .bufferFull: "buffer_full"
        case .tooLarge: "too_large"
        case .unresolvable: "unresolvable"
        case .refused: "refused"
        case .sendFailed: "send_failed"
        case .exit: "exit"
        case .noRoute: "no_route"
        case .badTarget: "bad_target"
        }
    }
}

/// Counters, per receiver (and emit-syslog's own for records that have none): reported summed at exit
/// and on SIGUSR1, and each receiver's in `emit-syslog.prom`. Plain integers, bumped on the loop's thread.
public struct EmitterStats: Sendable, Equatable {
    /// Messages handed to the kernel (a TCP or TLS message once its last byte is).
    public var sent = 0
    /// The bytes of those messages as written (TCP: with their framing; TLS: before encryption).
    public var bytes = 0
    public var truncated = 0
    public var sendErrors = 0
    public private(set) var droppedBufferFull = 0
    public private(set) var droppedTooLarge = 0
    public private(set) var droppedUnresolvable = 0
    public private(set) var droppedRefused = 0
    public private(set) var droppedSendFailed = 0
    public private(set) var droppedExit = 0
    public private(set) var droppedNoRoute = 0
    public private(set) var droppedBadTarget = 0

    public init() {}

    /// `n` messages dropped for `reason`.
    @inline(__always)
    public mutating func drop(_ reason: DropReason, _ n: Int = 1) {
        switch reason {
        case .bufferFull: droppedBufferFull += n
        case .tooLarge: droppedTooLarge += n
        case .unresolvable: droppedUnresolvable += n
        case .refused: droppedRefused += n
        case .sendFailed: droppedSendFailed += n
        case .exit: droppedExit += n
        case .noRoute: droppedNoRoute += n
        case .badTarget: droppedBadTarget += n
        }
    }

    /// Messages dropped for `reason`.
    public func dropped(_ reason: DropReason) -> Int {
        switch reason {
        case .bufferFull: droppedBufferFull
        case .tooLarge: droppedTooLarge
        case .unresolvable: droppedUnresolvable
        case .refused: droppedRefused
        case .sendFailed: droppedSendFailed
        case .exit: droppedExit
        case .noRoute: droppedNoRoute
        case .badTarget: droppedBadTarget
        }
    }

    /// Messages dropped, for any reason.
    public var dropped: Int { DropReason.allCases.reduce(0) { $0 + dropped($1) } }

    /// Adds `other`'s counts.
    public mutating func add(_ other: EmitterStats) {
        sent += other.sent
        bytes += other.bytes
        truncated += other.truncated
        sendErrors += other.sendErrors
        for reason in DropReason.allCases { drop(reason, other.dropped(reason)) }
    }

    public var summary: String {
        "sent \(sent), truncated \(truncated), dropped \(dropped), send errors \(sendErrors)"
    }
}

/// One receiver: an address and a protocol, with its socket and what waits to be sent to it.
///
/// UDP: one connected datagram socket; the messages of a read burst are sent together with `sendmmsg`
/// (`DatagramBatch`). TCP: one long-lived connection; messages wait in a bounded queue while it is down
/// or full, and what would overflow the queue is dropped and counted (`StreamQueue`). TLS: the same over
/// a TLS session on the connection. The connection's life (lookups, connects, handshake, retries, what is
/// said on stderr) is `machine`'s; this holds the I/O side: the descriptor, its registration, the TLS
/// session and the event-loop timers.
final class Destination {
    let key: String
    let address: Address
    let kind: SocketKind
    var machine: ConnectionStateMachine
    /// Its counters. Bumped per message on the loop's one thread, never while another access to it is
    /// open: not checked at run time.
    @exclusivity(unchecked) var stats = EmitterStats()
    /// Why its messages are dropped while `overflow.dropping` (set when the first is refused).
    var dropReason = DropReason.bufferFull
    /// Its label in the metrics: the id of the first route that named it, or `LabelBudget.other`.
    let label: String
    /// The health last published, and why.
    var publishedState: ReceiverHealth.State?
    var publishedError: String?
    /// UDP: the datagrams of this burst.
    var datagrams: DatagramBatch
    /// TCP and TLS: the framed stream.
    var stream: StreamQueue
    /// TCP and TLS: the stream's slot in the buffers' total (`BufferBudget`); -1 for UDP.
    var slot = -1
    /// Whether messages are lost for want of room, and what was said about it. Read per message on the
    /// loop's one thread, never while another access to it is open: not checked at run time.
    @exclusivity(unchecked) var overflow = Overflow()
    var tls: TLSSession?
    var fd: Int32 = -1
    /// The socket in the event loop.
    var registration: EventLoop.Registration?
    /// Whether EPOLLOUT interest is on.
    var wantsWritable = false
    /// The event-loop timers behind the machine's.
    let retry: EventLoop.Timer
    let handshake: EventLoop.Timer
    let refresh: EventLoop.Timer

    init(key: String, address: Address, transport: TargetProtocol, label: String, options: EmitterOptions,
         retry: EventLoop.Timer, handshake: EventLoop.Timer, refresh: EventLoop.Timer) {
        self.key = key
        self.address = address
        self.label = label
        kind = transport == .udp ? .udp : .tcp
        machine = ConnectionStateMachine(transport: transport, resolveIntervalNanos: UInt64(options.resolveInterval) * 1_000_000_000,
                                         unhealthyAfterNanos: UInt64(options.unhealthyAfter) * 1_000_000_000)
        let reserve = min(options.bufferSize, 1 << 20)
        datagrams = DatagramBatch(capacity: options.bufferSize, reserving: kind == .udp ? reserve : 0)
        // A TLS record being written (16 KiB at most) must not change under OpenSSL: it is never dropped.
        stream = StreamQueue(capacity: options.bufferSize, framing: options.framing, protecting: transport == .tls ? 16 << 10 : 0,
                             reserving: kind == .udp ? 0 : min(reserve, StreamQueue.retained))
        self.retry = retry
        self.handshake = handshake
        self.refresh = refresh
    }

    func timer(_ timer: ConnectionStateMachine.Timer) -> EventLoop.Timer {
        switch timer {
        case .retry: retry
        case .handshake: handshake
        case .refresh: refresh
        }
    }

    /// Why what waits for it would be lost now: its name cannot be resolved, it cannot be connected to,
    /// or (connected) `otherwise`.
    func awayReason(otherwise: DropReason) -> DropReason {
        if machine.isReady { return otherwise }
        return machine.health.resolveError != nil ? .unresolvable : .refused
    }

    var isEmpty: Bool { kind == .udp ? datagrams.isEmpty : stream.isEmpty }
    /// Messages not sent yet.
    var queued: Int { kind == .udp ? datagrams.count : stream.count }
    /// The bytes held for it (UDP: the datagrams of this burst).
    var heldBytes: Int { kind == .udp ? datagrams.bytes.count : stream.heldBytes }

    /// Closes the socket (and the TLS session, which sends close_notify when it can).
    func closeSocket() {
        tls = nil
        if fd >= 0 { Sys.close(fd) }
        fd = -1
        wantsWritable = false
    }
}
