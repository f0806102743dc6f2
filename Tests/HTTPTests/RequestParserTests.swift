import Testing
@testable import HTTP

/// One request as the parser reported it.
struct ParsedRequest {
    var head: HTTPRequestHead
    var body: [UInt8] = []
    var ended = false
    var bodyText: String { String(decoding: body, as: UTF8.self) }
}

/// What feeding a connection's bytes produced.
struct RequestFeed {
    var requests: [ParsedRequest] = []
    /// Bytes the parser consumed (fewer than given when it paused).
    var consumed = 0
    var parser: HTTPRequestParser
}

/// Feeds `bytes` whole, or in pieces of `step` bytes, stopping where the parser pauses.
func feedRequests(_ bytes: [UInt8], step: Int? = nil, parser: HTTPRequestParser = HTTPRequestParser()) throws(HTTPRequestError) -> RequestFeed {
    var feed = RequestFeed(parser: parser)
    var requests: [ParsedRequest] = []
    var sawEventOutsideRequest = false
    let handler: (HTTPRequestEvent) -> Void = { event in
        switch event {
        case .head(let h): requests.append(ParsedRequest(head: h))
        case .body(let b):
            if requests.isEmpty || requests[requests.count - 1].ended { sawEventOutsideRequest = true } else {
                requests[requests.count - 1].body.append(contentsOf: b)
            }
        case .end:
            if requests.isEmpty || requests[requests.count - 1].ended { sawEventOutsideRequest = true } else {
                requests[requests.count - 1].ended = true
            }
        }
    }
    var i = 0
    let size = max(step ?? bytes.count, 1)
    while i < bytes.count {
        let end = min(bytes.count, i + size)
        let piece = Array(bytes[i..<end])
        let r: Result<Int, HTTPRequestError> = piece.withUnsafeBytes { raw in
            do throws(HTTPRequestError) { return .success(try feed.parser.feed(raw, handler)) } catch { return .failure(error) }
        }
        let consumed = try r.get()
        feed.consumed += consumed
        if consumed < piece.count { break }
        i = end
    }
    #expect(!sawEventOutsideRequest, "body or end reported outside a request")
    feed.requests = requests
    return feed
}

func feedRequests(_ text: String, step: Int? = nil, parser: HTTPRequestParser = HTTPRequestParser()) throws(HTTPRequestError) -> RequestFeed {
    try feedRequests(Array(text.utf8), step: step, parser: parser)
}

/// The error feeding `text` ends with, if any.
func requestError(_ text: String, step: Int? = nil, parser: HTTPRequestParser = HTTPRequestParser()) -> HTTPRequestError? {
    do {
        _ = try feedRequests(text, step: step, parser: parser)
        return nil
    } catch {
        return error
    }
}

/// Feeds more bytes to a parser the caller holds; returns how many it consumed.
func feedMore(_ parser: inout HTTPRequestParser, _ text: String, _ handler: (HTTPRequestEvent) -> Void) throws(HTTPRequestError) -> Int {
    let r: Result<Int, HTTPRequestError> = Array(text.utf8).withUnsafeBytes { raw in
        do throws(HTTPRequestError) { return .success(try parser.feed(raw, handler)) } catch { return .failure(error) }
    }
    return try r.get()
}

/// Whole, a byte at a time, and in a few uneven sizes.
let steps: [Int?] = [nil, 1, 2, 3, 5, 7, 64]

@Suite("HTTP/1.1 request parser")
struct RequestParserTests {
    @Test("a GET's request line, fields and lack of body", arguments: steps)
    func simpleGet(step: Int?) throws {
        let text = "GET /logs?filter=web%2A&tail=10 HTTP/1.1\r\nHost: localhost:8000\r\nUser-Agent: curl/8.5\r\nAccept:   */*  \r\n\r\n"
        let feed = try feedRequests(text, step: step)
        #expect(feed.consumed == text.utf8.count)
        #expect(feed.requests.count == 1)
        let r = try #require(feed.requests.first)
        #expect(r.head.method == "GET")
        #expect(r.head.target == "/logs?filter=web%2A&tail=10")
        #expect(r.head.path == "/logs")
        #expect(r.head.queryValue("filter") == "web*")
        #expect(r.head.queryValue("tail") == "10")
        #expect(r.head.versionMinor == 1)
        #expect(r.head.headers.map(\.name) == ["Host", "User-Agent", "Accept"])
        #expect(r.head.header("accept") == "*/*")
        #expect(r.head.header("HOST") == "localhost:8000")
        #expect(r.head.header("Missing") == nil)
        #expect(r.head.keepAlive)
        #expect(!r.head.isWebSocketUpgrade)
        #expect(r.body.isEmpty)
        #expect(r.ended)
        #expect(feed.parser.isIdle)
        #expect(feed.parser.pause == nil)
    }

