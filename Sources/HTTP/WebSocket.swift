import Text
// The WebSocket protocol (RFC 6455), server side: the opening handshake's checks and 101 response, an
// incremental frame decoder for what clients send (masked frames, fragmented messages, control frames)
// and an encoder for what the server sends (unmasked frames). No extensions are negotiated, so every RSV
// bit must be zero.

/// A frame's opcode (RFC 6455 §5.2, §11.8).
public enum WebSocketOpcode: UInt8, Sendable {
    case continuation = 0x0
    case text = 0x1
    case binary = 0x2
    case close = 0x8
    case ping = 0x9
    case pong = 0xA

    /// Close, ping and pong: at most 125 bytes, never fragmented (RFC 6455 §5.5).
    public var isControl: Bool { rawValue & 0x8 != 0 }
}

/// Close status codes this side sends (RFC 6455 §7.4.1).
public enum WebSocketCloseCode {
    public static let normalClosure: UInt16 = 1000
    public static let goingAway: UInt16 = 1001
    public static let protocolError: UInt16 = 1002
    public static let unsupportedData: UInt16 = 1003
    public static let invalidPayload: UInt16 = 1007
    public static let policyViolation: UInt16 = 1008
    public static let messageTooBig: UInt16 = 1009
    public static let internalError: UInt16 = 1011

    /// Whether a peer may send `code` in a Close frame (RFC 6455 §7.4; 1012–1014 from the IANA registry,
    /// §11.7): 1000–1003, 1007–1014, 3000–4999. 1004–1006 and 1015 are reserved, never sent.
    public static func isValidReceived(_ code: UInt16) -> Bool {
        switch code {
        case 1000...1003, 1007...1014, 3000...4999: return true
        default: return false
        }
    }
}

// MARK: The opening handshake (RFC 6455 §4.2)

/// The GUID concatenated with the client's key (RFC 6455 §1.3).
private let webSocketGUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"

/// The Sec-WebSocket-Accept value for a Sec-WebSocket-Key (RFC 6455 §4.2.2): base64(SHA-1(key + GUID)).
public func webSocketAccept(key: String) -> String {
    Base64.encode(SHA1.hash(Array((key + webSocketGUID).utf8)))
}

/// Why an opening handshake was refused: the status to answer with (400, or 426 for an unsupported
/// version), the header fields that answer must carry, and a message (RFC 6455 §4.2.1, §4.4).
public struct WebSocketHandshakeError: Error, Sendable, Equatable, CustomStringConvertible {
    public var status: Int
    public var headers: [HTTPField]
    public var message: String

    public init(status: Int, headers: [HTTPField] = [], message: String) {
        self.status = status
        self.headers = headers
        self.message = message
    }

    public var description: String { "\(status) \(message)" }

}

/// Checks a WebSocket opening handshake (RFC 6455 §4.2.1) and returns the 101 response that accepts it
/// (§4.2.2), with `headers` added (a chosen Sec-WebSocket-Protocol, say).
public func webSocketHandshakeResponse(to head: HTTPRequestHead, headers: [(String, String)] = []) throws(WebSocketHandshakeError) -> [UInt8] {
    func refuse(_ message: String) -> WebSocketHandshakeError { WebSocketHandshakeError(status: 400, message: message) }
    guard head.method == "GET" else { throw refuse("a WebSocket handshake must be a GET") }
    guard head.versionMinor >= 1 else { throw refuse("a WebSocket handshake needs HTTP/1.1") }
    guard head.headerTokens("Upgrade").contains("websocket") else { throw refuse("Upgrade: websocket missing") }
    guard head.headerTokens("Connection").contains("upgrade") else { throw refuse("Connection: Upgrade missing") }
    let versions = head.headerValues("Sec-WebSocket-Version")
    guard versions.count == 1, versions[0] == "13" else {
        throw WebSocketHandshakeError(status: 426, headers: [HTTPField("Sec-WebSocket-Version", "13")],
                                      message: "only WebSocket version 13 is supported")
    }
    let keys = head.headerValues("Sec-WebSocket-Key")
    guard keys.count == 1, Base64.decode(keys[0])?.count == 16 else {
        throw refuse("Sec-WebSocket-Key must be the base64 of 16 bytes")
    }
    return serializeResponseHead(status: 101, headers: [
        ("Upgrade", "websocket"),
        ("Connection", "Upgrade"),
        ("Sec-WebSocket-Accept", webSocketAccept(key: keys[0])),
    ] + headers)
}

