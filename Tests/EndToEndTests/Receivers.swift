// Real syslog receivers for the tests: Debian's rsyslog (parses every field and writes them as JSON),
// a plain UDP socket (exact bytes), and dnsmasq (A and SRV records on 127.0.0.2:53).

#if canImport(Glibc)
import Glibc
#endif
import JSON
import Syscall
import Testing

/// An rsyslog configuration that loads `modules`, runs `inputs` (each with `ruleset="r"`) and writes each
/// message's parsed fields as one JSON object per line to `dir/messages.json`.
func rsyslogConfig(dir: String, modules: [String], inputs: String) -> String {
    """
    global(workDirectory="\(dir)" maxMessageSize="65536" parser.escapeControlCharactersOnReceive="off")
    \(modules.map { "module(load=\"\($0)\")" }.joined(separator: "\n"))
    template(name="fields" type="list" option.jsonf="on") {
      property(outname="pri" name="pri" format="jsonf")
      property(outname="time" name="timereported" dateFormat="rfc3339" format="jsonf")
      property(outname="hostname" name="hostname" format="jsonf")
      property(outname="app" name="app-name" format="jsonf")
      property(outname="procid" name="procid" format="jsonf")
      property(outname="msgid" name="msgid" format="jsonf")
      property(outname="sd" name="structured-data" format="jsonf")
      property(outname="tag" name="syslogtag" format="jsonf")
      property(outname="msg" name="msg" format="jsonf")
      property(outname="input" name="inputname" format="jsonf")
    }
    ruleset(name="r") { action(type="omfile" file="\(dir)/messages.json" template="fields") }
    \(inputs)

    """
}

/// The fields rsyslog parsed from an rfc3164 message of routed("…") (container web, pid 18441).
func expectLegacyFields(_ legacy: JSONValue, data: String, sourceLocation: SourceLocation = #_sourceLocation) {
    #expect(legacy["pri"]?.string == "14", sourceLocation: sourceLocation)
    #expect(legacy["hostname"]?.string == "8713470e0e2c", sourceLocation: sourceLocation)
    #expect(legacy["procid"]?.string == "18441", sourceLocation: sourceLocation)
    #expect(legacy["tag"]?.string == "web[18441]:", sourceLocation: sourceLocation)
    #expect(legacy["msg"]?.string == " " + data, "rsyslog keeps the space after TAG: in MSG", sourceLocation: sourceLocation)
    #expect(legacy["time"]?.string?.hasSuffix("-11-24T20:42:17+00:00") == true, sourceLocation: sourceLocation)
}

/// A private rsyslogd on 127.0.0.1, UDP and TCP on one port, writing each message's parsed fields as one
/// JSON object per line.
final class Rsyslog {
    let dir: String
    let port: UInt16
    var child: Child?
    var out: String { dir + "/messages.json" }

    init() throws {
        dir = Env.tempDir()
        port = Env.freePort()
        let conf = rsyslogConfig(dir: dir, modules: ["imudp", "imtcp"], inputs: """
            input(type="imudp" address="127.0.0.1" port="\(port)" ruleset="r")
            input(type="imtcp" address="127.0.0.1" port="\(port)" ruleset="r")
            """)
        writeText(dir + "/rsyslog.conf", conf)
        try start()
    }

    func start() throws {
        let c = try Child(["/usr/sbin/rsyslogd", "-n", "-f", dir + "/rsyslog.conf", "-i", dir + "/rsyslog.pid"])
        child = c
        // Ready when its TCP port accepts and its UDP port is bound (what is sent from then on waits in
        // its socket, whether or not its input thread reads yet).
        let ok = eventually(timeoutMs: 10_000) {
            guard udpPortBound(port), let fd = try? Sys.connectTCP(host: "127.0.0.1", port: port) else { return false }
            Sys.close(fd)
            return true
        }
        guard ok else { throw TestFailure("rsyslogd did not start: \(c.stderr)") }
    }

    func stop() {
        child?.stop()
        child = nil
    }

    /// The messages written so far, each an object of parsed fields.
    func messages() -> [JSONValue] {
        let bytes = readFile(out)
        return bytes.split(separator: 10).compactMap { try? JSONValue.parse(Array($0)) }
    }

    deinit { stop() }
}

