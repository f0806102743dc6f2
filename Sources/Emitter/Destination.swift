import Contract
import Syscall

/// Counters reported at exit and on SIGUSR1.
public struct EmitterStats: Sendable, Equatable {
    public var sent = 0
    public var truncated = 0
    public var dropped = 0
    public var sendErrors = 0

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

    init(key: String, address: Address, transport: TargetProtocol, options: EmitterOptions,
         retry: EventLoop.Timer, handshake: EventLoop.Timer, refresh: EventLoop.Timer) {
        self.key = key
        self.address = address
        kind = transport == .udp ? .udp : .tcp
        machine = ConnectionStateMachine(transport: transport, resolveIntervalNanos: UInt64(options.resolveInterval) * 1_000_000_000)
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