// MARK: Decoding frames (RFC 6455 §5)

/// What the decoder found in the bytes it was fed.
public enum WebSocketEvent: Sendable, Equatable {
    /// A whole data message (reassembled from its fragments): `.text` (checked to be UTF-8) or `.binary`.
    case message(opcode: WebSocketOpcode, payload: [UInt8])
    /// A ping; the answer is a pong with the same payload (RFC 6455 §5.5.2).
    case ping([UInt8])
    /// A pong (RFC 6455 §5.5.3).
    case pong([UInt8])
    /// A close frame: its status code, if any, and reason (RFC 6455 §5.5.1). Nothing after it is read.
    case close(code: UInt16?, reason: String)
}

/// Why the connection must fail (RFC 6455 §7.1.7): the close code to send (1002 protocol error, 1007
/// invalid UTF-8, 1009 message too big) and a message.
public struct WebSocketError: Error, Sendable, Equatable, CustomStringConvertible {
    public var closeCode: UInt16
    public var message: String

    public init(closeCode: UInt16, message: String) {
        self.closeCode = closeCode
        self.message = message
    }

    public var description: String { "WebSocket error \(closeCode): \(message)" }
}

/// The incremental frame decoder (RFC 6455 §5): fed bytes in pieces of any size, it reports messages,
/// pings, pongs and the close frame, and stops reading after the close. Once it has thrown, it throws
/// the same error again.
public struct WebSocketFrameDecoder {
    enum State: Equatable {
        case header
        case payload(remaining: Int)
        case closed
        case failed(WebSocketError)
    }

    /// The largest message, all fragments together; larger is an error with close code 1009.
    public let maxMessageBytes: Int
    /// Whether frames must be masked (sent by a client, the default) or must not be (sent by a server)
    /// (RFC 6455 §5.1).
    public let expectsMasked: Bool

    var state: State = .header
    /// The current frame's header bytes, and how many it has (2 to 14, known after the first two).
    var header: [UInt8] = []
    var lengthEnd = 2
    var headerLength = 2
    var payloadLength = 0
    /// The current frame.
    var fin = false
    var opcode: WebSocketOpcode = .continuation
    var maskKey = InlineArray<4, UInt8>(repeating: 0)
    var maskOffset = 0
    /// The data message being reassembled: its opcode (nil between messages), payload, and UTF-8 state.
    var messageOpcode: WebSocketOpcode?
    var message: [UInt8] = []
    var utf8 = UTF8Validator()
    /// The current control frame's payload.
    var control: [UInt8] = []

    public init(maxMessageBytes: Int = 1024 * 1024, expectsMasked: Bool = true) {
        self.maxMessageBytes = maxMessageBytes
        self.expectsMasked = expectsMasked
        header.reserveCapacity(14)
    }

    /// Whether a close frame has been read; later bytes are ignored (RFC 6455 §5.5.1).
    public var isClosed: Bool { state == .closed }

    /// Decodes `bytes` (RFC 6455 §5.2–§5.6), calling `handler` for each event.
    public mutating func feed(_ bytes: UnsafeRawBufferPointer, _ handler: (WebSocketEvent) -> Void) throws(WebSocketError) {
        if case .failed(let error) = state { throw error }
        do throws(WebSocketError) {
            try decode(bytes, handler)
        } catch {
            state = .failed(error)
            throw error
        }
    }

    private mutating func decode(_ bytes: UnsafeRawBufferPointer, _ handler: (WebSocketEvent) -> Void) throws(WebSocketError) {
        var i = 0
        let n = bytes.count
        while i < n {
            switch state {
            case .header:
                header.append(bytes[i])
                i += 1
                if header.count == 2 { try startHeader() }
                if header.count == lengthEnd { try readLength() }
                if header.count == headerLength { try endHeader(handler) }
            case .payload(let remaining):
                let take = min(remaining, n - i)
                let piece = UnsafeRawBufferPointer(rebasing: bytes[i..<i + take])
                if opcode.isControl {
                    Self.appendUnmasked(piece, key: maskKey, masked: expectsMasked, offset: maskOffset, to: &control)
                } else {
                    let start = message.count
                    Self.appendUnmasked(piece, key: maskKey, masked: expectsMasked, offset: maskOffset, to: &message)
                    if messageOpcode == .text && !utf8.consume(message[start...]) {
                        throw WebSocketError(closeCode: WebSocketCloseCode.invalidPayload, message: "text message is not UTF-8")
                    }
                }
                maskOffset += take
                i += take
                if take == remaining {
                    try endFrame(handler)
                } else {
                    state = .payload(remaining: remaining - take)
                }
            case .closed:
                return
            case .failed(let error):
                throw error
            }
        }
    }

