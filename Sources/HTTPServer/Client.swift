import Contract
import HTTP
import JSON
import Records
import Syscall

/// One HTTP client connection, and the bus connection serving it (an API request or a live stream).
final class Client {
    let id: UInt64
    let fd: Int32
    unowned let server: HTTPDaemon
    /// The socket in the event loop.
    var socket: EventLoop.Registration?
    /// Calls `timerFired` at `deadline`.
    let timer: EventLoop.Timer

    var parser = HTTPRequestParser(pausesAfterEachRequest: true)
    /// Bytes read but not yet parsed (after a request, until it is answered).
    var pending: [UInt8] = []
    var head: HTTPRequestHead?
    var body: [UInt8] = []
    /// Serving a request (waiting for the bus, or streaming): no further request is parsed meanwhile.
    var busy = false
    var out: [UInt8] = []
    var sent = 0
    var wantsWritable = false
    var closeAfterWrite = false
    var closed = false
    var keepAlive = true

    /// When something must happen: the head or idle timeout, or a stream's keep-alive ping.
    var deadline: UInt64? {
        get { server.loop.deadline(of: timer) }
        set {
            if let at = newValue { server.loop.arm(timer, at: at) } else { server.loop.disarm(timer) }
        }
    }
    var headStarted: UInt64?

    // The bus connection.
    var bus: Int32 = -1
    var busRegistration: EventLoop.Registration?
    var busIn: [UInt8] = []
    var busAnswer: ((BusReply) -> Void)?
    var busPaused = false

    // A live stream.
    var stream: StreamMode?
    var chunked = false
    var layout = TextLayout(colors: true, bare: false)
    var decoder = RecordDecoder()
    var subscribed = false
    var ws: WebSocketSession?
    /// What the records of the current read make, written as one chunk.
    var batch: [UInt8] = []

    init(id: UInt64, fd: Int32, server: HTTPDaemon, timer: EventLoop.Timer) {
        self.id = id
        self.fd = fd
        self.server = server
        self.timer = timer
        deadline = Sys.monotonicNanos() + UInt64(server.options.idleTimeoutMs) * 1_000_000
    }