/// Whether a UDP socket is bound on 127.0.0.1:`port` (or on every address), from /proc/net/udp.
func udpPortBound(_ port: UInt16) -> Bool {
    let hex = String(port, radix: 16, uppercase: true)
    let suffix = ":" + String(repeating: "0", count: 4 - hex.count) + hex
    return String(decoding: readFile("/proc/net/udp"), as: UTF8.self).split(separator: "\n").dropFirst().contains { line in
        let local = line.split(separator: " ").dropFirst().first ?? ""
        return (local.hasPrefix("0100007F:") || local.hasPrefix("00000000:")) && local.hasSuffix(suffix)
    }
}

/// A UDP socket bound on `host` (a loopback address), keeping what arrives for the test to read.
final class UDPListener {
    let fd: Int32
    let port: UInt16

    init(host: String = "127.0.0.1", port wanted: UInt16 = 0) throws {
        let fd = socket(AF_INET, Int32(SOCK_DGRAM.rawValue), 0)
        var size: Int32 = 32 << 20
        setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &size, socklen_t(MemoryLayout<Int32>.size))
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_port = wanted.bigEndian
        inet_pton(AF_INET, host, &addr.sin_addr)
        let r = withUnsafePointer(to: &addr) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) } }
        guard r == 0 else { throw TestFailure("bind \(host):\(wanted): \(Errno.current)") }
        var bound = sockaddr_in()
        var len = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &bound) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &len) } }
        self.fd = fd
        port = UInt16(bigEndian: bound.sin_port)
    }

    deinit { close(fd) }

    /// The datagrams that arrived: waits up to `timeoutMs` until `atLeast` of them are here, then takes
    /// every one waiting (for at most a second more of steady traffic).
    func receive(atLeast wanted: Int = 1, timeoutMs: Int32 = 5000) -> [[UInt8]] {
        var result: [[UInt8]] = []
        var buf = [UInt8](repeating: 0, count: 70000)
        let deadline = Sys.monotonicNanos() + UInt64(timeoutMs) * 1_000_000
        let end = deadline + 1_000_000_000
        while true {
            let now = Sys.monotonicNanos()
            let wait = result.count >= wanted || now >= deadline ? 0 : Int32((deadline - now + 999_999) / 1_000_000)
            guard now < end, (try? Sys.poll(fd, events: Int16(POLLIN), timeout: wait)) == true else { break }
            let n = buf.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if n < 0 { break }
            result.append(Array(buf[0..<n]))
        }
        return result
    }

    /// Datagrams as text.
    func texts(atLeast wanted: Int = 1, timeoutMs: Int32 = 5000) -> [String] {
        receive(atLeast: wanted, timeoutMs: timeoutMs).map { String(decoding: $0, as: UTF8.self) }
    }
}

/// A dnsmasq answering on 127.0.0.2:53 with the given records, and a resolv.conf naming it. Programs use
/// it through `inNamespace`: a private mount namespace where /etc/resolv.conf is that file.
final class DNSServer {
    let dir: String
    var child: Child?

    init(_ records: [String]) throws {
        dir = Env.tempDir()
        let fd = open(dir + "/resolv.conf", O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        let text = "nameserver 127.0.0.2\noptions timeout:1 attempts:2\n"
        _ = text.utf8CString.withUnsafeBytes { write(fd, $0.baseAddress, $0.count - 1) }
        close(fd)
        try start(records)
    }

    func start(_ records: [String]) throws {
        child?.stop()
        child = try Child(["/usr/sbin/dnsmasq", "--no-daemon", "--conf-file=/dev/null", "--listen-address=127.0.0.2",
                           "--bind-interfaces", "--port=53", "--no-resolv", "--no-hosts", "--no-negcache",
                           "--local-ttl=0", "--host-record=ready.test,127.0.0.9"] + records)
        let ok = eventually(timeoutMs: 5000) {
            (try? run(self.inNamespace(["/usr/bin/getent", "hosts", "ready.test"])).status) == 0
        }
        guard ok else { throw TestFailure("dnsmasq did not answer: \(child?.stderr ?? "")") }
    }

    /// `argv` run with this server as the system resolver.
    func inNamespace(_ argv: [String]) -> [String] {
        let quoted = argv.map { "'" + $0 + "'" }.joined(separator: " ")
        return ["/usr/bin/unshare", "-m", "--", "/bin/sh", "-c", "mount --bind \(dir)/resolv.conf /etc/resolv.conf && exec \(quoted)"]
    }

    deinit { child?.stop() }
}