    /// The first two bytes: FIN, RSV, opcode, MASK, the 7-bit length (RFC 6455 §5.2), checked at once.
    private mutating func startHeader() throws(WebSocketError) {
        let b0 = header[0], b1 = header[1]
        func fail(_ message: String) -> WebSocketError { WebSocketError(closeCode: WebSocketCloseCode.protocolError, message: message) }
        guard b0 & 0x70 == 0 else { throw fail("reserved bits set without an extension") }
        guard let op = WebSocketOpcode(rawValue: b0 & 0x0F) else { throw fail("unknown opcode \(b0 & 0x0F)") }
        fin = b0 & 0x80 != 0
        opcode = op
        let masked = b1 & 0x80 != 0
        guard masked == expectsMasked else { throw fail(expectsMasked ? "client frame not masked" : "server frame masked") }
        let length7 = b1 & 0x7F
        if op.isControl {
            guard fin else { throw fail("fragmented control frame") }
        } else if op == .continuation {
            guard messageOpcode != nil else { throw fail("continuation frame without a message to continue") }
        } else {
            guard messageOpcode == nil else { throw fail("new message before the last one's final fragment") }
        }
        lengthEnd = 2 + (length7 == 126 ? 2 : length7 == 127 ? 8 : 0)
        headerLength = lengthEnd + (masked ? 4 : 0)
    }

    /// The payload length (7 bits, or 16 or 64 more), checked against the limits before the payload comes.
    private mutating func readLength() throws(WebSocketError) {
        var length = UInt64(header[1] & 0x7F)
        if lengthEnd > 2 {
            length = 0
            for k in 2..<lengthEnd { length = length << 8 | UInt64(header[k]) }
            guard length >> 63 == 0 else {
                throw WebSocketError(closeCode: WebSocketCloseCode.protocolError, message: "64-bit payload length with the top bit set")
            }
        }
        if opcode.isControl {
            guard length <= 125 else {
                throw WebSocketError(closeCode: WebSocketCloseCode.protocolError, message: "control frame payload over 125 bytes")
            }
        } else {
            guard length <= UInt64(maxMessageBytes - message.count) else {
                throw WebSocketError(closeCode: WebSocketCloseCode.messageTooBig, message: "message over \(maxMessageBytes) bytes")
            }
        }
        payloadLength = Int(length)
    }

    /// The whole header: takes the masking key and starts the payload.
    private mutating func endHeader(_ handler: (WebSocketEvent) -> Void) throws(WebSocketError) {
        if expectsMasked {
            for j in 0..<4 { maskKey[j] = header[lengthEnd + j] }
        }
        header.removeAll(keepingCapacity: true)
        lengthEnd = 2
        headerLength = 2
        maskOffset = 0
        if !opcode.isControl && opcode != .continuation {
            messageOpcode = opcode
            utf8 = UTF8Validator()
        }
        if payloadLength == 0 {
            try endFrame(handler)
        } else {
            state = .payload(remaining: payloadLength)
        }
    }

    private mutating func endFrame(_ handler: (WebSocketEvent) -> Void) throws(WebSocketError) {
        state = .header
        switch opcode {
        case .ping:
            let payload = control
            control = []
            handler(.ping(payload))
        case .pong:
            let payload = control
            control = []
            handler(.pong(payload))
        case .close:
            let (code, reason) = try Self.parseClose(control)
            control = []
            state = .closed
            handler(.close(code: code, reason: reason))
        case .text, .binary, .continuation:
            guard fin, let op = messageOpcode else { return }
            if op == .text && !utf8.isAtBoundary {
                throw WebSocketError(closeCode: WebSocketCloseCode.invalidPayload, message: "text message ends inside a UTF-8 sequence")
            }
            let payload = message
            message = []
            messageOpcode = nil
            handler(.message(opcode: op, payload: payload))
        }
    }

