#if canImport(Glibc)
import Glibc
#endif
import HTTP
import Syscall

/// `logspout health`: asks httpd's `/health` on the local port, for a container's health check (the
/// image's `HEALTHCHECK`). Exit 0 on a 200, 1 on anything else, within `HealthCheck.deadlineMs`.
public enum HealthCommand {
    static let usage = """
        usage: logspout health

        Asks GET /health of the appliance's httpd on this host (127.0.0.1, port PORT, default 8000) and
        exits 0 when it answers 200, 1 otherwise (nothing listening, no answer within 2 s, another status),
        saying why in one line on stderr. The container image's HEALTHCHECK runs it (see docs/http.md).

        environment:
          PORT           httpd's TCP port (default 8000)
          HTTPD_HOST     the address httpd listens on; asked at 127.0.0.1 when it is every address
                         (unset, empty, 0.0.0.0 or ::)

        """

    public static func main(_ argv: [String]) -> ExitCode {
        for arg in argv.dropFirst() {
            if arg == "-h" || arg == "--help" {
                print(usage, terminator: "")
                return .ok
            }
            Sys.diagnostic("health: unknown argument '\(arg)' (see logspout health --help)")
            return .usage
        }
        var port: UInt16 = 8000
        if let text = Sys.environment("PORT"), !text.isEmpty {
            guard let p = UInt16(text), p > 0 else {
                Sys.diagnostic("health: PORT '\(text)' is not a port (1…65535)")
                return .unhealthy
            }
            port = p
        }
        let host = HealthCheck.host(listening: Sys.environment("HTTPD_HOST"))
        switch HealthCheck.probe(host: host, port: port) {
        case .healthy:
            return .ok
        case .unhealthy(let why):
            Sys.diagnostic("health: " + why)
            return .unhealthy
        }
    }
}

/// One `GET /health` with a deadline for the whole exchange: connecting, sending, and reading the
/// answer's status line and head.
public enum HealthCheck {
    /// The whole exchange's deadline.
    public static let deadlineMs = 2000

    public enum Outcome: Equatable, Sendable {
        case healthy
        /// Why, in one sentence.
        case unhealthy(String)
    }

    /// The address to ask, from the one httpd listens on (`HTTPD_HOST`): the loopback address when it
    /// listens on every address.
    public static func host(listening: String?) -> String {
        switch listening ?? "" {
        case "", "0.0.0.0", "::", "[::]": return "127.0.0.1"
        case let host: return host.hasPrefix("[") && host.hasSuffix("]") ? String(host.dropFirst().dropLast()) : host
        }
    }

    /// Asks `GET /health` at `host:port`; `.healthy` only for a 200 within `timeoutMs`.
    public static func probe(host: String, port: UInt16, timeoutMs: Int = deadlineMs) -> Outcome {
        let deadline = Sys.monotonicNanos() + UInt64(timeoutMs) * 1_000_000
        let seconds = timeoutMs % 1000 == 0 ? "\(timeoutMs / 1000) s" : "\(timeoutMs) ms"
        let place = host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)"
        /// Milliseconds left until the deadline (0 once it passed).
        func left() -> Int32 {
            let now = Sys.monotonicNanos()
            return now >= deadline ? 0 : Int32(clamping: (deadline - now + 999_999) / 1_000_000)
        }
        let address: SocketAddress
        do {
            guard let first = try Sys.resolve(host: host, port: port, kind: .tcp).first else {
                return .unhealthy("cannot resolve \(host)")
            }
            address = first
        } catch {
            return .unhealthy("cannot resolve \(host): \(error.errno)")
        }
        let fd: Int32
        do { fd = try Sys.socket(for: address, kind: .tcp) } catch {
            return .unhealthy("cannot open a socket: \(error.errno)")
        }
        defer { Sys.close(fd) }
        do {
            if try !Sys.connect(fd, to: address) {
                guard try Sys.poll(fd, events: Int16(POLLOUT), timeout: left()) else {
                    return .unhealthy("no connection to \(place) within \(seconds)")
                }
                if let e = Sys.socketError(fd) { return .unhealthy("nothing answers on \(place): \(e)") }
            }
        } catch {
            return .unhealthy("nothing answers on \(place): \(error.errno)")
        }
        let request = Array("GET /health HTTP/1.1\r\nHost: localhost\r\nUser-Agent: logspout-health\r\nConnection: close\r\n\r\n".utf8)
        var sent = 0
        while sent < request.count {
            do {
                sent += try withRawBytes(request, sent..<request.count) { raw throws(SyscallError) in try Sys.writeNonBlocking(fd, raw) }
            } catch {
                return .unhealthy("cannot send the request to \(place): \(error.errno)")
            }
            if sent < request.count {
                guard (try? Sys.poll(fd, events: Int16(POLLOUT), timeout: left())) == true else {
                    return .unhealthy("\(place) took no request within \(seconds)")
                }
            }
        }
        var parser = HTTPResponseParser(maxHeadSize: 16 * 1024)
        var head: HTTPHead?
        var buffer = [UInt8](repeating: 0, count: 4096)
        while head == nil {
            guard (try? Sys.poll(fd, events: Int16(POLLIN), timeout: left())) == true else {
                return .unhealthy("no answer from \(place) within \(seconds)")
            }
            let n: Int
            do { n = try Sys.read(fd, into: &buffer) } catch {
                if error.errno == .wouldBlock || error.errno == .interrupted { continue }
                return .unhealthy("reading the answer from \(place) failed: \(error.errno)")
            }
            if n == 0 { return .unhealthy("\(place) closed the connection without an answer") }
            do {
                try withRawBytes(buffer, 0..<n) { raw throws(HTTPParseError) in
                    try parser.feed(raw) { event in
                        if case .head(let h) = event, head == nil { head = h }
                    }
                }
            } catch {
                return .unhealthy("\(place) answered with \(error.message), not HTTP")
            }
        }
        guard let head else { return .unhealthy("no answer from \(place)") }
        if head.status == 200 { return .healthy }
        let reason = head.reason.isEmpty ? "" : " \(head.reason)"
        return .unhealthy("/health on \(place) answered \(head.status)\(reason)")
    }
}
