import Contract
import HTTP
import JSON
import Records
import Syscall

/// The subscription a `/logs…` path and query ask for (docs/http.md).
struct StreamRequest: Equatable {
    var filter = SubscriptionFilter()
    /// `/logs/id:…` and `/logs/name:…` stream one container: bare lines in text mode.
    var single = false
    var colors = true

    /// Reads `/logs`, `/logs/filter:X`, `/logs/id:X`, `/logs/name:X` and `?types=`/`sources=`/`type=`,
    /// `?colors=off`. Returns nil with a message for anything else.
    static func parse(_ head: HTTPRequestHead) -> Result<StreamRequest, StreamRequestError> {
        var r = StreamRequest()
        let rest = head.path.dropFirst("/logs".count)
        if !rest.isEmpty && rest != "/" {
            let spec = rest.dropFirst()
            guard let colon = spec.firstIndex(of: ":") else {
                return .failure(StreamRequestError("unknown stream '\(spec)': use /logs, /logs/filter:TEXT, /logs/id:ID or /logs/name:NAME"))
            }
            let kind = spec[..<colon]
            guard let value = percentDecode(spec[spec.index(after: colon)...]), !value.isEmpty else {
                return .failure(StreamRequestError("empty or badly encoded value in '\(spec)'"))
            }
            switch kind {
            case "filter": r.filter.substring = value
            case "id":
                r.filter.id = value
                r.single = true
            case "name":
                r.filter.name = value
                r.single = true
            default:
                return .failure(StreamRequestError("unknown stream '\(kind):': use filter:, id: or name:"))
            }
        }
        let types = head.queryValue("types") ?? head.queryValue("sources") ?? head.queryValue("type")
        if let types, !types.isEmpty {
            var set = Set<Source>()
            for t in types.split(separator: ",") {
                guard let source = Source(name: t.lowercased()) else {
                    return .failure(StreamRequestError("types must be stdout, stderr or both, not '\(t)'"))
                }
                set.insert(source)
            }
            r.filter.types = set.isEmpty ? nil : set
        }
        if let c = head.queryValue("colors")?.lowercased(), ["off", "false", "0", "no"].contains(c) { r.colors = false }
        return .success(r)
    }
}

struct StreamRequestError: Error {
    var message: String
    init(_ m: String) { message = m }
}

