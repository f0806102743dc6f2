// emit-syslog with TCP receivers that never read: the other routes keep flowing, memory stays within the
// buffers' total, and a full buffer is said once per receiver.

#if canImport(Glibc)
import Glibc
#endif
import Syscall
import Testing

/// A TCP port whose connections the kernel accepts and nobody ever reads, with the smallest receive buffer.
func stalledListener() throws -> (fd: Int32, port: UInt16) {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    var small: Int32 = 1024
    setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &small, socklen_t(MemoryLayout<Int32>.size))
    var addr = sockaddr_in()
    addr.sin_family = sa_family_t(AF_INET)
    inet_pton(AF_INET, "127.0.0.1", &addr.sin_addr)
    let r = withUnsafePointer(to: &addr) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) } }
    guard r == 0, listen(fd, 4) == 0 else { throw TestFailure("listen: \(Errno.current)") }
    var bound = sockaddr_in()
    var len = socklen_t(MemoryLayout<sockaddr_in>.size)
    _ = withUnsafeMutablePointer(to: &bound) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &len) } }
    return (fd, UInt16(bigEndian: bound.sin_port))
}

/// A field of /proc/PID/status in KiB (VmRSS, VmHWM).
func statusKiB(_ pid: pid_t, _ field: String) -> Int? {
    let text = String(decoding: readFile("/proc/\(pid)/status"), as: UTF8.self)
    guard let line = text.split(separator: "\n").first(where: { $0.hasPrefix(field + ":") }) else { return nil }
    return Int(line.split(separator: " ", omittingEmptySubsequences: true).dropFirst().first ?? "")
}

extension EmitSyslogEndToEndTests {
    /// Runs emit-syslog (`env`) on `records` records of about 4 KB, each routed to 20 TCP receivers that
    /// never read and to one UDP receiver. Returns the datagrams the UDP receiver got, emit-syslog's peak
    /// memory (KiB) and its stderr.
    func stalled(records: Int, env: [String: String]) throws -> (udp: Int, peakKiB: Int, stderr: String) {
        let udp = try UDPListener()
        var listeners: [(fd: Int32, port: UInt16)] = []
        defer { listeners.forEach { close($0.fd) } }
        for _ in 0..<20 { listeners.append(try stalledListener()) }
        let data = String(repeating: "x", count: 4000)
        let record = listeners.enumerated().map { i, l in routed(data, addr: "127.0.0.1:\(l.port)", proto: "tcp", id: "t\(i)") + "\n" }.joined()
            + routed(data, addr: "127.0.0.1:\(udp.port)", id: "u") + "\n"
        let bytes = Array(record.utf8)
        let fifo = Env.tempDir() + "/in"
        mkfifo(fifo, 0o644)
        let child = try Child(["/bin/sh", "-c", "exec '\(Env.binDir)/emit-syslog' < \(fifo)"], env: env)
        let writer = open(fifo, O_WRONLY | O_CLOEXEC)
        for _ in 0..<records {
            var done = 0
            while done < bytes.count {
                let n = bytes.withUnsafeBytes { write(writer, $0.baseAddress! + done, $0.count - done) }
                guard n > 0 else { break }
                done += n
            }
        }
        let got = udp.receive(atLeast: records, timeoutMs: 60_000).count
        let peak = statusKiB(child.pid, "VmHWM") ?? .max
        close(writer)
        #expect(child.wait(timeoutMs: 30_000) == 0)
        return (got, peak, child.stderr)
    }

    @Test("20 TCP receivers that never read: the UDP route gets every record, memory stays within SYSLOG_BUFFER_TOTAL")
    func stalledReceiversTotal() throws {
        // About 4 MB for each TCP receiver: the kernel takes under 2 MB of it; 8 MiB each may wait, 1 MiB in all.
        let n = 1000
        let baseline = try stalled(records: 1, env: [:])
        let r = try stalled(records: n, env: ["SYSLOG_BUFFER_TOTAL": "1048576"])
        #expect(r.udp == n, "every record reached the UDP receiver")
        #expect(r.peakKiB - baseline.peakKiB < 1024 + 6 * 1024,
                "peak \(r.peakKiB) KiB against \(baseline.peakKiB) KiB for one record: within the total and a margin")
        let lines = r.stderr.split(separator: "\n")
        #expect(lines.count <= 2 * 20 + 1, "at most two lines a receiver and the summary: \(lines.count)\n\(r.stderr.prefix(2000))")
        #expect(!r.stderr.contains(": connected"), "no connection was lost")
        #expect(r.stderr.contains("buffer full until the end;"), "\(r.stderr.prefix(2000))")
    }

    @Test("a full buffer is said once per receiver with its count, never alternating with connected")
    func stalledReceiversSaidOnce() throws {
        let n = 1000
        let r = try stalled(records: n, env: ["SYSLOG_BUFFER_SIZE": "65536"])
        #expect(r.udp == n)
        let lines = r.stderr.split(separator: "\n")
        #expect(lines.count <= 2 * 20 + 1, "\(lines.count) lines:\n\(r.stderr.prefix(2000))")
        #expect(lines.filter { $0.hasSuffix(": buffer of 65536 bytes full; dropping messages") }.count == 20)
        #expect(!r.stderr.contains(": connected"))
        // Each receiver's last line counts what it lost; with what the kernel took, all is accounted for.
        let summary = try #require(lines.last.map(String.init))
        #expect(summary.hasPrefix("emit-syslog: sent ") && summary.hasSuffix(", send errors 0"), "\(summary)")
        let numbers = summary.split(whereSeparator: { !$0.isNumber }).compactMap { Int($0) }
        #expect(numbers.count == 4 && numbers[0] + numbers[2] == 21 * n, "sent and dropped add up: \(summary)")
    }
}
