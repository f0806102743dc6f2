// emit-syslog (and route | emit-syslog) sending syslog over TLS to a real rsyslog (imtcp with OpenSSL),
// with a throwaway PKI: every field parsed over TLS in both framings, to a host name and to an IP literal;
// an untrusted server, a host name mismatch, mutual TLS, a receiver away and back, a bad client
// certificate, and LOGSPOUT_TLS_HARDENING against a server offering a CBC cipher only.

#if canImport(Glibc)
import Glibc
#endif
import JSON
import Records
import Syscall
import Testing

/// emit-syslog reading from a FIFO that stays open until `finish()`: it runs on while the test watches it.
final class LiveEmitter {
    let feeder: RouteFeeder
    let child: Child

    /// Returns once emit-syslog says it reads its input.
    init(env: [String: String]) throws {
        feeder = try RouteFeeder()
        child = try Child([Env.binDir + "/emit-syslog", "--ready-fd", String(Child.readyFD)], env: env, stdin: feeder.path, readiness: true)
        try child.waitReady()
    }

    func send(_ lines: [String]) {
        feeder.write(lines.map { $0 + "\n" }.joined())
    }

    /// Ends its input and waits for it to exit; returns its status.
    func finish(timeoutMs: Int = 20_000) -> Int32? {
        feeder.close()
        return child.wait(timeoutMs: timeoutMs)
    }

    var stderr: String { child.stderr }

    /// Its diagnostics about the receiver `key` (`tls://HOST:PORT`): the text after `emit-syslog: KEY: `.
    func reports(_ key: String) -> [String] { tlsReports(stderr, key) }

    deinit {
        // No drain at the end of a test: what is still queued is of no interest.
        if child.wait(timeoutMs: 0) == nil {
            child.signal(SIGKILL)
            child.wait()
        }
        feeder.close()
    }
}

/// The diagnostics in `stderr` about the receiver `key`: the text after `emit-syslog: KEY: `.
func tlsReports(_ stderr: String, _ key: String) -> [String] {
    let prefix = "emit-syslog: \(key): "
    return stderr.split(separator: "\n").filter { $0.hasPrefix(prefix) }.map { String($0.dropFirst(prefix.count)) }
}

/// The `seq N` numbers that arrived, in order.
func sequenceNumbers(_ rsyslog: RsyslogTLS) -> [Int] {
    rsyslog.messages().compactMap { m -> Int? in
        guard let msg = m["msg"]?.string, msg.hasPrefix("seq ") else { return nil }
        return Int(msg.dropFirst(4))
    }
}

/// Sends `lines` to 127.0.0.1:`port` over TLS with `openssl s_client`, checking the server's certificate
/// against `ca` and `host`; returns s_client's status (0: the handshake and the writes succeeded).
/// s_client quits at the end of its input, and a client that closes with the server's session tickets
/// unread sends a reset, which may discard the lines the server had not read yet: its input stays open
/// until `delivered()` says the lines arrived, or s_client ended by itself (a refused handshake).
@discardableResult
func sClientSend(_ lines: [String], port: UInt16, ca: String, host: String = "localhost", cert: String? = nil, key: String? = nil,
                 delivered: () -> Bool = { false }) throws -> Int32 {
    var argv = [TestPKI.openssl, "s_client", "-connect", "127.0.0.1:\(port)", "-CAfile", ca, "-verify_return_error", "-brief"]
    argv += host.first?.isNumber == true ? ["-verify_ip", host] : ["-verify_hostname", host]
    if let cert, let key { argv += ["-cert", cert, "-key", key] }
    let input = try RouteFeeder()
    input.write(lines.map { $0 + "\n" }.joined())
    let child = try Child(argv, stdin: input.path)
    _ = eventually(timeoutMs: 10_000) { child.wait(timeoutMs: 0) != nil || delivered() }
    input.close()
    guard let status = child.wait(timeoutMs: 10_000) else {
        child.signal(SIGKILL)
        throw TestFailure("openssl s_client did not finish")
    }
    return status
}