    @Test("a Content-Length body ends after exactly that many bytes", arguments: steps)
    func contentLength(step: Int?) throws {
        let feed = try feedRequests("POST /routes HTTP/1.1\r\nHost: x\r\nContent-Length: 12\r\n\r\n{\"a\":\"b\r\nc\"}GET", step: step)
        let r = try #require(feed.requests.first)
        #expect(r.head.method == "POST")
        #expect(r.bodyText == "{\"a\":\"b\r\nc\"}")
        #expect(r.ended)
        #expect(!feed.parser.isIdle)  // "GET" of the next request
    }

    @Test("a chunked body is de-chunked; extensions and trailers are checked and dropped", arguments: steps)
    func chunked(step: Int?) throws {
        let text = "POST /in HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: Chunked\r\n\r\n"
            + "5\r\nhello\r\n"
            + "7;name=value;flag ; q=\"a \\\"quoted\\\" ;value\"\r\n, world\r\n"
            + "A\r\n0123456789\r\n"
            + "000\r\nX-Checksum: abc\r\nX-Other: d\r\n\r\n"
        let feed = try feedRequests(text, step: step)
        #expect(feed.consumed == text.utf8.count)
        let r = try #require(feed.requests.first)
        #expect(r.bodyText == "hello, world0123456789")
        #expect(r.ended)
        #expect(feed.parser.isIdle)
    }

    @Test("pipelined requests in one buffer come out in order, bodies and all", arguments: steps)
    func pipelining(step: Int?) throws {
        let text = "GET /a HTTP/1.1\r\nHost: x\r\n\r\n"
            + "POST /b HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\nabc"
            + "PUT /c HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nde\r\n0\r\n\r\n"
            + "DELETE /d HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n"
            + "GET /e HTTP/1.1\r\nHost: x\r\n\r\n"
        let feed = try feedRequests(text, step: step)
        #expect(feed.requests.map(\.head.method) == ["GET", "POST", "PUT", "DELETE", "GET"])
        #expect(feed.requests.map(\.head.path) == ["/a", "/b", "/c", "/d", "/e"])
        #expect(feed.requests.map(\.bodyText) == ["", "abc", "de", "", ""])
        #expect(feed.requests.allSatisfy { $0.ended })
        #expect(feed.consumed == text.utf8.count)
    }

    @Test("a half-read next request waits for its bytes")
    func partialNext() throws {
        var parser = try feedRequests("GET /a HTTP/1.1\r\nHost: x\r\n\r\nGET /b HT").parser
        #expect(!parser.isIdle)
        var seen: [String] = []
        _ = try feedMore(&parser, "TP/1.1\r\nHost: x\r\n\r\n") { if case .head(let h) = $0 { seen.append(h.target) } }
        #expect(seen == ["/b"])
        #expect(parser.isIdle)
    }

    @Test("lone LF line endings and empty lines before a request are accepted", arguments: steps)
    func lenientLines(step: Int?) throws {
        let feed = try feedRequests("\r\n\nGET / HTTP/1.1\nHost: x\nContent-Length: 2\n\nok\r\nGET /2 HTTP/1.1\r\nHost: x\r\n\r\n", step: step)
        #expect(feed.requests.map(\.head.target) == ["/", "/2"])
        #expect(feed.requests.first?.bodyText == "ok")
    }

