import Contract
import JSON
import Testing
@testable import HTTPServer

/// What a bus client saw: answers, and a stream's lines as text.
struct Seen {
    var replies: [BusReply] = []
    var lines: [String] = []
    var overlong = 0
}

@Suite("bus client: one request and its answer, or a subscription's stream; the bus going away")
struct BusClientTests {
    func receive(_ c: inout BusClient, _ text: String, into seen: inout Seen) {
        Array(text.utf8).raw { raw in
            c.receive(raw) { event in
                switch event {
                case .reply(let r): seen.replies.append(r)
                case .line(let l): seen.lines.append(String(decoding: l, as: UTF8.self))
                case .overlong: seen.overlong += 1
                }
            }
        }
    }

    @Test("a request's line, then its one answer (split across reads); nothing after it is seen")
    func answer() {
        var c = BusClient()
        #expect(c.state == .idle)
        #expect(text(c.send(.list)) == "{\"op\":\"list\"}\n")
        #expect(c.state == .awaitingReply)
        var seen = Seen()
        receive(&c, #"{"ok":true,"rou"#, into: &seen)
        #expect(seen.replies.isEmpty)
        receive(&c, #"tes":[]}"# + "\n" + #"{"ok":true}"# + "\n", into: &seen)
        #expect(seen.replies == [.routes([])])
        #expect(c.state == .finished)
        receive(&c, #"{"ok":true}"# + "\n", into: &seen)
        #expect(seen.replies.count == 1 && seen.lines.isEmpty)
        #expect(c.closed() == .none)
    }

    @Test("the bus's refusal and an unreadable answer are failures with their status")
    func failures() {
        var c = BusClient()
        _ = c.send(.get(id: "x"))
        var seen = Seen()
        receive(&c, #"{"ok":false,"status":404,"error":"no route 'x'"}"# + "\n", into: &seen)
        #expect(seen.replies == [.failed(BusError(404, "no route 'x'"))])

        var malformed = BusClient()
        _ = malformed.send(.ping)
        seen = Seen()
        receive(&malformed, "{\"ok\":tru\n", into: &seen)
        #expect(seen.replies == [.failed(BusError(500, "unreadable answer"))])
        #expect(Router.answer(.list, seen.replies[0]) == .error(500, "unreadable answer"))

        var vague = BusClient()
        _ = vague.send(.ping)
        seen = Seen()
        receive(&vague, "{\"ok\":false}\n", into: &seen)
        #expect(seen.replies == [.failed(BusError(500, "the bus failed"))])
    }

    @Test("the bus goes away before answering: 503, route's bus closed the connection")
    func busGoneBeforeAnswer() {
        var c = BusClient()
        _ = c.send(.add(route: .object([])))
        var seen = Seen()
        receive(&c, #"{"ok":tr"#, into: &seen)
        #expect(c.closed() == .requestFailed(BusError(503, "route's bus closed the connection")))
        #expect(c.state == .finished)
        #expect(seen.replies.isEmpty)
        #expect(BusClient.unreachable == BusError(503, "route's bus is unreachable"))
    }

    @Test("a subscription: its answer is taken, then every line (records, notices) in order, across reads")
    func subscription() {
        var c = BusClient()
        #expect(text(c.send(.subscribe(SubscriptionFilter(name: "web")))) == #"{"op":"subscribe","filter":{"name":"web"}}"# + "\n")
        #expect(c.state == .subscribing)
        var seen = Seen()
        receive(&c, #"{"ok":true}"# + "\n" + recordLine() + "\n{\"mis", into: &seen)
        #expect(c.state == .streaming)
        #expect(seen.lines == [recordLine()])
        receive(&c, "sed\":3}", into: &seen)
        receive(&c, "\n", into: &seen)
        receive(&c, "a\nb\n", into: &seen)
        #expect(seen.lines == [recordLine(), #"{"missed":3}"#, "a", "b"])
        #expect(seen.replies.isEmpty)
    }

    @Test("the bus goes away mid-stream, or before the subscription's answer: the stream ends")
    func busGoneMidStream() {
        var c = BusClient()
        _ = c.send(.subscribe(SubscriptionFilter()))
        #expect(c.closed() == .streamEnded)
        var d = BusClient()
        _ = d.send(.subscribe(SubscriptionFilter()))
        var seen = Seen()
        receive(&d, "{\"ok\":true}\n" + recordLine() + "\n", into: &seen)
        #expect(d.closed() == .streamEnded)
        #expect(d.closed() == .none)  // once
    }

    @Test("the client closes mid-stream: the rest is not read, and nothing is owed")
    func clientGoneMidStream() {
        var c = BusClient()
        _ = c.send(.subscribe(SubscriptionFilter()))
        var seen = Seen()
        receive(&c, "{\"ok\":true}\n" + recordLine() + "\n{\"time", into: &seen)
        c.cancel()
        #expect(c.state == .finished)
        receive(&c, "\":1}\n" + recordLine() + "\n", into: &seen)
        #expect(seen.lines == [recordLine()])
        #expect(c.closed() == .none)
        // A new request on a new connection starts afresh, without the old partial line.
        _ = c.send(.ping)
        receive(&c, "{\"ok\":true}\n", into: &seen)
        #expect(seen.replies == [.ok])
    }

    @Test("a stream through the bus client and the session: one read, one chunk")
    func pipeline() {
        var c = BusClient()
        _ = c.send(.subscribe(SubscriptionFilter()))
        guard case .success(var (session, _)) = StreamSession.start(head("GET", "/logs"), StreamRequest(), .json) else {
            Issue.record("the stream starts")
            return
        }
        Array(("{\"ok\":true}\n" + recordLine() + "\n" + #"{"missed":2}"# + "\n").utf8).raw { raw in
            c.receive(raw) { event in
                if case .line(let line) = event { session.take(line) }
            }
        }
        var out: [UInt8] = []
        #expect(session.finishBatch(into: &out) == true)
        let body = #"{"id":"8713470e0e2c","name":"web","type":"stdout","data":"GET / 200","time":"2026-11-24T20:42:17.123456789Z"}"#
            + "\n{\"missed\":2}\n"
        #expect(text(out) == String(body.utf8.count, radix: 16) + "\r\n" + body + "\r\n")
    }

    @Test("a stream line over the bound is not held: skipped to its end, said once, and the stream goes on")
    func overlongLine() {
        var c = BusClient()
        _ = c.send(.subscribe(SubscriptionFilter()))
        var seen = Seen()
        receive(&c, "{\"ok\":true}\nfirst\n", into: &seen)
        let chunk = String(repeating: "a", count: 1 << 18)
        for _ in 0..<5 { receive(&c, chunk, into: &seen) }
        #expect(seen.overlong == 1 && c.partial.isEmpty && c.skipping)
        receive(&c, chunk + "\nsecond\n" + String(repeating: "b", count: BusClient.maxStreamLine), into: &seen)
        #expect(seen.lines == ["first", "second"])
        #expect(c.partial.count == BusClient.maxStreamLine)
        receive(&c, "b\nthird\n", into: &seen)
        #expect(seen.overlong == 2 && seen.lines == ["first", "second", "third"] && !c.skipping)
        // An answer over its bound is a failure.
        var call = BusClient()
        _ = call.send(.list)
        receive(&call, String(repeating: "r", count: BusClient.maxReplyLine + 1), into: &seen)
        #expect(seen.replies == [.failed(BusError(500, "route's bus answered with a line longer than 16777216 bytes"))])
    }
}
