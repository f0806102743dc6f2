// Live streams under stalled clients, with route and httpd (and emit-syslog) run by hand on records
// written into route's input: memory bounded in bytes, the syslog path whole, what route sends httpd
// not multiplied by the number of clients.

#if canImport(Glibc)
import Glibc
#endif
import Syscall
import Testing

/// A `/logs` client that asks for the stream, reads the response head, and then reads nothing more, with
/// a small receive buffer (SO_RCVBUF) so that it stalls at once.
final class StalledClient {
    let fd: Int32

    init(port: UInt16, path: String = "/logs") throws {
        fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw TestFailure("socket: \(Errno.current)") }
        var size: Int32 = 4096
        setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, socklen_t(MemoryLayout<Int32>.size))
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_port = port.bigEndian
        addr.sin_addr.s_addr = inet_addr("127.0.0.1")
        let r = withUnsafePointer(to: &addr) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) } }
        guard r == 0 else { throw TestFailure("connect: \(Errno.current)") }
        _ = try? Sys.writeAll(fd, Array("GET \(path) HTTP/1.1\r\nHost: localhost\r\n\r\n".utf8))
    }

    deinit { close(fd) }

    /// Reads up to the end of the response head (byte by byte: nothing of the body is taken).
    func head() -> String {
        var text: [UInt8] = []
        var byte: UInt8 = 0
        while !text.ends(with: [13, 10, 13, 10]) {
            guard (try? Sys.poll(fd, events: Int16(POLLIN), timeout: 10_000)) == true, recv(fd, &byte, 1, 0) == 1 else { break }
            text.append(byte)
        }
        return String(decoding: text, as: UTF8.self)
    }

    /// Reads what arrives until `marker` has been seen (or 20 s pass, or the peer closes).
    func read(until marker: String) -> String {
        let client = RawClientView(fd: fd)
        return client.receive(until: marker)
    }
}

/// RawClient's reading, on a descriptor someone else owns.
struct RawClientView {
    let fd: Int32
    func receive(until marker: String) -> String {
        var result: [UInt8] = []
        var buf = [UInt8](repeating: 0, count: 65536)
        let wanted = Array(marker.utf8)
        let deadline = Sys.monotonicNanos() + 20_000_000_000
        while Sys.monotonicNanos() < deadline {
            if let r = result.lastRange(of: wanted, within: 2 * 65536 + wanted.count), !r.isEmpty { break }
            guard (try? Sys.poll(fd, events: Int16(POLLIN), timeout: 100)) == true else { continue }
            let n = buf.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if n <= 0 { break }
            result += buf[0..<n]
        }
        return String(decoding: result, as: UTF8.self)
    }
}

extension Array where Element == UInt8 {
    func ends(with suffix: [UInt8]) -> Bool { count >= suffix.count && Array(self[(count - suffix.count)...]) == suffix }

    /// The range of the last `needle` within the last `window` bytes.
    func lastRange(of needle: [UInt8], within window: Int) -> Range<Int>? {
        guard count >= needle.count else { return nil }
        let lowest = Swift.max(0, count - window)
        var i = count - needle.count
        while i >= lowest {
            if self[i] == needle[0] && Array(self[i..<(i + needle.count)]) == needle { return i..<(i + needle.count) }
            i -= 1
        }
        return nil
    }
}

/// A field of /proc/PID/status in kB (VmRSS, VmHWM), or /proc/PID/io in bytes (rchar).
func procField(_ pid: pid_t, _ file: String, _ name: String) -> Int {
    let text = String(decoding: readFile("/proc/\(pid)/\(file)"), as: UTF8.self)
    guard let line = text.split(separator: "\n").first(where: { $0.hasPrefix(name + ":") }) else { return -1 }
    return Int(line.dropFirst(name.count + 1).filter(\.isNumber)) ?? -1
}

/// route (its input a FIFO the test writes, its bus in a temp folder), optionally piped into emit-syslog,
/// and httpd on that bus.
final class BusRig {
    let feeder: RouteFeeder
    let pipeline: Child
    let httpd: Child
    let port: UInt16
    let route: pid_t

    init(routeArgs: [String], emit: Bool, httpdEnv: [String: String] = [:]) throws {
        let dir = Env.tempDir()
        let bus = dir + "/bus.sock"
        feeder = try RouteFeeder()
        let routeCommand = ([routeBinary, "--ready-fd", String(Child.readyFD)] + routeArgs).map { "'\($0)'" }.joined(separator: " ")
        let tail = emit ? " | '\(Env.binDir)/emit-syslog'" : " > /dev/null"
        pipeline = try Child(["/bin/sh", "-c", "exec " + routeCommand + tail], env: ["LOGSPOUT_BUS": bus, "ROUTESPATH": "/nonexistent/routes"],
                             stdin: feeder.path, readiness: true)
        try pipeline.waitReady()
        route = emit ? try #require(descendant(of: pipeline.pid, named: "route")) : pipeline.pid
        port = Env.freePort()
        var env = httpdEnv
        env["PORT"] = String(port)
        env["LOGSPOUT_BUS"] = bus
        httpd = try Child([Env.binDir + "/httpd", "--ready-fd", String(Child.readyFD)], env: env, readiness: true)
        try httpd.waitReady()
    }

