import Contract
import JSON
import Records
import Testing
@testable import Routing

@Suite("the bus's per-connection protocol: requests, answers, subscriptions, the subscriber's queue")
struct BusSessionTests {
    static let route = #"{"id":"db","source":{"filter":"db"},"target":{"type":"syslog","addr":"logs:514","protocol":"udp"}}"#

    /// Feeds `text`, serves it, and returns what would be written (all of it, as if the socket took it).
    func exchange(_ s: inout BusSession, _ text: String, store: RouteStore = RouteStore(routesPath: nil)) -> (String, Bool) {
        s.receive(Array(text.utf8))
        let subscribed = s.serve(store)
        return (drain(&s), subscribed)
    }

    func drain(_ s: inout BusSession) -> String {
        var out: [UInt8] = []
        while true {
            let next = s.nextOutput()
            if next.isEmpty { break }
            out += next
            s.wrote(next.count)
        }
        return String(decoding: out, as: UTF8.self)
    }

    func push(_ s: inout BusSession, _ line: String) {
        Array(line.utf8).withUnsafeBytes { s.push($0) }
    }

    @Test("calls answered in order on one connection: ping, add, list, get, delete")
    func calls() {
        let store = RouteStore(routesPath: nil)
        var s = BusSession()
        let (out, subscribed) = exchange(&s, #"{"op":"ping"}"# + "\n" + #"{"op":"add","route":"# + Self.route + "}\n"
            + #"{"op":"list"}"# + "\n" + #"{"op":"get","id":"db"}"# + "\n" + #"{"op":"delete","id":"db"}"# + "\n"
            + #"{"op":"get","id":"db"}"# + "\n", store: store)
        #expect(!subscribed)
        #expect(out == """
            {"ok":true}
            {"ok":true,"route":\(Self.route)}
            {"ok":true,"routes":[\(Self.route)]}
            {"ok":true,"route":\(Self.route)}
            {"ok":true}
            {"ok":false,"status":404,"error":"no route 'db'"}

            """)
        #expect(store.list().isEmpty)
    }

    @Test("a request split across reads is served once whole; blank lines are skipped")
    func split() {
        var s = BusSession()
        #expect(exchange(&s, #"{"op":"pi"#).0 == "")
        #expect(exchange(&s, "ng\"}\r\n\n  \t\n" + #"{"op":"ping"}"#).0 == "{\"ok\":true}\n")
        #expect(s.input == Array(#"{"op":"ping"}"#.utf8))
        #expect(exchange(&s, "\n").0 == "{\"ok\":true}\n")
    }

    @Test("malformed requests and unknown operations get a 400 saying why; the connection goes on")
    func malformed() {
        var s = BusSession()
        let (out, _) = exchange(&s, "not json\n" + #"{"id":"x"}"# + "\n" + #"{"op":"frob"}"# + "\n" + #"{"op":"get"}"# + "\n"
            + #"{"op":"get","id":7}"# + "\n" + #"{"op":"add"}"# + "\n" + #"{"op":"subscribe","filter":[]}"# + "\n"
            + #"{"op":"subscribe","filter":{"types":["stdin"]}}"# + "\n" + #"{"op":"ping"}"# + "\n")
        let lines = out.split(separator: "\n").map(String.init)
        #expect(lines.count == 9)
        #expect(lines[0].hasPrefix(#"{"ok":false,"status":400,"error":"bad request: "#))
        #expect(Array(lines[1...]) == [
            #"{"ok":false,"status":400,"error":"bad request: no \"op\""}"#,
            #"{"ok":false,"status":400,"error":"bad request: unknown op 'frob'"}"#,
            #"{"ok":false,"status":400,"error":"bad request: no \"id\""}"#,
            #"{"ok":false,"status":400,"error":"bad request: no \"id\""}"#,
            #"{"ok":false,"status":400,"error":"bad request: no \"route\""}"#,
            #"{"ok":false,"status":400,"error":"filter must be an object"}"#,
            #"{"ok":false,"status":400,"error":"filter types must be \"stdout\" or \"stderr\""}"#,
            #"{"ok":true}"#,
        ])
        #expect(s.filter == nil)
    }

    @Test("a bad route is a 400 from the store; an unknown id a 404")
    func storeRefusals() {
        var s = BusSession()
        let (out, _) = exchange(&s, #"{"op":"add","route":{"target":{"type":"kafka"}}}"# + "\n" + #"{"op":"delete","id":"x"}"# + "\n")
        let lines = out.split(separator: "\n").map(String.init)
        #expect(lines.count == 2)
        #expect(lines[0].hasPrefix(#"{"ok":false,"status":400,"error":""#))
        #expect(lines[1] == #"{"ok":false,"status":404,"error":"no route 'x'"}"#)
    }

    @Test("a line over 1 MiB without its end closes the connection")
    func overlong() {
        var s = BusSession()
        s.receive([UInt8](repeating: 65, count: BusSession.maxRequestLine))
        #expect(!s.isOverlong)
        s.receive([65])
        #expect(s.isOverlong)
    }

    @Test("a subscription: answered, then the connection is a stream; what the subscriber sends is ignored")
    func subscribe() {
        var s = BusSession()
        let (out, subscribed) = exchange(&s, #"{"op":"subscribe","filter":{"name":"web","types":["stderr"]}}"# + "\n"
            + #"{"op":"ping"}"# + "\n")
        #expect(subscribed)
        #expect(out == "{\"ok\":true}\n")
        #expect(s.filter == SubscriptionFilter(name: "web", types: [.stderr]))
        #expect(s.wants(.stderr) && !s.wants(.stdout))
        #expect(exchange(&s, #"{"op":"ping"}"# + "\n") == ("", false))
        push(&s, "r1")
        #expect(s.hasQueued)
        #expect(drain(&s) == "r1\n")
        #expect(!s.hasQueued)
        #expect(!BusSession().wants(.stdout))
        var all = BusSession()
        _ = exchange(&all, #"{"op":"subscribe"}"# + "\n")
        #expect(all.wants(.stdout) && all.wants(.stderr))
    }

    @Test("a full queue drops its oldest records and counts them; the count goes out first, then resets")
    func overflow() {
        var s = BusSession(queueBytes: 9)  // three records of two bytes and a newline
        _ = exchange(&s, #"{"op":"subscribe"}"# + "\n")
        for i in 1...5 { push(&s, "r\(i)") }
        #expect(s.queue.count == 3)
        #expect(s.queue.missed == 2)
        #expect(drain(&s) == "{\"missed\":2}\nr3\nr4\nr5\n")
        for i in 6...7 { push(&s, "r\(i)") }
        #expect(drain(&s) == "r6\nr7\n")
        for i in 1...5 { push(&s, "x\(i)") }
        #expect(drain(&s) == "{\"missed\":2}\nx3\nx4\nx5\n")
        #expect(!s.hasQueued)
    }

    @Test("a socket that takes part: the rest first, then the queue (counting what it dropped meanwhile)")
    func blocked() {
        var s = BusSession(queueBytes: 6)
        _ = exchange(&s, #"{"op":"subscribe"}"# + "\n")
        push(&s, "first")
        #expect(String(decoding: s.nextOutput(), as: UTF8.self) == "first\n")
        s.wrote(2)
        #expect(s.isBlocked)
        for i in 1...4 { push(&s, "r\(i)") }
        #expect(String(decoding: s.nextOutput(), as: UTF8.self) == "rst\n")
        s.wrote(4)
        #expect(!s.isBlocked)
        #expect(drain(&s) == "{\"missed\":2}\nr3\nr4\n")
    }

    @Test("the queue goes out in slices of about 256 KiB")
    func slices() {
        var s = BusSession()
        _ = exchange(&s, #"{"op":"subscribe"}"# + "\n")
        let record = String(repeating: "x", count: 1023)
        for _ in 0..<400 { push(&s, record) }
        let first = s.nextOutput()
        #expect(first.count == BusSession.writeSlice)
        s.wrote(first.count)
        #expect(s.nextOutput().count == 400 * 1024 - BusSession.writeSlice)
    }

    @Test("the queue is bounded in bytes, not records: many small ones fit, few large ones do; a record larger than the bound alone is kept")
    func byteBound() {
        var s = BusSession(queueBytes: 1000)
        _ = exchange(&s, #"{"op":"subscribe"}"# + "\n")
        for i in 0..<5000 { push(&s, String(i % 10)) }  // two bytes each
        #expect(s.queue.count == 500 && s.queue.byteCount == 1000)
        #expect(s.queue.missed == 4500)
        let big = String(repeating: "x", count: 399)
        for _ in 0..<7 { push(&s, big) }
        #expect(s.queue.count == 2 && s.queue.byteCount == 800)
        #expect(s.queue.missed == 4505 + 500)
        push(&s, String(repeating: "y", count: 5000))
        #expect(s.queue.count == 1 && s.queue.byteCount == 5001)
        let out = drain(&s)
        #expect(out == "{\"missed\":5007}\n" + String(repeating: "y", count: 5000) + "\n")
    }

    @Test("a drained queue gives its memory back")
    func released() {
        var s = BusSession()
        _ = exchange(&s, #"{"op":"subscribe"}"# + "\n")
        let record = String(repeating: "x", count: 1023)
        for _ in 0..<2000 { push(&s, record) }
        #expect(s.queue.byteCount == 2000 * 1024)
        #expect(s.queue.footprint >= 2000 * 1024)
        _ = drain(&s)
        #expect(s.queue.byteCount == 0 && s.queue.footprint == 0)
        push(&s, "r")
        s.shrink(to: 0)
        #expect(s.queue.byteCount == 0 && s.queue.missed == 1)
    }

    @Test("a new subscribe on a subscribed connection replaces the filter; other requests are still ignored")
    func resubscribe() {
        var s = BusSession()
        _ = exchange(&s, #"{"op":"subscribe","filter":{"name":"web"}}"# + "\n")
        let (out, changed) = exchange(&s, #"{"op":"list"}"# + "\nnot json\n" + #"{"op":"subscribe","filter":{"types":["stdout"]}}"# + "\n")
        #expect(changed)
        #expect(out == "{\"ok\":true}\n")
        #expect(s.filter == SubscriptionFilter(types: [.stdout]))
    }

    @Test("the bus's total budget: the level the largest queues are cut down to")
    func level() {
        #expect(Bus.level([10, 10, 10], target: 30) == 10)
        #expect(Bus.level([100, 10, 10], target: 60) == 40)
        #expect(Bus.level([100, 90, 10], target: 60) == 25)
        #expect(Bus.level([5, 5], target: 0) == 0)
        #expect(Bus.level([], target: 10) == 0)
    }
}
