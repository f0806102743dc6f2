import Testing
@testable import HTTP

/// A frame as a client sends it: masked with `mask` (nil for none), the length in `lengthBytes` extra
/// bytes (0, 2 or 8; nil for the shortest), RSV bits as given.
func clientFrame(_ opcode: UInt8, _ payload: [UInt8], fin: Bool = true, rsv: UInt8 = 0,
                 mask: [UInt8]? = [0x37, 0xFA, 0x21, 0x3D], lengthBytes: Int? = nil) -> [UInt8] {
    var out: [UInt8] = [(fin ? 0x80 : 0) | rsv << 4 | opcode]
    let n = payload.count
    let extra = lengthBytes ?? (n <= 125 ? 0 : n <= 0xFFFF ? 2 : 8)
    let maskBit: UInt8 = mask == nil ? 0 : 0x80
    switch extra {
    case 0: out.append(maskBit | UInt8(n))
    case 2: out += [maskBit | 126, UInt8(n >> 8), UInt8(n & 0xFF)]
    default:
        out.append(maskBit | 127)
        for shift in stride(from: 56, through: 0, by: -8) { out.append(UInt8(truncatingIfNeeded: n >> shift)) }
    }
    if let mask {
        out += mask
        out += payload.enumerated().map { $0.element ^ mask[$0.offset & 3] }
    } else {
        out += payload
    }
    return out
}

/// Feeds `bytes` whole or in pieces of `step`; returns the events and the error, if any.
func decodeFrames(_ bytes: [UInt8], step: Int? = nil, decoder: WebSocketFrameDecoder = WebSocketFrameDecoder())
    -> (events: [WebSocketEvent], error: WebSocketError?, decoder: WebSocketFrameDecoder)
{
    var decoder = decoder
    var events: [WebSocketEvent] = []
    var i = 0
    let size = max(step ?? bytes.count, 1)
    while i < bytes.count {
        let end = min(bytes.count, i + size)
        let piece = Array(bytes[i..<end])
        let error = piece.withUnsafeBytes { raw -> WebSocketError? in
            do throws(WebSocketError) { try decoder.feed(raw) { events.append($0) }; return nil } catch { return error }
        }
        if let error { return (events, error, decoder) }
        i = end
    }
    return (events, nil, decoder)
}

let frameSteps: [Int?] = [nil, 1, 2, 3, 5, 7]

@Suite("WebSocket handshake (RFC 6455 §4)")
struct WebSocketHandshakeTests {
    static func head(method: String = "GET", minor: Int = 1, _ fields: [(String, String)]) -> HTTPRequestHead {
        HTTPRequestHead(method: method, target: "/logs", versionMinor: minor, headers: fields.map { HTTPField($0.0, $0.1) })
    }

    static let good: [(String, String)] = [
        ("Host", "server.example.com"), ("Upgrade", "websocket"), ("Connection", "Upgrade"),
        ("Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ=="), ("Origin", "http://example.com"), ("Sec-WebSocket-Version", "13"),
    ]

    @Test("the accept value of RFC 6455 §1.3's example")
    func accept() {
        #expect(webSocketAccept(key: "dGhlIHNhbXBsZSBub25jZQ==") == "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=")
    }

