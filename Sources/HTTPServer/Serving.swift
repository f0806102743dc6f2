import Contract
import HTTP
import JSON
import Syscall

extension Client {
    // MARK: - Serving requests

    /// Serves a whole request: what the router decided, with the bus when it needs it.
    func serve(_ head: HTTPRequestHead) {
        let action = Router.action(for: head, body: cycle.body, access: server.options.access)
        switch action {
        case .stream(let request, let mode):
            startStream(head, request, mode)
        case .streamHead(let mode):
            respond(Response(200, contentType: mode.contentType, body: []))
        case .api(let request):
            ask(action, request)
        case .health(let detailed):
            if let problem = server.stageFiles.liveness() { return respond(Router.unhealthy(problem, detailed: detailed)) }
            ask(action, .ping)
        case .ready:
            ask(action, .list)
        case .metrics:
            respond(Response(200, contentType: "text/plain; version=0.0.4; charset=utf-8", body: server.metricsBody()))
        case .page:
            respond(Response(200, contentType: "text/html; charset=utf-8", body: Array(Page.html.utf8),
                             extra: [HTTPField("Cache-Control", "no-cache")]))
        case .refuse(let status, let message, let allow):
            respond(Router.refusal(status: status, message: message, allow: allow))
        }
    }

    /// The client waits for `100 Continue` before sending the body: it gets it, or at once the final
    /// answer the body would not change (401, 403, 404, 405), and the connection closes unread.
    func continueOrRefuse(_ head: HTTPRequestHead) {
        guard case .refuse(let status, let message, let allow)? = Router.refusalBeforeBody(head, access: server.options.access) else {
            out += Self.continueResponse
            flush()
            return
        }
        cycle.failed()
        server.stats.responded(status)
        Router.refusal(status: status, message: message, allow: allow).append(to: &out, closing: true, headOnly: false)
        closeAfterWrite = true
        flush()
    }

    static let continueResponse = Array("HTTP/1.1 100 Continue\r\n\r\n".utf8)

    /// Sends one request over a new bus connection; `busEvent` answers when the bus does.
    func ask(_ action: RequestAction, _ request: BusRequest) {
        guard openBus() else {
            if case .ready(let detailed) = action { return respondReady(routes: nil, problem: "route's bus is unreachable", detailed: detailed) }
            return respond(Router.unreachable(action))
        }
        sendBus(request)
        call = action
    }

    /// The bus answered `action`'s request.
    func answer(_ action: RequestAction, _ reply: BusReply) {
        switch action {
        case .health: respond(Router.healthy)
        case .api(let request): respond(Router.answer(request, reply).response)
        case .ready(let detailed):
            switch reply {
            case .routes(let routes): respondReady(routes: routes, problem: nil, detailed: detailed)
            case .failed(let error): respondReady(routes: nil, problem: "route's bus answered: \(error.message)", detailed: detailed)
            case .ok, .route: respondReady(routes: [], problem: nil, detailed: detailed)
            }
        case .stream, .streamHead, .page, .refuse, .metrics: break
        }
    }

    /// `/ready`'s answer, with emit-syslog's health file as it is now; a stage down is the problem first.
    func respondReady(routes: [JSONValue]?, problem: String?, detailed: Bool) {
        let health = server.stageFiles.read(StageFiles.health)?.bytes
        let problem = server.stageFiles.liveness() ?? problem
        respond(ReadyReport.response(routes: routes, health: health, problem: problem, detailed: detailed))
    }

    // MARK: - Responses

    /// Writes a response to the current request and goes on with the next (or closes).
    func respond(_ response: Response, close: Bool = false) {
        if close { cycle.closesAfterResponse() }
        server.stats.responded(response.status)
        response.append(to: &out, closing: !cycle.keepAlive, headOnly: cycle.head?.method == "HEAD")
        flush()
        requestDone()
    }

    /// A request that cannot be served (malformed, or late): answer and close the connection.
    func respondError(_ status: Int, _ message: String) {
        cycle.failed()
        server.stats.responded(status)
        JSONResponse.error(status, message).response.append(to: &out, closing: true, headOnly: false)
        closeAfterWrite = true
        flush()
    }

    // MARK: - Streams

    func startStream(_ head: HTTPRequestHead, _ request: StreamRequest, _ mode: StreamMode) {
        let streams = server.fanOut.streams.count
        guard streams < server.options.maxStreams else {
            server.stats.streamsRefused &+= 1
            return respond(JSONResponse.error(503, "too many live streams (\(streams)): try again later").response, close: true)
        }
        switch StreamSession.start(head, request, mode) {
        case .failure(let refusal):
            respond(Response(refusal.status, contentType: "text/plain; charset=utf-8", body: Array((refusal.message + "\n").utf8),
                             extra: refusal.headers), close: true)
        case .success(let (session, responseHead)):
            streamFilter = request.filter
            guard server.fanOut.join(self, request.filter) else { return respond(Router.unreachable(.stream(request, mode))) }
            streaming = true
            server.stats.responded(mode == .websocket ? 101 : 200)
            out += responseHead
            stream = session
            cycle.startStream(pingInterval: mode.pingInterval, now: Sys.monotonicNanos())
            armTimer()
            flush()
        }
    }

    /// The stream's end (route went away): the last chunk or close frame, then the connection closes.
    func endStream() {
        streaming = false
        matchByTag = []
        stream?.end(into: &out)
        closeAfterWrite = true
        flush()
    }

    // MARK: - The timer

    func timerFired(_ now: UInt64) {
        let expiry = cycle.expired(now: now)
        armTimer()
        switch expiry {
        case .ping:
            if stream?.ping(into: &out) == true { flush() }
        case .requestTimeout(let message):
            respondError(408, message)
        case .close:
            close()
        }
    }
}