    @Test("HTTP/1.0 needs no Host; HTTP/1.2 is read as 1.1; OPTIONS * and absolute-form targets")
    func versionsAndForms() throws {
        let old = try #require(feedRequests("GET / HTTP/1.0\r\n\r\n").requests.first)
        #expect(old.head.versionMinor == 0)
        #expect(!old.head.keepAlive)
        let later = try #require(feedRequests("GET / HTTP/1.2\r\nHost: x\r\n\r\n").requests.first)
        #expect(later.head.versionMinor == 1)
        let star = try #require(feedRequests("OPTIONS * HTTP/1.1\r\nHost: x\r\n\r\n").requests.first)
        #expect(star.head.path == "*")
        let absolute = try #require(feedRequests("GET HTTP://example.com:80/logs/x?a=1 HTTP/1.1\r\nHost: example.com\r\n\r\n").requests.first)
        #expect(absolute.head.path == "/logs/x")
        #expect(absolute.head.queryValue("a") == "1")
        #expect(HTTPRequestHead(method: "GET", target: "https://h?q=1").path == "/")
        #expect(HTTPRequestHead(method: "GET", target: "https://h").path == "/")
        #expect(HTTPRequestHead(method: "GET", target: "https://h").query.isEmpty)
    }

    @Test("field values keep inner whitespace and obs-text; repeated fields are all kept")
    func fieldValues() throws {
        let bytes = Array("GET / HTTP/1.1\r\nHost: x\r\nX-A: one \t two\r\nX-Latin: caf".utf8) + [0xE9] + Array("\r\nx-a: three\r\nEmpty:\r\n\r\n".utf8)
        let r = try #require(feedRequests(bytes).requests.first)
        #expect(r.head.header("X-A") == "one \t two")
        #expect(r.head.headerValues("x-A") == ["one \t two", "three"])
        #expect(r.head.header("X-Latin") == "caf\u{FFFD}")
        #expect(r.head.header("Empty") == "")
    }

    @Test("characters browsers leave unescaped in queries are let through; the path stays encoded", arguments: [nil, 1] as [Int?])
    func browserTargets(step: Int?) throws {
        let text = "GET /logs/a%2Fb?q={\"level\":\"error\"}|x^`\\<> HTTP/1.1\r\nHost: [::1]:8000\r\n\r\n"
        let r = try #require(feedRequests(text, step: step).requests.first)
        #expect(r.head.path == "/logs/a%2Fb")
        #expect(r.head.queryValue("q") == "{\"level\":\"error\"}|x^`\\<>")
        #expect(r.head.header("Host") == "[::1]:8000")
    }

    @Test("the query is split on & and =, percent-decoded, + as space")
    func query() {
        let head = HTTPRequestHead(method: "GET", target: "/p%20q?a=1&b=x+y%2By&&flag&empty=&%E2%82%AC=euro&a=2&bad=%FF&eq=a=b")
        #expect(head.path == "/p%20q")
        let q = head.query
        #expect(q.map(\.name) == ["a", "b", "flag", "empty", "€", "a", "bad", "eq"])
        #expect(q.map(\.value) == ["1", "x y+y", "", "", "euro", "2", "%FF", "a=b"])
        #expect(head.queryValue("a") == "1")
        #expect(head.queryValue("nope") == nil)
        #expect(HTTPRequestHead(method: "GET", target: "/").query.isEmpty)
        #expect(HTTPRequestHead(method: "GET", target: "/?").query.isEmpty)
    }

    @Test("percentDecode decodes escapes and refuses malformed ones and non-UTF-8", arguments: [
        ("plain", false, "plain"), ("a%20b", false, "a b"), ("a+b", false, "a+b"), ("a+b", true, "a b"), ("%2B", true, "+"),
        ("%e2%82%ac", false, "€"), ("%", false, nil), ("%4", false, nil), ("%zz", false, nil), ("%4g", false, nil),
        ("%FF", false, nil), ("%C3", false, nil), ("%00", false, "\0"), ("", false, ""),
    ] as [(String, Bool, String?)])
    func percentDecoding(text: String, plus: Bool, decoded: String?) {
        #expect(percentDecode(text, plusAsSpace: plus) == decoded)
    }

    @Test("keep-alive follows the version and Connection's options", arguments: [
        (1, nil, true), (1, "close", false), (1, "Keep-Alive, CLOSE", false), (1, "keep-alive", true), (1, "upgrade", true),
        (0, nil, false), (0, "keep-alive", true), (0, "Keep-Alive", true), (0, "close", false), (0, "foo, keep-alive", true),
    ] as [(Int, String?, Bool)])
    func keepAlive(minor: Int, connection: String?, expected: Bool) {
        let head = HTTPRequestHead(method: "GET", target: "/", versionMinor: minor,
                                   headers: [HTTPField("Host", "x")] + (connection.map { [HTTPField("Connection", $0)] } ?? []))
        #expect(head.keepAlive == expected)
    }