    @Test("a valid handshake gets the 101 response, with extra fields after the required ones")
    func accepted() throws {
        let bytes = try webSocketHandshakeResponse(to: Self.head(Self.good))
        #expect(String(decoding: bytes, as: UTF8.self) == "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
            + "Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n\r\n")
        let withProtocol = try webSocketHandshakeResponse(to: Self.head(Self.good), headers: [("Sec-WebSocket-Protocol", "ndjson")])
        #expect(String(decoding: withProtocol, as: UTF8.self).hasSuffix("xOo=\r\nSec-WebSocket-Protocol: ndjson\r\n\r\n"))
    }

    @Test("a handshake parsed off the wire, with token lists in any case")
    func parsed() throws {
        let text = "GET /logs?format=json HTTP/1.1\r\nHost: x\r\nUpgrade: WebSocket\r\nConnection: keep-alive, Upgrade\r\n"
            + "Sec-WebSocket-Key: AAAAAAAAAAAAAAAAAAAAAA==\r\nSec-WebSocket-Version: 13\r\n\r\n"
        let head = try #require(feedRequests(text).requests.first?.head)
        #expect(head.isWebSocketUpgrade)
        let response = String(decoding: try webSocketHandshakeResponse(to: head), as: UTF8.self)
        #expect(response.contains("Sec-WebSocket-Accept: \(webSocketAccept(key: "AAAAAAAAAAAAAAAAAAAAAA=="))\r\n"))
    }

    static func replacing(_ name: String, with value: String?) -> [(String, String)] {
        var fields = good.filter { $0.0 != name }
        if let value { fields.append((name, value)) }
        return fields
    }

    @Test("bad handshakes are refused with 400", arguments: [
        ("method", replacing("Host", with: "x")),
        ("Upgrade", replacing("Upgrade", with: nil)),
        ("Upgrade", replacing("Upgrade", with: "h2c")),
        ("Connection", replacing("Connection", with: "keep-alive")),
        ("Connection", replacing("Connection", with: nil)),
        ("Key", replacing("Sec-WebSocket-Key", with: nil)),
        ("Key", replacing("Sec-WebSocket-Key", with: "AAAA")),
        ("Key", replacing("Sec-WebSocket-Key", with: "not base64 at all!!!!!==")),
        ("Key", replacing("Sec-WebSocket-Key", with: "AAAAAAAAAAAAAAAAAAAAAAA=")),
        ("Key", good + [("Sec-WebSocket-Key", "AAAAAAAAAAAAAAAAAAAAAA==")]),
    ] as [(String, [(String, String)])])
    func refused(what: String, fields: [(String, String)]) {
        let method = what == "method" ? "POST" : "GET"
        #expect(throws: WebSocketHandshakeError.self) { try webSocketHandshakeResponse(to: Self.head(method: method, fields)) }
        do {
            _ = try webSocketHandshakeResponse(to: Self.head(method: method, fields))
        } catch {
            #expect(error.status == 400)
            #expect(error.headers.isEmpty)
        }
    }

    @Test("HTTP/1.0 is refused")
    func http10() {
        #expect(throws: WebSocketHandshakeError.self) { try webSocketHandshakeResponse(to: Self.head(minor: 0, Self.good)) }
    }

    @Test("another version, or none, is 426 naming version 13", arguments: ["8", "12", "14", "13, 8", nil] as [String?])
    func version(value: String?) {
        do {
            _ = try webSocketHandshakeResponse(to: Self.head(Self.replacing("Sec-WebSocket-Version", with: value)))
            Issue.record("accepted version \(value ?? "none")")
        } catch {
            #expect(error.status == 426)
            #expect(error.headers == [HTTPField("Sec-WebSocket-Version", "13")])
        }
    }
}

@Suite("WebSocket frame decoder (RFC 6455 §5)")
struct WebSocketDecoderTests {
    @Test("RFC 6455 §5.7: a masked 'Hello'", arguments: frameSteps)
    func maskedHello(step: Int?) {
        let r = decodeFrames([0x81, 0x85, 0x37, 0xFA, 0x21, 0x3D, 0x7F, 0x9F, 0x4D, 0x51, 0x58], step: step)
        #expect(r.error == nil)
        #expect(r.events == [.message(opcode: .text, payload: Array("Hello".utf8))])
    }

    @Test("RFC 6455 §5.7: unmasked frames from a server, fragmented 'Hel' + 'lo', a ping", arguments: frameSteps)
    func serverFrames(step: Int?) {
        let bytes: [UInt8] = [0x01, 0x03, 0x48, 0x65, 0x6C, 0x80, 0x02, 0x6C, 0x6F, 0x89, 0x05, 0x48, 0x65, 0x6C, 0x6C, 0x6F]
        let r = decodeFrames(bytes, step: step, decoder: WebSocketFrameDecoder(expectsMasked: false))
        #expect(r.error == nil)
        #expect(r.events == [.message(opcode: .text, payload: Array("Hello".utf8)), .ping(Array("Hello".utf8))])
    }

    @Test("RFC 6455 §5.7: a masked pong, a 256-byte and a 64 KiB binary message", arguments: frameSteps)
    func lengths(step: Int?) {
        let big = (0..<65536).map { UInt8(truncatingIfNeeded: $0 &* 7) }
        let mid = Array(big[0..<256])
        var bytes: [UInt8] = [0x8A, 0x85, 0x37, 0xFA, 0x21, 0x3D, 0x7F, 0x9F, 0x4D, 0x51, 0x58]
        bytes += clientFrame(2, mid)
        bytes += clientFrame(2, big)
        #expect(Array(bytes[11..<15]) == [0x82, 0xFE, 0x01, 0x00])
        #expect(Array(bytes[(11 + 4 + 4 + 256)...].prefix(10)) == [0x82, 0xFF, 0, 0, 0, 0, 0, 1, 0, 0])
        let r = decodeFrames(bytes, step: step)
        #expect(r.error == nil)
        #expect(r.events == [.pong(Array("Hello".utf8)), .message(opcode: .binary, payload: mid), .message(opcode: .binary, payload: big)])
    }

