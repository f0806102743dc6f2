// emit-syslog's snapshot files (LOGSPOUT_METRICS_DIR): its metrics against what real receivers got, and each
// route's health as receivers go away and come back, checked with Prometheus's promtool.

#if canImport(Glibc)
import Glibc
#endif
import JSON
import Syscall
import Testing

/// emit-syslog reading a FIFO the test writes to, publishing its files in a folder of its own.
final class PublishingEmitter {
    let metricsDir: String
    let child: Child
    let writer: Int32

    init(env: [String: String] = [:], wrap: (([String]) -> [String])? = nil) throws {
        let dir = Env.tempDir()
        metricsDir = dir + "/metrics"
        mkdir(metricsDir, 0o755)
        let fifo = dir + "/in"
        mkfifo(fifo, 0o644)
        let argv = wrap?([Env.binDir + "/emit-syslog"]) ?? [Env.binDir + "/emit-syslog"]
        let quoted = argv.map { "'\($0.replacingOccurrences("'", "'\\''"))'" }.joined(separator: " ")
        var e = env
        e["LOGSPOUT_METRICS_DIR"] = metricsDir
        child = try Child(["/bin/sh", "-c", "exec \(quoted) < \(fifo)"], env: e)
        writer = open(fifo, O_WRONLY | O_CLOEXEC)
    }

    func send(_ lines: [String]) {
        let text = lines.map { $0 + "\n" }.joined()
        _ = Array(text.utf8).withUnsafeBytes { write(writer, $0.baseAddress, $0.count) }
    }

    /// Ends the input; emit-syslog's status.
    func finish() -> Int32? {
        close(writer)
        return child.wait(timeoutMs: 20_000)
    }

    var promPath: String { metricsDir + "/emit-syslog.prom" }
    var prom: String { String(decoding: readFile(promPath), as: UTF8.self) }

    /// The health file's lines, by route id.
    var health: [String: JSONValue] {
        var result: [String: JSONValue] = [:]
        for line in readFile(metricsDir + "/emit-syslog.health").split(separator: 10) {
            if let v = try? JSONValue.parse(Array(line)), let id = v["id"]?.string { result[id] = v }
        }
        return result
    }

    /// Waits for route `id`'s line to say `state`.
    func waitHealth(_ id: String, _ state: String, timeoutMs: Int = 20_000) -> JSONValue? {
        var line: JSONValue?
        let ok = eventually(timeoutMs: timeoutMs) {
            line = health[id]
            return line?["state"]?.string == state
        }
        return ok ? line : nil
    }

    deinit {
        close(writer)
        child.stop()
    }
}

/// The value of the sample `series` (its name and labels exactly as written) in a metrics text.
func syslogSample(_ text: String, _ series: String) -> Int? {
    for line in text.split(separator: "\n") where line.hasPrefix(series + " ") {
        return Int(line.dropFirst(series.count + 1))
    }
    return nil
}

