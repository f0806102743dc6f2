import Contract
import HTTP
import Syscall

/// One HTTP client's connection, and the bus connection serving its calls: the sockets, their
/// registrations in the event loop, the output buffer and the one timer. A live stream reads from the
/// shared subscription (`FanOut`) as fast as its socket takes it. What to do is decided by the pure
/// pieces: the request cycle (`RequestCycle`), the router (`Router`), the bus client (`BusClient`) and a
/// live stream's session (`StreamSession`, with its `WebSocketSession`).
final class Client {
    let id: UInt64
    let fd: Int32
    unowned let server: HTTPDaemon
    /// The socket in the event loop.
    var socket: EventLoop.Registration?
    /// Calls `timerFired` at the cycle's deadline.
    let timer: EventLoop.Timer

    var cycle: RequestCycle
    var out: [UInt8] = []
    var sent = 0
    var wantsWritable = false
    var closeAfterWrite = false
    var closed = false

    // The bus connection.
    var bus: Int32 = -1
    var busRegistration: EventLoop.Registration?
    var busClient = BusClient()
    /// The request whose answer the bus connection awaits.
    var call: RequestAction?

    /// A live stream.
    var stream: StreamSession?
    /// What the stream takes, and whether it reads from the shared subscription (until it ends).
    var streamFilter = SubscriptionFilter()
    var streaming = false
    /// The filter's answer for each container seen (by its number): 0 not asked yet, 1 no, 2 yes.
    var matchByTag: [UInt8] = []

    init(id: UInt64, fd: Int32, server: HTTPDaemon, timer: EventLoop.Timer) {
        self.id = id
        self.fd = fd
        self.server = server
        self.timer = timer
        cycle = RequestCycle(headTimeoutMs: server.options.headTimeoutMs, idleTimeoutMs: server.options.idleTimeoutMs,
                             now: Sys.monotonicNanos())
        armTimer()
    }

    /// Arms the timer at the cycle's deadline (or disarms it), when that changed.
    func armTimer() {
        let deadline = cycle.deadline
        guard deadline != server.loop.deadline(of: timer) else { return }
        if let deadline { server.loop.arm(timer, at: deadline) } else { server.loop.disarm(timer) }
    }

    // MARK: - Reading

    func socketEvent(_ events: IOEvents) {
        if events.canWrite { flush() }
        if closed { return }
        if events.hasInputOrHangup { readSocket() }
    }

    func readSocket() {
        var buffer = server.readBuffer
        defer { server.readBuffer = buffer }
        while !closed {
            let n: Int
            do { n = try Sys.read(fd, into: &buffer) } catch {
                if error.errno == .wouldBlock { return }
                close()
                return
            }
            if n == 0 {
                // The client is gone (or half-closed: a stream has nothing more to send us either way).
                close()
                return
            }
            if stream != nil {
                // A stream client sends nothing more we need, but a WebSocket's pings and close.
                if stream?.websocket != nil { webSocketInput(buffer, n) }
                continue
            }
            guard cycle.receive(buffer[0..<n]) else { close(); return }
            if !cycle.isBusy { parsePending() }
            if n < buffer.count { return }
        }
    }

    /// Parses what is pending, up to the end of one request, and serves it.
    func parsePending() {
        guard !closed else { return }
        let parsed = cycle.parse(now: Sys.monotonicNanos())
        armTimer()
        switch parsed {
        case .incomplete: break
        case .malformed(let error): respondError(error.status, error.message)
        case .request(let head): serve(head)
        case .expectsContinue(let head): continueOrRefuse(head)
        }
    }

    /// A response is complete: go on with the next request, if any.
    func requestDone() {
        guard !closed else { return }
        let goesOn = cycle.responded(now: Sys.monotonicNanos())
        armTimer()
        guard goesOn else {
            closeAfterWrite = true
            if sent == out.count { close() }
            return
        }
        parsePending()
    }

    func webSocketInput(_ buffer: [UInt8], _ n: Int) {
        let action = buffer.withUnsafeBytes { raw in stream!.receive(UnsafeRawBufferPointer(rebasing: raw[0..<n])) }
        switch action {
        case .write(let replies):
            out += replies
        case .writeAndClose(let replies):
            out += replies
            stopStreaming()
            closeAfterWrite = true
        }
        flush()
    }

