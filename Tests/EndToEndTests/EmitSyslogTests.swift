// emit-syslog driven alone from files of routed records, against a plain UDP socket (exact bytes), a real
// rsyslog (every field parsed), and dnsmasq (A and SRV lookups).

#if canImport(Glibc)
import Glibc
#endif
import JSON
import Records
import Syscall
import Testing

/// A routed record line for emit-syslog.
func routed(_ data: String, source: String = "stdout", time: String = "2026-11-24T20:42:17.123456789Z",
            name: String = "web", hostname: String = "8713470e0e2c", pid: Int = 18441,
            addr: String, proto: String = "udp", format: String? = nil, tag: String? = nil, id: String = "r1") -> String {
    var target: [(String, JSONValue)] = [("type", .string("syslog")), ("addr", .string(addr)), ("protocol", .string(proto))]
    if let format { target.append(("format", .string(format))) }
    if let tag { target.append(("append_tag", .string(tag))) }
    let record = Record(time: time, source: source == "stderr" ? .stderr : .stdout, data: data,
                        container: Container(id: String(repeating: "ab", count: 32), name: name, image: "nginx:1.27",
                                             hostname: hostname, pid: pid, labels: [:]),
                        route: Route(id: id, target: .object(target)))
    return String(decoding: RecordCodec.encode(record), as: UTF8.self)
}

/// Writes `text` to a new file and returns its path.
func writeTemp(_ text: String) -> String {
    let path = Env.tempDir() + "/input.ndjson"
    let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
    _ = Array(text.utf8).withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
    close(fd)
    return path
}

/// Runs emit-syslog on `lines` (a file as stdin) to the end; returns its status and stderr.
@discardableResult
func emit(_ lines: [String], env: [String: String] = [:], wrap: (([String]) -> [String])? = nil) throws -> (status: Int32, stderr: String) {
    let input = writeTemp(lines.map { $0.hasSuffix("\n") ? $0 : $0 + "\n" }.joined())
    let argv = [Env.binDir + "/emit-syslog"]
    let child = try Child(wrap?(argv) ?? argv, env: env, stdin: input)
    guard let status = child.wait(timeoutMs: 60_000) else {
        child.signal(SIGKILL)
        throw TestFailure("emit-syslog did not finish")
    }
    return (status, child.stderr)
}

