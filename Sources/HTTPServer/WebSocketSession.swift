import HTTP

/// A live stream's WebSocket side (RFC 6455), apart from the socket: one text frame of JSON per record;
/// the client's pings are answered, its close is answered and ends the connection, anything it says
/// otherwise is ignored. Bytes from the client in, what to write (and whether to close) out.
struct WebSocketSession {
    enum State: Equatable {
        /// Frames flow both ways.
        case open
        /// Our close frame is out (an answer to the client's, an error, or the stream's end): nothing more
        /// is sent.
        case closing
    }

    /// What the connection does with what the client sent.
    enum Action: Equatable {
        /// Writes these bytes (pongs; perhaps none).
        case write([UInt8])
        /// Writes these bytes (the close frame, unless one went out before), then ends the stream and
        /// closes the connection.
        case writeAndClose([UInt8])
    }

    /// Why an upgrade request is refused.
    struct Refusal: Error, Equatable {
        var status: Int
        var message: String
        var headers: [HTTPField]
    }

    private(set) var state = State.open
    /// Client messages are small (we expect none): a larger one is a policy matter (1009).
    private var decoder = WebSocketFrameDecoder(maxMessageBytes: 64 * 1024)

    /// The 101 response for a valid upgrade request, or why not (426 with the version we speak, 400).
    static func handshake(_ head: HTTPRequestHead) -> Result<[UInt8], Refusal> {
        do {
            return .success(try webSocketHandshakeResponse(to: head))
        } catch {
            return .failure(Refusal(status: error.status, message: error.message, headers: error.headers))
        }
    }

    /// Appends a text frame (a record's JSON) while open.
    func appendText(_ json: [UInt8], to out: inout [UInt8]) {
        guard state == .open else { return }
        WebSocketFrameEncoder.appendText(utf8: json, to: &out)
    }

    /// Appends a keep-alive ping while open.
    func appendPing(to out: inout [UInt8]) {
        guard state == .open else { return }
        WebSocketFrameEncoder.appendPing(to: &out)
    }

    /// Appends our close frame, once.
    mutating func appendClose(code: UInt16, reason: String, to out: inout [UInt8]) {
        guard state == .open else { return }
        state = .closing
        WebSocketFrameEncoder.appendClose(code: code, reason: reason, to: &out)
    }

    /// Bytes from the client.
    mutating func receive(_ bytes: UnsafeRawBufferPointer) -> Action {
        var replies: [UInt8] = []
        var closeRequested = false
        var state = self.state
        do throws(WebSocketError) {
            try decoder.feed(bytes) { event in
                switch event {
                case .ping(let payload):
                    WebSocketFrameEncoder.appendPong(payload, to: &replies)
                case .close(let code, _):
                    closeRequested = true
                    if state == .open {
                        state = .closing
                        WebSocketFrameEncoder.appendClose(code: code == nil ? nil : WebSocketCloseCode.normalClosure, to: &replies)
                    }
                case .pong, .message:
                    break
                }
            }
        } catch {
            if state == .open {
                state = .closing
                WebSocketFrameEncoder.appendClose(code: error.closeCode, reason: error.message, to: &replies)
            }
            closeRequested = true
        }
        self.state = state
        return closeRequested ? .writeAndClose(replies) : .write(replies)
    }
}
