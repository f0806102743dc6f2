import Contract
import HTTP
import JSON
import Records

extension StreamMode {
    /// The response's `Content-Type`.
    var contentType: String {
        switch self {
        case .text: "text/plain; charset=utf-8"
        case .json: "application/x-ndjson"
        case .sse: "text/event-stream"
        case .websocket: "application/json"
        }
    }

    /// How often a keep-alive ping goes out, in nanoseconds (SSE and WebSocket send one; text and JSON
    /// streams only wait).
    var pingInterval: UInt64 {
        self == .websocket ? 30_000_000_000 : 5_000_000_000
    }
}

/// A live stream's bytes, apart from the socket (docs/http.md): the response head, each line of the bus's
/// stream framed in the stream's form (text, JSON lines, SSE, WebSocket), the missed-lines notice,
/// keep-alive pings and the end. What the lines of one read make goes out together: one chunk.
struct StreamSession {
    let mode: StreamMode
    /// HTTP/1.1 clients get a chunked body; HTTP/1.0 clients a body ended by the close.
    let chunked: Bool
    private(set) var layout: TextLayout
    private var decoder = RecordDecoder()
    /// The WebSocket side, for a WebSocket stream.
    private(set) var websocket: WebSocketSession?
    /// What the lines of the current read make, framed when the read is done.
    private(set) var batch: [UInt8] = []
    private var json: [UInt8] = []

    /// A stream for `request` in `mode`, and its response head (the 101 for a WebSocket); a WebSocket
    /// upgrade that cannot be accepted is refused.
    static func start(_ head: HTTPRequestHead, _ request: StreamRequest, _ mode: StreamMode)
        -> Result<(StreamSession, [UInt8]), WebSocketSession.Refusal>
    {
        let layout = TextLayout(colors: request.colors, bare: request.single)
        if mode == .websocket {
            switch WebSocketSession.handshake(head) {
            case .failure(let refusal): return .failure(refusal)
            case .success(let response):
                return .success((StreamSession(mode: mode, chunked: false, layout: layout, websocket: WebSocketSession()), response))
            }
        }
        // Headers at once, not after the first line; HTTP/1.0 clients get a body ended by the close.
        let chunked = head.versionMinor >= 1
        var headers: [(String, String)] = [("Content-Type", mode.contentType), ("Cache-Control", "no-cache")]
        if chunked { headers.append(("Transfer-Encoding", "chunked")) } else { headers.append(("Connection", "close")) }
        if mode == .sse { headers.append(("X-Accel-Buffering", "no")) }
        return .success((StreamSession(mode: mode, chunked: chunked, layout: layout, websocket: nil),
                         serializeResponseHead(status: 200, headers: headers)))
    }

    init(mode: StreamMode, chunked: Bool, layout: TextLayout, websocket: WebSocketSession?) {
        self.mode = mode
        self.chunked = chunked
        self.layout = layout
        self.websocket = websocket
    }

    /// A line of the subscription's stream: a record, or a `{"missed":N}` notice (anything else is
    /// ignored).
    mutating func take(_ line: UnsafeRawBufferPointer) {
        do {
            let record = try decoder.decode(line: line)
            append(record)
        } catch {
            if let n = BusStream.missed(line) { missed(n) }
        }
    }

    /// Adds a record to the batch, in the stream's form.
    mutating func append(_ record: Record) {
        switch mode {
        case .text:
            layout.append(record, to: &batch)
        case .json:
            appendStreamJSON(record, to: &batch)
            batch.append(10)
        case .sse:
            batch.append(contentsOf: "data: ".utf8)
            appendStreamJSON(record, to: &batch)
            batch.append(contentsOf: "\n\n".utf8)
        case .websocket:
            json.removeAll(keepingCapacity: true)
            appendStreamJSON(record, to: &json)
            websocket?.appendText(json, to: &batch)
        }
    }

    /// Adds the notice of `n` records dropped because the client read too slowly.
    mutating func missed(_ n: Int) {
        switch mode {
        case .text:
            batch.append(contentsOf: TextLayout.missedLine(n).utf8)
        case .json:
            batch.append(contentsOf: "{\"missed\":\(n)}\n".utf8)
        case .sse:
            batch.append(contentsOf: "data: {\"missed\":\(n)}\n\n".utf8)
        case .websocket:
            websocket?.appendText(Array("{\"missed\":\(n)}".utf8), to: &batch)
        }
    }

    /// Appends the batch to `out`, framed (one chunk), and empties it; false when there was nothing.
    mutating func finishBatch(into out: inout [UInt8]) -> Bool {
        guard !batch.isEmpty else { return false }
        if chunked { appendChunk(batch, to: &out) } else { out += batch }
        // A large record's room is given back.
        batch.removeAll(keepingCapacity: batch.capacity <= 1 << 16)
        if json.capacity > 1 << 16 { json = [] }
        return true
    }

    /// The keep-alive ping, for SSE (a comment) and WebSocket (a ping frame); false when the stream's
    /// form has none (nothing to write).
    mutating func ping(into out: inout [UInt8]) -> Bool {
        switch mode {
        case .sse:
            batch.append(contentsOf: ": ping\n\n".utf8)
            _ = finishBatch(into: &out)
            return true
        case .websocket:
            websocket?.appendPing(to: &out)
            return true
        case .text, .json:
            return false
        }
    }

    /// The stream's end (route went away): a WebSocket's close frame, or a chunked body's last chunk.
    mutating func end(into out: inout [UInt8]) {
        if websocket != nil {
            websocket?.appendClose(code: 1001, reason: "the log source went away", to: &out)
        } else if chunked {
            appendLastChunk(to: &out)
        }
    }

    /// Bytes from a WebSocket client (none is expected from an HTTP stream's client).
    mutating func receive(_ bytes: UnsafeRawBufferPointer) -> WebSocketSession.Action {
        websocket?.receive(bytes) ?? .write([])
    }
}