@Suite("emit-syslog: metrics and health files", .serialized)
struct EmitSyslogMetricsTests {
    @Test("sent and bytes match what the receivers got (UDP, TCP); promtool finds the file clean")
    func countsMatch() throws {
        let udp = try UDPListener()
        let rsyslog = try Rsyslog()
        let e = try PublishingEmitter()
        let n = 300
        e.send((0..<n).flatMap { i in
            [routed("msg \(i) " + String(repeating: "x", count: i % 50), addr: "127.0.0.1:\(udp.port)", id: "u"),
             routed("msg \(i) " + String(repeating: "x", count: i % 50), addr: "127.0.0.1:\(rsyslog.port)", proto: "tcp", id: "t")]
        })
        let got = udp.receive(atLeast: n)
        #expect(got.count == n)
        #expect(eventually { rsyslog.messages().count == n })
        let u = #"{route="u",addr="127.0.0.1:\#(udp.port)",transport="udp"}"#
        let t = #"{route="t",addr="127.0.0.1:\#(rsyslog.port)",transport="tcp"}"#
        // Published within a second, while it runs.
        #expect(eventually(timeoutMs: 5000) {
            syslogSample(e.prom, "logspout_syslog_messages_sent_total" + u) == n && syslogSample(e.prom, "logspout_syslog_messages_sent_total" + t) == n
        }, "\(e.prom)")
        let bytes = got.reduce(0) { $0 + $1.count }
        let text = e.prom
        #expect(syslogSample(text, "logspout_syslog_bytes_sent_total" + u) == bytes, "every datagram's bytes")
        #expect(syslogSample(text, "logspout_syslog_bytes_sent_total" + t) == bytes + n, "the same messages, a newline after each")
        #expect(syslogSample(text, "logspout_syslog_connected" + t) == 1)
        #expect(syslogSample(text, "logspout_syslog_buffered_messages" + t) == 0)
        #expect(syslogSample(text, #"logspout_syslog_messages_dropped_total{route="t",addr="127.0.0.1:\#(rsyslog.port)",transport="tcp",reason="buffer_full"}"#) == 0)
        #expect(syslogSample(text, "logspout_syslog_metrics_folded_total") == 0)
        #expect(e.waitHealth("u", "ok") != nil && e.waitHealth("t", "ok") != nil, "\(e.health)")
        try expectPromtoolPasses(e.promPath)
        expectNotRewrittenWhileIdle(e.promPath)
        #expect(e.finish() == 0)
        #expect(e.child.stderr.contains("sent \(2 * n), truncated 0, dropped 0, send errors 0"), "\(e.child.stderr)")
    }

    @Test("a TCP receiver down is failing after SYSLOG_UNHEALTHY_AFTER, with why; back, it is ok again")
    func tcpDownAndBack() throws {
        let rsyslog = try Rsyslog()
        let e = try PublishingEmitter(env: ["SYSLOG_UNHEALTHY_AFTER": "1"])
        let t = #"{route="t",addr="127.0.0.1:\#(rsyslog.port)",transport="tcp"}"#
        e.send([routed("first", addr: "127.0.0.1:\(rsyslog.port)", proto: "tcp", id: "t")])
        #expect(e.waitHealth("t", "ok") != nil, "\(e.health)")
        rsyslog.stop()
        e.send([routed("while away", addr: "127.0.0.1:\(rsyslog.port)", proto: "tcp", id: "t")])
        let failing = e.waitHealth("t", "failing")
        #expect(failing?["error"]?.string?.contains("127.0.0.1:\(rsyslog.port)") == true || failing?["error"]?.string?.contains("closed") == true,
                "one sentence saying why: \(String(describing: failing))")
        #expect(failing?["addr"]?.string == "127.0.0.1:\(rsyslog.port)" && failing?["transport"]?.string == "tcp")
        #expect(eventually(timeoutMs: 5000) { syslogSample(e.prom, "logspout_syslog_connected" + t) == 0 && syslogSample(e.prom, "logspout_syslog_receiver_failing" + t) == 1 })
        try rsyslog.start()
        #expect(e.waitHealth("t", "ok") != nil, "back: \(e.health)")
        #expect(eventually { rsyslog.messages().contains { $0["msg"]?.string == "while away" } }, "what waited was sent")
        #expect(eventually(timeoutMs: 5000) { (syslogSample(e.prom, "logspout_syslog_reconnects_total" + t) ?? 0) >= 1 }, "\(e.prom)")
        #expect(e.finish() == 0)
    }

    @Test("UDP to a closed port: refusals counted and failing; a receiver there, refusals stop and it is ok again with time alone")
    func udpRefusedAndBack() throws {
        let port = try UDPListener().port  // bound, noted, closed: nobody listens
        let e = try PublishingEmitter(env: ["SYSLOG_UNHEALTHY_AFTER": "1"])
        let u = #"{route="u",addr="127.0.0.1:\#(port)",transport="udp"}"#
        var i = 0
        func send() {
            e.send((0..<5).map { k in routed("n\(i)-\(k)", addr: "127.0.0.1:\(port)", id: "u") })
            i += 1
        }
        var failing: JSONValue?
        #expect(eventually {
            send()
            failing = e.health["u"]
            return failing?["state"]?.string == "failing"
        }, "\(e.health)")
        #expect(failing?["error"]?.string == "send to 127.0.0.1:\(port) failed: Connection refused")
        #expect(eventually(timeoutMs: 5000) { (syslogSample(e.prom, "logspout_syslog_send_errors_total" + u) ?? 0) >= 1 })
        let listener = try UDPListener(port: port)
        var arrived = false
        #expect(eventually {
            send()
            arrived = arrived || !listener.receive(timeoutMs: 50).isEmpty
            return arrived
        })
        // No more refusals: the route turns ok once the last is SYSLOG_UNHEALTHY_AFTER old, with nothing sent.
        #expect(e.waitHealth("u", "ok") != nil, "\(e.health)")
        #expect(e.finish() == 0)
    }

    @Test("an unresolvable name: failing at once with one clean sentence, on stderr too; resolvable later, ok")
    func unresolvable() throws {
        let receiver = try UDPListener()
        let dns = try DNSServer(["--address=/invalid/", "--address=/late.test/"])
        let e = try PublishingEmitter(env: ["SYSLOG_UNHEALTHY_AFTER": "1"], wrap: dns.inNamespace)
        e.send([routed("never", addr: "nonexistent.invalid:514", id: "gone"),
                routed("later", addr: "late.test:\(receiver.port)", id: "late")])
        let gone = e.waitHealth("gone", "failing")
        #expect(gone?["error"]?.string == "cannot resolve nonexistent.invalid: no such host", "\(String(describing: gone))")
        #expect(gone?["addr"]?.string == "nonexistent.invalid:514" && gone?["transport"]?.string == "udp")
        #expect(e.waitHealth("late", "failing")?["error"]?.string == "cannot resolve late.test: no such host")
        #expect(e.child.stderr.contains("emit-syslog: udp://nonexistent.invalid:514: cannot resolve nonexistent.invalid: no such host\n"), "\(e.child.stderr)")
        #expect(!e.child.stderr.contains("failed:"), "no muddled errno: \(e.child.stderr)")
        try dns.start(["--address=/invalid/", "--host-record=late.test,127.0.0.1"])
        // Looked up again with the retry's backoff (at most 2 s); what waited goes out.
        #expect(!receiver.receive(atLeast: 1, timeoutMs: 10_000).isEmpty)
        #expect(e.waitHealth("late", "ok") != nil, "\(e.health)")
        #expect(e.health["gone"]?["state"]?.string == "failing")
        #expect(e.finish() == 0)
        let lines = e.child.stderr.split(separator: "\n").filter { $0.contains("cannot resolve nonexistent.invalid") }
        #expect(lines.count == 1, "said once: \(e.child.stderr)")
        #expect(syslogSample(e.prom, #"logspout_syslog_messages_dropped_total{route="gone",addr="nonexistent.invalid:514",transport="udp",reason="unresolvable"}"#) == 1,
                "what was left at exit, counted with its reason: \(e.prom)")
        #expect(syslogSample(e.prom, #"logspout_syslog_buffered_messages{route="gone",addr="nonexistent.invalid:514",transport="udp"}"#) == 0)
    }

    @Test("receivers beyond METRICS_MAX_LABEL_VALUES are folded into one series, counted")
    func folded() throws {
        let receivers = try (0..<3).map { _ in try UDPListener() }
        let e = try PublishingEmitter(env: ["METRICS_MAX_LABEL_VALUES": "1"])
        e.send(zip(["a", "b", "c"], receivers).map { id, r in routed(id, addr: "127.0.0.1:\(r.port)", id: id) })
        for r in receivers { #expect(r.receive(atLeast: 1).count == 1) }
        #expect(e.finish() == 0)
        let udp = receivers[0]
        let text = e.prom
        #expect(syslogSample(text, #"logspout_syslog_messages_sent_total{route="a",addr="127.0.0.1:\#(udp.port)",transport="udp"}"#) == 1)
        #expect(syslogSample(text, #"logspout_syslog_messages_sent_total{route="_other",addr="_other",transport="_other"}"#) == 2, "\(text)")
        #expect(syslogSample(text, "logspout_syslog_metrics_folded_total") == 2)
        try expectPromtoolPasses(e.promPath)
        let bad = try run([Env.binDir + "/emit-syslog"], env: ["METRICS_MAX_LABEL_VALUES": "many"])
        #expect(bad.status == 78 && bad.stderr == "emit-syslog: METRICS_MAX_LABEL_VALUES 'many' must be a whole number from 0 to 100000\n")
        let late = try run([Env.binDir + "/emit-syslog"], env: ["SYSLOG_UNHEALTHY_AFTER": "0"])
        #expect(late.status == 78 && late.stderr == "emit-syslog: SYSLOG_UNHEALTHY_AFTER '0' must be a whole number from 1 to 86400\n")
    }
}
