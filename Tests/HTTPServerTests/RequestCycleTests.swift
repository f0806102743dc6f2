import HTTP
import Testing
@testable import HTTPServer

@Suite("request cycle: requests one at a time, keep-alive, and the deadline's meaning")
struct RequestCycleTests {
    static let s: UInt64 = 1_000_000_000
    func cycle(at now: UInt64 = 100 * s) -> RequestCycle {
        RequestCycle(headTimeoutMs: 10_000, idleTimeoutMs: 60_000, now: now)
    }

    func feed(_ c: inout RequestCycle, _ text: String) {
        #expect(c.receive(Array(text.utf8)[...]) == true)
    }

    @Test("a new connection waits idle for its first request, 60 s")
    func idle() {
        var c = cycle()
        #expect(c.phase == .idle)
        #expect(c.deadline == 160 * Self.s)
        #expect(c.parse(now: 101 * Self.s) == .incomplete)
        #expect(c.expired(now: 160 * Self.s) == .close)
        #expect(c.deadline == nil)
    }

    @Test("a head that starts arriving has 10 s from its first bytes, however it trickles in")
    func headDeadline() {
        var c = cycle()
        feed(&c, "GET /health HT")
        #expect(c.parse(now: 105 * Self.s) == .incomplete)
        #expect(c.phase == .readingHead(since: 105 * Self.s))
        #expect(c.deadline == 115 * Self.s)
        feed(&c, "TP/1.1\r\nHost: x\r\n")
        #expect(c.parse(now: 110 * Self.s) == .incomplete)
        #expect(c.deadline == 115 * Self.s)
        feed(&c, "\r\n")
        guard case .request(let h) = c.parse(now: 111 * Self.s) else {
            Issue.record("a whole request")
            return
        }
        #expect(h.method == "GET" && h.path == "/health")
        #expect(c.phase == .serving)
        #expect(c.deadline == nil)
        #expect(c.keepAlive)
    }

    @Test("a call out to route's bus waits 5 s for its answer, then it is a bus timeout")
    func busDeadline() {
        var c = cycle(at: 0)
        feed(&c, "GET /routes HTTP/1.1\r\nHost: x\r\n\r\n")
        guard case .request = c.parse(now: Self.s) else {
            Issue.record("a whole request")
            return
        }
        #expect(c.deadline == nil)
        c.awaitBus(now: 2 * Self.s)
        #expect(c.deadline == 7 * Self.s)
        #expect(c.expired(now: 7 * Self.s) == .busTimeout(message: "route's bus did not answer within 5 s"))
        #expect(c.deadline == nil)
        // Answered (504): the connection goes on with the next request.
        let goesOn = c.responded(now: 8 * Self.s)
        #expect(goesOn)
        #expect(c.deadline == 68 * Self.s)
        // Only a request being served waits for the bus.
        c.awaitBus(now: 9 * Self.s)
        #expect(c.deadline == 68 * Self.s)
    }

    @Test("a slow head: 408 with the timeout in seconds, then closed a second later even if not read")
    func slowHead() {
        var c = RequestCycle(headTimeoutMs: 2_500, idleTimeoutMs: 60_000, now: 0)
        feed(&c, "GET / HTTP/1.1\r\n")
        #expect(c.parse(now: Self.s) == .incomplete)
        #expect(c.deadline == 3_500_000_000)
        #expect(c.expired(now: 3_500_000_000) == .requestTimeout(message: "the request head did not arrive within 2 s"))
        #expect(c.phase == .closing)
        #expect(!c.keepAlive)
        #expect(c.deadline == 4_500_000_000)
        // Nothing more is parsed, whatever comes.
        feed(&c, "Host: x\r\n\r\n")
        #expect(c.parse(now: 4 * Self.s) == .incomplete)
        #expect(c.expired(now: 4_500_000_000) == .close)
    }

    @Test("a malformed request: its error, then the connection closes (at the head's deadline at the latest)")
    func malformed() {
        var c = cycle(at: 0)
        feed(&c, "GET / HTTP/2.0\r\n\r\n")
        guard case .malformed(let error) = c.parse(now: Self.s) else {
            Issue.record("a malformed request")
            return
        }
        #expect(error.status == 505)
        #expect(c.phase == .closing)
        #expect(!c.keepAlive)
        #expect(c.deadline == 11 * Self.s)
        #expect(c.expired(now: 11 * Self.s) == .close)
    }