    @Test("a request that closes the connection pauses the parser: later bytes are not processed", arguments: steps)
    func closePauses(step: Int?) throws {
        let first = "GET /a HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
        var feed = try feedRequests(first + "GET /b HTTP/1.1\r\nHost: x\r\n\r\n", step: step)
        #expect(feed.requests.map(\.head.path) == ["/a"])
        #expect(feed.consumed == first.utf8.count)
        #expect(feed.parser.pause == .connectionClose)
        let more = try feedMore(&feed.parser, "GET /c HTTP/1.1\r\n") { _ in Issue.record("event after close") }
        #expect(more == 0)
    }

    @Test("an upgrade request pauses after its end, leaving the new protocol's bytes; resume goes on with HTTP", arguments: steps)
    func upgradePauses(step: Int?) throws {
        let first = "GET /ws HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: keep-alive, Upgrade\r\n"
            + "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"
        let frames: [UInt8] = [0x81, 0x82, 1, 2, 3, 4, 0x69, 0x6B]
        var feed = try feedRequests(Array(first.utf8) + frames, step: step)
        #expect(feed.requests.count == 1)
        #expect(feed.requests[0].head.isWebSocketUpgrade)
        #expect(feed.requests[0].ended)
        #expect(feed.consumed == first.utf8.count)
        #expect(feed.parser.pause == .upgrade)
        feed.parser.resume()
        #expect(feed.parser.pause == nil)
        #expect(feed.parser.isIdle)
        var heads = 0
        _ = try feedMore(&feed.parser, "GET / HTTP/1.1\r\nHost: x\r\n\r\n") { if case .head = $0 { heads += 1 } }
        #expect(heads == 1)
    }

    @Test("HTTP/1.0 ignores Upgrade")
    func upgradeNeedsHTTP11() throws {
        let feed = try feedRequests("GET / HTTP/1.0\r\nConnection: keep-alive, upgrade\r\nUpgrade: websocket\r\n\r\nGET /2 HTTP/1.0\r\n\r\n")
        #expect(feed.requests.count == 2)
        #expect(!feed.requests[0].head.requestsUpgrade)
        #expect(feed.parser.pause == .connectionClose)
    }

    @Test("pausesAfterEachRequest stops after every request until resumed", arguments: steps)
    func pauseEach(step: Int?) throws {
        let a = "POST /a HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\n\r\n1"
        let b = "GET /b HTTP/1.1\r\nHost: x\r\n\r\n"
        var feed = try feedRequests(a + b, step: step, parser: HTTPRequestParser(pausesAfterEachRequest: true))
        #expect(feed.requests.map(\.head.path) == ["/a"])
        #expect(feed.consumed == a.utf8.count)
        #expect(feed.parser.pause == .requestEnded)
        feed.parser.resume()
        let next = try feedRequests(b, step: step, parser: feed.parser)
        #expect(next.requests.map(\.head.path) == ["/b"])
        #expect(next.parser.pause == .requestEnded)
    }

    @Test("Expect: 100-continue is reported; header tokens are lowercased and trimmed")
    func expectContinue() throws {
        let r = try #require(feedRequests("PUT /r HTTP/1.1\r\nHost: x\r\nExpect: 100-Continue\r\nContent-Length: 2\r\nConnection: ,Keep-Alive ,, TE\r\n\r\n{}").requests.first)
        #expect(r.head.expectsContinue)
        #expect(r.head.headerTokens("connection") == ["keep-alive", "te"])
        #expect(r.bodyText == "{}")
    }

    @Test("identical repeated Content-Length values are one length")
    func repeatedContentLength() throws {
        let r = try #require(feedRequests("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 3, 3\r\nContent-Length: 003\r\n\r\nabc").requests.first)
        #expect(r.bodyText == "abc")
    }