    @Test("payload lengths at the 7/16/64-bit boundaries, and non-minimal encodings", arguments: [0, 1, 125, 126, 127, 65535, 65536])
    func boundaries(length: Int) {
        let payload = (0..<length).map { UInt8(truncatingIfNeeded: $0) }
        for lengthBytes in [nil, 2, 8] as [Int?] where lengthBytes == nil || length <= 0xFFFF || lengthBytes == 8 {
            let r = decodeFrames(clientFrame(2, payload, lengthBytes: lengthBytes), step: length > 1000 ? 4099 : 1)
            #expect(r.error == nil)
            #expect(r.events == [.message(opcode: .binary, payload: payload)])
        }
    }

    @Test("a fragmented message with control frames between its fragments", arguments: frameSteps)
    func fragmented(step: Int?) {
        var bytes = clientFrame(1, Array("Hel".utf8), fin: false)
        bytes += clientFrame(9, Array("p1".utf8))
        bytes += clientFrame(0, [], fin: false)
        bytes += clientFrame(0, [0xE2, 0x82], fin: false)  // "€" cut between fragments
        bytes += clientFrame(10, [])
        bytes += clientFrame(0, [0xAC] + Array("lo".utf8))
        bytes += clientFrame(2, [0xFF, 0xFE], fin: false)
        bytes += clientFrame(0, [0x00])
        let r = decodeFrames(bytes, step: step)
        #expect(r.error == nil)
        #expect(r.events == [
            .ping(Array("p1".utf8)), .pong([]), .message(opcode: .text, payload: Array("Hel€lo".utf8)),
            .message(opcode: .binary, payload: [0xFF, 0xFE, 0x00]),
        ])
    }

    @Test("empty messages and unmasking with the mask offset carried across pieces", arguments: frameSteps)
    func emptyAndOffsets(step: Int?) {
        var bytes = clientFrame(1, [])
        bytes += clientFrame(2, Array("0123456789".utf8), mask: [0xFF, 0x00, 0x81, 0x7E])
        let r = decodeFrames(bytes, step: step)
        #expect(r.events == [.message(opcode: .text, payload: []), .message(opcode: .binary, payload: Array("0123456789".utf8))])
    }

    @Test("close frames: no body, a code, a code and reason; nothing after is read", arguments: frameSteps)
    func close(step: Int?) {
        #expect(decodeFrames(clientFrame(8, []), step: step).events == [.close(code: nil, reason: "")])
        #expect(decodeFrames(clientFrame(8, [0x03, 0xE8]), step: step).events == [.close(code: 1000, reason: "")])
        let r = decodeFrames(clientFrame(8, [0x03, 0xE9] + Array("bye é".utf8)) + clientFrame(1, Array("late".utf8)) + [0xFF], step: step)
        #expect(r.error == nil)
        #expect(r.events == [.close(code: 1001, reason: "bye é")])
        #expect(r.decoder.isClosed)
    }

    @Test("close codes a peer may send are accepted", arguments: [1000, 1001, 1002, 1003, 1007, 1008, 1009, 1010, 1011, 1012, 1014, 3000, 3999, 4000, 4999] as [UInt16])
    func validCloseCodes(code: UInt16) {
        #expect(decodeFrames(clientFrame(8, [UInt8(code >> 8), UInt8(code & 0xFF)])).events == [.close(code: code, reason: "")])
    }

    @Test("reserved and unassigned close codes are protocol errors", arguments: [0, 999, 1004, 1005, 1006, 1015, 1016, 1100, 2000, 2999, 5000, 65535] as [UInt16])
    func invalidCloseCodes(code: UInt16) {
        #expect(decodeFrames(clientFrame(8, [UInt8(code >> 8), UInt8(code & 0xFF)])).error?.closeCode == 1002)
    }

    static let violations: [(String, [UInt8], UInt16)] = [
        ("RSV1", clientFrame(1, Array("a".utf8), rsv: 4), 1002),
        ("RSV2", clientFrame(1, Array("a".utf8), rsv: 2), 1002),
        ("RSV3", clientFrame(1, Array("a".utf8), rsv: 1), 1002),
        ("RSV on a ping", clientFrame(9, [], rsv: 7), 1002),
        ("opcode 3", clientFrame(3, []), 1002),
        ("opcode 7", clientFrame(7, []), 1002),
        ("opcode 0xB", clientFrame(0xB, []), 1002),
        ("opcode 0xF", clientFrame(0xF, []), 1002),
        ("unmasked", clientFrame(1, Array("a".utf8), mask: nil), 1002),
        ("fragmented ping", clientFrame(9, [], fin: false), 1002),
        ("fragmented close", clientFrame(8, [], fin: false), 1002),
        ("ping of 126 bytes", clientFrame(9, [UInt8](repeating: 0, count: 126)), 1002),
        ("ping of 126 bytes in 64 bits", clientFrame(9, [UInt8](repeating: 0, count: 126), lengthBytes: 8), 1002),
        ("continuation first", clientFrame(0, Array("a".utf8)), 1002),
        ("continuation after a whole message", clientFrame(1, Array("a".utf8)) + clientFrame(0, Array("b".utf8)), 1002),
        ("text inside a fragmented message", clientFrame(1, Array("a".utf8), fin: false) + clientFrame(1, Array("b".utf8)), 1002),
        ("binary inside a fragmented message", clientFrame(2, [1], fin: false) + clientFrame(2, [2]), 1002),
        ("64-bit length with the top bit", [0x82, 0xFF, 0x80, 0, 0, 0, 0, 0, 0, 0, 1, 2, 3, 4], 1002),
        ("close with one byte", clientFrame(8, [0x03]), 1002),
        ("close reason not UTF-8", clientFrame(8, [0x03, 0xE8, 0xC3, 0x28]), 1007),
        ("text not UTF-8", clientFrame(1, [0x61, 0xFF]), 1007),
        ("text with a surrogate", clientFrame(1, [0xED, 0xA0, 0x80]), 1007),
        ("text with an overlong", clientFrame(1, [0xC0, 0xAF]), 1007),
        ("text ending mid-character", clientFrame(1, [0x61, 0xE2, 0x82]), 1007),
        ("fragmented text ending mid-character", clientFrame(1, [0xE2], fin: false) + clientFrame(0, [0x82]), 1007),
        ("message too big", clientFrame(2, [UInt8](repeating: 0, count: 1025)), 1009),
        ("fragments too big together", clientFrame(2, [UInt8](repeating: 0, count: 1000), fin: false)
            + clientFrame(0, [UInt8](repeating: 0, count: 25)), 1009),
    ]

    @Test("protocol violations fail with their close code, fed whole or a byte at a time", arguments: violations)
    func failures(what: String, bytes: [UInt8], code: UInt16) {
        for step in [nil, 1] as [Int?] {
            let r = decodeFrames(bytes, step: step, decoder: WebSocketFrameDecoder(maxMessageBytes: 1024))
            #expect(r.error?.closeCode == code, "\(what)")
        }
    }

    @Test("errors come as soon as the bytes show them, before the payload")
    func failFast() {
        #expect(decodeFrames([0xC1, 0x85]).error?.closeCode == 1002)  // RSV1, from the first two bytes
        #expect(decodeFrames([0x81, 0x05]).error?.closeCode == 1002)  // unmasked
        #expect(decodeFrames([0x82, 0xFF, 0, 0, 0, 0, 0, 0x10, 0, 0], decoder: WebSocketFrameDecoder(maxMessageBytes: 1024)).error?.closeCode == 1009)
        #expect(decodeFrames(clientFrame(1, [0xFF, 0x61, 0x61, 0x61, 0x61]).dropLast(4).map { $0 }).error?.closeCode == 1007)
    }

    @Test("a control frame's length may be written non-minimally too")
    func nonMinimalControl() {
        #expect(decodeFrames(clientFrame(9, [1, 2, 3, 4, 5], lengthBytes: 2)).events == [.ping([1, 2, 3, 4, 5])])
        #expect(decodeFrames(clientFrame(8, [0x03, 0xE8], lengthBytes: 8)).events == [.close(code: 1000, reason: "")])
    }

    @Test("a server-side decoder refuses masked frames; binary messages need not be UTF-8")
    func maskRoles() {
        #expect(decodeFrames(clientFrame(1, Array("a".utf8)), decoder: WebSocketFrameDecoder(expectsMasked: false)).error?.closeCode == 1002)
        #expect(decodeFrames(clientFrame(2, [0xFF, 0xC0])).events == [.message(opcode: .binary, payload: [0xFF, 0xC0])])
    }

    @Test("after an error the decoder keeps failing")
    func errorsAreFinal() {
        let bad = decodeFrames(clientFrame(3, []))
        #expect(bad.error?.closeCode == 1002)
        let again = decodeFrames(clientFrame(1, Array("fine".utf8)), decoder: bad.decoder)
        #expect(again.error?.closeCode == 1002)
        #expect(again.events.isEmpty)
    }
}

