import Testing
@testable import HTTP

/// What a parser run produced, for comparison.
struct Parsed: Equatable {
    var head: HTTPHead?
    var body: [UInt8] = []
    var ended = false
}

/// Feeds `text` whole, or in pieces of `step` bytes, then EOF when `close` is set.
func parse(_ text: String, step: Int? = nil, close: Bool = false) throws(HTTPParseError) -> Parsed {
    var parser = HTTPResponseParser()
    var result = Parsed()
    let bytes = Array(text.utf8)
    let handler: (HTTPResponseEvent) -> Void = { event in
        switch event {
        case .head(let h): result.head = h
        case .body(let b): result.body.append(contentsOf: b)
        case .end: result.ended = true
        }
    }
    var i = 0
    let size = step ?? max(bytes.count, 1)
    while i < bytes.count {
        let end = min(bytes.count, i + size)
        let piece = Array(bytes[i..<end])
        let r: Result<Void, HTTPParseError> = piece.withUnsafeBytes { raw in
            do throws(HTTPParseError) { try parser.feed(raw, handler); return .success(()) } catch { return .failure(error) }
        }
        try r.get()
        i = end
    }
    if close { try parser.finish(handler) }
    return result
}

@Suite("HTTP/1.1 response parser")
struct ResponseParserTests {
    static let chunked = "HTTP/1.1 200 OK\r\nContent-Type: application/vnd.docker.multiplexed-stream\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n7;ext=1\r\n, world\r\n0\r\nTrailer: x\r\n\r\n"

    @Test("a chunked body is de-chunked whole and fed a byte at a time", arguments: [nil, 1, 2, 3, 7, 64])
    func chunked(step: Int?) throws {
        let r = try parse(Self.chunked, step: step)
        #expect(r.head?.status == 200)
        #expect(r.head?.header("content-type") == "application/vnd.docker.multiplexed-stream")
        #expect(String(decoding: r.body, as: UTF8.self) == "hello, world")
        #expect(r.ended)
    }

    @Test("Content-Length bodies end after exactly that many bytes", arguments: [nil, 1, 5])
    func contentLength(step: Int?) throws {
        let r = try parse("HTTP/1.1 200 OK\r\nContent-Length: 4\r\nApi-Version: 1.41\r\n\r\nOK\r\nIGNORED", step: step)
        #expect(r.head?.header("Api-Version") == "1.41")
        #expect(String(decoding: r.body, as: UTF8.self) == "OK\r\n")
        #expect(r.ended)
    }

    @Test("a body without length runs until the connection closes")
    func untilClose() throws {
        let open = try parse("HTTP/1.0 200 OK\r\n\r\nabc", step: 1)
        #expect(!open.ended)
        let closed = try parse("HTTP/1.0 200 OK\r\n\r\nabc", step: 1, close: true)
        #expect(closed.ended)
        #expect(closed.body == Array("abc".utf8))
    }

    @Test("204, 304 and zero-length responses have no body")
    func noBody() throws {
        #expect(try parse("HTTP/1.1 204 No Content\r\n\r\n").ended)
        #expect(try parse("HTTP/1.1 304 Not Modified\r\nContent-Length: 10\r\n\r\n").ended)
        #expect(try parse("HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n").head?.status == 404)
    }

    @Test("bare LF line endings are accepted")
    func bareLF() throws {
        let r = try parse("HTTP/1.1 200 OK\nContent-Length: 2\n\nhi")
        #expect(r.body == Array("hi".utf8))
    }

    @Test("malformed responses are errors, not crashes", arguments: [
        "HTTP/2 200 OK\r\n\r\n",
        "HTTP/1.1 2000 OK\r\n\r\n",
        "garbage\r\n\r\n",
        "HTTP/1.1 200 OK\r\nno colon here\r\n\r\n",
        "HTTP/1.1 200 OK\r\nContent-Length: -4\r\n\r\n",
        "HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\n",
        "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
        "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabcX",
        "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nfffffffffffffffff\r\n",
    ])
    func malformed(text: String) {
        #expect(throws: HTTPParseError.self) { try parse(text) }
        #expect(throws: HTTPParseError.self) { try parse(text, step: 1) }
    }

    @Test("a connection closed early is reported")
    func truncated() {
        #expect(throws: HTTPParseError.self) { try parse("HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc", close: true) }
        #expect(throws: HTTPParseError.self) { try parse("HTTP/1.1 200 O", close: true) }
        #expect(throws: HTTPParseError.self) { try parse("", close: true) }
    }

    @Test("an endless head is cut off at the limit")
    func headLimit() {
        let text = "HTTP/1.1 200 OK\r\n" + String(repeating: "X-A: b\r\n", count: 10_000)
        #expect(throws: HTTPParseError.self) { try parse(text) }
    }

    @Test("requests carry Host and Content-Length where needed")
    func request() {
        let r = String(decoding: serializeRequest(method: "GET", target: "/v1.41/_ping"), as: UTF8.self)
        #expect(r == "GET /v1.41/_ping HTTP/1.1\r\nHost: docker\r\nUser-Agent: logspout\r\n\r\n")
        let p = String(decoding: serializeRequest(method: "POST", target: "/x", body: Array("{}".utf8)), as: UTF8.self)
        #expect(p.hasSuffix("Content-Length: 2\r\n\r\n{}"))
    }
}
