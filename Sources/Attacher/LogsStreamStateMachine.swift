/// One logs connection, from the request sent to the socket closed, as a state machine with no I/O: the
/// response head, the end of the response, end of file, a failure, data arriving and the idle timer go
/// in; what to do comes out (how to parse, when to arm the idle timer, whether to emit the held line).
///
/// The lines themselves do not go through it: `Attacher` feeds the bytes to the stream's parser and
/// writes the records directly; it only tells the machine when bytes arrived.
struct LogsStreamStateMachine: Equatable, Sendable {
    enum State: Equatable, Sendable {
        /// The request is sent; the response head has not come.
        case awaitingHead
        /// The engine answered 200: lines flow.
        case following
        /// The response ended: the container stopped (or was gone: 404, 409).
        case ended
        /// The connection closed before the response ended.
        case cut
        /// Reading or parsing failed, or the engine answered something unexpected.
        case failed(String)
    }

    /// What the response head means.
    enum HeadAction: Equatable, Sendable {
        /// Parse the body; frames when `multiplexed`, else a TTY's raw bytes.
        case follow(multiplexed: Bool)
        /// Nothing to read: close the stream.
        case end
    }

    /// What to do about a line held without its "\n".
    enum IdleAction: Equatable, Sendable {
        case none
        /// Arm the idle timer for this deadline.
        case arm(at: UInt64)
        /// Idle long enough: unless more bytes are already waiting, the held line is complete; emit it.
        case emitHeldLineUnlessInputWaits
    }

    /// How a stream is closed: whether its last unterminated line is complete (a clean end: the
    /// container stopped), and the failure to report.
    struct Closing: Equatable, Sendable {
        var emitHeldLine: Bool
        var failure: String?
    }

    /// How long a stream may hold a line without its "\n" before it is emitted (the local log driver
    /// never sends the "\n" of a line it cut into pieces).
    static let idleFlushNanos: UInt64 = 250_000_000

    private(set) var state = State.awaitingHead
    /// When bytes last arrived: a line held longer than `idleFlushNanos` after that is emitted.
    var lastDataAt: UInt64 = 0
    /// Whether the idle timer is armed.
    private(set) var idleArmed = false

    init() {}

    /// Whether the stream is over (ended, cut or failed): it is to be closed.
    var isOver: Bool {
        switch state {
        case .awaitingHead, .following: false
        case .ended, .cut, .failed: true
        }
    }

    /// The response head. API 1.42+ says which framing it uses; older engines send multiplexed frames
    /// unless the container has a TTY.
    mutating func headReceived(status: Int, reason: String, contentType: String?, tty: Bool) -> HeadAction {
        guard status == 200 else {
            // 404: gone; 409: being removed (a --rm container that already ended). Nothing to read either way.
            state = status == 404 || status == 409 ? .ended : .failed("GET logs answered \(status) \(reason)")
            return .end
        }
        state = .following
        return .follow(multiplexed: (contentType ?? "").contains("multiplexed") || !tty)
    }

    /// The response ended (its last chunk, or its length reached).
    mutating func responseEnded() {
        if case .failed = state { return }
        state = .ended
    }

    /// End of file; the response did not end.
    mutating func closedByPeer() {
        if !isOver { state = .cut }
    }

    /// Reading or parsing failed.
    mutating func failed(_ error: String) {
        state = .failed(error)
    }

    /// Bytes of the body arrived.
    @inline(__always)
    mutating func dataArrived(at now: UInt64) {
        lastDataAt = now
    }

    /// A read turn is over, the stream still open: with a line held, the idle timer is armed.
    mutating func readDone(lineHeld: Bool) -> IdleAction {
        guard !idleArmed, lineHeld else { return .none }
        idleArmed = true
        return .arm(at: lastDataAt + Self.idleFlushNanos)
    }

    /// The idle timer fired.
    mutating func idleTimerFired(now: UInt64, lineHeld: Bool) -> IdleAction {
        idleArmed = false
        guard lineHeld, !isOver else { return .none }
        if lastDataAt + Self.idleFlushNanos > now {
            idleArmed = true
            return .arm(at: lastDataAt + Self.idleFlushNanos)
        }
        return .emitHeldLineUnlessInputWaits
    }

    /// The stream is being closed.
    func closing() -> Closing {
        switch state {
        case .ended: Closing(emitHeldLine: true, failure: nil)
        case .failed(let error): Closing(emitHeldLine: false, failure: error)
        case .awaitingHead, .following, .cut: Closing(emitHeldLine: false, failure: nil)
        }
    }
}
