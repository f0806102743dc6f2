import Contract
import Metrics
import Syslog

/// emit-syslog's settings, from its environment.
public struct EmitterOptions: Sendable {
    public enum Framing: String, Sendable { case newline, octetCounted = "octet-counted" }

    /// The format of routes that name none (`SYSLOG_FORMAT`).
    public var defaultFormat = SyslogFormat.rfc5424
    public var syslog = SyslogOptions()
    /// The largest UDP message; longer ones are cut on a UTF-8 boundary (`SYSLOG_MAX_SIZE`).
    public var maxDatagram = 65507
    /// TCP framing (`SYSLOG_TCP_FRAMING`): a newline after each message, or RFC 6587 octet counting.
    public var framing = Framing.newline
    /// Bytes kept per receiver while it is away or slow (`SYSLOG_BUFFER_SIZE`).
    public var bufferSize = 8 << 20
    /// Bytes kept by all TCP and TLS receivers together (`SYSLOG_BUFFER_TOTAL`).
    public var bufferTotal = 64 << 20
    /// How often addresses are looked up again, in seconds (`SYSLOG_RESOLVE_INTERVAL`).
    public var resolveInterval = 60
    /// `MULTILINE_PATTERN`, `MULTILINE_MATCH`, `MULTILINE_FLUSH_AFTER`, `MULTILINE_SEPARATOR`: the
    /// defaults of routes that join lines.
    public var multilineEnvironment: [String: String] = [:]
    /// How long to wait at the end of input for TCP receivers to take what is queued, in ms.
    public var drainTimeoutMs = 5000
    /// How long a TCP or TLS receiver may be without a connection, and a UDP receiver's refusals count,
    /// before it is failing, in seconds (`SYSLOG_UNHEALTHY_AFTER`).
    public var unhealthyAfter = 30
    /// The receivers with a series of their own in the metrics; others are folded into one
    /// (`METRICS_MAX_LABEL_VALUES`).
    public var maxLabelValues = LabelBudget.defaultLimit
    /// Syslog over TLS: the trust store and client certificate (`LOGSPOUT_TLS_*`).
    public var tls = TLSOptions()

    public init() {}

    /// Reads the environment; returns the options or the first bad value's message.
    public static func fromEnvironment(_ get: (String) -> String?) -> Result<EmitterOptions, TargetError> {
        var o = EmitterOptions()
        do { o.syslog = try SyslogOptions.fromEnvironment(get) } catch { return .failure(TargetError(error.message)) }
        if let f = get("SYSLOG_FORMAT"), !f.isEmpty {
            guard let format = SyslogFormat(rawValue: f) else {
                return .failure(TargetError("SYSLOG_FORMAT '\(f)' is not one of rfc5424, rfc3164, deis"))
            }
            o.defaultFormat = format
        }
        func number(_ name: String, _ range: ClosedRange<Int>, _ apply: (Int) -> Void) -> TargetError? {
            guard let text = get(name), !text.isEmpty else { return nil }
            guard let v = Int(text), range.contains(v) else {
                return TargetError("\(name) '\(text)' must be a whole number from \(range.lowerBound) to \(range.upperBound)")
            }
            apply(v)
            return nil
        }
        if let e = number("SYSLOG_MAX_SIZE", 480...65507, { o.maxDatagram = $0 }) { return .failure(e) }
        if let e = number("SYSLOG_BUFFER_SIZE", 65536...(1 << 30), { o.bufferSize = $0 }) { return .failure(e) }
        if let e = number("SYSLOG_BUFFER_TOTAL", 65536...(1 << 34), { o.bufferTotal = $0 }) { return .failure(e) }
        if let e = number("SYSLOG_RESOLVE_INTERVAL", 1...86400, { o.resolveInterval = $0 }) { return .failure(e) }
        if let e = number("SYSLOG_UNHEALTHY_AFTER", 1...86400, { o.unhealthyAfter = $0 }) { return .failure(e) }
        let labelText = get(LabelBudget.limitVariable)
        guard let maxLabelValues = LabelBudget.limit(setting: labelText) else {
            return .failure(TargetError(LabelBudget.limitError(labelText ?? "")))
        }
        o.maxLabelValues = maxLabelValues
        if let f = get("SYSLOG_TCP_FRAMING"), !f.isEmpty {
            guard let framing = Framing(rawValue: f) else {
                return .failure(TargetError("SYSLOG_TCP_FRAMING '\(f)' is neither newline nor octet-counted"))
            }
            o.framing = framing
        }
        for name in MultilineSpec.environment {
            if let v = get(name), !v.isEmpty { o.multilineEnvironment[name] = v }
        }
        // A bad default is an error at start, not at the first multiline route.
        do { _ = try MultilineSpec(MultilineOptions(), environment: { o.multilineEnvironment[$0] }) } catch {
            return .failure(TargetError("MULTILINE_*: \(error.message)"))
        }
        switch TLSOptions.fromEnvironment(get) {
        case .success(let tls): o.tls = tls
        case .failure(let e): return .failure(e)
        }
        return .success(o)
    }

