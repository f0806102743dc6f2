import Contract
import JSON
import Records

/// A subscriber's queue, bounded in bytes: lines wait here, one after another in one byte array, while the
/// connection cannot take them; when the next one does not fit, the oldest are dropped and counted, so a
/// slow reader still sees the newest. What is drained is released: an emptied queue holds nothing.
struct SubscriberQueue {
    /// Bytes of lines (newlines included) the queue may hold; a line larger than this alone is kept alone.
    let capacity: Int
    /// The lines, from `start` on.
    private var bytes: [UInt8] = []
    private var start = 0
    /// Each line's length (its newline included), from `first` on.
    private var lengths: [Int] = []
    private var first = 0
    /// Records dropped since the last `{"missed":N}` was queued for sending.
    private(set) var missed = 0
    /// Records dropped since the queue was made (route's metrics).
    private(set) var dropped = 0

    init(capacity: Int) { self.capacity = capacity }

    /// Lines waiting.
    var count: Int { lengths.count - first }
    /// Bytes waiting.
    var byteCount: Int { bytes.count - start }
    /// Bytes allocated for the waiting lines (what the total budget counts).
    var footprint: Int { bytes.capacity + lengths.capacity * MemoryLayout<Int>.stride }

    mutating func push(_ record: UnsafeRawBufferPointer) {
        let size = record.count + 1
        while count > 0 && byteCount + size > capacity { dropOldest() }
        if start > 0 && (count == 0 || start > 1 << 16 && start * 2 > bytes.count) { compact() }
        bytes.append(contentsOf: record)
        bytes.append(10)
        lengths.append(size)
    }

    /// Drops the oldest line, counted as missed.
    mutating func dropOldest() {
        guard count > 0 else { return }
        start += lengths[first]
        first += 1
        missed += 1
        dropped &+= 1
        if count == 0 { release() }
    }

    /// Moves queued lines into `out` (whole lines, up to about `limit` bytes), the missed-notice first.
    mutating func drain(into out: inout [UInt8], limit: Int) {
        if missed > 0 {
            BusStream.appendMissed(missed, to: &out)
            missed = 0
        }
        var end = start
        while first < lengths.count && out.count + (end - start) < limit {
            end += lengths[first]
            first += 1
        }
        if end > start {
            bytes.withUnsafeBufferPointer { out.append(contentsOf: $0[start..<end]) }
            start = end
        }
        if count == 0 { release() }
    }

    /// Nothing waits: the arrays are emptied, and a large allocation is given back.
    private mutating func release() {
        if bytes.capacity > 1 << 18 {
            bytes = []
            lengths = []
        } else {
            bytes.removeAll(keepingCapacity: true)
            lengths.removeAll(keepingCapacity: true)
        }
        start = 0
        first = 0
    }

    private mutating func compact() {
        bytes.removeFirst(start)
        lengths.removeFirst(first)
        start = 0
        first = 0
    }
}

/// One bus connection's protocol (docs/bus.md), apart from its socket: request lines in, requests out
/// (bad ones answered here), answers queued, and once subscribed the stream's records queued (a new
/// `subscribe` replaces the filter); the bytes to write come out in bounded slices. The connection reads,
/// writes and closes.
struct BusSession {
    /// Bytes of records a subscriber may have waiting.
    static let queueBytes = 4 << 20
    /// A request line longer than this closes the connection.
    static let maxRequestLine = 1 << 20
    /// How much of a subscriber's queue goes into one write.
    static let writeSlice = 256 * 1024

    /// The subscription, once subscribed: from then on the connection is a stream, and of its input only a
    /// new `subscribe` is heard.
    private(set) var filter: SubscriptionFilter?
    private(set) var queue: SubscriberQueue
    /// Bytes of requests not yet a whole line.
    private(set) var input: [UInt8] = []
    /// Answers and records being written; `written` of them are.
    private(set) var output: [UInt8] = []
    private(set) var written = 0

    init(queueBytes: Int = Self.queueBytes) {
        queue = SubscriberQueue(capacity: queueBytes)
    }

    /// A subscriber with records (or a missed count) waiting to be written.
    var hasQueued: Bool { queue.count > 0 || queue.missed > 0 }

    /// More than a request line's worth waits without a newline: the connection closes.
    var isOverlong: Bool { input.count > Self.maxRequestLine }