    @Test("isWebSocketUpgrade needs GET, HTTP/1.1, Upgrade: websocket and Connection: upgrade", arguments: [
        ("GET", 1, "websocket", "Upgrade", true), ("GET", 1, "WebSocket", "keep-alive, UPGRADE", true),
        ("GET", 1, "h2c, websocket", "upgrade", true), ("POST", 1, "websocket", "upgrade", false),
        ("GET", 0, "websocket", "upgrade", false), ("GET", 1, "h2c", "upgrade", false), ("GET", 1, "websocket", "keep-alive", false),
    ] as [(String, Int, String, String, Bool)])
    func webSocketUpgrade(method: String, minor: Int, upgrade: String, connection: String, expected: Bool) {
        let head = HTTPRequestHead(method: method, target: "/", versionMinor: minor,
                                   headers: [HTTPField("Host", "x"), HTTPField("Upgrade", upgrade), HTTPField("Connection", connection)])
        #expect(head.isWebSocketUpgrade == expected)
    }

    // MARK: Limits

    @Test("a head over maxHeadBytes is 431, even without its end", arguments: [nil, 1, 100] as [Int?])
    func headLimit(step: Int?) {
        let text = "GET / HTTP/1.1\r\nHost: x\r\n" + String(repeating: "X-Filler: aaaaaaaaaaaaaaaaaaaa\r\n", count: 600)
        let error = requestError(text, step: step)
        #expect(error?.status == 431)
        #expect(error?.message == "request head too large")
        let parser = HTTPRequestParser(maxHeadBytes: 64)
        #expect(requestError("GET / HTTP/1.1\r\nHost: x\r\nX-A: " + String(repeating: "b", count: 60), parser: parser)?.status == 431)
        // Exactly at the limit is fine.
        let exact = "GET / HTTP/1.1\r\nHost: x\r\n\r\n"
        #expect(requestError(exact, parser: HTTPRequestParser(maxHeadBytes: exact.utf8.count)) == nil)
        #expect(requestError(exact, parser: HTTPRequestParser(maxHeadBytes: exact.utf8.count - 1))?.status == 431)
    }

    @Test("a target over maxTargetBytes is 414, before the request line ends", arguments: [nil, 1, 1000] as [Int?])
    func targetLimit(step: Int?) {
        #expect(requestError("GET /" + String(repeating: "a", count: 9000), step: step)?.status == 414)
        let parser = HTTPRequestParser(maxTargetBytes: 10)
        #expect(requestError("GET /123456789 HTTP/1.1\r\nHost: x\r\n\r\n", step: step, parser: parser) == nil)
        #expect(requestError("GET /1234567890 HTTP/1.1\r\nHost: x\r\n\r\n", step: step, parser: parser)?.status == 414)
    }

    @Test("a body over maxBodyBytes is 413, by Content-Length at once or by chunk sizes", arguments: [nil, 1] as [Int?])
    func bodyLimit(step: Int?) {
        let parser = HTTPRequestParser(maxBodyBytes: 10)
        #expect(requestError("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\n0123456789", step: step, parser: parser) == nil)
        #expect(requestError("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 11\r\n\r\n", step: step, parser: parser)?.status == 413)
        #expect(requestError("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 99999999999999999999999999\r\n\r\n", step: step, parser: parser)?.status == 413)
        let chunked = "POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
        #expect(requestError(chunked + "5\r\n01234\r\n5\r\n56789\r\n0\r\n\r\n", step: step, parser: parser) == nil)
        #expect(requestError(chunked + "5\r\n01234\r\n6\r\n", step: step, parser: parser)?.status == 413)
        #expect(requestError(chunked + "fffffffffffffffffffffffff\r\n", step: step, parser: parser)?.status == 413)
        #expect(requestError("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 1048577\r\n\r\n")?.status == 413)
    }

    @Test("a trailer section over maxHeadBytes is 431")
    func trailerLimit() {
        let text = "POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n" + String(repeating: "X-T: v\r\n", count: 20)
        #expect(requestError(text, parser: HTTPRequestParser(maxHeadBytes: 100))?.status == 431)
        #expect(requestError(text + "\r\n", parser: HTTPRequestParser(maxHeadBytes: 1000)) == nil)
    }

    // MARK: Malformed requests