/// Sends a marker line to `rsyslog` over TLS, trusted (`ca`, `host`, a client certificate when given), and
/// waits until it arrived: what was sent to that receiver before has been written by then too.
func sendMarker(to rsyslog: RsyslogTLS, ca: String, host: String = "localhost", cert: String? = nil, key: String? = nil) throws {
    let line = "<14>1 2026-11-24T20:42:17.123456Z marker marker - - - marker"
    let status = try sClientSend([line], port: rsyslog.port, ca: ca, host: host, cert: cert, key: key) {
        rsyslog.messages().contains { $0["msg"]?.string == "marker" }
    }
    guard status == 0, rsyslog.messages().contains(where: { $0["msg"]?.string == "marker" }) else {
        throw TestFailure("the marker did not arrive (s_client \(status)): \(rsyslog.diagnostics)")
    }
}

extension RsyslogTLS {
    /// The messages written so far, the test's markers left out.
    func messagesButMarkers() -> [JSONValue] { messages().filter { $0["app"]?.string != "marker" } }
}

@Suite("emit-syslog over TLS, against a real rsyslog", .serialized)
struct TLSEndToEndTests {
    @Test("the receiver itself, with openssl s_client: the PKI verifies as meant; lines arrive parsed; mutual TLS; a restart")
    func receiverWorks() throws {
        let pki = try TestPKI()
        func syslogLine(_ msg: String) -> String { "<14>1 2026-11-24T20:42:17.123456Z myhost app1 123 - - \(msg)" }
        let line = syslogLine("hello over tls")
        let rsyslog = try RsyslogTLS(pki: pki)
        #expect(try sClientSend([line], port: rsyslog.port, ca: pki.caCert) { rsyslog.messages().count >= 1 } == 0)
        #expect(try sClientSend([syslogLine("by IP over tls")], port: rsyslog.port, ca: pki.caCert, host: "127.0.0.1") {
            rsyslog.messages().count >= 2
        } == 0)
        #expect(try sClientSend([line], port: rsyslog.port, ca: pki.wrongCACert) != 0, "another CA does not verify the server")
        #expect(eventually { rsyslog.messages().count >= 2 }, "\(rsyslog.diagnostics)")
        let m = rsyslog.messages()
        #expect(m.count == 2)
        #expect(m.first?["hostname"]?.string == "myhost")
        #expect(m.first?["app"]?.string == "app1")
        #expect(m.first?["procid"]?.string == "123")
        #expect(m.first?["msg"]?.string == "hello over tls")
        #expect(m.last?["msg"]?.string == "by IP over tls")

        // Stopped, started again on the same port: the file goes on.
        rsyslog.stop()
        try rsyslog.start()
        #expect(try sClientSend([syslogLine("again over tls")], port: rsyslog.port, ca: pki.caCert) { rsyslog.messages().count >= 3 } == 0)
        #expect(eventually { rsyslog.messages().count >= 3 }, "\(rsyslog.diagnostics)")

        // The other servers' certificates.
        let wrong = try RsyslogTLS(pki: pki, cert: pki.wrongServerCert, key: pki.wrongServerKey)
        #expect(try sClientSend([line], port: wrong.port, ca: pki.caCert) != 0)
        #expect(try sClientSend([line], port: wrong.port, ca: pki.wrongCACert) { wrong.messages().count >= 1 } == 0)
        let mismatch = try RsyslogTLS(pki: pki, cert: pki.mismatchCert, key: pki.mismatchKey)
        #expect(try sClientSend([line], port: mismatch.port, ca: pki.caCert) != 0)
        #expect(try sClientSend([line], port: mismatch.port, ca: pki.caCert, host: "127.0.0.1") != 0)
        #expect(try sClientSend([line], port: mismatch.port, ca: pki.caCert, host: "elsewhere.test") { mismatch.messages().count >= 1 } == 0)

        // x509/certvalid: a line without a client certificate is refused, with one it arrives.
        let mutual = try RsyslogTLS(pki: pki, auth: .certValid)
        try sClientSend([syslogLine("anonymous over tls")], port: mutual.port, ca: pki.caCert)
        #expect(try sClientSend([syslogLine("certified over tls")], port: mutual.port, ca: pki.caCert,
                                cert: pki.clientCert, key: pki.clientKey) { mutual.messages().count >= 1 } == 0)
        // The certified line was sent after the anonymous client had ended: had that one's line been taken,
        // it would be here by now.
        #expect(eventually { mutual.messages().count >= 1 }, "\(mutual.diagnostics)")
        #expect(mutual.messages().compactMap { $0["msg"]?.string } == ["certified over tls"])
    }

    @Test("rfc5424 and rfc3164 over TLS, to localhost and to 127.0.0.1, both framings: rsyslog parses every field")
    func fieldsParsed() throws {
        let pki = try TestPKI()
        let rsyslog = try RsyslogTLS(pki: pki)
        let byName = "localhost:\(rsyslog.port)"
        let byIP = "127.0.0.1:\(rsyslog.port)"
        let data = "héllo \"wörld\" \\ tab\tend ✓"
        let r = try emit([
            routed(data, addr: byName, proto: "tls", tag: ".n"),
            routed(data, source: "stderr", addr: byIP, proto: "tls", tag: ".i"),
            routed(data, addr: byName, proto: "tls", format: "rfc3164"),
        ], env: pki.trustOnlyCA)
        #expect(r.status == 0)
        #expect(r.stderr.hasSuffix("emit-syslog: sent 3, truncated 0, dropped 0, send errors 0\n"), "\(r.stderr)")
        #expect(!r.stderr.contains("certificate"), "\(r.stderr)")
        // Octet counting (RFC 5425), with a message far larger than one TLS record; two CA files, the
        // first of no use here.
        let long = String(repeating: "0123456789", count: 3000)
        let o = try emit([routed(data, addr: byName, proto: "tls", tag: ".o"), routed(long, addr: byIP, proto: "tls", tag: ".long")],
                         env: ["SYSLOG_TCP_FRAMING": "octet-counted", "LOGSPOUT_TLS_CA_CERTS": pki.wrongCACert + "," + pki.caCert,
                               "LOGSPOUT_TLS_DISABLE_SYSTEM_ROOTS": "true"])
        #expect(o.status == 0)
        #expect(o.stderr.hasSuffix("emit-syslog: sent 2, truncated 0, dropped 0, send errors 0\n"), "\(o.stderr)")

        #expect(eventually { rsyslog.messages().count >= 5 }, "\(rsyslog.diagnostics)")
        let m = rsyslog.messages()
        try #require(m.count == 5, "\(m)")
        let byApp = Dictionary(m.map { ($0["app"]?.string ?? "", $0) }, uniquingKeysWith: { a, _ in a })
        for (app, pri) in [("web.n", "14"), ("web.i", "11"), ("web.o", "14")] {
            let f = try #require(byApp[app], "message with app-name \(app)")
            #expect(f["pri"]?.string == pri)
            #expect(f["hostname"]?.string == "8713470e0e2c")
            #expect(f["procid"]?.string == "18441")
            #expect(f["time"]?.string == "2026-11-24T20:42:17.123456Z")
            #expect(f["msg"]?.string == data)
            #expect(f["input"]?.string == "imtcp")
        }
        #expect(byApp["web.long"]?["msg"]?.string == long, "a 30,000-byte message arrives whole")
        expectLegacyFields(try #require(byApp["web"]), data: data)
    }

    @Test("a burst of 5000 messages through one TLS connection: every one arrives, once, in order")
    func burst() throws {
        let pki = try TestPKI()
        let rsyslog = try RsyslogTLS(pki: pki)
        let addr = "localhost:\(rsyslog.port)"
        let padding = String(repeating: "x", count: 200)
        // The test CA added to the system's roots (LOGSPOUT_TLS_DISABLE_SYSTEM_ROOTS not set).
        let r = try emit((0..<5000).map { routed("seq \($0) \(padding)", addr: addr, proto: "tls") }, env: ["LOGSPOUT_TLS_CA_CERTS": pki.caCert])
        #expect(r.status == 0)
        #expect(r.stderr.hasSuffix("emit-syslog: sent 5000, truncated 0, dropped 0, send errors 0\n"), "\(r.stderr)")
        func received() -> [Int] {
            rsyslog.messages().compactMap { $0["msg"]?.string.flatMap { Int($0.dropFirst(4).prefix { $0 != " " }) } }
        }
        #expect(eventually { received().count >= 5000 })
        #expect(received() == Array(0..<5000))
    }

    @Test("route syslog+tls://localhost:PORT (argument or ROUTE_URIS) | emit-syslog: routed records carry protocol tls, and arrive")
    func throughRoute() throws {
        let pki = try TestPKI()
        let rsyslog = try RsyslogTLS(pki: pki)
        let uri = "syslog+tls://localhost:\(rsyslog.port)"

        // route alone: one routed record per line, its target syslog over TLS to HOST:PORT.
        let alone = try runRoute([uri], input: RouteInput.text)
        #expect(alone.status == 0)
        #expect(alone.stderr == "")
        let records = alone.stdout.split(separator: "\n").compactMap { try? RecordCodec.decode(line: Array($0.utf8)) }
        #expect(records.count == RouteInput.lines.count)
        for record in records {
            let target = try #require(record.route?.target)
            #expect(record.route?.id == routeStableID(uri))
            #expect(target["type"]?.string == "syslog")
            #expect(target["addr"]?.string == "localhost:\(rsyslog.port)")
            #expect(target["protocol"]?.string == "tls", "\(target)")
        }

        // The same route from ROUTE_URIS.
        let fromEnv = try runRoute([], input: RouteInput.text, env: ["ROUTE_URIS": uri])
        #expect(fromEnv.status == 0)
        #expect(fromEnv.stdout == alone.stdout)

        // route | emit-syslog.
        let env = pki.trustOnlyCA.merging(["ROUTESPATH": "/nonexistent/routes"]) { _, b in b }
        let pipeline = try Child(["/bin/sh", "-c", "'\(routeBinary)' '\(uri)' | '\(Env.binDir)/emit-syslog'"],
                                 env: env, stdin: routeTempFile(RouteInput.text))
        #expect(pipeline.wait(timeoutMs: 20_000) == 0, "\(pipeline.stderr)")
        #expect(pipeline.stderr.hasSuffix("emit-syslog: sent 6, truncated 0, dropped 0, send errors 0\n"), "\(pipeline.stderr)")
        #expect(eventually { rsyslog.messages().count >= 6 }, "\(rsyslog.diagnostics)")
        let m = rsyslog.messages()
        #expect(m.count == 6)
        let expected: [(app: String, hostname: String, procid: String)] = [
            ("web", "a1a1a1a1a1a1", "10"), ("orders_db", "b2b2b2b2b2b2", "20"), ("cache", "c3c3c3c3c3c3", "30"),
        ]
        for n in 1...6 {
            let f = try #require(m.first { $0["msg"]?.string == "line \(n) \"quoted\" é" }, "line \(n)")
            let c = expected[(n - 1) / 2]
            #expect(f["app"]?.string == c.app)
            #expect(f["hostname"]?.string == c.hostname)
            #expect(f["procid"]?.string == c.procid)
            #expect(f["pri"]?.string == (n % 2 == 1 ? "14" : "11"))
            #expect(f["time"]?.string == "2026-11-24T20:42:17.000000Z")
        }
    }

    @Test("an untrusted server (another CA; or the system roots only): 'certificate verify failed', nothing sent, messages kept")
    func untrustedServer() throws {
        let pki = try TestPKI()
        // A server certificate from the wrong CA, the test CA alone trusted.
        let wrong = try RsyslogTLS(pki: pki, cert: pki.wrongServerCert, key: pki.wrongServerKey)
        let addr = "localhost:\(wrong.port)"
        let key = "tls://" + addr
        let e = try LiveEmitter(env: pki.trustOnlyCA)
        e.send((0..<3).map { routed("seq \($0)", addr: addr, proto: "tls") })
        #expect(eventually(timeoutMs: 10_000) { e.reports(key).contains { $0.contains("certificate verify failed") } }, "\(e.stderr)")
        let line = e.reports(key).first { $0.contains("certificate verify failed") } ?? ""
        #expect(line.contains("unable to get local issuer certificate"), "\(line)")
        // A trusted client's line arrives after whatever the refused attempts could have left.
        try sendMarker(to: wrong, ca: pki.wrongCACert)
        #expect(wrong.messagesButMarkers().isEmpty)
        // The messages waited in the buffer: a trusted server on that port gets them, once.
        wrong.stop()
        let right = try RsyslogTLS(pki: pki, port: wrong.port)
        #expect(eventually { sequenceNumbers(right).count >= 3 }, "\(e.stderr)")
        #expect(e.reports(key).last == "connected", "\(e.stderr)")
        #expect(e.finish() == 0)
        #expect(sequenceNumbers(right) == [0, 1, 2])
        #expect(e.stderr.hasSuffix("emit-syslog: sent 3, truncated 0, dropped 0, send errors 0\n"), "\(e.stderr)")
        #expect(wrong.messagesButMarkers().isEmpty)

        // The right server certificate, but the test CA not given: the system roots do not know it.
        let byIP = "tls://127.0.0.1:\(right.port)"
        let system = try LiveEmitter(env: [:])
        system.send([routed("by system roots", addr: "127.0.0.1:\(right.port)", proto: "tls")])
        #expect(eventually(timeoutMs: 10_000) { system.reports(byIP).contains { $0.contains("certificate verify failed") } }, "\(system.stderr)")
        try sendMarker(to: right, ca: pki.caCert)
        #expect(right.messagesButMarkers().count == 3, "nothing more: \(right.messages())")
    }

    @Test("a host name mismatch (certificate for elsewhere.test only): 'certificate verify failed', nothing sent")
    func hostnameMismatch() throws {
        let pki = try TestPKI()
        let rsyslog = try RsyslogTLS(pki: pki, cert: pki.mismatchCert, key: pki.mismatchKey)
        let byName = "localhost:\(rsyslog.port)"
        let byIP = "127.0.0.1:\(rsyslog.port)"
        let e = try LiveEmitter(env: pki.trustOnlyCA)
        e.send([routed("to localhost", addr: byName, proto: "tls"), routed("to 127.0.0.1", addr: byIP, proto: "tls")])
        #expect(eventually(timeoutMs: 10_000) {
            e.reports("tls://" + byName).contains { $0.contains("certificate verify failed") }
                && e.reports("tls://" + byIP).contains { $0.contains("certificate verify failed") }
        }, "\(e.stderr)")
        #expect(e.reports("tls://" + byName).contains { $0.contains("certificate verify failed (hostname mismatch)") }, "\(e.stderr)")
        #expect(e.reports("tls://" + byIP).contains { $0.contains("certificate verify failed (IP address mismatch)") }, "\(e.stderr)")
        try sendMarker(to: rsyslog, ca: pki.caCert, host: "elsewhere.test")
        #expect(rsyslog.messagesButMarkers().isEmpty)
    }

    @Test("mutual TLS (rsyslog x509/certvalid): without a client certificate nothing arrives; with one everything does")
    func mutualTLS() throws {
        let pki = try TestPKI()
        let rsyslog = try RsyslogTLS(pki: pki, auth: .certValid)
        let addr = "localhost:\(rsyslog.port)"
        let key = "tls://" + addr

        let without = try LiveEmitter(env: pki.trustOnlyCA)
        without.send((0..<5).map { routed("without \($0)", addr: addr, proto: "tls") })
        // TLS 1.3: the client's side of the handshake finishes before the server refuses it; emit-syslog
        // waits for the server's verdict before it sends, so the refusal costs no message: all 5 are still
        // queued when its input ends (and dropped then, since this receiver never takes them).
        #expect(eventually(timeoutMs: 10_000) { without.reports(key).contains { $0 != "connected" } }, "\(without.stderr)")
        try sendMarker(to: rsyslog, ca: pki.caCert, cert: pki.clientCert, key: pki.clientKey)
        #expect(rsyslog.messagesButMarkers().isEmpty, "\(rsyslog.messages())")
        #expect(rsyslog.diagnostics.contains("peer did not return a certificate"), "rsyslog refused it: \(rsyslog.diagnostics)")
        #expect(!without.reports(key).contains("connected"), "never counted as connected: \(without.stderr)")
        without.feeder.close()
        #expect(without.child.wait(timeoutMs: 15_000) == 0)
        #expect(without.stderr.contains("emit-syslog: \(key): 5 messages not delivered at exit\n"), "\(without.stderr)")
        #expect(without.stderr.hasSuffix("emit-syslog: sent 0, truncated 0, dropped 5, send errors 0\n"), "\(without.stderr)")

        let r = try emit((0..<5).map { routed("with \($0)", addr: addr, proto: "tls") }, env: pki.trustOnlyCAWithClientCert)
        #expect(r.status == 0)
        #expect(r.stderr.hasSuffix("emit-syslog: sent 5, truncated 0, dropped 0, send errors 0\n"), "\(r.stderr)")
        #expect(eventually { rsyslog.messagesButMarkers().count >= 5 }, "\(rsyslog.diagnostics)")
        #expect(rsyslog.messagesButMarkers().compactMap { $0["msg"]?.string } == (0..<5).map { "with \($0)" })
    }

    @Test("TLS receiver stopped, then started again: what was sent meanwhile arrives, nothing lost or repeated")
    func receiverAway() throws {
        let pki = try TestPKI()
        let rsyslog = try RsyslogTLS(pki: pki)
        let addr = "localhost:\(rsyslog.port)"
        let key = "tls://" + addr
        let e = try LiveEmitter(env: pki.trustOnlyCA)
        func send(_ range: Range<Int>) { e.send(range.map { routed("seq \($0)", addr: addr, proto: "tls") }) }

        send(0..<100)
        #expect(eventually { sequenceNumbers(rsyslog).count == 100 }, "\(e.stderr)")
        rsyslog.stop()
        var next = 100
        send(next..<next + 20)
        next += 20
        #expect(eventually(timeoutMs: 5000) { e.reports(key).contains { $0.hasSuffix("retrying") } }, "the receiver is away: \(e.stderr)")
        // More while it is away and emit-syslog keeps trying.
        for _ in 0..<7 {
            send(next..<next + 20)
            next += 20
        }
        try rsyslog.start()
        send(next..<next + 100)
        next += 100
        #expect(e.finish() == 0)
        let total = next
        #expect(eventually { sequenceNumbers(rsyslog).count >= total })
        #expect(sequenceNumbers(rsyslog).sorted() == Array(0..<total), "every message exactly once")
        #expect(e.reports(key).contains("connected"), "\(e.stderr)")
        #expect(e.stderr.contains("emit-syslog: sent \(total), truncated 0, dropped 0, send errors 0"), "\(e.stderr)")
    }

    @Test("LOGSPOUT_TLS_CLIENT_CERT or _KEY naming a missing file: exit 78, one line naming the variable")
    func missingClientCertificate() throws {
        let pki = try TestPKI()
        let port = Env.freePort()  // nobody listens: nothing must get that far
        let input = [routed("x", addr: "127.0.0.1:\(port)", proto: "tls")]
        let missing = "/nonexistent/client.pem"
        let cert = try emit(input, env: pki.trustOnlyCA.merging(["LOGSPOUT_TLS_CLIENT_CERT": missing, "LOGSPOUT_TLS_CLIENT_KEY": pki.clientKey]) { _, b in b })
        #expect(cert.status == 78)
        #expect(cert.stderr.hasPrefix("emit-syslog: LOGSPOUT_TLS_CLIENT_CERT '\(missing)'"), "\(cert.stderr)")
        #expect(cert.stderr.split(separator: "\n").count == 1, "one line: \(cert.stderr)")

        let missingKey = "/nonexistent/client.key"
        let key = try emit(input, env: pki.trustOnlyCA.merging(["LOGSPOUT_TLS_CLIENT_CERT": pki.clientCert, "LOGSPOUT_TLS_CLIENT_KEY": missingKey]) { _, b in b })
        #expect(key.status == 78)
        #expect(key.stderr.hasPrefix("emit-syslog: LOGSPOUT_TLS_CLIENT_KEY '\(missingKey)'"), "\(key.stderr)")
        #expect(key.stderr.split(separator: "\n").count == 1, "one line: \(key.stderr)")
    }

    @Test("LOGSPOUT_TLS_HARDENING=true refuses a server offering TLS 1.2 with a CBC cipher only; without it, delivered")
    func hardening() throws {
        let pki = try TestPKI()
        let cbcOnly = try RsyslogTLS(pki: pki, tlsOptions: ["Protocol=-ALL,TLSv1.2", "CipherString=ECDHE-ECDSA-AES128-SHA256"])
        let addr = "localhost:\(cbcOnly.port)"
        let r = try emit([routed("not hardened", addr: addr, proto: "tls")], env: pki.trustOnlyCA)
        #expect(r.status == 0)
        #expect(r.stderr.hasSuffix("emit-syslog: sent 1, truncated 0, dropped 0, send errors 0\n"), "\(r.stderr)")
        #expect(eventually { cbcOnly.messages().count == 1 }, "\(cbcOnly.diagnostics)")

        let hardened = try LiveEmitter(env: pki.trustOnlyCA.merging(["LOGSPOUT_TLS_HARDENING": "true"]) { _, b in b })
        hardened.send([routed("hardened", addr: addr, proto: "tls")])
        #expect(eventually(timeoutMs: 10_000) { hardened.reports("tls://" + addr).contains { $0 != "connected" } }, "\(hardened.stderr)")
        try sendMarker(to: cbcOnly, ca: pki.caCert)
        #expect(cbcOnly.messagesButMarkers().compactMap { $0["msg"]?.string } == ["not hardened"])

        // A modern server: hardened is fine.
        let modern = try RsyslogTLS(pki: pki)
        let h = try emit([routed("hardened", addr: "localhost:\(modern.port)", proto: "tls")],
                         env: pki.trustOnlyCA.merging(["LOGSPOUT_TLS_HARDENING": "true"]) { _, b in b })
        #expect(h.status == 0)
        #expect(eventually { modern.messages().count == 1 }, "\(h.stderr)")
    }

    @Test("a receiver that accepts the connection but never answers the handshake: given up after 10 s, retried, nothing lost")
    func silentReceiver() throws {
        let pki = try TestPKI()
        let port = Env.freePort()
        // A listening socket nobody accepts from: the kernel completes the TCP handshake, nothing speaks TLS.
        let listener = try Sys.listenTCP(host: "127.0.0.1", port: port)
        defer { Sys.close(listener) }
        let addr = "127.0.0.1:\(port)"
        let e = try LiveEmitter(env: pki.trustOnlyCA)
        e.send((0..<3).map { routed("silent \($0)", addr: addr, proto: "tls") })
        #expect(eventually(timeoutMs: 20_000) { e.reports("tls://" + addr).contains("TLS handshake: no answer within 10 s; retrying") },
                "\(e.stderr)")
        #expect(e.finish() == 0)
        #expect(e.stderr.contains("emit-syslog: tls://\(addr): 3 messages not delivered at exit\n"), "kept until the end: \(e.stderr)")
    }
}