    /// One round trip over the bus: route has taken every subscription asked for before.
    func roundTrip() throws {
        let r = try run(["/usr/bin/curl", "-sS", "http://127.0.0.1:\(port)/health"])
        guard r.stdout == #"{"status":"ok"}"# + "\n" else { throw TestFailure("/health: \(r)") }
    }

    func record(_ name: String, _ data: String) -> String {
        #"{"time":"2026-11-24T20:42:17.123456789Z","source":"stdout","data":""# + data
            + #"","container":{"id":"8713470e0e2c\#(name.utf8.count)","name":""# + name + "\"}}\n"
    }

    deinit {
        httpd.stop()
        feeder.close()
        pipeline.stop()
    }
}

@Suite("live streams under stalled clients: bounded in bytes, the syslog path whole", .serialized)
struct StreamBudgetEndToEndTests {
    @Test("8 stalled /logs clients and 1,500 records of 200 KB: route and httpd stay under 64 MB, and a stalled client is told what it missed")
    func stalledClientsBoundedMemory() throws {
        let rig = try BusRig(routeArgs: ["syslog://127.0.0.1:9"], emit: false)
        let stalled = try (0..<8).map { _ in try StalledClient(port: rig.port) }
        for client in stalled { #expect(client.head().hasPrefix("HTTP/1.1 200 OK")) }
        let marker = try StalledClient(port: rig.port, path: "/logs/name:marker")
        #expect(marker.head().hasPrefix("HTTP/1.1 200 OK"))
        try rig.roundTrip()
        let data = String(repeating: "x", count: 200_000)
        for i in 0..<1500 { rig.feeder.write(rig.record("big", "\(i) " + data)) }
        rig.feeder.write(rig.record("marker", "the end"))
        // The marker arrives after every big record went through route and httpd.
        #expect(marker.read(until: "the end").contains("the end"))
        let routePeak = procField(rig.route, "status", "VmHWM")
        let httpdPeak = procField(rig.httpd.pid, "status", "VmHWM")
        print("peak RSS: route \(routePeak) kB, httpd \(httpdPeak) kB")
        #expect(routePeak > 0 && routePeak < 64 * 1024, "route's peak RSS: \(routePeak) kB")
        #expect(httpdPeak > 0 && httpdPeak < 64 * 1024, "httpd's peak RSS: \(httpdPeak) kB")
        // A stalled client that reads again is told, in its form, what it missed.
        #expect(stalled[0].read(until: " skipped: this client reads more slowly than the logs arrive").contains(" skipped: "))
    }

    @Test("300 stalled clients while 100,000 records go to syslog: every record delivered; route sends each record to httpd once, not once per client; the 301st stream is 503")
    func stalledClientsSyslogPath() throws {
        let rsyslog = try Rsyslog()
        let rig = try BusRig(routeArgs: ["syslog+tcp://127.0.0.1:\(rsyslog.port)"], emit: true, httpdEnv: ["HTTPD_MAX_STREAMS": "300"])
        var stalled: [StalledClient] = []
        for _ in 0..<300 { stalled.append(try StalledClient(port: rig.port, path: "/logs/name:flood")) }
        for client in stalled { #expect(client.head().hasPrefix("HTTP/1.1 200 OK")) }
        let refused = try run(["/usr/bin/curl", "-sS", "-i", "-m", "5", "http://127.0.0.1:\(rig.port)/logs"])
        #expect(refused.stdout.hasPrefix("HTTP/1.1 503"), "\(refused.stdout.prefix(300))")
        #expect(refused.stdout.contains(#"{"error":"too many live streams (300): try again later"}"#))
        try rig.roundTrip()
        let before = procField(rig.httpd.pid, "io", "rchar")
        var batch = ""
        var bytes = 0
        for i in 1...100_000 {
            let line = rig.record("flood", "seq \(i)")
            bytes += line.utf8.count
            batch += line
            if i % 1000 == 0 {
                rig.feeder.write(batch)
                batch = ""
            }
        }
        func count() -> Int { readFile(rsyslog.out).lazy.filter { $0 == 10 }.count }
        #expect(eventually(timeoutMs: 60_000) { count() >= 100_000 })
        #expect(Set(received(rsyslog, app: "flood")) == Set(1...100_000))
        // httpd read each record once from route's bus (one subscription), not once per client.
        let read = procField(rig.httpd.pid, "io", "rchar") - before
        print("httpd read \(read) bytes for \(bytes) bytes of records")
        #expect(read < 2 * bytes, "httpd read \(read) bytes for \(bytes) bytes of records")
        // A stalled client reading again is told what it missed.
        #expect(stalled[0].read(until: " skipped: this client reads more slowly than the logs arrive").contains(" skipped: "))
    }
}