    /// A close frame's body: nothing, or a 2-byte code and a UTF-8 reason (RFC 6455 §5.5.1, §7.4).
    static func parseClose(_ payload: [UInt8]) throws(WebSocketError) -> (UInt16?, String) {
        if payload.isEmpty { return (nil, "") }
        guard payload.count >= 2 else {
            throw WebSocketError(closeCode: WebSocketCloseCode.protocolError, message: "close frame with a 1-byte payload")
        }
        let code = UInt16(payload[0]) << 8 | UInt16(payload[1])
        guard WebSocketCloseCode.isValidReceived(code) else {
            throw WebSocketError(closeCode: WebSocketCloseCode.protocolError, message: "invalid close code \(code)")
        }
        let reason = payload[2...]
        guard UTF8Rules.isValid(reason) else {
            throw WebSocketError(closeCode: WebSocketCloseCode.invalidPayload, message: "close reason is not UTF-8")
        }
        return (code, String(decoding: reason, as: UTF8.self))
    }

    /// Appends `piece`, unmasked with `key` from payload position `offset` when `masked` (RFC 6455 §5.3).
    private static func appendUnmasked(_ piece: UnsafeRawBufferPointer, key: InlineArray<4, UInt8>, masked: Bool, offset: Int,
                                       to out: inout [UInt8]) {
        guard masked else {
            out.append(contentsOf: piece)
            return
        }
        out.reserveCapacity(out.count + piece.count)
        for (j, b) in piece.enumerated() {
            out.append(b ^ key[(offset + j) & 3])
        }
    }
}

// MARK: Encoding frames (RFC 6455 §5.2)

/// Server frames (RFC 6455 §5.2): unmasked, with the shortest length encoding, appended to an output buffer.
public enum WebSocketFrameEncoder {
    /// Appends one frame: FIN and opcode, the 7-, 16- or 64-bit length, the payload (RFC 6455 §5.2).
    /// Control frames must be final and at most 125 bytes (§5.5).
    public static func appendFrame(_ opcode: WebSocketOpcode, payload: some Collection<UInt8>, fin: Bool = true,
                                   to out: inout [UInt8]) {
        let n = payload.count
        precondition(!opcode.isControl || (fin && n <= 125), "control frames are final and at most 125 bytes")
        out.append((fin ? 0x80 : 0) | opcode.rawValue)
        if n <= 125 {
            out.append(UInt8(n))
        } else if n <= 0xFFFF {
            out.append(126)
            out.append(UInt8(n >> 8))
            out.append(UInt8(n & 0xFF))
        } else {
            out.append(127)
            for shift in stride(from: 56, through: 0, by: -8) { out.append(UInt8(truncatingIfNeeded: n >> shift)) }
        }
        out.append(contentsOf: payload)
    }

    /// Appends a text message in one frame (RFC 6455 §5.6).
    public static func appendText(_ text: String, to out: inout [UInt8]) {
        appendFrame(.text, payload: text.utf8, to: &out)
    }

    /// Appends a text message in one frame from bytes the caller knows are UTF-8, such as a JSON line (RFC 6455 §5.6).
    public static func appendText(utf8 bytes: some Collection<UInt8>, to out: inout [UInt8]) {
        appendFrame(.text, payload: bytes, to: &out)
    }

    /// Appends a binary message in one frame (RFC 6455 §5.6).
    public static func appendBinary(_ bytes: some Collection<UInt8>, to out: inout [UInt8]) {
        appendFrame(.binary, payload: bytes, to: &out)
    }

    /// Appends a ping, payload at most 125 bytes (RFC 6455 §5.5.2).
    public static func appendPing(_ payload: [UInt8] = [], to out: inout [UInt8]) {
        appendFrame(.ping, payload: payload, to: &out)
    }

    /// Appends a pong, echoing a ping's payload (RFC 6455 §5.5.3).
    public static func appendPong(_ payload: [UInt8] = [], to out: inout [UInt8]) {
        appendFrame(.pong, payload: payload, to: &out)
    }

    /// Appends a close frame (RFC 6455 §5.5.1): no body when `code` is nil (the reason is then dropped), else
    /// the code and the reason, cut on a character boundary to fit the 125-byte limit.
    public static func appendClose(code: UInt16? = nil, reason: String = "", to out: inout [UInt8]) {
        guard let code else {
            appendFrame(.close, payload: EmptyCollection(), to: &out)
            return
        }
        var payload: [UInt8] = [UInt8(code >> 8), UInt8(code & 0xFF)]
        for scalar in reason.unicodeScalars {
            let encoded = Array(String(scalar).utf8)
            if payload.count + encoded.count > 125 { break }
            payload.append(contentsOf: encoded)
        }
        appendFrame(.close, payload: payload, to: &out)
    }
}
