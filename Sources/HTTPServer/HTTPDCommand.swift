import Metrics
import Syscall

/// `httpd`'s command line: the environment, then `HTTPDaemon.run`. Returns the exit status.
public enum HTTPDCommand {
    static let usage = """
        usage: httpd [--ready-fd N]

        Serves logspout's HTTP face on PORT (default 8000): GET /logs (plain text, or JSON, Server-Sent Events,
        WebSocket), /logs/filter:TEXT, /logs/id:ID, /logs/name:NAME (?types=stdout,stderr, ?colors=off),
        GET/POST /routes, GET/DELETE /routes/ID, GET /health, GET /ready, GET /metrics (Prometheus), and a live
        page at /. Live streams and routes come from route's bus; metrics and receivers' health from the
        stages' files in LOGSPOUT_METRICS_DIR (see docs/http.md and docs/bus.md).

        options:
          --ready-fd N   once listening, write a newline to descriptor N and close it
          -h, --help     print this help and exit

        environment:
          PORT           the TCP port (default 8000)
          HTTPD_HOST     the address to listen on (default: every IPv4 address; "::" for every address)
          LOGSPOUT_BUS   route's bus socket (default /tmp/logspout-bus.sock)
          LOGSPOUT_METRICS_DIR  the folder of the stages' metrics and health files (the supervisor
                         sets it; unset: /metrics has httpd's own, /ready knows no receiver's health)
          HTTPD_HEAD_TIMEOUT  seconds a client may take to send a request head (default 10)
          HTTPD_CLIENT_BUFFER  bytes of the live stream a client may fall behind by before it misses
                         lines (default 4194304; 1048576 to 1073741824)
          HTTPD_MAX_STREAMS  live streams served at once; one more is answered 503 (default 256)
          HTTPD_TOKEN    a bearer token every request needs but GET /, /health and /ready
          HTTPD_TOKEN_FILE  a file holding it (a Docker secret; one trailing newline is dropped)
          HTTPD_ORIGINS  origins a browser page may come from besides httpd's own, comma-separated
                         (e.g. https://dash.example.com)
          HTTPD_HOSTS    host names served without a token besides localhost and IP addresses,
                         comma-separated (DNS rebinding)
          ROUTES_READONLY  true: POST and DELETE on /routes are refused (405)

        exit status: 0 on SIGTERM/SIGINT, 64 on bad usage, 69 when the port cannot be opened,
        70 on an internal error, 78 on a bad environment value (an unreadable HTTPD_TOKEN_FILE too).

        """

    public static func main(_ argv: [String]) -> ExitCode {
        Sys.raiseDescriptorLimit()  // soft to hard: a descriptor per client, container or receiver
        guard let arguments = Readiness.arguments(argv, stage: "httpd") else { return .usage }
        for arg in arguments {
            if arg == "-h" || arg == "--help" {
                print(usage, terminator: "")
                return .ok
            }
            Sys.diagnostic("httpd: unknown argument '\(arg)' (see httpd --help)")
            return .usage
        }
        var options = ServerOptions()
        if let text = Sys.environment("PORT"), !text.isEmpty {
            guard let port = UInt16(text), port > 0 else {
                Sys.diagnostic("httpd: PORT '\(text)' is not a port (1…65535)")
                return .config
            }
            options.port = port
        }
        if let host = Sys.environment("HTTPD_HOST") { options.host = host }
        if let bus = Sys.environment("LOGSPOUT_BUS"), !bus.isEmpty { options.busPath = bus }
        options.metricsDirectory = Sys.environment(MetricsPublisher.directoryVariable)
        if let text = Sys.environment("HTTPD_HEAD_TIMEOUT"), !text.isEmpty {
            guard let seconds = Double(text), seconds > 0, seconds <= 3600 else {
                Sys.diagnostic("httpd: HTTPD_HEAD_TIMEOUT '\(text)' is not a number of seconds (up to 3600)")
                return .config
            }
            options.headTimeoutMs = Int(seconds * 1000)
        }
        if let text = Sys.environment("HTTPD_CLIENT_BUFFER"), !text.isEmpty {
            guard let bytes = Int(text), (1 << 20)...(1 << 30) ~= bytes else {
                Sys.diagnostic("httpd: HTTPD_CLIENT_BUFFER '\(text)' is not a number of bytes (1048576 to 1073741824)")
                return .config
            }
            options.clientBufferBytes = bytes
        }
        if let text = Sys.environment("HTTPD_MAX_STREAMS"), !text.isEmpty {
            guard let count = Int(text), (1...100_000) ~= count else {
                Sys.diagnostic("httpd: HTTPD_MAX_STREAMS '\(text)' is not a number of streams (1 to 100000)")
                return .config
            }
            options.maxStreams = count
        }
        switch access(environment: Sys.environment, readFile: { path throws(SyscallError) in try Sys.readFile(path, maxBytes: 64 * 1024) }) {
        case .success(let policy): options.access = policy
        case .failure(let error):
            Sys.diagnostic("httpd: " + error.message)
            return .config
        }
        let daemon: HTTPDaemon
        do { daemon = try HTTPDaemon(options: options) } catch {
            Sys.diagnostic("httpd: \(error)")
            return .software
        }
        return daemon.run()
    }

