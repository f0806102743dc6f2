#if canImport(Glibc)
import Glibc
#endif
import Dispatch
@testable import HTTPServer
import Syscall
import Testing

/// A listening socket on 127.0.0.1 (a port the kernel chose), closed when released.
final class TestListener: @unchecked Sendable {
    let fd: Int32
    let port: UInt16

    init() throws {
        let fd = try Sys.listenTCP(host: "127.0.0.1", port: 0, backlog: 4)
        self.fd = fd
        var addr = sockaddr_in()
        var len = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &addr) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &len) } }
        port = UInt16(bigEndian: addr.sin_port)
    }

    deinit { Sys.close(fd) }

    /// Accepts one connection, reads its request head and writes `answer`, on another thread.
    func answerOnce(_ answer: String) {
        let fd = self.fd
        DispatchQueue.global().async {
            guard (try? Sys.poll(fd, events: Int16(POLLIN), timeout: 5000)) == true, let c = try? Sys.accept(fd) else { return }
            defer { Sys.close(c) }
            var request: [UInt8] = []
            var buffer = [UInt8](repeating: 0, count: 1024)
            while !request.ends(with: [13, 10, 13, 10]) {
                guard (try? Sys.poll(c, events: Int16(POLLIN), timeout: 5000)) == true, let n = try? Sys.read(c, into: &buffer), n > 0 else { return }
                request += buffer[0..<n]
            }
            try? Sys.writeAll(c, Array(answer.utf8))
        }
    }
}

extension Array where Element == UInt8 {
    func ends(with suffix: [UInt8]) -> Bool { count >= suffix.count && Array(self[(count - suffix.count)...]) == suffix }
}

@Suite("logspout health")
struct HealthCheckTests {
    @Test("a 200 is healthy")
    func ok() throws {
        let listener = try TestListener()
        listener.answerOnce("HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 16\r\n\r\n{\"status\":\"ok\"}\n")
        #expect(HealthCheck.probe(host: "127.0.0.1", port: listener.port) == .healthy)
    }

    @Test("a 503 is not, and says so")
    func unavailable() throws {
        let listener = try TestListener()
        listener.answerOnce("HTTP/1.1 503 Service Unavailable\r\nContent-Length: 0\r\n\r\n")
        #expect(HealthCheck.probe(host: "127.0.0.1", port: listener.port)
            == .unhealthy("/health on 127.0.0.1:\(listener.port) answered 503 Service Unavailable"))
    }

    @Test("nothing listening: unhealthy, naming the refusal")
    func refused() throws {
        let port = try TestListener().port  // listened on, then closed: nothing listens there now
        guard case .unhealthy(let why) = HealthCheck.probe(host: "127.0.0.1", port: port) else {
            Issue.record("healthy with nothing listening")
            return
        }
        #expect(why == "nothing answers on 127.0.0.1:\(port): \(Errno.connectionRefused)")
    }

    @Test("a server that takes the connection and never answers: unhealthy at the deadline")
    func silent() throws {
        let listener = try TestListener()  // never accepts: the kernel completes the connection in its backlog
        #expect(HealthCheck.probe(host: "127.0.0.1", port: listener.port, timeoutMs: 200)
            == .unhealthy("no answer from 127.0.0.1:\(listener.port) within 200 ms"))
    }

    @Test("an answer that is not HTTP, or a connection closed without one: unhealthy")
    func garbage() throws {
        let listener = try TestListener()
        listener.answerOnce("SSH-2.0-OpenSSH_9.2\r\n\r\n")
        guard case .unhealthy(let why) = HealthCheck.probe(host: "127.0.0.1", port: listener.port) else {
            Issue.record("healthy on an SSH banner")
            return
        }
        #expect(why.hasSuffix(", not HTTP"), "\(why)")
        let closing = try TestListener()
        closing.answerOnce("")
        #expect(HealthCheck.probe(host: "127.0.0.1", port: closing.port)
            == .unhealthy("127.0.0.1:\(closing.port) closed the connection without an answer"))
    }

    @Test("httpd listening on every address is asked at the loopback address")
    func host() {
        #expect(HealthCheck.host(listening: nil) == "127.0.0.1")
        #expect(HealthCheck.host(listening: "") == "127.0.0.1")
        #expect(HealthCheck.host(listening: "0.0.0.0") == "127.0.0.1")
        #expect(HealthCheck.host(listening: "::") == "127.0.0.1")
        #expect(HealthCheck.host(listening: "10.0.0.7") == "10.0.0.7")
        #expect(HealthCheck.host(listening: "[::1]") == "::1")
    }
}