    // MARK: - Reading requests

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
            if let ws {
                ws.receive(buffer[0..<n], client: self)
                continue
            }
            if stream != nil { continue }  // a stream client sends nothing more we need
            pending.append(contentsOf: buffer[0..<n])
            if pending.count > 64 * 1024 * 1024 { close(); return }
            if !busy { parsePending() }
            if n < buffer.count { return }
        }
    }

    /// Parses what is pending, up to the end of one request.
    func parsePending() {
        guard !busy, !closed, !pending.isEmpty else { return }
        if headStarted == nil {
            headStarted = Sys.monotonicNanos()
            deadline = headStarted! + UInt64(server.options.headTimeoutMs) * 1_000_000
        }
        var ended = false
        let consumed: Int
        do {
            consumed = try withRawBytes(pending, 0..<pending.count) { raw throws(HTTPRequestError) in
                try parser.feed(raw) { event in
                    switch event {
                    case .head(let h):
                        self.head = h
                        self.body.removeAll()
                    case .body(let b): self.body.append(contentsOf: b)
                    case .end: ended = true
                    }
                }
            }
        } catch {
            respondError(error.status, error.message, close: true)
            return
        }
        pending.removeFirst(consumed)
        guard ended, let head else { return }
        headStarted = nil
        deadline = nil
        busy = true
        keepAlive = head.keepAlive
        handle(head)
    }

    /// A response is complete: go on with the next request, if any.
    func requestDone() {
        guard !closed else { return }
        head = nil
        body.removeAll()
        busy = false
        if !keepAlive {
            closeAfterWrite = true
            if sent == out.count { close() }
            return
        }
        parser.resume()
        deadline = Sys.monotonicNanos() + UInt64(server.options.idleTimeoutMs) * 1_000_000
        parsePending()
    }

    // MARK: - Routing requests

    func handle(_ head: HTTPRequestHead) {
        let path = head.path
        if path == "/logs" || path.hasPrefix("/logs/") {
            guard head.method == "GET" || head.method == "HEAD" else { return methodNotAllowed("GET, HEAD") }
            return startStream(head)
        }
        if path == "/routes" {
            switch head.method {
            case "GET": return api(.list) { reply in
                guard case .routes(let routes) = reply else { return self.respondJSON(200, .array([])) }
                self.respondJSON(200, .array(routes))
            }
            case "POST": return addRoute()
            default: return methodNotAllowed("GET, POST")
            }
        }
        if path.hasPrefix("/routes/") {
            let id = String(path.dropFirst("/routes/".count))
            guard RouteID.isValid(id) else {
                return respondJSONError(400, "invalid route id '\(id)': it must match \(RouteID.pattern)")
            }
            switch head.method {
            case "GET": return api(.get(id: id)) { reply in self.respondRoute(200, reply) }
            case "DELETE": return api(.delete(id: id)) { _ in
                self.respondJSON(200, .object([("id", .string(id)), ("deleted", .bool(true))]))
            }
            default: return methodNotAllowed("GET, DELETE")
            }
        }
        if path == "/health" {
            guard head.method == "GET" || head.method == "HEAD" else { return methodNotAllowed("GET, HEAD") }
            return health()
        }
        if path == "/" || path == "/index.html" {
            guard head.method == "GET" || head.method == "HEAD" else { return methodNotAllowed("GET, HEAD") }
            return respond(200, contentType: "text/html; charset=utf-8", body: Array(Page.html.utf8),
                           extra: [("Cache-Control", "no-cache")])
        }
        respondJSONError(404, "no such path '\(path)'; see docs/http.md")
    }

    func addRoute() {
        let route: JSONValue
        do { route = try JSONValue.parse(body) } catch {
            return respondJSONError(400, "invalid JSON: \(error)")
        }
        guard route.object != nil else { return respondJSONError(400, "a route is a JSON object") }
        api(.add(route: route)) { reply in self.respondRoute(201, reply) }
    }

    func health() {
        guard openBus() else {
            return respond(503, contentType: "application/json", body: Array(#"{"status":"the bus is unreachable"}"#.utf8) + [10])
        }
        sendBus(.ping)
        busAnswer = { _ in
            self.closeBus()
            self.respond(200, contentType: "application/json", body: Array(#"{"status":"ok"}"#.utf8) + [10])
        }
    }

    /// Sends one request over a new bus connection and answers with `ok`, or with the bus's error.
    func api(_ request: BusRequest, ok: @escaping (BusReply) -> Void) {
        guard openBus() else { return respondJSONError(503, "route's bus is unreachable") }
        sendBus(request)
        busAnswer = { reply in
            self.closeBus()
            if case .failed(let error) = reply {
                self.respondJSONError(error.status, error.message)
            } else {
                ok(reply)
            }
        }
    }

    /// The route a `get` or `add` answered with.
    func respondRoute(_ status: Int, _ reply: BusReply) {
        guard case .route(let route) = reply else { return respondJSON(status, .null) }
        respondJSON(status, route)
    }

    func methodNotAllowed(_ allow: String) {
        respondJSONError(405, "method \(head?.method ?? "?") not allowed here; allowed: \(allow)", extra: [("Allow", allow)])
    }

    // MARK: - Responses

    func respond(_ status: Int, contentType: String, body: [UInt8], extra: [(String, String)] = [], close: Bool = false) {
        var headers: [(String, String)] = [("Content-Type", contentType), ("Content-Length", String(body.count))]
        headers += extra
        if close || !keepAlive { headers.append(("Connection", "close")) }
        out += serializeResponseHead(status: status, headers: headers)
        if head?.method != "HEAD" { out += body }
        if close { keepAlive = false }
        flush()
        requestDone()
    }

    func respondJSON(_ status: Int, _ value: JSONValue) {
        var body = value.encoded()
        body.append(10)
        respond(status, contentType: "application/json", body: body)
    }

    func respondJSONError(_ status: Int, _ message: String, extra: [(String, String)] = []) {
        var body = JSONValue.object([("error", .string(message))]).encoded()
        body.append(10)
        respond(status, contentType: "application/json", body: body, extra: extra)
    }

    /// A request that cannot be parsed: answer and close the connection.
    func respondError(_ status: Int, _ message: String, close: Bool) {
        keepAlive = false
        busy = true
        var body = JSONValue.object([("error", .string(message))]).encoded()
        body.append(10)
        out += serializeResponseHead(status: status, headers: [("Content-Type", "application/json"),
                                                              ("Content-Length", String(body.count)), ("Connection", "close")])
        out += body
        closeAfterWrite = true
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

    // MARK: - Timers

    func timerFired(_ now: UInt64) {
        if stream != nil {
            keepAlivePing(now)
            return
        }
        // A head that did not arrive in time, or an idle keep-alive connection.
        if headStarted != nil && !busy {
            respondError(408, "the request head did not arrive within \(server.options.headTimeoutMs / 1000) s", close: true)
            deadline = now + 1_000_000_000  // then close, even if it does not read
            headStarted = nil
            return
        }
        close()
    }
}
