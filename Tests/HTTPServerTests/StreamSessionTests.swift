import HTTP
import Testing
@testable import HTTPServer

@Suite("stream session: heads, records and notices in each form, one chunk per read, pings, the end")
struct StreamSessionTests {
    func start(_ h: HTTPRequestHead, _ mode: StreamMode) -> (StreamSession, String) {
        start(h, StreamRequest(), mode)
    }

    func start(_ h: HTTPRequestHead, _ request: StreamRequest, _ mode: StreamMode) -> (StreamSession, String) {
        guard case .success(let (session, head)) = StreamSession.start(h, request, mode) else {
            fatalError("the stream starts")
        }
        return (session, text(head))
    }

    func take(_ s: inout StreamSession, _ lines: String...) {
        for line in lines { Array(line.utf8).raw { s.take($0) } }
    }

    func finish(_ s: inout StreamSession) -> String {
        var out: [UInt8] = []
        _ = s.finishBatch(into: &out)
        return text(out)
    }

    @Test("response heads: chunked for HTTP/1.1, ended by the close for HTTP/1.0; SSE not buffered")
    func heads() {
        let (_, text11) = start(head("GET", "/logs"), .text(colors: true))
        #expect(text11 == "HTTP/1.1 200 OK\r\nContent-Type: text/plain; charset=utf-8\r\nCache-Control: no-cache\r\n"
            + "Transfer-Encoding: chunked\r\n\r\n")
        let (s10, text10) = start(head("GET", "/logs", version: 0), .json)
        #expect(!s10.chunked)
        #expect(text10 == "HTTP/1.1 200 OK\r\nContent-Type: application/x-ndjson\r\nCache-Control: no-cache\r\nConnection: close\r\n\r\n")
        let (_, sse) = start(head("GET", "/logs"), .sse)
        #expect(sse.hasSuffix("Content-Type: text/event-stream\r\nCache-Control: no-cache\r\nTransfer-Encoding: chunked\r\n"
            + "X-Accel-Buffering: no\r\n\r\n"))
        let (ws, upgraded) = start(upgrade("/logs"), .websocket)
        #expect(ws.websocket != nil && !ws.chunked)
        #expect(upgraded.hasPrefix("HTTP/1.1 101 "))
        guard case .failure(let refusal) = StreamSession.start(upgrade("/logs", version: "7"), StreamRequest(), .websocket) else {
            Issue.record("a bad upgrade is refused")
            return
        }
        #expect(refusal.status == 426)
    }

    @Test("plain text: coloured, name column; the lines of one read are one chunk")
    func plainText() {
        var (s, _) = start(head("GET", "/logs"), .text(colors: true))
        take(&s, recordLine(), recordLine(id: "aaaa", name: "db", source: "stderr", data: "ready"))
        let body = "\u{1B}[1;37m             web|GET / 200\u{1B}[0m\n\u{1B}[1;36m              db|ready\u{1B}[0m\n"
        #expect(finish(&s) == String(body.utf8.count, radix: 16) + "\r\n" + body + "\r\n")
        #expect(finish(&s) == "")  // nothing more until the next read
    }

    @Test("single-container streams send bare lines; colors=off keeps the layout without escapes")
    func bareAndPlain() {
        var single = StreamRequest()
        single.single = true
        var (bare, _) = start(head("GET", "/logs/name:web", version: 0), single, .text(colors: true))
        take(&bare, recordLine())
        #expect(finish(&bare) == "GET / 200\n")
        var off = StreamRequest()
        off.colors = false
        var (plain, _) = start(head("GET", "/logs", version: 0), off, .text(colors: false))
        take(&plain, recordLine())
        #expect(finish(&plain) == "             web|GET / 200\n")
    }

    @Test("JSON lines, SSE events and WebSocket frames carry id, name, type, data, time")
    func forms() {
        let json = #"{"id":"8713470e0e2c","name":"web","type":"stdout","data":"GET / 200","time":"2026-11-24T20:42:17.123456789Z"}"#
        var (lines, _) = start(head("GET", "/logs", version: 0), .json)
        take(&lines, recordLine())
        #expect(finish(&lines) == json + "\n")
        var (sse, _) = start(head("GET", "/logs", version: 0), .sse)
        take(&sse, recordLine())
        #expect(finish(&sse) == "data: " + json + "\n\n")
        var (ws, _) = start(upgrade("/logs"), .websocket)
        take(&ws, recordLine(), recordLine())
        var frame: [UInt8] = [0x81, 109]
        frame += Array(json.utf8)
        var out: [UInt8] = []
        #expect(ws.finishBatch(into: &out) == true)
        #expect(out == frame + frame)
    }

    @Test("missed-lines notices in each form; lines that are neither are ignored")
    func missed() {
        var (plain, _) = start(head("GET", "/logs", version: 0), .text(colors: true))
        take(&plain, #"{"missed":12}"#, "garbage", #"{"other":1}"#)
        #expect(finish(&plain) == "logspout: 12 lines skipped: this client reads more slowly than the logs arrive\n")
        take(&plain, #"{"missed":1}"#)
        #expect(finish(&plain) == "logspout: 1 line skipped: this client reads more slowly than the logs arrive\n")
        var (json, _) = start(head("GET", "/logs", version: 0), .json)
        take(&json, #"{"missed":12}"#)
        #expect(finish(&json) == "{\"missed\":12}\n")
        var (sse, _) = start(head("GET", "/logs", version: 0), .sse)
        take(&sse, #"{"missed":12}"#)
        #expect(finish(&sse) == "data: {\"missed\":12}\n\n")
        var (ws, _) = start(upgrade("/logs"), .websocket)
        take(&ws, #"{"missed":12}"#)
        var frame: [UInt8] = []
        #expect(ws.finishBatch(into: &frame) == true)
        #expect(frame == [0x81, 13] + Array(#"{"missed":12}"#.utf8))
    }

    @Test("keep-alive pings: an SSE comment (every 5 s), a WebSocket ping (every 30 s), none for text and JSON")
    func pings() {
        var out: [UInt8] = []
        var (sse, _) = start(head("GET", "/logs"), .sse)
        #expect(sse.ping(into: &out) == true)
        #expect(text(out) == "8\r\n: ping\n\n\r\n")
        out = []
        var (ws, _) = start(upgrade("/logs"), .websocket)
        #expect(ws.ping(into: &out) == true)
        #expect(out == [0x89, 0])
        out = []
        var (lines, _) = start(head("GET", "/logs"), .json)
        #expect(lines.ping(into: &out) == false)
        var (plain, _) = start(head("GET", "/logs"), .text(colors: true))
        #expect(plain.ping(into: &out) == false)
        #expect(out.isEmpty)
        #expect(StreamMode.sse.pingInterval == 5_000_000_000)
        #expect(StreamMode.json.pingInterval == 5_000_000_000)
        #expect(StreamMode.websocket.pingInterval == 30_000_000_000)
    }

    @Test("the end: the last chunk, a close frame (1001, once), or nothing for an HTTP/1.0 body")
    func end() {
        var out: [UInt8] = []
        var (chunked, _) = start(head("GET", "/logs"), .json)
        chunked.end(into: &out)
        #expect(text(out) == "0\r\n\r\n")
        out = []
        var (old, _) = start(head("GET", "/logs", version: 0), .json)
        old.end(into: &out)
        #expect(out.isEmpty)
        var (ws, _) = start(upgrade("/logs"), .websocket)
        ws.end(into: &out)
        #expect(out == [0x88, 26, 0x03, 0xE9] + Array("the log source went away".utf8))
        // After the close, records and pings are not sent.
        out = []
        take(&ws, recordLine())
        #expect(ws.finishBatch(into: &out) == false)
        _ = ws.ping(into: &out)
        ws.end(into: &out)
        #expect(out.isEmpty)
    }

    @Test("a WebSocket client's close ends the stream; its ping is answered")
    func clientInput() {
        var (ws, _) = start(upgrade("/logs"), .websocket)
        #expect(clientFrame(0x9, [1]).raw { ws.receive($0) } == .write([0x8A, 1, 1]))
        #expect(clientFrame(0x8).raw { ws.receive($0) } == .writeAndClose([0x88, 0]))
        var out: [UInt8] = []
        take(&ws, recordLine())
        #expect(ws.finishBatch(into: &out) == false)
    }

    @Test("content types per form")
    func contentTypes() {
        #expect(StreamMode.text(colors: false).contentType == "text/plain; charset=utf-8")
        #expect(StreamMode.json.contentType == "application/x-ndjson")
        #expect(StreamMode.sse.contentType == "text/event-stream")
        #expect(StreamMode.websocket.contentType == "application/json")
    }
}
