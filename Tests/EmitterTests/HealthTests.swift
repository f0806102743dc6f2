import Contract
import Glibc
import JSON
import Metrics
import Records
import Syscall
import Testing
@testable import Emitter

/// A receiver's health over time, and what emit-syslog publishes of it.
@Suite("emit-syslog: a receiver's health and its metrics")
struct HealthTests {
    static let s: UInt64 = 1_000_000_000
    static let after: UInt64 = 30 * s

    @Test("TCP: unknown until the first connection; ok while connected and for a while after a loss; failing once without a connection that long")
    func tcp() {
        var h = ReceiverHealth(udp: false, unhealthyAfter: Self.after)
        h.started(now: 100 * Self.s)
        #expect(h.state(now: 100 * Self.s, hasSent: false) == (.unknown, nil))
        #expect(h.nextChange(now: 100 * Self.s) == 130 * Self.s, "a timer for when it turns failing")
        h.down("connect to 10.0.0.1:601 failed: Connection refused", now: 101 * Self.s)
        #expect(h.state(now: 129 * Self.s, hasSent: false).state == .unknown)
        #expect(h.nextChange(now: 129 * Self.s) == 130 * Self.s, "failed attempts do not move the time it started waiting")
        #expect(h.state(now: 130 * Self.s, hasSent: false) == (.failing, "connect to 10.0.0.1:601 failed: Connection refused"))
        #expect(h.nextChange(now: 130 * Self.s) == nil, "nothing more to wait for")

        h.connected(now: 140 * Self.s)
        #expect(h.state(now: 140 * Self.s, hasSent: false) == (.ok, nil))
        #expect(h.nextChange(now: 140 * Self.s) == nil, "no timer while connected")
        h.down("the receiver closed the connection", now: 200 * Self.s)
        #expect(h.state(now: 229 * Self.s, hasSent: true) == (.ok, nil), "a short loss is fine: the buffer holds")
        #expect(h.nextChange(now: 229 * Self.s) == 230 * Self.s)
        #expect(h.state(now: 230 * Self.s, hasSent: true) == (.failing, "the receiver closed the connection"))
        h.connected(now: 231 * Self.s)
        #expect(h.state(now: 231 * Self.s, hasSent: true) == (.ok, nil), "back at once when it comes back")
    }

    @Test("TCP that cannot be resolved: failing after the time, with the lookup's sentence; without any error, how long")
    func tcpUnresolvable() {
        var h = ReceiverHealth(udp: false, unhealthyAfter: Self.after)
        h.started(now: 0)
        h.unresolvable("cannot resolve logs: no such host")
        #expect(h.state(now: 29 * Self.s, hasSent: false).state == .unknown)
        #expect(h.state(now: 30 * Self.s, hasSent: false) == (.failing, "cannot resolve logs: no such host"))
        h.resolved()
        #expect(h.state(now: 31 * Self.s, hasSent: false) == (.failing, "no connection for 30 s"), "still no connection")
    }

    @Test("UDP: failing while it cannot be resolved; failing for a while after a refusal; ok once a datagram went out")
    func udp() {
        var h = ReceiverHealth(udp: true, unhealthyAfter: Self.after)
        h.started(now: 0)
        h.unresolvable("cannot resolve logs: no such host")
        #expect(h.state(now: 0, hasSent: false) == (.failing, "cannot resolve logs: no such host"), "at once")
        #expect(h.nextChange(now: 0) == nil, "no time changes it: only a lookup")
        h.resolved()
        h.connected(now: 1 * Self.s)
        #expect(h.state(now: 1 * Self.s, hasSent: false) == (.unknown, nil), "nothing sent yet")
        #expect(h.state(now: 1 * Self.s, hasSent: true) == (.ok, nil))
        h.refused("send to 127.0.0.1:514 failed: Connection refused", now: 10 * Self.s)
        #expect(h.state(now: 10 * Self.s, hasSent: true) == (.failing, "send to 127.0.0.1:514 failed: Connection refused"))
        #expect(h.nextChange(now: 10 * Self.s) == 40 * Self.s, "a timer for when the refusal is old enough")
        h.refused("send to 127.0.0.1:514 failed: Connection refused", now: 20 * Self.s)
        #expect(h.state(now: 49 * Self.s, hasSent: true).state == .failing, "each refusal starts the time again")
        #expect(h.state(now: 50 * Self.s, hasSent: true) == (.ok, nil))
        #expect(h.nextChange(now: 50 * Self.s) == nil)
    }