@Suite("WebSocket frame encoder (RFC 6455 §5.2)")
struct WebSocketEncoderTests {
    @Test("RFC 6455 §5.7: an unmasked 'Hello' and ping")
    func examples() {
        var out: [UInt8] = []
        WebSocketFrameEncoder.appendText("Hello", to: &out)
        #expect(out == [0x81, 0x05, 0x48, 0x65, 0x6C, 0x6C, 0x6F])
        out = []
        WebSocketFrameEncoder.appendPing(Array("Hello".utf8), to: &out)
        #expect(out == [0x89, 0x05, 0x48, 0x65, 0x6C, 0x6C, 0x6F])
        out = []
        WebSocketFrameEncoder.appendPong(to: &out)
        WebSocketFrameEncoder.appendText(utf8: Array("{}".utf8), to: &out)
        #expect(out == [0x8A, 0x00, 0x81, 0x02, 0x7B, 0x7D])
    }

    @Test("the shortest length encoding at each boundary, and a round trip", arguments: [
        (0, [0x82, 0x00]), (125, [0x82, 0x7D]), (126, [0x82, 0x7E, 0x00, 0x7E]), (65535, [0x82, 0x7E, 0xFF, 0xFF]),
        (65536, [0x82, 0x7F, 0, 0, 0, 0, 0, 0x01, 0x00, 0x00]),
    ] as [(Int, [UInt8])])
    func lengths(length: Int, header: [UInt8]) {
        let payload = (0..<length).map { UInt8(truncatingIfNeeded: $0 &* 13) }
        var out: [UInt8] = []
        WebSocketFrameEncoder.appendBinary(payload, to: &out)
        #expect(Array(out.prefix(header.count)) == header)
        #expect(out.count == header.count + length)
        let r = decodeFrames(out, decoder: WebSocketFrameDecoder(expectsMasked: false))
        #expect(r.events == [.message(opcode: .binary, payload: payload)])
    }