    // MARK: - Writing

    /// Writes what is waiting without blocking, and a stream's next records while the socket takes them;
    /// asks for EPOLLOUT when the socket is full.
    func flush() {
        guard !closed else { return }
        while true {
            while sent < out.count {
                let n: Int
                do {
                    n = try withRawBytes(out, sent..<out.count) { raw throws(SyscallError) in try Sys.writeNonBlocking(fd, raw) }
                } catch {
                    close()
                    return
                }
                if n == 0 { break }
                sent += n
            }
            guard sent == out.count else { break }
            out.removeAll(keepingCapacity: out.capacity <= 1 << 17)
            sent = 0
            if closeAfterWrite {
                close()
                return
            }
            guard streaming, server.fanOut.read(into: self) else { break }
        }
        if sent > 1 << 20 {
            out.removeFirst(sent)
            sent = 0
        }
        let full = !out.isEmpty
        if full != wantsWritable {
            wantsWritable = full
            if let socket { try? server.loop.modify(socket, interest: full ? [.readable, .writable] : .readable) }
        }
    }

    /// The shared subscription has news: a stream whose socket took everything takes it now (one that
    /// did not takes it when its socket is writable again).
    func pump() {
        guard streaming, !closed, sent == out.count else { return }
        flush()
    }

    /// Whether the stream wants a record: its streams, and its filter's answer for the container
    /// (remembered by the container's number).
    func wants(_ entry: StreamEntry) -> Bool {
        if let types = streamFilter.types, !types.contains(entry.record.source) { return false }
        let tag = entry.tag
        if tag < matchByTag.count {
            let known = matchByTag[tag]
            if known != 0 { return known == 2 }
        } else {
            matchByTag.append(contentsOf: repeatElement(0, count: tag + 1 - matchByTag.count))
        }
        let yes = streamFilter.matches(id: entry.record.container.id, name: entry.record.container.name)
        matchByTag[tag] = yes ? 2 : 1
        return yes
    }

    /// The stream reads nothing more (its client closed a WebSocket, or it is closing).
    func stopStreaming() {
        guard streaming else { return }
        streaming = false
        matchByTag = []
        server.fanOut.leave(self)
    }

    func close() {
        guard !closed else { return }
        closed = true
        stopStreaming()
        closeBus()
        if let socket { server.loop.unregister(socket) }
        server.loop.cancel(timer)
        Sys.close(fd)
        server.clients[id] = nil
    }

    // MARK: - The bus connection

    /// Connects to route's bus; false when it cannot be reached.
    func openBus() -> Bool {
        guard bus < 0 else { return true }
        do {
            let fd = try Sys.connectUnix(path: server.options.busPath)
            try Sys.setNonBlocking(fd)
            bus = fd
            busRegistration = try server.loop.register(fd) { [unowned self] events in busEvent(events) }
            return true
        } catch {
            closeBus()
            return false
        }
    }

    func sendBus(_ request: BusRequest) {
        // A short request on a fresh Unix socket: the kernel takes it whole.
        _ = try? Sys.writeAll(bus, busClient.send(request))
    }

    func closeBus() {
        call = nil
        busClient.cancel()
        guard bus >= 0 else { return }
        if let busRegistration { server.loop.unregister(busRegistration) }
        busRegistration = nil
        Sys.close(bus)
        bus = -1
    }

    func busEvent(_ events: IOEvents) {
        guard bus >= 0 else { return }
        var reply: BusReply?
        let ended = server.readAvailable(bus) { bytes in
            busClient.receive(bytes) { event in
                switch event {
                case .reply(let r): reply = r
                case .line, .overlong: break  // calls only: streams read the shared subscription
                }
            }
        }
        if let reply, let call {
            // The call is answered and this bus connection done with (what follows it, the next request's).
            closeBus()
            answer(call, reply)
            return
        }
        guard ended, !closed else { return }
        switch busClient.closed() {
        case .none, .streamEnded: break
        case .requestFailed(let error):
            closeBus()
            respond(JSONResponse.error(error.status, error.message).response)
        }
    }
}
