import Contract
import JSON
import Records

/// A subscriber's queue: records wait here while the connection cannot take them; when it is full the
/// oldest is dropped and counted, so a slow reader still sees the newest.
struct SubscriberQueue {
    let capacity: Int
    private(set) var items: [[UInt8]] = []
    private var head = 0
    /// Records dropped since the last `{"missed":N}` was queued for sending.
    private(set) var missed = 0

    init(capacity: Int) { self.capacity = capacity }

    var count: Int { items.count - head }

    mutating func push(_ record: UnsafeRawBufferPointer) {
        if count >= capacity {
            head += 1
            missed += 1
        }
        var line = [UInt8](record)
        line.append(10)
        items.append(line)
        if head > 1024 && head * 2 > items.count {
            items.removeFirst(head)
            head = 0
        }
    }

    /// Moves queued lines into `out` (up to about `limit` bytes), the missed-notice first.
    mutating func drain(into out: inout [UInt8], limit: Int) {
        if missed > 0 {
            BusStream.appendMissed(missed, to: &out)
            missed = 0
        }
        while head < items.count && out.count < limit {
            out.append(contentsOf: items[head])
            head += 1
        }
        if head == items.count {
            items.removeAll(keepingCapacity: true)
            head = 0
        }
    }
}

/// One bus connection's protocol (docs/bus.md), apart from its socket: request lines in, requests out
/// (bad ones answered here), answers queued, and once subscribed the stream's records queued; the bytes
/// to write come out in bounded slices. The connection reads, writes and closes.
struct BusSession {
    /// Records a subscriber may have waiting.
    static let queueCapacity = 1024
    /// A request line longer than this closes the connection.
    static let maxRequestLine = 1 << 20
    /// How much of a subscriber's queue goes into one write.
    static let writeSlice = 256 * 1024

    /// The subscription, once subscribed: from then on the connection is a stream and its input is ignored.
    private(set) var filter: SubscriptionFilter?
    private(set) var queue: SubscriberQueue
    /// Bytes of requests not yet a whole line.
    private(set) var input: [UInt8] = []
    /// Answers and records being written; `written` of them are.
    private(set) var output: [UInt8] = []
    private(set) var written = 0

    init(queueCapacity: Int = Self.queueCapacity) {
        queue = SubscriberQueue(capacity: queueCapacity)
    }

    /// A subscriber with records (or a missed count) waiting to be written.
    var hasQueued: Bool { queue.count > 0 || queue.missed > 0 }

    /// More than a request line's worth waits without a newline: the connection closes.
    var isOverlong: Bool { input.count > Self.maxRequestLine }

    /// Bytes from the connection (a subscriber's are ignored).
    mutating func receive(_ bytes: some Collection<UInt8>) {
        guard filter == nil else { return }
        input.append(contentsOf: bytes)
    }

    /// The next request to serve; nil when no whole line waits, or once subscribed (what follows the
    /// subscription is ignored). Blank lines are skipped; a line that is not a request is answered here
    /// (400, saying why) and the next one read.
    mutating func nextRequest() -> BusRequest? {
        while filter == nil, let nl = input.firstIndex(of: 10) {
            let line = Array(input[..<nl])
            input.removeFirst(nl + 1)
            if line.allSatisfy({ $0 == 32 || $0 == 13 || $0 == 9 }) { continue }
            do { return try BusRequest(line: line) } catch { answer(.failed(error)) }
        }
        return nil
    }

    /// Serves the whole request lines waiting, in order: calls answered from `store`, a subscription
    /// taken (it ends the requests). True when the connection just subscribed.
    mutating func serve(_ store: RouteStore) -> Bool {
        while let request = nextRequest() {
            if case .subscribe(let filter) = request {
                subscribe(filter)
                return true
            }
            answer(store.answer(request))
        }
        return false
    }

    /// Queues the answer to a request.
    mutating func answer(_ reply: BusReply) {
        reply.append(to: &output)
    }

    /// Subscribes: answers `{"ok":true}`; the records the filter takes follow.
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

    /// Queues a record for the subscriber (the oldest is dropped and counted when the queue is full).
    mutating func push(_ record: UnsafeRawBufferPointer) {
        queue.push(record)
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