    @Test("through the connection's machine: lookups, connections, losses and refusals reach the health")
    func machine() throws {
        let a = try #require(try Sys.resolve(host: "10.0.0.1", port: 601, kind: .tcp).first)
        var m = ConnectionStateMachine(transport: .tcp, resolveIntervalNanos: 60 * Self.s, unhealthyAfterNanos: Self.after)
        _ = m.start(now: 0)
        _ = m.resolveFailed(summary: "cannot resolve logs: no such host", now: 0)
        #expect(m.health.state(now: 30 * Self.s, hasSent: false) == (.failing, "cannot resolve logs: no such host"))
        _ = m.resolved([a], summary: "logs → 10.0.0.1:601", now: 31 * Self.s)
        _ = m.connected(now: 31 * Self.s)
        #expect(m.health.state(now: 31 * Self.s, hasSent: false) == (.ok, nil) && m.connections == 1)
        _ = m.peerClosed(now: 40 * Self.s)
        #expect(m.health.state(now: 70 * Self.s, hasSent: true) == (.failing, "the receiver closed the connection"))
        #expect(m.timerFired(.retry, now: 71 * Self.s) == [.resolve], "every address tried: looked up again")
        #expect(m.resolved([a], summary: "s", now: 71 * Self.s).last == .connect(a))
        _ = m.connected(now: 71 * Self.s)
        #expect(m.health.state(now: 71 * Self.s, hasSent: true) == (.ok, nil) && m.connections == 2)

        let u = try #require(try Sys.resolve(host: "10.0.0.1", port: 514, kind: .udp).first)
        var udp = ConnectionStateMachine(transport: .udp, resolveIntervalNanos: 60 * Self.s, unhealthyAfterNanos: Self.after)
        _ = udp.start(now: 0)
        _ = udp.resolved([u], summary: "s", now: 0)
        _ = udp.connected(now: 0)
        #expect(udp.health.state(now: 0, hasSent: true) == (.ok, nil))
        _ = udp.sendFailed("send to 10.0.0.1:514 failed: Connection refused", now: 5 * Self.s)
        #expect(udp.health.state(now: 34 * Self.s, hasSent: true) == (.failing, "send to 10.0.0.1:514 failed: Connection refused"))
        #expect(udp.health.state(now: 35 * Self.s, hasSent: true) == (.ok, nil))
        _ = udp.resolveFailed(summary: "cannot resolve logs: no such host", now: 60 * Self.s)
        #expect(udp.health.state(now: 60 * Self.s, hasSent: true) == (.ok, nil), "a known address is kept and used")
    }

    @Test("a lookup's failure is one sentence")
    func resolveErrorText() {
        #expect(ResolveError(host: "logs", code: EAI_NONAME, errno: nil).description == "cannot resolve logs: no such host")
        #expect(ResolveError(host: "logs", code: EAI_AGAIN, errno: nil).description == "cannot resolve logs: no answer from the name server")
        #expect(ResolveError(host: "logs", code: EAI_SYSTEM, errno: Errno(ECONNREFUSED)).description == "cannot resolve logs: Connection refused")
        let r = Resolver.lookup(key: "k", address: Address(host: "a b", port: 514), kind: .udp)
        #expect(r.addresses.isEmpty && r.error == r.summary && r.summary.hasPrefix("cannot resolve a b: "), "\(r.summary)")
        #expect(!r.summary.contains("failed"), "no errno tacked on")
    }