    static let malformed: [(String, Int)] = [
        // Request line
        ("garbage\r\n\r\n", 400),
        ("GET /\r\n\r\n", 400),
        ("GET  / HTTP/1.1\r\nHost: x\r\n\r\n", 400),
        ("GET / HTTP/1.1 \r\nHost: x\r\n\r\n", 400),
        (" GET / HTTP/1.1\r\nHost: x\r\n\r\n", 400),
        ("G(T / HTTP/1.1\r\nHost: x\r\n\r\n", 400),
        ("GET\t/ HTTP/1.1\r\nHost: x\r\n\r\n", 400),
        ("GET a HTTP/1.1\r\nHost: x\r\n\r\n", 400),
        ("GET /a b HTTP/1.1\r\nHost: x\r\n\r\n", 400),
        ("GET /%zz HTTP/1.1\r\nHost: x\r\n\r\n", 400),
        ("GET /a% HTTP/1.1\r\nHost: x\r\n\r\n", 400),
        ("GET /a%4 HTTP/1.1\r\nHost: x\r\n\r\n", 400),
        ("GET /a#frag HTTP/1.1\r\nHost: x\r\n\r\n", 400),
        ("GET /\u{7F} HTTP/1.1\r\nHost: x\r\n\r\n", 400),
        ("GET /é HTTP/1.1\r\nHost: x\r\n\r\n", 400),
        ("GET * HTTP/1.1\r\nHost: x\r\n\r\n", 400),
        ("CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n", 400),
        ("GET ftp://x/ HTTP/1.1\r\nHost: x\r\n\r\n", 400),
        ("GET / http/1.1\r\nHost: x\r\n\r\n", 400),
        ("GET / HTTP/1\r\nHost: x\r\n\r\n", 400),
        ("GET / HTTP/1.10\r\nHost: x\r\n\r\n", 400),
        ("GET / HTTP/11\r\nHost: x\r\n\r\n", 400),
        ("GET / HTTP/1.x\r\nHost: x\r\n\r\n", 400),
        ("GET / HTTP/2.0\r\nHost: x\r\n\r\n", 505),
        ("GET / HTTP/0.9\r\nHost: x\r\n\r\n", 505),
        ("GET / HTTP/3.0\r\nHost: x\r\n\r\n", 505),
        // Bare CR
        ("GET /\r HTTP/1.1\r\nHost: x\r\n\r\n", 400),
        ("GET / HTTP/1.1\r\nHost: x\r\nX-A: a\rb\r\n\r\n", 400),
        ("GET / HTTP/1.1\r\nHost: x\r\n\r\r\n", 400),
        ("GET / HTTP/1.1\r\r\nHost: x\r\n\r\n", 400),
        // Field lines
        ("GET / HTTP/1.1\r\nHost: x\r\nX-A: b\r\n c\r\n\r\n", 400),
        ("GET / HTTP/1.1\r\nHost: x\r\nX-A: b\r\n\tc\r\n\r\n", 400),
        ("GET / HTTP/1.1\r\n Host: x\r\n\r\n", 400),
        ("GET / HTTP/1.1\r\nHost : x\r\n\r\n", 400),
        ("GET / HTTP/1.1\r\nHost: x\r\nBad Name: x\r\n\r\n", 400),
        ("GET / HTTP/1.1\r\nHost: x\r\nX-A\t: x\r\n\r\n", 400),
        ("GET / HTTP/1.1\r\nHost: x\r\nno colon\r\n\r\n", 400),
        ("GET / HTTP/1.1\r\nHost: x\r\n: empty name\r\n\r\n", 400),
        ("GET / HTTP/1.1\r\nHost: x\r\nX(a): b\r\n\r\n", 400),
        ("GET / HTTP/1.1\r\nHost: x\r\nX-A: a\u{0}b\r\n\r\n", 400),
        ("GET / HTTP/1.1\r\nHost: x\r\nX-A: a\u{1B}b\r\n\r\n", 400),
        ("GET / HTTP/1.1\r\nHost: x\r\nX-A: a\u{7F}\r\n\r\n", 400),
        // Host
        ("GET / HTTP/1.1\r\n\r\n", 400),
        ("GET / HTTP/1.1\r\nHost: a\r\nHost: a\r\n\r\n", 400),
        ("GET / HTTP/1.0\r\nHost: a\r\nhost: b\r\n\r\n", 400),
        ("GET / HTTP/1.1\r\nHost: a b\r\n\r\n", 400),
        ("GET / HTTP/1.1\r\nHost: a/b\r\n\r\n", 400),
        ("GET / HTTP/1.1\r\nHost: user@a\r\n\r\n", 400),
        // Framing
        ("POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip\r\n\r\n", 400),
        ("POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked, gzip\r\n\r\n", 400),
        ("POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked;q=1\r\n\r\n", 400),
        ("POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: \r\n\r\n", 400),
        ("POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip, chunked\r\n\r\n", 501),
        ("POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip\r\nTransfer-Encoding: chunked\r\n\r\n", 501),
        ("POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked, chunked\r\n\r\n", 400),
        ("POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nContent-Length: 5\r\n\r\n", 400),
        ("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n", 400),
        ("POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n", 400),
        ("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: abc\r\n\r\n", 400),
        ("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: -1\r\n\r\n", 400),
        ("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: +5\r\n\r\n", 400),
        ("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 0x10\r\n\r\n", 400),
        ("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 1 2\r\n\r\n", 400),
        ("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: \r\n\r\n", 400),
        ("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 5,\r\n\r\n", 400),
        ("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 5, 6\r\n\r\n", 400),
        ("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\n", 400),
        // Chunked bodies
        ("POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n", 400),
        ("POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n\r\n", 400),
        ("POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n-1\r\n", 400),
        ("POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n 5\r\n", 400),
        ("POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n5;\r\n", 400),
        ("POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n5;=x\r\n", 400),
        ("POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n5;a=\r\n", 400),
        ("POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n5;a=\"open\r\n", 400),
        ("POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n5;a=b c\r\n", 400),
        ("POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n5x\r\n", 400),
        ("POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n5\r\r\n", 400),
        ("POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabcX", 400),
        ("POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\rX", 400),
        ("POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n1;" + String(repeating: "a", count: 5000) + "\r\n", 400),
        ("POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n0\r\nbad trailer\r\n\r\n", 400),
        ("POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n0\r\nX-T: a\r\n folded\r\n\r\n", 400),
    ]

