import Contract
import JSON
import Records
import Syscall

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

/// route's Unix-socket bus (docs/bus.md): route management commands and live subscriptions, served
/// from route's event loop. A subscriber never slows the record path: it has a bounded queue, written
/// without blocking.
public final class Bus {
    public let path: String
    unowned let runner: RouteRunner
    var listener: Int32 = -1
    var listenerRegistration: EventLoop.Registration?
    var connections: [Int32: Connection] = [:]
    /// Subscribers' fds, and which of them each container (router cache entry) goes to.
    var subscribers: Set<Int32> = []
    var generation: UInt64 = 0
    var matchCache: [Int: [Int32]] = [:]
    var matchEpoch: UInt64 = .max
    var matchGeneration: UInt64 = .max
    /// Records each subscriber may have waiting.
    public static let queueCapacity = 1024
    static let maxRequestLine = 1 << 20

    final class Connection {
        let fd: Int32
        var registration: EventLoop.Registration?
        var input: [UInt8] = []
        var output: [UInt8] = []
        var written = 0
        var filter: SubscriptionFilter?
        var queue = SubscriberQueue(capacity: Bus.queueCapacity)
        var wantsWritable = false
        var closing = false
        init(fd: Int32) { self.fd = fd }
    }

    init(path: String, runner: RouteRunner) {
        self.path = path
        self.runner = runner
    }

    /// Listens on `path` and joins route's event loop.
    func start() throws(SyscallError) {
        listener = try Sys.listenUnix(path: path)
        listenerRegistration = try runner.loop.register(listener) { [unowned self] _ in accept() }
    }

    /// Closes every connection and removes the socket file.
    func stop() {
        for c in Array(connections.values) { close(c) }
        if listener >= 0 {
            if let listenerRegistration { runner.loop.unregister(listenerRegistration) }
            Sys.close(listener)
            try? Sys.unlink(path)
            listener = -1
        }
    }

    func accept() {
        while let fd = try? Sys.accept(listener) {
            let c = Connection(fd: fd)
            do {
                c.registration = try runner.loop.register(fd) { [unowned self] events in event(c, events) }
            } catch {
                Sys.close(fd)
                continue
            }
            connections[fd] = c
        }
    }

    func event(_ c: Connection, _ events: IOEvents) {
        if events.canWrite { write(c) }
        if c.closing { return }
        if events.hasInputOrHangup { read(c) }
    }

    func read(_ c: Connection) {
        var buffer = [UInt8](repeating: 0, count: 64 * 1024)
        while true {
            let n: Int
            do { n = try Sys.read(c.fd, into: &buffer) } catch {
                if error.errno == .wouldBlock { break }
                close(c)
                return
            }
            if n == 0 {
                close(c)
                return
            }
            // A subscriber has nothing more to say; what it sends is ignored.
            if c.filter != nil { continue }
            c.input.append(contentsOf: buffer[0..<n])
            while let nl = c.input.firstIndex(of: 10) {
                let line = Array(c.input[..<nl])
                c.input.removeFirst(nl + 1)
                handle(line, c)
                if c.filter != nil || c.closing { break }
            }
            if c.input.count > Self.maxRequestLine {
                close(c)
                return
            }
            if n < buffer.count { break }
        }
        write(c)
    }

    /// Answers one request line.
    func handle(_ line: [UInt8], _ c: Connection) {
        if line.allSatisfy({ $0 == 32 || $0 == 13 || $0 == 9 }) { return }
        let request: BusRequest
        do { request = try BusRequest(line: line) } catch { return answer(c, .failed(error)) }
        let store = runner.store
        switch request {
        case .ping:
            answer(c, .ok)
        case .list:
            answer(c, .routes(store.list().sorted { $0.id < $1.id }.map { $0.json() }))
        case .get(let id):
            guard let spec = store.get(id: id) else { return answer(c, .failed(BusError(404, "no route '\(id)'"))) }
            answer(c, .route(spec.json()))
        case .add(let route):
            do {
                answer(c, .route(try store.add(route).json()))
            } catch {
                answer(c, .failed(BusError(400, error.message)))
            }
        case .delete(let id):
            do {
                answer(c, try store.remove(id: id) ? .ok : .failed(BusError(404, "no route '\(id)'")))
            } catch {
                answer(c, .failed(BusError(400, error.message)))
            }
        case .subscribe(let filter):
            c.filter = filter
            answer(c, .ok)
            subscribers.insert(c.fd)
            changed()
        }
    }

    func answer(_ c: Connection, _ reply: BusReply) {
        reply.append(to: &c.output)
    }

    /// The subscriptions changed: matches are worked out again, and the router's tap is on only while
    /// someone listens.
    func changed() {
        generation &+= 1
        if subscribers.isEmpty {
            runner.router.tap = nil
        } else if runner.router.tap == nil {
            runner.router.tap = { [unowned self] tap in deliver(tap) }
        }
    }

    /// A routed record: queue it for every subscriber that wants it.
    func deliver(_ tap: RecordTap) {
        if matchEpoch != tap.epoch || matchGeneration != generation {
            matchCache.removeAll(keepingCapacity: true)
            matchEpoch = tap.epoch
            matchGeneration = generation
        }
        let fds: [Int32]
        if let cached = matchCache[tap.entry] {
            fds = cached
        } else {
            fds = subscribers.sorted().filter { connections[$0]?.filter?.matches(id: tap.id, name: tap.name) == true }
            matchCache[tap.entry] = fds
        }
        for fd in fds {
            guard let c = connections[fd], let filter = c.filter else { continue }
            if let types = filter.types, !types.contains(tap.source) { continue }
            c.queue.push(tap.text)
        }
    }

    /// Writes what each subscriber has waiting, without blocking (after each burst of input).
    func flushSubscribers() {
        for fd in subscribers {
            if let c = connections[fd], c.queue.count > 0 || c.queue.missed > 0 { write(c) }
        }
    }

    func write(_ c: Connection) {
        while true {
            if c.written == c.output.count {
                c.output.removeAll(keepingCapacity: c.output.capacity <= 1 << 20)
                c.written = 0
                c.queue.drain(into: &c.output, limit: 256 * 1024)
                if c.output.isEmpty { break }
            }
            let n: Int
            do {
                n = try withRawBytes(c.output, c.written..<c.output.count) { raw throws(SyscallError) in
                    try Sys.writeNonBlocking(c.fd, raw)
                }
            } catch {
                close(c)
                return
            }
            if n == 0 { break }
            c.written += n
        }
        setWritable(c, c.written < c.output.count)
    }

    func setWritable(_ c: Connection, _ on: Bool) {
        guard c.wantsWritable != on else { return }
        c.wantsWritable = on
        guard let registration = c.registration else { return }
        do {
            try runner.loop.modify(registration, interest: on ? [.readable, .writable] : .readable)
        } catch {
            close(c)
        }
    }

    func close(_ c: Connection) {
        guard !c.closing else { return }
        c.closing = true
        if let registration = c.registration { runner.loop.unregister(registration) }
        Sys.close(c.fd)
        connections[c.fd] = nil
        if subscribers.remove(c.fd) != nil { changed() }
    }
}
