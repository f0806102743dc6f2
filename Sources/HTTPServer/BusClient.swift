import Contract

/// httpd's side of one connection to route's bus (docs/bus.md), apart from its socket: one request and its
/// answer (a `/routes` call, a `/health` ping), or a subscription: its answer, then the stream's lines
/// until either side closes. Requests out as lines, bytes in as events.
struct BusClient {
    enum State: Equatable {
        /// Nothing asked yet.
        case idle
        /// A request is out; its answer is awaited.
        case awaitingReply
        /// A subscription is out; its answer is awaited.
        case subscribing
        /// Subscribed: each line is a record or a `{"missed":N}` notice.
        case streaming
        /// The answer came, or either side closed the connection: nothing more is read.
        case finished
    }

    /// What a line from the bus is.
    enum Event {
        /// The answer to the request (one that cannot be read is a failure, status 500).
        case reply(BusReply)
        /// A line of the subscription's stream, valid during the call.
        case line(UnsafeRawBufferPointer)
        /// A line of the stream longer than `maxStreamLine` was skipped (up to its end, where the stream
        /// goes on).
        case overlong
    }

    /// What the bus closing the connection means.
    enum Ending: Equatable {
        /// Nothing: the answer had come.
        case none
        /// The request's answer will not come: answer the client with this error (503).
        case requestFailed(BusError)
        /// The stream ends (route went away, restarting): end the response; the client reconnects.
        case streamEnded
    }

    /// The bus could not be reached.
    static let unreachable = BusError(503, "route's bus is unreachable")
    /// The bus closed the connection before it answered.
    static let closedEarly = BusError(503, "route's bus closed the connection")

    /// The longest line of a stream: route's longest record (it refuses longer input lines).
    static let maxStreamLine = 1 << 20
    /// The longest answer to a call (every route, listed).
    static let maxReplyLine = 16 << 20

    private(set) var state = State.idle
    /// The start of a line whose end has not arrived yet (bounded by the longest line).
    private(set) var partial: [UInt8] = []
    /// The line being read is over the bound: it is skipped up to its end.
    private(set) var skipping = false

    var maxLine: Int { state == .awaitingReply ? Self.maxReplyLine : Self.maxStreamLine }

    /// The line to write for `request`: a subscription waits for its answer, then streams (a subscription's
    /// answer to a new filter is a line of its stream, not a record); anything else waits for its answer.
    mutating func send(_ request: BusRequest) -> [UInt8] {
        // A new subscribe on a subscription changes its filter: the stream goes on.
        if request.operation != .subscribe || (state != .streaming && state != .subscribing) {
            state = request.operation == .subscribe ? .subscribing : .awaitingReply
            partial.removeAll()
            skipping = false
        }
        return request.line()
    }

    /// Bytes read from the bus: `handle` sees each whole line as an event (the subscription's own answer is
    /// taken here; nothing after a request's answer is seen).
    /// A line longer than `maxLine` is not held: a stream's is skipped up to its end (`overlong`, and the
    /// stream goes on); an answer's is a failure (500).
    mutating func receive(_ bytes: UnsafeRawBufferPointer, _ handle: (Event) -> Void) {
        var start = 0
        while start < bytes.count, state != .finished {
            guard let nl = bytes[start...].firstIndex(of: 10) else {
                if !skipping {
                    if partial.count + (bytes.count - start) > maxLine {
                        overlong(handle)
                    } else {
                        partial.append(contentsOf: UnsafeRawBufferPointer(rebasing: bytes[start...]))
                    }
                }
                return
            }
            if skipping {
                skipping = false
            } else if partial.isEmpty {
                take(UnsafeRawBufferPointer(rebasing: bytes[start..<nl]), handle)
            } else if partial.count + (nl - start) > maxLine {
                overlong(handle)
                skipping = false
            } else {
                partial.append(contentsOf: UnsafeRawBufferPointer(rebasing: bytes[start..<nl]))
                var line: [UInt8] = []
                swap(&line, &partial)
                line.withUnsafeBytes { take($0, handle) }
                // A long line's storage is given back; a short one's kept for the next.
                if line.capacity <= 1 << 16 {
                    line.removeAll(keepingCapacity: true)
                    swap(&line, &partial)
                }
            }
            start = nl + 1
        }
    }

    /// The line being read is over the bound: dropped, and skipped up to its end.
    private mutating func overlong(_ handle: (Event) -> Void) {
        partial = []
        skipping = true
        switch state {
        case .awaitingReply:
            state = .finished
            handle(.reply(.failed(BusError(500, "route's bus answered with a line longer than \(Self.maxReplyLine) bytes"))))
        case .subscribing, .streaming:
            handle(.overlong)
        case .idle, .finished:
            break
        }
    }

    private mutating func take(_ line: UnsafeRawBufferPointer, _ handle: (Event) -> Void) {
        switch state {
        case .awaitingReply:
            state = .finished
            handle(.reply(BusReply(line: line)))
        case .subscribing:
            state = .streaming  // {"ok":true}
        case .streaming:
            handle(.line(line))
        case .idle, .finished:
            break
        }
    }

    /// We closed the connection (the answer came, the client went away, a WebSocket client closed):
    /// nothing more is read, and nothing is owed.
    mutating func cancel() {
        state = .finished
        partial = []
        skipping = false
    }

    /// The bus closed the connection (or reading it failed).
    mutating func closed() -> Ending {
        defer { state = .finished }
        switch state {
        case .awaitingReply: return .requestFailed(Self.closedEarly)
        case .subscribing, .streaming: return .streamEnded
        case .idle, .finished: return .none
        }
    }
}