    @Test("malformed requests are errors with the right status, fed whole or a byte at a time", arguments: malformed)
    func malformedRequests(text: String, status: Int) {
        #expect(requestError(text)?.status == status, "\(text.debugDescription)")
        #expect(requestError(text, step: 1)?.status == status, "\(text.debugDescription)")
    }

    @Test("errors name what is wrong")
    func errorMessages() {
        #expect(requestError("GET / HTTP/1.1\r\nHost: x\r\nX-A: b\r\n c\r\n\r\n")?.message == "obsolete line folding")
        #expect(requestError("GET / HTTP/1.1\r\nBad Name: x\r\n\r\n")?.message == "whitespace in a header name")
        #expect(requestError("GET / HTTP/1.1\r\nHost: x\r\nX-A: a\rb\r\n\r\n")?.message == "bare CR in the request head")
        #expect(requestError("POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nContent-Length: 5\r\n\r\n")?.message
            == "both Transfer-Encoding and Content-Length")
        #expect(requestError("GET / HTTP/1.1\r\n\r\n")?.message == "missing Host header")
        #expect(requestError("GET / HTTP/2.0\r\n\r\n") == HTTPRequestError(status: 505, message: "HTTP version not supported"))
    }

    @Test("a request that went wrong is not followed by a good one: the error repeats")
    func errorsAreFinal() throws {
        var parser = HTTPRequestParser()
        var events = 0
        let bad = Array("GET / HTTP/1.1\r\nBad Name: x\r\n\r\nGET / HTTP/1.1\r\nHost: x\r\n\r\n".utf8)
        for _ in 0..<2 {
            let error = bad.withUnsafeBytes { raw -> HTTPRequestError? in
                do throws(HTTPRequestError) { try parser.feed(raw) { _ in events += 1 }; return nil } catch { return error }
            }
            #expect(error?.status == 400)
        }
        #expect(events == 0)
        let empty = [UInt8]().withUnsafeBytes { raw -> HTTPRequestError? in
            do throws(HTTPRequestError) { try parser.feed(raw) { _ in }; return nil } catch { return error }
        }
        #expect(empty?.status == 400)
    }
}
