import Contract
import JSON
import Records
import Testing

func text(_ bytes: [UInt8]) -> String { String(decoding: bytes, as: UTF8.self) }

@Suite("the bus protocol")
struct BusTests {
    static let requests: [BusRequest] = [
        .ping, .list, .get(id: "3631c027fb1b"), .delete(id: "db"),
        .add(route: ["target": ["type": "syslog", "addr": "l:1"]]),
        .subscribe(SubscriptionFilter()),
        .subscribe(SubscriptionFilter(id: "8713", name: "web", substring: "we", types: [.stderr])),
    ]

    @Test("every request reads back as itself; every operation has one")
    func requestRoundTrips() throws {
        for request in Self.requests {
            let line = request.line()
            #expect(line.last == 10 && line.dropLast().allSatisfy { $0 != 10 })
            #expect(try BusRequest(line: Array(line.dropLast())) == request, "\(text(line))")
        }
        #expect(Set(Self.requests.map(\.operation)) == Set(BusOperation.allCases))
    }

    @Test("requests as docs/bus.md writes them: op first")
    func requestBytes() {
        #expect(text(BusRequest.ping.line()) == "{\"op\":\"ping\"}\n")
        #expect(text(BusRequest.list.line()) == "{\"op\":\"list\"}\n")
        #expect(text(BusRequest.get(id: "a").line()) == "{\"op\":\"get\",\"id\":\"a\"}\n")
        #expect(text(BusRequest.delete(id: "a").line()) == "{\"op\":\"delete\",\"id\":\"a\"}\n")
        #expect(text(BusRequest.add(route: ["id": "a"]).line()) == "{\"op\":\"add\",\"route\":{\"id\":\"a\"}}\n")
        #expect(text(BusRequest.subscribe(SubscriptionFilter()).line()) == "{\"op\":\"subscribe\",\"filter\":{}}\n")
        let all = SubscriptionFilter(id: "i", name: "n", substring: "s", types: [.stderr, .stdout])
        #expect(text(BusRequest.subscribe(all).line())
                == "{\"op\":\"subscribe\",\"filter\":{\"id\":\"i\",\"name\":\"n\",\"filter\":\"s\",\"types\":[\"stdout\",\"stderr\"]}}\n")
    }

    @Test("requests in other shapes: any member order, a missing filter, extra members")
    func requestReading() throws {
        #expect(try BusRequest(line: Array(#"{"id":"a","op":"get","extra":1}"#.utf8)) == .get(id: "a"))
        #expect(try BusRequest(line: Array(#" {"op":"subscribe"} "#.utf8)) == .subscribe(SubscriptionFilter()))
        #expect(try BusRequest(line: Array(#"{"op":"subscribe","filter":{"id":"","types":[],"name":7}}"#.utf8))
                == .subscribe(SubscriptionFilter()))
        #expect(try BusRequest(line: Array(#"{"op":"subscribe","filter":{"types":["stdout","stdout"]}}"#.utf8))
                == .subscribe(SubscriptionFilter(types: [.stdout])))
    }

    @Test("bad requests are 400 answers saying why", arguments: [
        (#"{"op":"#, "bad request: line 1, column 7: unexpected end of input, expected a value"),
        (#"{}"#, #"bad request: no "op""#),
        (#"{"op":1}"#, #"bad request: no "op""#),
        (#"{"op":"drop"}"#, "bad request: unknown op 'drop'"),
        (#"{"op":"get"}"#, #"bad request: no "id""#),
        (#"{"op":"delete","id":5}"#, #"bad request: no "id""#),
        (#"{"op":"add"}"#, #"bad request: no "route""#),
        (#"{"op":"subscribe","filter":null}"#, "filter must be an object"),
        (#"{"op":"subscribe","filter":{"types":["stdin"]}}"#, #"filter types must be "stdout" or "stderr""#),
    ])
    func badRequests(line: String, message: String) {
        #expect(throws: BusError(400, message)) { try BusRequest(line: Array(line.utf8)) }
    }

    @Test("every reply reads back as itself, in the bytes docs/bus.md shows")
    func replies() {
        let cases: [(BusReply, String)] = [
            (.ok, #"{"ok":true}"#),
            (.routes([]), #"{"ok":true,"routes":[]}"#),
            (.routes([["id": "a"], ["id": "b"]]), #"{"ok":true,"routes":[{"id":"a"},{"id":"b"}]}"#),
            (.route(["id": "a"]), #"{"ok":true,"route":{"id":"a"}}"#),
            (.failed(BusError(404, "no route 'a'")), #"{"ok":false,"status":404,"error":"no route 'a'"}"#),
        ]
        for (reply, line) in cases {
            var out: [UInt8] = []
            reply.append(to: &out)
            #expect(text(out) == line + "\n")
            #expect(BusReply(line: Array(line.utf8)) == reply)
        }
    }

    @Test("an answer that cannot be read, or says too little, is a failure")
    func badReplies() {
        #expect(BusReply(line: Array("nonsense".utf8)) == .failed(BusError(500, "unreadable answer")))
        #expect(BusReply(line: Array(#"{"ok":false}"#.utf8)) == .failed(BusError(500, "the bus failed")))
        #expect(BusReply(line: Array(#"{"ok":"yes"}"#.utf8)) == .failed(BusError(500, "the bus failed")))
        #expect(BusReply(line: Array(#"{"ok":false,"status":400,"error":"x"}"#.utf8)) == .failed(BusError(400, "x")))
    }

    @Test("the stream's missed notice, and records that are not one")
    func missed() {
        var out: [UInt8] = []
        BusStream.appendMissed(12, to: &out)
        #expect(text(out) == "{\"missed\":12}\n")
        #expect(BusStream.missed(out.dropLast()) == 12)
        #expect(BusStream.missed(Array(#"{"time":"t","source":"stdout","data":"x","container":{"id":"a","name":"b"}}"#.utf8)) == nil)
        #expect(BusStream.missed(Array("{".utf8)) == nil)
    }
}

@Suite("subscription filters and route ids")
struct FilterTests {
    @Test("every given field must match; the stream is checked apart")
    func matching() {
        let f = SubscriptionFilter(id: "8713", name: "orders_db", substring: "db")
        #expect(f.matches(id: "8713470e0e2c", name: "orders_db"))
        #expect(!f.matches(id: "9713470e0e2c", name: "orders_db"))
        #expect(!f.matches(id: "8713470e0e2c", name: "orders_db2"))
        #expect(SubscriptionFilter(substring: "db").matches(id: "x", name: "orders_db2"))
        #expect(SubscriptionFilter().matches(id: "x", name: "y"))
    }

    @Test("empty strings and an empty set are no criterion")
    func empties() throws {
        #expect(SubscriptionFilter(id: "", name: "", substring: "", types: []) == SubscriptionFilter())
        #expect(SubscriptionFilter().json() == [:])
        #expect(try SubscriptionFilter(json: nil) == SubscriptionFilter())
    }

    @Test("ids: [A-Za-z0-9][A-Za-z0-9._-]{0,63}")
    func ids() {
        for ok in ["a", "3631c027fb1b", "A.b_c-d", "0", "Z9", String(repeating: "x", count: 64)] {
            #expect(RouteID.isValid(ok), "\(ok)")
        }
        for bad in ["", ".hidden", "-a", "_a", "a/b", "..", "a b", "é", "aé", String(repeating: "x", count: 65), "a\n"] {
            #expect(!RouteID.isValid(bad), "\(bad)")
        }
        #expect(RouteID.pattern == "[A-Za-z0-9][A-Za-z0-9._-]{0,63}")
    }
}