    @Test("a health line: id, addr, transport, state, and the error only when failing")
    func healthLine() {
        var out: [UInt8] = []
        ReceiverHealthLine(id: "central", addr: "logs.example.com:514", transport: "udp", state: .failing,
                           error: "cannot resolve logs.example.com: no such host").append(to: &out)
        ReceiverHealthLine(id: "b\"q", addr: "10.0.0.1:601", transport: "tcp", state: .ok, error: "old").append(to: &out)
        ReceiverHealthLine(id: "c", addr: "10.0.0.2:514", transport: "udp", state: .unknown, error: nil).append(to: &out)
        #expect(String(decoding: out, as: UTF8.self) == """
            {"id":"central","addr":"logs.example.com:514","transport":"udp","state":"failing","error":"cannot resolve logs.example.com: no such host"}
            {"id":"b\\"q","addr":"10.0.0.1:601","transport":"tcp","state":"ok"}
            {"id":"c","addr":"10.0.0.2:514","transport":"udp","state":"unknown"}

            """)
    }

    /// A routed record for route `id` to `addr`.
    static func record(_ id: String, addr: String, proto: String = "udp") -> Record {
        Record(time: "2026-11-24T20:42:17.1Z", source: .stdout, data: "x",
               container: Container(id: String(repeating: "ab", count: 32), name: "web", image: "i", hostname: "h", pid: 1, labels: [:]),
               route: Route(id: id, target: .object([("type", .string("syslog")), ("addr", .string(addr)), ("protocol", .string(proto))])))
    }

    @Test("the health file: a line per route in the order first seen; a route whose target cannot be used is failing with why")
    func healthFile() throws {
        let e = try Emitter(options: EmitterOptions(), input: -1)
        _ = e.binding(of: Self.record("z", addr: "127.0.0.1:5001"))
        _ = e.binding(of: Self.record("bad", addr: "127.0.0.1:5002", proto: "dtls"))
        _ = e.binding(of: Self.record("a", addr: "127.0.0.1:5001"))
        e.updateHealth()
        var t = MetricsText()
        e.renderHealth(&t)
        #expect(String(decoding: t.bytes, as: UTF8.self) == """
            {"id":"z","addr":"127.0.0.1:5001","transport":"udp","state":"unknown"}
            {"id":"bad","addr":"127.0.0.1:5002","transport":"dtls","state":"failing","error":"protocol 'dtls' is not supported (udp, tcp or tls)"}
            {"id":"a","addr":"127.0.0.1:5001","transport":"udp","state":"unknown"}

            """)
    }

    @Test("the metrics: a series per receiver labelled with its first route; beyond the limit, one _other series, counted")
    func metrics() throws {
        var options = EmitterOptions()
        options.maxLabelValues = 2
        let e = try Emitter(options: options, input: -1)
        for (id, port) in [("a", 5001), ("a2", 5001), ("b", 5002), ("c", 5003), ("d", 5004)] {
            _ = e.binding(of: Self.record(id, addr: "127.0.0.1:\(port)", proto: id == "b" ? "tcp" : "udp"))
        }
        _ = e.binding(of: Record(time: "2026-11-24T20:42:17.1Z", source: .stdout, data: "x",
                                 container: Self.record("x", addr: "").container, route: nil))
        var t = MetricsText()
        e.renderMetrics(&t)
        let lines = String(decoding: t.bytes, as: UTF8.self).split(separator: "\n").map(String.init)
        #expect(lines.contains(#"logspout_syslog_records_dropped_total{reason="no_route"} 1"#))
        #expect(lines.filter { $0.hasPrefix("logspout_syslog_messages_sent_total") } == [
            #"logspout_syslog_messages_sent_total{route="a",addr="127.0.0.1:5001",transport="udp"} 0"#,
            #"logspout_syslog_messages_sent_total{route="b",addr="127.0.0.1:5002",transport="tcp"} 0"#,
            #"logspout_syslog_messages_sent_total{route="_other",addr="_other",transport="_other"} 0"#,
        ], "route a2 shares a's receiver; c and d are folded")
        #expect(lines.filter { $0.hasPrefix("logspout_syslog_messages_dropped_total{route=\"a\"") }.count == 6, "every reason, 0 too")
        #expect(lines.contains("logspout_syslog_metrics_folded_total 2"))
        #expect(lines.contains("# TYPE logspout_syslog_connected gauge"))
        // Every family's samples follow its HELP and TYPE, once.
        let types = lines.filter { $0.hasPrefix("# TYPE ") }.map { $0.split(separator: " ")[2] }
        #expect(Set(types).count == types.count)
        for type in types {
            #expect(lines.filter { !$0.hasPrefix("#") && $0.hasPrefix(type + "{") || $0.hasPrefix(type + " ") }.count >= 1, "\(type)")
        }
    }
}