    /// Who may ask (docs/http.md), from `HTTPD_TOKEN` or `HTTPD_TOKEN_FILE`, `HTTPD_ORIGINS`, `HTTPD_HOSTS`
    /// and `ROUTES_READONLY`; a bad value is a one-line message that never shows the token.
    static func access(environment get: (String) -> String?,
                       readFile: (String) throws(SyscallError) -> [UInt8]) -> Result<AccessPolicy, ConfigurationError> {
        var policy = AccessPolicy()
        let inline = get("HTTPD_TOKEN"), file = get("HTTPD_TOKEN_FILE")
        if inline != nil && file != nil {
            return .failure(ConfigurationError("HTTPD_TOKEN and HTTPD_TOKEN_FILE are both set: set one"))
        }
        if let inline {
            guard !inline.isEmpty else { return .failure(ConfigurationError("HTTPD_TOKEN is set but empty")) }
            policy.token = Array(inline.utf8)
        } else if let file {
            guard !file.isEmpty else { return .failure(ConfigurationError("HTTPD_TOKEN_FILE is set but empty")) }
            var bytes: [UInt8]
            do { bytes = try readFile(file) } catch {
                return .failure(ConfigurationError("HTTPD_TOKEN_FILE '\(file)' cannot be read: \(error.errno)"))
            }
            if bytes.last == 10 { bytes.removeLast() }
            if bytes.last == 13 { bytes.removeLast() }
            guard !bytes.isEmpty else { return .failure(ConfigurationError("HTTPD_TOKEN_FILE '\(file)' is empty")) }
            policy.token = bytes
        }
        if let token = policy.token, !token.allSatisfy({ $0 > 0x20 && $0 < 0x7F }) {
            let name = inline != nil ? "HTTPD_TOKEN" : "HTTPD_TOKEN_FILE's token"
            return .failure(ConfigurationError("\(name) must be printable ASCII without spaces"))
        }
        for item in list(get("HTTPD_ORIGINS")) where !policy.allowOrigin(item) {
            return .failure(ConfigurationError("HTTPD_ORIGINS: '\(item)' is not an origin (http://host[:port] or https://host[:port])"))
        }
        for item in list(get("HTTPD_HOSTS")) where !policy.allowHost(item) {
            return .failure(ConfigurationError("HTTPD_HOSTS: '\(item)' is not a host name (no port, no scheme)"))
        }
        if let text = get("ROUTES_READONLY"), !text.isEmpty {
            switch text.lowercased() {
            case "true", "1", "yes", "on": policy.routesReadOnly = true
            case "false", "0", "no", "off": policy.routesReadOnly = false
            default: return .failure(ConfigurationError("ROUTES_READONLY '\(text)' is not true or false"))
            }
        }
        return .success(policy)
    }

    /// A comma-separated list, items trimmed, empty ones dropped.
    static func list(_ text: String?) -> [String] {
        (text ?? "").split(separator: ",").map { String($0.filter { $0 != " " && $0 != "\t" }) }.filter { !$0.isEmpty }
    }
}

/// A bad environment value, in one line.
struct ConfigurationError: Error, Equatable {
    var message: String
    init(_ message: String) { self.message = message }
}