    @Test("close frames: none, a code, a code and a reason cut on a character boundary to fit 125 bytes")
    func close() {
        var out: [UInt8] = []
        WebSocketFrameEncoder.appendClose(to: &out)
        #expect(out == [0x88, 0x00])
        out = []
        WebSocketFrameEncoder.appendClose(code: 1000, to: &out)
        #expect(out == [0x88, 0x02, 0x03, 0xE8])
        out = []
        WebSocketFrameEncoder.appendClose(code: 1001, reason: "bye", to: &out)
        #expect(out == [0x88, 0x05, 0x03, 0xE9, 0x62, 0x79, 0x65])
        out = []
        WebSocketFrameEncoder.appendClose(code: 1009, reason: String(repeating: "é", count: 100), to: &out)
        #expect(out[1] == 124)  // 2 + 61 × 2: a 62nd "é" would not fit
        let r = decodeFrames(out, decoder: WebSocketFrameDecoder(expectsMasked: false))
        #expect(r.events == [.close(code: 1009, reason: String(repeating: "é", count: 61))])
    }

    @Test("fragments: FIN clear until the last")
    func fragments() {
        var out: [UInt8] = []
        WebSocketFrameEncoder.appendFrame(.text, payload: Array("ab".utf8), fin: false, to: &out)
        WebSocketFrameEncoder.appendFrame(.continuation, payload: Array("c".utf8), to: &out)
        #expect(out == [0x01, 0x02, 0x61, 0x62, 0x80, 0x01, 0x63])
        #expect(decodeFrames(out, decoder: WebSocketFrameDecoder(expectsMasked: false)).events == [.message(opcode: .text, payload: Array("abc".utf8))])
    }
}
