import Testing
@testable import HTTP

@Suite("Response writing (RFC 9112 §4, §7.1)")
struct ResponseWriterTests {
    @Test("a response head: status line, fields in order, blank line")
    func head() {
        let bytes = serializeResponseHead(status: 200, headers: [("Content-Type", "text/plain; charset=utf-8"), ("Transfer-Encoding", "chunked")])
        #expect(String(decoding: bytes, as: UTF8.self)
            == "HTTP/1.1 200 OK\r\nContent-Type: text/plain; charset=utf-8\r\nTransfer-Encoding: chunked\r\n\r\n")
        #expect(String(decoding: serializeResponseHead(status: 404), as: UTF8.self) == "HTTP/1.1 404 Not Found\r\n\r\n")
        #expect(String(decoding: serializeResponseHead(status: 299), as: UTF8.self) == "HTTP/1.1 299 \r\n\r\n")
        #expect(String(decoding: serializeResponseHead(status: 400, reason: "Nope"), as: UTF8.self) == "HTTP/1.1 400 Nope\r\n\r\n")
    }

    @Test("appendResponseHead appends to what is there")
    func appends() {
        var out = Array("previous".utf8)
        appendResponseHead(status: 204, headers: [("Connection", "close")], to: &out)
        #expect(String(decoding: out, as: UTF8.self) == "previousHTTP/1.1 204 No Content\r\nConnection: close\r\n\r\n")
    }

    @Test("line breaks and control characters in values cannot split the response")
    func injection() {
        let bytes = serializeResponseHead(status: 400, reason: "Bad\r\nX-Evil: 1", headers: [("X-Name", "a\r\nSet-Cookie: b\u{0}\tc")])
        #expect(String(decoding: bytes, as: UTF8.self) == "HTTP/1.1 400 Bad  X-Evil: 1\r\nX-Name: a  Set-Cookie: b \tc\r\n\r\n")
    }

    @Test("reason phrases of RFC 9110 §15", arguments: [
        (100, "Continue"), (101, "Switching Protocols"), (200, "OK"), (204, "No Content"), (304, "Not Modified"),
        (400, "Bad Request"), (404, "Not Found"), (405, "Method Not Allowed"), (413, "Content Too Large"), (414, "URI Too Long"),
        (426, "Upgrade Required"), (431, "Request Header Fields Too Large"), (500, "Internal Server Error"),
        (501, "Not Implemented"), (503, "Service Unavailable"), (505, "HTTP Version Not Supported"), (799, ""),
    ])
    func reasons(status: Int, phrase: String) {
        #expect(reasonPhrase(status) == phrase)
    }

    @Test("chunks carry their size in hex; empty chunks are not written", arguments: [
        (1, "1"), (10, "a"), (15, "f"), (16, "10"), (255, "ff"), (256, "100"), (4096, "1000"), (65537, "10001"),
    ])
    func chunkSizes(length: Int, hex: String) {
        var out: [UInt8] = []
        let data = [UInt8](repeating: UInt8(ascii: "x"), count: length)
        appendChunk(data, to: &out)
        #expect(out == Array("\(hex)\r\n".utf8) + data + [13, 10])
    }

    @Test("a chunked body written here is read back by the response parser")
    func roundTrip() throws {
        var out = serializeResponseHead(status: 200, headers: [("Transfer-Encoding", "chunked")])
        appendChunk(Array("hello ".utf8), to: &out)
        appendChunk([UInt8](), to: &out)
        appendChunk(Array("world\n".utf8), to: &out)
        appendLastChunk(to: &out)
        #expect(String(decoding: out.suffix(5), as: UTF8.self) == "0\r\n\r\n")
        #expect(lastChunk == Array("0\r\n\r\n".utf8))
        var parser = HTTPResponseParser()
        var body: [UInt8] = []
        var ended = false
        let r: Result<Void, HTTPParseError> = out.withUnsafeBytes { raw in
            do throws(HTTPParseError) {
                try parser.feed(raw) { event in
                    switch event {
                    case .head: break
                    case .body(let b): body.append(contentsOf: b)
                    case .end: ended = true
                    }
                }
                return .success(())
            } catch { return .failure(error) }
        }
        try r.get()
        #expect(String(decoding: body, as: UTF8.self) == "hello world\n")
        #expect(ended)
    }
}

@Suite("Server-sent events (HTML §9.2)")
struct ServerSentEventsTests {
    static func event(_ data: String, event: String? = nil, id: String? = nil) -> String {
        var out: [UInt8] = []
        appendSSEEvent(data: Array(data.utf8), event: event, id: id, to: &out)
        return String(decoding: out, as: UTF8.self)
    }

    @Test("one line of data is one data: line and a blank line")
    func single() {
        #expect(Self.event("{\"line\":\"hi\"}") == "data: {\"line\":\"hi\"}\n\n")
        #expect(Self.event("") == "data: \n\n")
    }

    @Test("line breaks of every kind split the data into data: lines", arguments: [
        ("a\nb", "data: a\ndata: b\n\n"), ("a\r\nb", "data: a\ndata: b\n\n"), ("a\rb", "data: a\ndata: b\n\n"),
        ("a\n\nb", "data: a\ndata: \ndata: b\n\n"), ("a\r\rb", "data: a\ndata: \ndata: b\n\n"), ("a\n", "data: a\ndata: \n\n"),
        ("\r\n", "data: \ndata: \n\n"), ("a\n\rb", "data: a\ndata: \ndata: b\n\n"),
    ])
    func multiline(data: String, expected: String) {
        #expect(Self.event(data) == expected)
    }

    @Test("event and id fields come first, line breaks in them flattened")
    func fields() {
        #expect(Self.event("x", event: "log", id: "c1:42") == "event: log\nid: c1:42\ndata: x\n\n")
        #expect(Self.event("x", event: "a\nb", id: "1\r2\u{0}") == "event: a b\nid: 1 2 \ndata: x\n\n")
    }

    @Test("comments and retry")
    func commentsAndRetry() {
        var out: [UInt8] = []
        appendSSEComment("keep-alive", to: &out)
        appendSSEComment("", to: &out)
        appendSSEComment("two\nlines", to: &out)
        appendSSERetry(milliseconds: 3000, to: &out)
        #expect(String(decoding: out, as: UTF8.self) == ": keep-alive\n:\n: two\n: lines\nretry: 3000\n\n")
    }
}
