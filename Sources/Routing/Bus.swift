import Contract
import JSON
import Records
import Syscall

/// route's Unix-socket bus (docs/bus.md): route management commands and live subscriptions, served
/// from route's event loop. A subscriber never slows the record path: it has a queue bounded in bytes,
/// written without blocking, and all the queues together have a budget. Each connection's protocol is its `BusSession`; this is the sockets, the event loop
/// and the fan-out of routed records to the subscribers.
public final class Bus {
    public let path: String
    unowned let runner: RouteRunner
    var listener: Int32 = -1
    var accepting: Listener?
    var connections: [Int32: Connection] = [:]
    /// Subscribers' fds, and which of them each container (router cache entry) goes to.
    var subscribers: Set<Int32> = []
    var generation: UInt64 = 0
    var matchCache: [Int: [Int32]] = [:]
    var matchEpoch: UInt64 = .max
    var matchGeneration: UInt64 = .max
    /// Bytes of records each subscriber may have waiting.
    public static let queueBytes = BusSession.queueBytes
    /// Bytes of records all subscribers together may have waiting: beyond it, the subscribers holding the
    /// most give way first.
    public static let totalQueueBytes = 64 << 20
    /// Bytes queued since the total was last counted, plus that count: an upper bound of what waits.
    var queuedBound = 0
    /// Records the subscribers that are gone had missed.
    var missedByClosed = 0

    /// Records dropped from subscribers' queues so far (each subscriber told `{"missed":N}`).
    var missedTotal: Int {
        var total = missedByClosed
        for fd in subscribers { total &+= connections[fd]?.session.queue.dropped ?? 0 }
        return total
    }

    final class Connection {
        let fd: Int32
        var registration: EventLoop.Registration?
        var session = BusSession()
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
        accepting = try Listener(fd: listener, loop: runner.loop, report: { RouteRunner.diagnostic("bus: " + $0) }) { [unowned self] fd in
            accepted(fd)
        }
    }

    /// Closes every connection and removes the socket file.
    func stop() {
        for c in Array(connections.values) { close(c) }
        if listener >= 0 {
            accepting?.stop()
            Sys.close(listener)
            try? Sys.unlink(path)
            listener = -1
        }
    }

    func accepted(_ fd: Int32) {
        let c = Connection(fd: fd)
        do {
            c.registration = try runner.loop.register(fd) { [unowned self] events in event(c, events) }
        } catch {
            Sys.close(fd)
            return
        }
        connections[fd] = c
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
            c.session.receive(buffer[0..<n])
            if c.session.serve(runner.store) {
                subscribers.insert(c.fd)
                changed()
            }
            if c.session.isOverlong {
                close(c)
                return
            }
            if n < buffer.count { break }
        }
        write(c)
    }

    /// The subscriptions changed: matches are worked out again, and the router's tap is on only while
    /// someone listens.
    func changed() {
        generation &+= 1
        runner.metrics?.changed()
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
            fds = subscribers.sorted().filter { connections[$0]?.session.filter?.matches(id: tap.id, name: tap.name) == true }
            matchCache[tap.entry] = fds
        }
        var pushed = 0
        for fd in fds {
            guard let c = connections[fd], c.session.wants(tap.source) else { continue }
            c.session.push(tap.text)
            pushed &+= tap.text.count &+ 1
        }
        if pushed > 0 {
            queuedBound &+= pushed
            if queuedBound > Self.totalQueueBytes { keepBudget() }
        }
    }

    /// The queues may together hold more than their budget: counted, and when they do, those holding the
    /// most drop their oldest records down to one level, so that the total is 7/8 of the budget.
    func keepBudget() {
        var sizes: [Int] = []
        var total = 0
        for fd in subscribers {
            guard let c = connections[fd] else { continue }
            let n = c.session.queue.byteCount
            sizes.append(n)
            total += n
        }
        if total > Self.totalQueueBytes {
            let target = Self.totalQueueBytes - Self.totalQueueBytes / 8
            let level = Self.level(sizes, target: target)
            total = 0
            for fd in subscribers {
                guard let c = connections[fd] else { continue }
                if c.session.queue.byteCount > level { c.session.shrink(to: level) }
                total += c.session.queue.byteCount
            }
        }
        queuedBound = total
    }

    /// The largest level such that the sizes, each cut down to it, sum to at most `target`.
    static func level(_ sizes: [Int], target: Int) -> Int {
        let sorted = sizes.sorted()
        var below = 0  // the sum of the sizes under the level
        for (i, size) in sorted.enumerated() {
            let above = sorted.count - i  // the sizes from here on, each cut to the level
            if below + size * above > target { return max(0, (target - below) / above) }
            below += size
        }
        return sorted.last ?? 0
    }

    /// Writes what each subscriber has waiting, without blocking (after each burst of input).
    func flushSubscribers() {
        for fd in subscribers {
            if let c = connections[fd], c.session.hasQueued { write(c) }
        }
    }

    func write(_ c: Connection) {
        while true {
            let pending = c.session.nextOutput()
            if pending.isEmpty { break }
            let n: Int
            do {
                n = try pending.withUnsafeBytes { raw throws(SyscallError) in try Sys.writeNonBlocking(c.fd, raw) }
            } catch {
                close(c)
                return
            }
            if n == 0 { break }
            c.session.wrote(n)
        }
        setWritable(c, c.session.isBlocked)
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
        missedByClosed &+= c.session.queue.dropped
        connections[c.fd] = nil
        accepting?.descriptorFreed()
        if subscribers.remove(c.fd) != nil {
            changed()
            if subscribers.isEmpty { Sys.releaseFreeMemory() }  // the queues' storage, back to the system
        }
    }
}