@Suite("emit-syslog end-to-end", .serialized)
struct EmitSyslogEndToEndTests {
    @Test("rfc5424 bytes: PRI 14/11, record time with 6 digits, hostname, app-name + append_tag, pid")
    func rfc5424Bytes() throws {
        let udp = try UDPListener()
        let addr = "127.0.0.1:\(udp.port)"
        let r = try emit([
            routed("GET / 200", addr: addr),
            routed("oops", source: "stderr", time: "2026-01-02T03:04:05.000000999Z", addr: addr, tag: ".db"),
        ])
        #expect(r.status == 0)
        #expect(r.stderr == "emit-syslog: sent 2, truncated 0, dropped 0, send errors 0\n")
        #expect(udp.texts(atLeast: 2) == [
            "<14>1 2026-11-24T20:42:17.123456Z 8713470e0e2c web 18441 - - GET / 200",
            "<11>1 2026-01-02T03:04:05.000000Z 8713470e0e2c web.db 18441 - - oops",
        ])
    }

    @Test("SYSLOG_HOSTNAME and SYSLOG_STRUCTURED_DATA")
    func overrides() throws {
        let udp = try UDPListener()
        try emit([routed("x", addr: "127.0.0.1:\(udp.port)")],
                 env: ["SYSLOG_HOSTNAME": "myhost", "SYSLOG_STRUCTURED_DATA": "[token@41058 tag=\"a\"]"])
        #expect(udp.texts(atLeast: 1) == [#"<14>1 2026-11-24T20:42:17.123456Z myhost web 18441 - [token@41058 tag="a"] x"#])
    }

    @Test("logspout's templates: SYSLOG_TAG and SYSLOG_HOSTNAME from labels and fields, a route's structured_data")
    func templates() throws {
        let udp = try UDPListener()
        func line(_ data: String, target extra: [(String, JSONValue)]) -> String {
            let target: [(String, JSONValue)] = [("type", "syslog"), ("addr", .string("127.0.0.1:\(udp.port)")), ("protocol", "udp")] + extra
            let record = Record(time: "2026-11-24T20:42:17.123456789Z", source: .stdout, data: data,
                                container: Container(id: String(repeating: "ab", count: 32), name: "shop_web_1", image: "nginx:1.27",
                                                     hostname: "8713470e0e2c", pid: 18441,
                                                     labels: ["com.docker.compose.service": "web", "com.docker.compose.project": "shop"]),
                                route: Route(id: "r", target: .object(target)))
            return String(decoding: RecordCodec.encode(record), as: UTF8.self)
        }
        let r = try emit([line("plain", target: []), line("with sd", target: [("structured_data", #"x@41058 svc="{{.Container.Config.Labels.com.docker.compose.service}}""#)]),
                          line("route sd", target: [("structured_data", #"x@41058 image="{{.Container.Config.Image}}""#)])],
                         env: ["SYSLOG_TAG": #"{{index .Container.Config.Labels "com.docker.compose.project"}}.{{ index .Container.Config.Labels "com.docker.compose.service" }}"#,
                               "SYSLOG_HOSTNAME": "{{.Container.ID}}"])
        let id = String(repeating: "ab", count: 32)
        #expect(udp.texts(atLeast: 2) == [
            "<14>1 2026-11-24T20:42:17.123456Z \(id) shop.web 18441 - - plain",
            #"<14>1 2026-11-24T20:42:17.123456Z \#(id) shop.web 18441 - [x@41058 image="nginx:1.27"] route sd"#,
        ])
        #expect(r.stderr.contains("emit-syslog: route r: structured_data 'x@41058 svc=\"{{.Container.Config.Labels.com.docker.compose.service}}\"': {{.Container.Config.Labels.com.docker.compose.service}} is not supported here"),
                "a label key with dots needs index: \(r.stderr)")
        // A template emit-syslog cannot evaluate is refused at start.
        let bad = try emit([], env: ["SYSLOG_TAG": "{{.Data}}"])
        #expect(bad.status == 78)
        #expect(bad.stderr.hasPrefix("emit-syslog: SYSLOG_TAG '{{.Data}}': {{.Data}} is not supported here"), "\(bad.stderr)")
    }

    @Test("rfc3164 and deis bytes, with and without DATETIME_FORMAT; SYSLOG_FORMAT as the default")
    func otherFormats() throws {
        let udp = try UDPListener()
        let addr = "127.0.0.1:\(udp.port)"
        try emit([
            routed("legacy", time: "2026-11-04T08:05:03.5Z", addr: addr, format: "rfc3164"),
            routed("deis line", time: "2026-11-04T08:05:03.5Z", name: "myapp_v2.web.1", addr: addr, format: "deis"),
            routed("plain", time: "2026-11-04T08:05:03.5Z", addr: addr, format: "deis", tag: "-x"),
        ])
        #expect(udp.texts(atLeast: 3) == [
            "<14>Nov  4 08:05:03 8713470e0e2c web[18441]: legacy",
            "2026-11-04T08:05:03UTC myapp[web.1]: deis line",
            "2026-11-04T08:05:03UTC web-x[1]: plain",
        ])
        try emit([routed("a", time: "2026-11-04T08:05:03.5Z", addr: addr), routed("b", time: "2026-11-04T08:05:03.5Z", addr: addr, format: "rfc5424")],
                 env: ["SYSLOG_FORMAT": "rfc3164", "DATETIME_FORMAT": "Jan 02 2006 15:04:05.000"])
        #expect(udp.texts(atLeast: 2) == [
            "<14>Nov 04 2026 08:05:03.500 8713470e0e2c web[18441]: a",
            "<14>1 2026-11-04T08:05:03.500000Z 8713470e0e2c web 18441 - - b",
        ])
    }

    @Test("rsyslog parses every field of rfc5424 and rfc3164 messages, over UDP and TCP (both framings)")
    func rsyslogParses() throws {
        let rsyslog = try Rsyslog()
        let addr = "127.0.0.1:\(rsyslog.port)"
        let data = "héllo \"wörld\" \\ tab\tend ✓"
        try emit([
            routed(data, addr: addr, proto: "udp", tag: ".u"),
            routed(data, source: "stderr", addr: addr, proto: "tcp", tag: ".t"),
            routed(data, addr: addr, proto: "udp", format: "rfc3164"),
        ])
        try emit([routed(data, addr: addr, proto: "tcp", tag: ".o")], env: ["SYSLOG_TCP_FRAMING": "octet-counted"])
        #expect(eventually { rsyslog.messages().count >= 4 })
        let m = rsyslog.messages()
        try #require(m.count == 4)
        let byApp = Dictionary(m.map { ($0["app"]?.string ?? "", $0) }, uniquingKeysWith: { a, _ in a })
        for (app, pri, input) in [("web.u", "14", "imudp"), ("web.t", "11", "imtcp"), ("web.o", "14", "imtcp")] {
            let f = try #require(byApp[app], "message with app-name \(app)")
            #expect(f["pri"]?.string == pri)
            #expect(f["hostname"]?.string == "8713470e0e2c")
            #expect(f["procid"]?.string == "18441")
            #expect(f["time"]?.string == "2026-11-24T20:42:17.123456Z")
            #expect(f["msg"]?.string == data)
            #expect(f["input"]?.string == input)
        }
        expectLegacyFields(try #require(byApp["web"]), data: data)
    }

    @Test("over SYSLOG_MAX_SIZE a UDP message is cut on a UTF-8 boundary and counted")
    func truncation() throws {
        let udp = try UDPListener()
        let long = String(repeating: "€", count: 1000)  // 3000 bytes
        let r = try emit([routed(long, addr: "127.0.0.1:\(udp.port)"), routed("short", addr: "127.0.0.1:\(udp.port)")],
                         env: ["SYSLOG_MAX_SIZE": "1000"])
        #expect(r.stderr.contains("sent 2, truncated 1, dropped 0"))
        let got = udp.receive(atLeast: 2)
        try #require(got.count == 2)
        #expect(got[0].count <= 1000 && got[0].count >= 997)
        #expect(String(validating: got[0], as: UTF8.self) != nil, "still valid UTF-8")
        #expect(String(decoding: got[1], as: UTF8.self).hasSuffix(" short"))
    }

    @Test("a refused port (ICMP) is counted as send errors, not fatal")
    func refused() throws {
        // A port nobody listens on: bind one, note it, close it.
        let port = try UDPListener().port
        let lines = (0..<50).map { routed("n\($0)", addr: "127.0.0.1:\(port)") }
        let r = try emit(lines + lines)
        #expect(r.status == 0)
        #expect(!r.stderr.contains("send errors 0"), "refusals counted: \(r.stderr)")
    }

    @Test("records of interleaved routes each go to their own route's receiver, also when an id comes back with another target")
    func routesInterleaved() throws {
        let a = try UDPListener(), b = try UDPListener(), c = try UDPListener()
        let addrA = "127.0.0.1:\(a.port)", addrB = "127.0.0.1:\(b.port)", addrC = "127.0.0.1:\(c.port)"
        var lines: [String] = []
        for i in 0..<30 {
            // r1 to A and r2 to B, alternating, then a run of r1 to A (the same route text again and again).
            lines.append(routed("a\(i)", addr: addrA, id: "r1"))
            lines.append(routed("b\(i)", addr: addrB, id: "r2"))
        }
        lines += (30..<40).map { routed("a\($0)", addr: addrA, id: "r1") }
        // r1 now names C: its records go there, r2's still to B; a target that is no syslog target is dropped.
        lines += (0..<10).flatMap { [routed("c\($0)", addr: addrC, id: "r1"), routed("b\(30 + $0)", addr: addrB, id: "r2")] }
        lines.append(routed("x", addr: addrA, proto: "pigeon", id: "r3"))
        lines += (10..<20).map { routed("c\($0)", addr: addrC, id: "r1") }
        // And back to A.
        lines += (40..<45).map { routed("a\($0)", addr: addrA, id: "r1") }
        let r = try emit(lines)
        #expect(r.status == 0)
        #expect(r.stderr.contains("sent 105, truncated 0, dropped 1,"), "\(r.stderr)")
        #expect(r.stderr.contains("route r3:"), "the bad target is reported: \(r.stderr)")
        func data(_ l: UDPListener, _ n: Int) -> [String] { l.texts(atLeast: n).map { $0.split(separator: " ").last.map(String.init) ?? "" } }
        #expect(data(a, 45) == (0..<45).map { "a\($0)" })
        #expect(data(b, 40) == (0..<40).map { "b\($0)" })
        #expect(data(c, 20) == (0..<20).map { "c\($0)" })
    }

    @Test("malformed lines are reported with their line numbers; the rest is sent")
    func malformed() throws {
        let udp = try UDPListener()
        let r = try emit([routed("one", addr: "127.0.0.1:\(udp.port)"), "{not json", #"{"time":"x"}"#, routed("two", addr: "127.0.0.1:\(udp.port)")])
        #expect(r.status == 0)
        let errors = r.stderr.split(separator: "\n").filter { $0.contains("skipped") }
        #expect(errors.count == 2)
        #expect(errors.first?.hasPrefix("emit-syslog: line 2, column") == true)
        #expect(errors.last?.hasPrefix("emit-syslog: line 3, column") == true)
        #expect(udp.texts(atLeast: 2).map { $0.split(separator: " ").last.map(String.init) ?? "" } == ["one", "two"])
    }

    @Test("names through the system resolver: A records, and SRV records honouring priority")
    func dns() throws {
        let a = try UDPListener(host: "127.0.0.1")
        let b = try UDPListener(host: "127.0.0.3")
        let dns = try DNSServer([
            "--host-record=receiver.test,127.0.0.1",
            "--host-record=backup.test,127.0.0.3",
            "--srv-host=logs.test,backup.test,\(b.port),20,10",
            "--srv-host=logs.test,receiver.test,\(a.port),10,10",
        ])
        let r = try emit([routed("by name", addr: "receiver.test:\(a.port)"), routed("by srv", addr: "logs.test", id: "r2")],
                         wrap: dns.inNamespace)
        #expect(r.status == 0, "\(r.stderr)")
        #expect(a.texts(atLeast: 2).map { String($0.suffix(6)) } == ["y name", "by srv"])
        // emit-syslog has ended: whatever it sent is waiting in the sockets already.
        #expect(b.receive(timeoutMs: 0).isEmpty)
    }

    @Test("a moved receiver is followed (addresses looked up again)")
    func moved() throws {
        let a = try UDPListener(host: "127.0.0.1")
        let b = try UDPListener(host: "127.0.0.3", port: a.port)
        let dns = try DNSServer(["--host-record=moving.test,127.0.0.1"])
        let fifo = Env.tempDir() + "/in"
        mkfifo(fifo, 0o644)
        let argv = dns.inNamespace([Env.binDir + "/emit-syslog"])
        let child = try Child(["/bin/sh", "-c", argv.map { "'\($0.replacingOccurrences("'", "'\\''"))'" }.joined(separator: " ") + " < \(fifo)"],
                              env: ["SYSLOG_RESOLVE_INTERVAL": "1"])
        let writer = open(fifo, O_WRONLY | O_CLOEXEC)
        defer { close(writer) }
        func send(_ s: String) { _ = Array((routed(s, addr: "moving.test:\(a.port)") + "\n").utf8).withUnsafeBytes { write(writer, $0.baseAddress, $0.count) } }
        send("before")
        #expect(eventually(timeoutMs: 5000) { !a.receive(timeoutMs: 100).isEmpty })
        try dns.start(["--host-record=moving.test,127.0.0.3"])
        var arrived = false
        for _ in 0..<40 where !arrived {
            send("after")
            arrived = b.texts(timeoutMs: 250).contains { $0.hasSuffix(" after") }
        }
        #expect(arrived, "messages reach the new address: \(child.stderr)")
        #expect(child.stderr.contains("address changed"))
        // SIGUSR1: the summary line, and emit-syslog goes on.
        let emitter = try #require(descendant(of: child.pid, named: "emit-syslog"))
        kill(emitter, SIGUSR1)
        #expect(eventually(timeoutMs: 5000) { child.stderr.contains("emit-syslog: sent ") })
        #expect(kill(emitter, 0) == 0, "still running")
    }
}

extension EmitSyslogEndToEndTests {
    @Test("TCP receiver away for 30 s, then back: nothing lost within the buffer")
    func tcpReceiverAway() throws {
        let rsyslog = try Rsyslog()
        let fifo = Env.tempDir() + "/in"
        mkfifo(fifo, 0o644)
        let child = try Child(["/bin/sh", "-c", "exec '\(Env.binDir)/emit-syslog' < \(fifo)"])
        let writer = open(fifo, O_WRONLY | O_CLOEXEC)
        func send(_ range: Range<Int>) {
            let text = range.map { routed("seq \($0)", addr: "127.0.0.1:\(rsyslog.port)", proto: "tcp") + "\n" }.joined()
            _ = Array(text.utf8).withUnsafeBytes { write(writer, $0.baseAddress, $0.count) }
        }
        func received() -> [Int] { rsyslog.messages().compactMap { $0["msg"]?.string.flatMap { Int($0.dropFirst(4)) } } }
        send(0..<100)
        #expect(eventually { received().count == 100 })
        rsyslog.stop()
        // The scenario is set in time: the receiver stays away 30 s while messages keep coming, 20 a second.
        let awayUntil = Sys.monotonicNanos() + 30_000_000_000
        var next = 100
        while Sys.monotonicNanos() < awayUntil {
            send(next..<next + 20)
            next += 20
            pace(ms: 1000)
        }
        try rsyslog.start()
        send(next..<next + 100)
        next += 100
        close(writer)
        #expect(child.wait(timeoutMs: 20_000) == 0)
        #expect(eventually { received().count >= next })
        #expect(received().sorted() == Array(0..<next), "every message exactly once")
        #expect(child.stderr.contains("the receiver closed the connection") || child.stderr.contains("retrying"))
        #expect(child.stderr.contains(": connected\n"), "\(child.stderr)")
        #expect(child.stderr.contains("sent \(next), truncated 0, dropped 0, send errors 0"))
    }
}

extension String {
    func replacingOccurrences(_ a: String, _ b: String) -> String {
        split(separator: Character(a), omittingEmptySubsequences: false).joined(separator: b)
    }
}

extension EmitSyslogEndToEndTests {
    @Test("a multiline pattern cannot stall emit-syslog: ^(a+)+$ on 30 a's and a ! while another route's lines flow")
    func evilPattern() throws {
        let evil = try UDPListener()
        let other = try UDPListener()
        func line(_ data: String, route: String, target: [(String, JSONValue)]) -> String {
            let record = Record(time: "2026-11-24T20:42:17.123456789Z", source: .stdout, data: data,
                                container: Container(id: String(repeating: "ab", count: 32), name: "web"),
                                route: Route(id: route, target: .object(target)))
            return String(decoding: RecordCodec.encode(record), as: UTF8.self) + "\n"
        }
        let evilTarget: [(String, JSONValue)] = [("type", "syslog"), ("addr", .string("127.0.0.1:\(evil.port)")),
                                                 ("multiline.pattern", "^(a+)+$"), ("multiline.flush_after", "100")]
        let otherTarget: [(String, JSONValue)] = [("type", "syslog"), ("addr", .string("127.0.0.1:\(other.port)"))]
        let fifo = Env.tempDir() + "/in"
        mkfifo(fifo, 0o644)
        let child = try Child(["/bin/sh", "-c", "exec '\(Env.binDir)/emit-syslog' < \(fifo)"])
        let writer = open(fifo, O_WRONLY | O_CLOEXEC)
        func send(_ text: String) { _ = Array(text.utf8).withUnsafeBytes { write(writer, $0.baseAddress, $0.count) } }
        // A backtracking engine spends minutes on this line; every later line, of any route, would wait.
        let attack = String(repeating: "a", count: 30) + "!"
        send(line(attack, route: "evil", target: evilTarget))
        send((0..<50).map { line("marker \($0)", route: "other", target: otherTarget) }.joined())
        let markers = other.texts(atLeast: 50, timeoutMs: 10_000).filter { $0.contains(" marker ") }
        #expect(markers.count == 50, "every marker of the other route arrives: \(child.stderr)")
        #expect(evil.texts(timeoutMs: 5000).contains { $0.hasSuffix(" " + attack) }, "the line itself is sent after flush_after")
        // SIGTERM: emit-syslog finishes once its input ends, with status 0.
        child.signal(SIGTERM)
        close(writer)
        #expect(child.wait(timeoutMs: 10_000) == 0, "\(child.stderr)")
        #expect(child.stderr.contains("emit-syslog: sent 51, truncated 0, dropped 0, send errors 0"), "\(child.stderr)")
    }
}
