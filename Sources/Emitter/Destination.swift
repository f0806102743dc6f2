import Contract
import Syscall
import Time

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
/// UDP: one connected datagram socket; the messages of a read burst are sent together with `sendmmsg`.
/// TCP: one long-lived connection; messages wait in a bounded queue while it is down or full, and what
/// would overflow the queue is dropped and counted. TLS: the same over a TLS session on the connection.
final class Destination {
    enum State: Equatable {
        /// No address yet: a lookup runs.
        case resolving
        /// Addresses known, no socket (TCP: waiting for `retry` to connect).
        case idle
        /// TCP connect in progress.
        case connecting
        /// TLS handshake in progress.
        case handshaking
        /// TLS 1.3 handshake done on our side: waiting briefly for the receiver's verdict (a session
        /// ticket, or an alert refusing us) before anything is sent, so a refusal loses no message.
        case confirming
        /// Ready to send.
        case ready
    }

    let key: String
    let address: Address
    let kind: SocketKind
    /// TLS over the TCP connection.
    let secure: Bool
    var tls: TLSSession?
    var state = State.resolving
    var addresses: [SocketAddress] = []
    /// Which of `addresses` the next TCP connect tries.
    var nextAddress = 0
    var fd: Int32 = -1
    /// The socket in the event loop.
    var registration: EventLoop.Registration?
    var lookupPending = false
    /// Armed while waiting to connect again (or to look the address up again when there is none).
    let retry: EventLoop.Timer
    /// `.handshaking`: when the handshake has taken too long; `.confirming`: when the session counts as
    /// accepted without having heard from the receiver.
    let deadline: EventLoop.Timer
    /// When the addresses are looked up again (`SYSLOG_RESOLVE_INTERVAL` after the last answer).
    let refresh: EventLoop.Timer
    /// When the connection became ready (the backoff starts over only after it stayed up a while).
    var readySince: UInt64?
    var backoff = Backoff(initialMs: 100, capMs: 2000)
    /// The description of the last state reported on stderr, so each change is said once.
    var lastReport = ""

    /// Pending bytes: datagrams (UDP, delimited by `ranges`) or the framed stream (TCP, from `head`).
    var buffer: [UInt8] = []
    var ranges: [Range<Int>] = []
    var head = 0
    let capacity: Int
    /// Whether EPOLLOUT interest is on.
    var wantsWritable = false

    init(key: String, address: Address, kind: SocketKind, secure: Bool = false, capacity: Int,
         retry: EventLoop.Timer, deadline: EventLoop.Timer, refresh: EventLoop.Timer) {
        self.key = key
        self.address = address
        self.kind = kind
        self.secure = secure
        self.capacity = capacity
        self.retry = retry
        self.deadline = deadline
        self.refresh = refresh
        buffer.reserveCapacity(min(capacity, 1 << 20))
    }

    var pendingBytes: Int { buffer.count - head }
    var isEmpty: Bool { kind == .udp ? ranges.isEmpty : pendingBytes == 0 }

    /// Room for `n` more bytes within the bound?
    func hasRoom(_ n: Int) -> Bool { pendingBytes + n <= capacity }

    /// Forgets sent bytes at the front of a TCP queue once they are a good part of it.
    func compact() {
        if head == buffer.count {
            buffer.removeAll(keepingCapacity: buffer.capacity <= 4 << 20)
            head = 0
        } else if head > 1 << 20 && head * 2 > buffer.count {
            buffer.removeFirst(head)
            head = 0
        }
    }

    func closeSocket() {
        tls = nil  // sends close_notify when it can, before the socket closes
        readySince = nil
        if fd >= 0 { Sys.close(fd) }
        fd = -1
        wantsWritable = false
    }
}