    public static let usage = """
        usage: emit-syslog [--ready-fd N] < routed-records.ndjson

        Reads routed records (docs/records.md) on standard input and sends each to the syslog receiver its
        route names: UDP (one message per datagram, batched with sendmmsg), TCP or TLS (one long-lived
        connection per receiver, a bounded buffer while it is away). Diagnostics go to standard error; a
        summary line at exit and on SIGUSR1. SIGTERM and SIGINT mean "finish": it reads on until its input
        ends.

        options:
          --ready-fd N             once reading its input, write a newline to descriptor N and close it
          -h, --help               print this help and exit

        environment:
          SYSLOG_FORMAT            rfc5424 (default), rfc3164 or deis, for routes that name no format
          SYSLOG_HOSTNAME          the HOSTNAME field of every message (default: the container's hostname)
          SYSLOG_TAG               the APP-NAME / TAG instead of the container's name and append_tag
                                   (these two and SYSLOG_STRUCTURED_DATA take logspout's templates:
                                   {{.ContainerName}}, {{index .Container.Config.Labels "key"}}, ...)
          SYSLOG_STRUCTURED_DATA   the STRUCTURED-DATA of rfc5424 messages (default -)
          DATETIME_FORMAT          a Go layout for the timestamps of deis and rfc3164 messages
          SYSLOG_MAX_SIZE          largest UDP message in bytes, cut on a UTF-8 boundary (default 65507)
          SYSLOG_TCP_FRAMING       newline (default) or octet-counted (RFC 6587)
          SYSLOG_BUFFER_SIZE       bytes kept per receiver while it is away or slow (default 8388608)
          SYSLOG_BUFFER_TOTAL      bytes kept by all TCP and TLS receivers together (default 67108864)
          SYSLOG_RESOLVE_INTERVAL  seconds between lookups of receiver addresses (default 60)
          SYSLOG_UNHEALTHY_AFTER   seconds without a connection (TCP, TLS) or since a refusal (UDP) before
                                   a receiver is failing in the health file (default 30)
          LOGSPOUT_METRICS_DIR     the folder to publish emit-syslog.prom and emit-syslog.health in
          METRICS_MAX_LABEL_VALUES receivers with series of their own in emit-syslog.prom (default 500)
          MULTILINE_PATTERN, MULTILINE_MATCH, MULTILINE_FLUSH_AFTER, MULTILINE_SEPARATOR
                                   defaults of routes that join lines (^\\s, nonfirst, 500 ms, newline)
          LOGSPOUT_TLS_CA_CERTS    comma-separated PEM files of CAs to trust for TLS receivers
          LOGSPOUT_TLS_DISABLE_SYSTEM_ROOTS  true: trust only LOGSPOUT_TLS_CA_CERTS, not the system's CAs
          LOGSPOUT_TLS_CLIENT_CERT, LOGSPOUT_TLS_CLIENT_KEY  PEM client certificate and key (mutual TLS)
          LOGSPOUT_TLS_HARDENING   true: TLS 1.2 or later with forward-secret AEAD ciphers only

        exit status: 0 at the end of input, 64 on bad usage, 70 on an internal error, 78 on a bad
        environment value (or a TLS file that cannot be read).

        """
}
