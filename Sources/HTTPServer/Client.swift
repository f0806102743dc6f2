import Contract
import HTTP
import Syscall

/// One HTTP client's connection, and the bus connection serving it: the sockets, their registrations in
/// the event loop, the output buffer and the one timer. What to do is decided by the pure pieces: the
/// request cycle (`RequestCycle`), the router (`Router`), the bus client (`BusClient`) and a live stream's
/// session (`StreamSession`, with its `WebSocketSession`).
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
    var busPaused = false
    /// The request whose answer the bus connection awaits.
    var call: RequestAction?

    /// A live stream.
    var stream: StreamSession?

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
            closeBus()
            closeAfterWrite = true
        }
        flush()
    }

    // MARK: - Writing

    /// Writes what is waiting without blocking; asks for EPOLLOUT when the socket is full.
    func flush() {
        guard !closed else { return }
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
        if sent == out.count {
            out.removeAll(keepingCapacity: out.capacity <= 1 << 20)
            sent = 0
            if closeAfterWrite {
                close()
                return
            }
        } else if sent > 1 << 20 {
            out.removeFirst(sent)
            sent = 0
        }
        let full = !out.isEmpty
        if full != wantsWritable {
            wantsWritable = full
            if let socket { try? server.loop.modify(socket, interest: full ? [.readable, .writable] : .readable) }
        }
        // A stream whose client keeps up takes more from the bus; one that does not is held back.
        if stream != nil, bus >= 0 {
            let waiting = out.count - sent
            if !busPaused && waiting > server.options.clientBufferBytes {
                busPaused = true
                if let busRegistration { try? server.loop.modify(busRegistration, interest: []) }
            } else if busPaused && waiting < server.options.clientBufferBytes / 4 {
                busPaused = false
                if let busRegistration { try? server.loop.modify(busRegistration, interest: .readable) }
            }
        }
    }

    func close() {
        guard !closed else { return }
        closed = true
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
        var buffer = server.readBuffer
        defer { server.readBuffer = buffer }
        var ended = false
        var reply: BusReply?
        while true {
            let n: Int
            do { n = try Sys.read(bus, into: &buffer) } catch {
                if error.errno == .wouldBlock { break }
                ended = true
                break
            }
            if n == 0 {
                ended = true
                break
            }
            buffer.withUnsafeBytes { raw in
                busClient.receive(UnsafeRawBufferPointer(rebasing: raw[0..<n])) { event in
                    switch event {
                    case .reply(let r): reply = r
                    case .line(let line): stream?.take(line)
                    }
                }
            }
            if n < buffer.count { break }
        }
        if let reply, let call {
            // The call is answered and this bus connection done with (what follows it, the next request's).
            closeBus()
            answer(call, reply)
            return
        }
        if stream != nil { finishBatch() }
        guard ended, !closed else { return }
        switch busClient.closed() {
        case .none: break
        case .requestFailed(let error):
            closeBus()
            respond(JSONResponse.error(error.status, error.message).response)
        case .streamEnded:
            endStream()
        }
    }
}
