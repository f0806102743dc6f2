import HTTP
import Syscall

/// A live stream over WebSocket (RFC 6455): one text frame of JSON per record; the client's pings are
/// answered, its close is answered and ends the connection, anything it says otherwise is ignored.
final class WebSocketSession {
    /// Client messages are small (we expect none): a larger one is a policy matter (1009).
    var decoder = WebSocketFrameDecoder(maxMessageBytes: 64 * 1024)
    var closing = false

    struct Refusal: Error {
        var status: Int
        var message: String
        var headers: [(String, String)]
    }

    /// The 101 response for a valid upgrade request, or why not (426 with the version we speak, 400).
    static func handshake(_ head: HTTPRequestHead) -> Result<[UInt8], Refusal> {
        do {
            return .success(try webSocketHandshakeResponse(to: head))
        } catch {
            return .failure(Refusal(status: error.status, message: error.message, headers: error.headers.map { ($0.name, $0.value) }))
        }
    }

    func appendText(_ json: [UInt8], to out: inout [UInt8]) {
        guard !closing else { return }
        WebSocketFrameEncoder.appendText(utf8: json, to: &out)
    }

    func appendPing(to out: inout [UInt8]) {
        guard !closing else { return }
        WebSocketFrameEncoder.appendPing(to: &out)
    }

    func appendClose(code: UInt16, reason: String, to out: inout [UInt8]) {
        guard !closing else { return }
        closing = true
        WebSocketFrameEncoder.appendClose(code: code, reason: reason, to: &out)
    }

    /// Bytes from the client.
    func receive(_ bytes: ArraySlice<UInt8>, client: Client) {
        var replies: [UInt8] = []
        var closeRequested = false
        do throws(WebSocketError) {
            try withRawBytes(Array(bytes), 0..<bytes.count) { raw throws(WebSocketError) in
                try decoder.feed(raw) { event in
                    switch event {
                    case .ping(let payload):
                        WebSocketFrameEncoder.appendPong(payload, to: &replies)
                    case .close(let code, _):
                        closeRequested = true
                        if !closing {
                            closing = true
                            WebSocketFrameEncoder.appendClose(code: code == nil ? nil : WebSocketCloseCode.normalClosure, to: &replies)
                        }
                    case .pong, .message:
                        break
                    }
                }
            }
        } catch {
            if !closing {
                closing = true
                WebSocketFrameEncoder.appendClose(code: error.closeCode, reason: error.message, to: &replies)
            }
            closeRequested = true
        }
        client.out += replies
        if closeRequested {
            client.closeBus()
            client.closeAfterWrite = true
        }
        client.flush()
    }
}
