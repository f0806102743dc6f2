import Syscall

/// `httpd`'s command line: the environment, then `HTTPDaemon.run`. Returns the exit status.
public enum HTTPDCommand {
    static let usage = """
        usage: httpd [--ready-fd N]

        Serves logspout's HTTP face on PORT (default 8000): GET /logs (plain text, or JSON, Server-Sent Events,
        WebSocket), /logs/filter:TEXT, /logs/id:ID, /logs/name:NAME (?types=stdout,stderr, ?colors=off),
        GET/POST /routes, GET/DELETE /routes/ID, GET /health, and a live page at /. Live streams and routes
        come from route's bus (see docs/http.md and docs/bus.md).

        options:
          --ready-fd N   once listening, write a newline to descriptor N and close it
          -h, --help     print this help and exit

        environment:
          PORT           the TCP port (default 8000)
          HTTPD_HOST     the address to listen on (default: every IPv4 address; "::" for every address)
          LOGSPOUT_BUS   route's bus socket (default /tmp/logspout-bus.sock)
          HTTPD_HEAD_TIMEOUT  seconds a client may take to send a request head (default 10)
          HTTPD_CLIENT_BUFFER  bytes of the live stream a client may fall behind by before it misses
                         lines (default 4194304; 1048576 to 1073741824)
          HTTPD_MAX_STREAMS  live streams served at once; one more is answered 503 (default 256)

        exit status: 0 on SIGTERM/SIGINT, 64 on bad usage, 69 when the port cannot be opened,
        70 on an internal error, 78 on a bad environment value.

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
        let daemon: HTTPDaemon
        do { daemon = try HTTPDaemon(options: options) } catch {
            Sys.diagnostic("httpd: \(error)")
            return .software
        }
        return daemon.run()
    }
}
