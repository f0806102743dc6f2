import FuzzSupport
import HTTP

/// What the frame decoder saw, to compare the input fed whole with the same input fed in pieces.
struct Seen: Equatable {
    var events: [WebSocketEvent] = []
    var error: WebSocketError?
    var closed = false
}

func decode(_ input: UnsafeRawBufferPointer, piece: Int, maxMessage: Int, masked: Bool) -> Seen {
    var decoder = WebSocketFrameDecoder(maxMessageBytes: maxMessage, expectsMasked: masked)
    var seen = Seen()
    do {
        try inPieces(input, piece) { (bytes) throws(WebSocketError) in
            try decoder.feed(bytes) { event in
                if case .message(let opcode, let payload) = event {
                    precondition(payload.count <= maxMessage, "a message over the limit")
                    if opcode == .text { precondition(String(validating: payload, as: UTF8.self) != nil, "a text message that is not UTF-8") }
                }
                seen.events.append(event)
            }
        }
    } catch {
        precondition(error.closeCode == 1002 || error.closeCode == 1007 || error.closeCode == 1009, "close code \(error.closeCode)")
        seen.error = error
    }
    seen.closed = decoder.isClosed
    return seen
}

/// The first byte chooses the options (masked frames expected, a small message limit); the rest is frames.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    guard let (options, input) = optionsAndInput(data, size) else { return 0 }
    let masked = options & 1 == 0
    let maxMessage = options & 2 != 0 ? 16 : 1024 * 1024
    checkSameInPieces(input) { decode(input, piece: $0, maxMessage: maxMessage, masked: masked) }
    // The encoder's frames decode to what was encoded.
    var frames: [UInt8] = []
    WebSocketFrameEncoder.appendBinary(Array(input), to: &frames)
    WebSocketFrameEncoder.appendPing(Array(input.prefix(125)), to: &frames)
    let back = frames.withUnsafeBytes { decode($0, piece: frames.count, maxMessage: 1 << 20, masked: false) }
    precondition(back.error == nil && back.events == [.message(opcode: .binary, payload: Array(input)), .ping(Array(input.prefix(125)))],
                 "the encoder's frames decode to \(back)")
    return 0
}

@_cdecl("websocket_main")
func main(_ argc: CInt, _ argv: Arguments) -> CInt { runFuzzer(argc, argv, fuzz) }