    /// Bytes from the connection.
    mutating func receive(_ bytes: some Collection<UInt8>) {
        input.append(contentsOf: bytes)
    }

    /// The next request to serve; nil when no whole line waits. Blank lines are skipped; a line that is not
    /// a request is answered here (400, saying why) and the next one read. Once subscribed, only a new
    /// `subscribe` is heard; anything else is ignored.
    mutating func nextRequest() -> BusRequest? {
        while let nl = input.firstIndex(of: 10) {
            let line = Array(input[..<nl])
            input.removeFirst(nl + 1)
            if line.allSatisfy({ $0 == 32 || $0 == 13 || $0 == 9 }) { continue }
            do {
                let request = try BusRequest(line: line)
                if filter != nil, request.operation != .subscribe { continue }
                return request
            } catch {
                if filter == nil { answer(.failed(error)) }
            }
        }
        return nil
    }

    /// Serves the whole request lines waiting, in order: calls answered from `store`, a subscription
    /// taken (it ends the calls; a later `subscribe` replaces its filter). True when the subscription
    /// began or changed.
    mutating func serve(_ store: RouteStore) -> Bool {
        var subscribed = false
        while let request = nextRequest() {
            if case .subscribe(let filter) = request {
                subscribe(filter)
                subscribed = true
                continue
            }
            answer(store.answer(request))
        }
        return subscribed
    }

    /// Queues the answer to a request.
    mutating func answer(_ reply: BusReply) {
        reply.append(to: &output)
    }

    /// Subscribes (or replaces the filter): answers `{"ok":true}`; the records the filter takes follow.
    mutating func subscribe(_ filter: SubscriptionFilter) {
        self.filter = filter
        answer(.ok)
    }

    /// Whether a routed record goes to this subscriber: the filter's streams (its container was matched
    /// by the caller).
    func wants(_ source: Source) -> Bool {
        guard let filter else { return false }
        if let types = filter.types, !types.contains(source) { return false }
        return true
    }

    /// Queues a record for the subscriber (the oldest are dropped and counted when it would not fit).
    mutating func push(_ record: UnsafeRawBufferPointer) {
        queue.push(record)
    }

    /// Drops the oldest queued records, counted, until at most `bytes` wait (the bus's total budget is
    /// needed).
    mutating func shrink(to bytes: Int) {
        while queue.byteCount > bytes { queue.dropOldest() }
    }

    /// What is to be written next: the rest of what is being written, else the next slice of the queue
    /// (the missed notice first). Empty when there is nothing.
    mutating func nextOutput() -> ArraySlice<UInt8> {
        if written == output.count {
            output.removeAll(keepingCapacity: output.capacity <= 1 << 20)
            written = 0
            queue.drain(into: &output, limit: Self.writeSlice)
        }
        return output[written...]
    }

    /// `n` bytes of `nextOutput()` were written.
    mutating func wrote(_ n: Int) { written += n }

    /// Bytes wait that the socket did not take: write again when it is writable.
    var isBlocked: Bool { written < output.count }
}

extension RouteStore {
    /// The answer to a bus request other than `subscribe` (docs/bus.md): the routes, the route, or why not.
    func answer(_ request: BusRequest) -> BusReply {
        switch request {
        case .ping:
            return .ok
        case .list:
            return .routes(list().sorted { $0.id < $1.id }.map { $0.json() })
        case .get(let id):
            guard let spec = get(id: id) else { return .failed(BusError(404, "no route '\(id)'")) }
            return .route(spec.json())
        case .add(let route):
            do {
                return .route(try add(route).json())
            } catch {
                return .failed(error.busError)
            }
        case .delete(let id):
            do {
                return try remove(id: id) ? .ok : .failed(BusError(404, "no route '\(id)'"))
            } catch {
                return .failed(error.busError)
            }
        case .subscribe:
            return .failed(BusError(400, "a subscription is not a call"))
        }
    }
}

extension RouteError {
    /// The answer for a call the store refused: 500 when the store failed (a route file could not be
    /// written or removed), 409 for a reserved id, else 400 (the route or id is bad).
    var busError: BusError {
        BusError(cause != nil ? 500 : reserved ? 409 : 400, message)
    }
}
