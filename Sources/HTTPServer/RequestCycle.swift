import HTTP
import Syscall

/// The HTTP side of one connection, apart from its socket: requests read one at a time (pipelined ones
/// wait until the one before is answered), keep-alive, and what the connection's one deadline means at
/// each point: the request head's timeout, the idle timeout, a stream's keep-alive ping. Time comes in as
/// an argument (monotonic nanoseconds); the connection arms its timer at `deadline`.
struct RequestCycle {
    enum Phase: Equatable {
        /// Between requests, or before the first.
        case idle
        /// A request has started to arrive, at `since`: its head is due within the head timeout.
        case readingHead(since: UInt64)
        /// A request is being answered (the bus is asked): nothing more is parsed meanwhile.
        case serving
        /// The connection is a live stream; the deadline is its next keep-alive ping.
        case streaming(pingInterval: UInt64)
        /// Answered with an error (a malformed or late request): closes once written, or at the deadline.
        case closing
    }

    /// What the connection does when the deadline comes.
    enum Expiry: Equatable {
        /// A stream's keep-alive ping (the next one is due at `deadline`).
        case ping
        /// The request head did not arrive in time: answer 408 with `message` and close (at the latest at
        /// `deadline`, even if the client does not read).
        case requestTimeout(message: String)
        /// route's bus did not answer the request's call in time: answer 504 with `message`.
        case busTimeout(message: String)
        /// An idle keep-alive connection, or one that did not close by itself after its error: close it.
        case close
    }

    /// What `parse` found.
    enum Parsed: Equatable {
        /// Not a whole request yet (or serving one already).
        case incomplete
        /// A whole request: its head (and `body`); the cycle is serving it until `responded`.
        case request(HTTPRequestHead)
        /// A malformed request: answer with its status and message, then close.
        case malformed(HTTPRequestError)
        /// A request head with `Expect: 100-continue` whose body has not come (RFC 9110 §10.1.1): answer
        /// `100 Continue` and parse on, or answer its final status and close. Reported once per request.
        case expectsContinue(HTTPRequestHead)
    }

    /// Bytes that may wait unparsed before the connection is closed.
    static let maxPending = 64 * 1024 * 1024
    /// After a 408, how long the client has to read it before the connection closes anyway.
    static let lingerAfterTimeout: UInt64 = 1_000_000_000
    /// How long a request waits for route's bus to answer its call (a route stopped or stuck) before it is
    /// answered 504.
    static let busTimeout: UInt64 = 5_000_000_000

    let headTimeoutMs: Int
    let idleTimeout: UInt64
    private(set) var phase = Phase.idle
    /// When the connection's timer is due; nil: no timer.
    private(set) var deadline: UInt64?
    private(set) var keepAlive = true
    private var parser = HTTPRequestParser(pausesAfterEachRequest: true)
    /// Bytes read but not yet parsed (after a request, until it is answered).
    private(set) var pending: [UInt8] = []
    /// The request being served.
    private(set) var head: HTTPRequestHead?
    private(set) var body: [UInt8] = []

    init(headTimeoutMs: Int, idleTimeoutMs: Int, now: UInt64) {
        self.headTimeoutMs = headTimeoutMs
        idleTimeout = UInt64(idleTimeoutMs) * 1_000_000
        deadline = now + idleTimeout
    }

    /// Serving a request, streaming or closing: nothing more is parsed.
    var isBusy: Bool {
        switch phase {
        case .idle, .readingHead: false
        case .serving, .streaming, .closing: true
        }
    }

    /// Bytes of requests from the client; false when more wait than `maxPending` (close the connection).
    mutating func receive(_ bytes: ArraySlice<UInt8>) -> Bool {
        pending.append(contentsOf: bytes)
        return pending.count <= Self.maxPending
    }

    /// Parses what is pending, up to the end of one request.
    mutating func parse(now: UInt64) -> Parsed {
        guard !isBusy, !pending.isEmpty else { return .incomplete }
        if phase == .idle {
            phase = .readingHead(since: now)
            deadline = now + UInt64(headTimeoutMs) * 1_000_000
        }
        var ended = false
        var started = false
        var head = self.head
        var body: [UInt8] = []
        swap(&body, &self.body)
        let consumed: Int
        do {
            consumed = try withRawBytes(pending, 0..<pending.count) { raw throws(HTTPRequestError) in
                try parser.feed(raw) { event in
                    switch event {
                    case .head(let h):
                        head = h
                        started = true
                        body.removeAll()
                    case .body(let b): body.append(contentsOf: b)
                    case .end: ended = true
                    }
                }
            }
        } catch {
            self.head = head
            swap(&body, &self.body)
            failed()
            return .malformed(error)
        }
        self.head = head
        swap(&body, &self.body)
        pending.removeFirst(consumed)
        if !ended, started, let head, head.expectsContinue { return .expectsContinue(head) }
        guard ended, let head else { return .incomplete }
        phase = .serving
        deadline = nil
        keepAlive = head.keepAlive
        return .request(head)
    }

    /// The answer to the request is out and the connection closes after it (a WebSocket refusal).
    mutating func closesAfterResponse() { keepAlive = false }

    /// The request's response is written: true to go on with the next request (`parse` again), false to
    /// close once the response is written out.
    mutating func responded(now: UInt64) -> Bool {
        head = nil
        body.removeAll()
        phase = .idle
        guard keepAlive else { return false }
        parser.resume()
        deadline = now + idleTimeout
        return true
    }

    /// The request became a live stream: the connection ends with it (an HTTP stream's body is ended by
    /// the close, a WebSocket's by its close handshake).
    mutating func startStream(pingInterval: UInt64, now: UInt64) {
        phase = .streaming(pingInterval: pingInterval)
        keepAlive = false
        deadline = now + pingInterval
    }

    /// The request's call is out to route's bus: its answer is awaited until `busTimeout` from now.
    mutating func awaitBus(now: UInt64) {
        guard case .serving = phase else { return }
        deadline = now + Self.busTimeout
    }

    /// The request was answered with an error: the connection closes.
    mutating func failed() {
        keepAlive = false
        phase = .closing
    }

    /// The deadline came.
    mutating func expired(now: UInt64) -> Expiry {
        switch phase {
        case .streaming(let interval):
            deadline = now + interval
            return .ping
        case .readingHead:
            failed()
            deadline = now + Self.lingerAfterTimeout
            return .requestTimeout(message: "the request head did not arrive within \(headTimeoutMs / 1000) s")
        case .serving:
            deadline = nil
            return .busTimeout(message: "route's bus did not answer within \(Self.busTimeout / 1_000_000_000) s")
        case .idle, .closing:
            deadline = nil
            return .close
        }
    }
}
