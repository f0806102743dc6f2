import HTTP
import Testing
@testable import HTTPServer

@Suite("WebSocket session: pings answered, the close handshake, errors, nothing after our close")
struct WebSocketSessionTests {
    func receive(_ ws: inout WebSocketSession, _ bytes: [UInt8]) -> WebSocketSession.Action {
        bytes.raw { ws.receive($0) }
    }

    @Test("a ping is answered with a pong of the same payload; pongs and messages are ignored")
    func pings() {
        var ws = WebSocketSession()
        #expect(receive(&ws, clientFrame(0x9, [1, 2, 3])) == .write([0x8A, 3, 1, 2, 3]))
        #expect(receive(&ws, clientFrame(0xA, [7])) == .write([]))
        #expect(receive(&ws, clientFrame(0x1, Array("hello".utf8))) == .write([]))
        #expect(ws.state == .open)
    }

    @Test("frames split across reads are put together")
    func split() {
        var ws = WebSocketSession()
        let frame = clientFrame(0x9, [9, 8])
        #expect(receive(&ws, Array(frame[..<3])) == .write([]))
        #expect(receive(&ws, Array(frame[3...]) + clientFrame(0x9)) == .write([0x8A, 2, 9, 8, 0x8A, 0]))
    }

    @Test("the client's close is answered (1000, or empty for an empty one) and ends the connection")
    func clientCloses() {
        var ws = WebSocketSession()
        #expect(receive(&ws, clientFrame(0x8, [0x03, 0xE8] + Array("bye".utf8))) == .writeAndClose([0x88, 2, 0x03, 0xE8]))
        #expect(ws.state == .closing)
        var bare = WebSocketSession()
        #expect(receive(&bare, clientFrame(0x8)) == .writeAndClose([0x88, 0]))
    }

    @Test("after our close (the stream ended), the client's close is not answered again; nothing else is sent")
    func afterOurClose() {
        var ws = WebSocketSession()
        var out: [UInt8] = []
        ws.appendClose(code: 1001, reason: "gone", to: &out)
        #expect(out == [0x88, 6, 0x03, 0xE9] + Array("gone".utf8))
        ws.appendClose(code: 1001, reason: "again", to: &out)
        ws.appendText(Array("{}".utf8), to: &out)
        ws.appendPing(to: &out)
        #expect(out.count == 8)
        #expect(receive(&ws, clientFrame(0x8, [0x03, 0xE8])) == .writeAndClose([]))
    }

    @Test("protocol errors close with their code: unmasked frames 1002, a message over 64 KiB 1009")
    func errors() {
        var unmasked = WebSocketSession()
        guard case .writeAndClose(let close) = receive(&unmasked, clientFrame(0x9, masked: false)) else {
            Issue.record("an unmasked frame ends the connection")
            return
        }
        #expect(Array(close.prefix(4)) == [0x88, UInt8(close.count - 2), 0x03, 0xEA])
        #expect(unmasked.state == .closing)

        var big = WebSocketSession()
        let part = [UInt8](repeating: 65, count: 40_000)
        #expect(receive(&big, clientFrame(0x1, part, fin: false)) == .write([]))
        guard case .writeAndClose(let tooBig) = receive(&big, clientFrame(0x0, part)) else {
            Issue.record("a message over 64 KiB ends the connection")
            return
        }
        #expect(Array(tooBig.prefix(4)) == [0x88, UInt8(tooBig.count - 2), 0x03, 0xF1])
    }

    @Test("the upgrade: 101 with the accept key; another version is refused 426 with the one we speak")
    func handshake() {
        guard case .success(let response) = WebSocketSession.handshake(upgrade("/logs")) else {
            Issue.record("a valid upgrade is accepted")
            return
        }
        let textResponse = text(response)
        #expect(textResponse.hasPrefix("HTTP/1.1 101 Switching Protocols\r\n"))
        #expect(textResponse.contains("Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n"))
        guard case .failure(let refusal) = WebSocketSession.handshake(upgrade("/logs", version: "8")) else {
            Issue.record("version 8 is refused")
            return
        }
        #expect(refusal.status == 426)
        #expect(refusal.headers == [HTTPField("Sec-WebSocket-Version", "13")])
    }
}