extension Client {
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
        _ = try? Sys.writeAll(bus, request.line())
    }

    func closeBus() {
        busAnswer = nil
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
            busIn.append(contentsOf: buffer[0..<n])
            if n < buffer.count { break }
        }
        var start = 0
        let bytes = busIn
        while !closed, bus >= 0, let nl = bytes[start...].firstIndex(of: 10) {
            let line = bytes[start..<nl]
            start = nl + 1
            busLine(line)
        }
        if start > 0 { busIn.removeFirst(min(start, busIn.count)) }
        if stream != nil { finishChunkBatch() }
        if ended && !closed {
            // route went away (restarting): end the response; the client reconnects.
            if stream != nil {
                endStream()
            } else if busAnswer != nil {
                closeBus()
                respondJSONError(503, "route's bus closed the connection")
            }
        }
    }

    func busLine(_ line: ArraySlice<UInt8>) {
        if let answer = busAnswer {
            busAnswer = nil
            answer(BusReply(line: line))
            return
        }
        guard stream != nil else { return }
        if !subscribed {
            subscribed = true  // {"ok":true}
            return
        }
        do {
            let record = try Array(line).withUnsafeBufferPointer { try decoder.decode(line: UnsafeRawBufferPointer($0)) }
            write(record)
        } catch {
            if let n = BusStream.missed(line) { missed(n) }
        }
    }

    // MARK: - Streams

    func startStream(_ head: HTTPRequestHead) {
        let request: StreamRequest
        switch StreamRequest.parse(head) {
        case .success(let r): request = r
        case .failure(let e): return respondJSONError(400, e.message)
        }
        let accept = head.header("Accept") ?? ""
        let mode: StreamMode
        if head.isWebSocketUpgrade {
            mode = .websocket
        } else if accept.contains("text/event-stream") {
            mode = .sse
        } else if accept.contains("application/json") || accept.contains("application/x-ndjson") {
            mode = .json
        } else {
            mode = .text(colors: request.colors)
        }
        if head.method == "HEAD" {
            return respond(200, contentType: contentType(mode), body: [])
        }
        guard openBus() else { return respondJSONError(503, "route's bus is unreachable") }
        if mode == .websocket {
            switch WebSocketSession.handshake(head) {
            case .failure(let refusal):
                closeBus()
                return respond(refusal.status, contentType: "text/plain; charset=utf-8", body: Array((refusal.message + "\n").utf8),
                               extra: refusal.headers, close: true)
            case .success(let response):
                out += response
                ws = WebSocketSession()
            }
        } else {
            // Headers at once, not after the first line; HTTP/1.0 clients get a body ended by the close.
            chunked = head.versionMinor >= 1
            var headers: [(String, String)] = [("Content-Type", contentType(mode)), ("Cache-Control", "no-cache")]
            if chunked { headers.append(("Transfer-Encoding", "chunked")) } else { headers.append(("Connection", "close")) }
            if mode == .sse { headers.append(("X-Accel-Buffering", "no")) }
            out += serializeResponseHead(status: 200, headers: headers)
            keepAlive = false
        }
        stream = mode
        layout = TextLayout(colors: request.colors, bare: request.single)
        sendBus(.subscribe(request.filter))
        deadline = Sys.monotonicNanos() + Self.pingInterval(mode)
        flush()
    }

    static func pingInterval(_ mode: StreamMode) -> UInt64 {
        mode == .websocket ? 30_000_000_000 : 5_000_000_000
    }

    func contentType(_ mode: StreamMode) -> String {
        switch mode {
        case .text: return "text/plain; charset=utf-8"
        case .json: return "application/x-ndjson"
        case .sse: return "text/event-stream"
        case .websocket: return "application/json"
        }
    }

    /// Bytes of the current batch of records, framed as one chunk when the batch ends.
    func write(_ record: Record) {
        switch stream {
        case .text?:
            layout.append(record, to: &batch)
        case .json?:
            appendStreamJSON(record, to: &batch)
            batch.append(10)
        case .sse?:
            batch.append(contentsOf: "data: ".utf8)
            appendStreamJSON(record, to: &batch)
            batch.append(contentsOf: "\n\n".utf8)
        case .websocket?:
            var json: [UInt8] = []
            appendStreamJSON(record, to: &json)
            ws?.appendText(json, to: &batch)
        case nil:
            break
        }
    }

    func missed(_ n: Int) {
        switch stream {
        case .text?:
            batch.append(contentsOf: TextLayout.missedLine(n).utf8)
        case .json?:
            batch.append(contentsOf: "{\"missed\":\(n)}\n".utf8)
        case .sse?:
            batch.append(contentsOf: "data: {\"missed\":\(n)}\n\n".utf8)
        case .websocket?:
            ws?.appendText(Array("{\"missed\":\(n)}".utf8), to: &batch)
        case nil:
            break
        }
    }

    /// Frames what the records of one read made, and writes it.
    func finishChunkBatch() {
        guard !batch.isEmpty else { return }
        if chunked { appendChunk(batch, to: &out) } else { out += batch }
        batch.removeAll(keepingCapacity: true)
        flush()
    }

    func keepAlivePing(_ now: UInt64) {
        guard let mode = stream else { return }
        deadline = now + Self.pingInterval(mode)
        switch mode {
        case .sse:
            batch.append(contentsOf: ": ping\n\n".utf8)
            finishChunkBatch()
        case .websocket:
            ws?.appendPing(to: &out)
            flush()
        default:
            break
        }
    }

    /// The stream's end (route went away): the last chunk, then the connection closes.
    func endStream() {
        closeBus()
        if ws != nil {
            ws?.appendClose(code: 1001, reason: "the log source went away", to: &out)
        } else if chunked {
            appendLastChunk(to: &out)
        }
        closeAfterWrite = true
        flush()
    }
}