    @Test("pipelined requests wait until the one before is answered; then the idle timeout again")
    func pipelined() {
        var c = cycle(at: 0)
        feed(&c, "POST /routes HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\n{}GET /routes HTTP/1.1\r\nHost: x\r\n\r\n")
        guard case .request(let first) = c.parse(now: 1) else {
            Issue.record("the first request")
            return
        }
        #expect(first.method == "POST")
        #expect(c.body == Array("{}".utf8))
        #expect(c.head == first)
        #expect(c.parse(now: 2) == .incomplete)  // serving the first
        #expect(c.responded(now: 3 * Self.s) == true)
        #expect(c.head == nil && c.body.isEmpty)
        #expect(c.deadline == 63 * Self.s)
        guard case .request(let second) = c.parse(now: 4 * Self.s) else {
            Issue.record("the second request")
            return
        }
        #expect(second.method == "GET")
        #expect(c.responded(now: 5 * Self.s) == true)
        #expect(c.parse(now: 6 * Self.s) == .incomplete)
        #expect(c.phase == .idle)
    }

    @Test("Connection: close, HTTP/1.0 and a refused upgrade close after the response")
    func closing() {
        var c = cycle()
        feed(&c, "GET /health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        guard case .request = c.parse(now: 0) else { Issue.record("a request"); return }
        #expect(!c.keepAlive)
        #expect(c.responded(now: 0) == false)

        var old = cycle()
        feed(&old, "GET /health HTTP/1.0\r\n\r\n")
        guard case .request = old.parse(now: 0) else { Issue.record("a request"); return }
        #expect(old.responded(now: 0) == false)

        var alive = cycle()
        feed(&alive, "GET /health HTTP/1.0\r\nConnection: keep-alive\r\n\r\n")
        guard case .request = alive.parse(now: 0) else { Issue.record("a request"); return }
        #expect(alive.responded(now: 0) == true)

        var refused = cycle()
        feed(&refused, "GET /logs HTTP/1.1\r\nHost: x\r\n\r\n")
        guard case .request = refused.parse(now: 0) else { Issue.record("a request"); return }
        refused.closesAfterResponse()
        #expect(refused.responded(now: 0) == false)
    }

    @Test("a stream: the deadline is its keep-alive ping, moved on at each; nothing more is parsed")
    func streaming() {
        var c = cycle(at: 0)
        feed(&c, "GET /logs HTTP/1.1\r\nHost: x\r\n\r\n")
        guard case .request = c.parse(now: 0) else { Issue.record("a request"); return }
        c.startStream(pingInterval: 5 * Self.s, now: Self.s)
        #expect(c.phase == .streaming(pingInterval: 5 * Self.s))
        #expect(!c.keepAlive)
        #expect(c.deadline == 6 * Self.s)
        #expect(c.expired(now: 6 * Self.s) == .ping)
        #expect(c.deadline == 11 * Self.s)
        feed(&c, "GET / HTTP/1.1\r\n\r\n")
        #expect(c.parse(now: 7 * Self.s) == .incomplete)
    }

    @Test("Expect: 100-continue is reported once, when the head is in and the body is not; the body then completes the request")
    func expectContinue() {
        var c = cycle()
        feed(&c, "POST /routes HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nExpect: 100-continue\r\n\r\n")
        guard case .expectsContinue(let h) = c.parse(now: 0) else { Issue.record("the client waits for 100"); return }
        #expect(h.path == "/routes" && h.expectsContinue)
        #expect(!c.isBusy)
        #expect(c.parse(now: 0) == .incomplete, "once")
        feed(&c, "he")
        #expect(c.parse(now: 0) == .incomplete)
        feed(&c, "llo")
        guard case .request = c.parse(now: 0) else { Issue.record("a whole request"); return }
        #expect(c.body == Array("hello".utf8))

        // The body already there (or none): no 100.
        var whole = cycle()
        feed(&whole, "POST /routes HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nExpect: 100-continue\r\n\r\nhello")
        guard case .request = whole.parse(now: 0) else { Issue.record("a whole request"); return }
        // HTTP/1.0 clients are not answered 100 (RFC 9110 §10.1.1).
        var old = cycle()
        feed(&old, "POST /routes HTTP/1.0\r\nContent-Length: 5\r\nExpect: 100-continue\r\n\r\n")
        #expect(old.parse(now: 0) == .incomplete)
        // A body over the limit is 413 from the head alone.
        var big = cycle()
        feed(&big, "POST /routes HTTP/1.1\r\nHost: x\r\nContent-Length: 2000000\r\nExpect: 100-continue\r\n\r\n")
        guard case .malformed(let e) = big.parse(now: 0) else { Issue.record("413"); return }
        #expect(e.status == 413)
    }

    @Test("more than 64 MiB waiting unparsed closes the connection")
    func tooMuch() {
        var c = cycle()
        feed(&c, "GET / HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhello")
        guard case .request = c.parse(now: 0) else { Issue.record("a request"); return }
        #expect(c.receive([UInt8](repeating: 65, count: RequestCycle.maxPending - c.pending.count)[...]) == true)
        #expect(c.receive([65][...]) == false)
    }
}
