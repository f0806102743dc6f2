/// Whether a receiver is losing messages for want of room, and what to say about it: once when it starts
/// (why), once when it ends (how many were lost) — never per message, and apart from the connection's
/// reports, so a full buffer is never taken for a lost connection.
///
/// While `dropping`, the driver drops the receiver's messages before formatting them: a message for a
/// receiver that has no room costs a counter. `dropping` lasts until the next turn of the event loop or
/// the next write that takes bytes, whichever comes first; the report lasts until the receiver's writes
/// have taken half of what it held when it filled up (or all of it), so a receiver that reads slowly is
/// not reported at every write.
struct Overflow {
    /// Why messages are lost.
    enum Cause: Equatable {
        /// The receiver's own buffer (its size, for TCP and TLS) is full.
        case buffer(bytes: Int?)
        /// All buffers together hold `SYSLOG_BUFFER_TOTAL` and this receiver holds the most.
        case total(bytes: Int)
    }

    /// A change said on stderr (`emit-syslog: KEY: TEXT`).
    enum Report: Equatable, CustomStringConvertible {
        case full(Cause)
        /// Room again, after `dropped` messages were lost.
        case room(dropped: Int)
        /// At exit, still without room: `dropped` messages were lost, and `left` were still queued.
        case stillFull(dropped: Int, left: Int)

        var description: String {
            switch self {
            case .full(.buffer(nil)): "buffer full; dropping messages"
            case .full(.buffer(let bytes?)): "buffer of \(bytes) bytes full; dropping messages"
            case .full(.total(let bytes)): "all receivers' buffers hold their total of \(bytes) bytes and this one the most; dropping its messages"
            case .room(let n): "buffer has room again; \(n) messages dropped"
            case .stillFull(let n, let left): "buffer full until the end; \(n) messages dropped, \(left) not delivered at exit"
            }
        }
    }

    /// Messages are dropped without being formatted.
    private(set) var dropping = false
    /// `full` was said, and `room` not yet.
    private(set) var reported = false
    /// Messages lost since `full` was said.
    private(set) var dropped = 0
    /// What the receiver held when `full` was said.
    private(set) var heldWhenFull = 0

    /// A message found no room (`holding`: what the receiver holds).
    mutating func refused(_ cause: Cause, holding: Int) -> Report? {
        dropping = true
        return lost(1, cause, holding: holding)
    }

    /// A message dropped while `dropping`, unformatted.
    @inline(__always)
    mutating func skipped() { dropped += 1 }

    /// `messages` of the receiver's oldest were dropped to make room for another's (`holding`: what it held
    /// before).
    mutating func evicted(_ messages: Int, _ cause: Cause, holding: Int) -> Report? {
        lost(messages, cause, holding: holding)
    }

    /// A write took bytes; the receiver holds `holding` now.
    mutating func wrote(holding: Int) -> Report? {
        dropping = false
        guard reported, holding == 0 || holding <= heldWhenFull / 2 else { return nil }
        let n = dropped
        reported = false
        dropped = 0
        return .room(dropped: n)
    }

    /// A new turn of the event loop: the next message is tried again.
    @inline(__always)
    mutating func retry() { dropping = false }

    /// At exit, with `left` messages still queued: what was lost since the last report, if room never
    /// came back.
    func finish(left: Int) -> Report? { reported ? .stillFull(dropped: dropped, left: left) : nil }

    private mutating func lost(_ messages: Int, _ cause: Cause, holding: Int) -> Report? {
        dropped += messages
        guard !reported else { return nil }
        reported = true
        heldWhenFull = holding
        return .full(cause)
    }
}
