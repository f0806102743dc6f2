import Metrics

/// route's settings, from its arguments and environment.
public struct RouteOptions: Sendable {
    /// Route URIs: the arguments, then `ROUTE_URIS` (comma-separated).
    public var uris: [String] = []
    /// The URIs among them without a host (`syslog://`): the seed's name for the deis logger found through
    /// etcd, which `ETCD_HOST` turns on (without it they are a configuration error).
    public var discoveryURIs: [String] = []
    /// `ROUTESPATH`: the folder of persisted routes, used when it exists.
    public var routesPath: String = "/mnt/routes"
    /// deis-logger discovery, when `ETCD_HOST` is set.
    public var etcd: EtcdSettings?
    /// The longest input line accepted (longer ones are reported and skipped).
    public var maxLineSize = 1 << 20
    /// The bus's Unix socket (`LOGSPOUT_BUS`, default `/tmp/logspout-bus.sock`; set empty for none).
    public var busPath: String? = RouteOptions.defaultBusPath
    public static let defaultBusPath = "/tmp/logspout-bus.sock"
    /// `METRICS_MAX_LABEL_VALUES`: routes with a `route` label of their own in the metrics.
    public var maxLabelValues = LabelBudget.defaultLimit

    public init() {}

    /// Reads the environment (`get` returns a variable's value) and the arguments (without the program
    /// name). Throws a one-line message for bad usage; `--help` is the caller's.
    public static func parse(arguments: [String], environment get: (String) -> String?) throws(RouteError) -> RouteOptions {
        var options = RouteOptions()
        options.uris = try uris(arguments: arguments)
        if let list = get("ROUTE_URIS") {
            options.uris += list.split(separator: ",").map { $0.trimmingSpaces() }.filter { !$0.isEmpty }
        }
        options.discoveryURIs = options.uris.filter(isDiscoveryURI)
        options.uris.removeAll(where: isDiscoveryURI)
        if let path = get("ROUTESPATH"), !path.isEmpty { options.routesPath = path }
        if let bus = get("LOGSPOUT_BUS") { options.busPath = bus.isEmpty ? nil : bus }
        let labelText = get(LabelBudget.limitVariable)
        guard let maxLabelValues = LabelBudget.limit(setting: labelText) else {
            throw RouteError(LabelBudget.limitError(labelText ?? ""))
        }
        options.maxLabelValues = maxLabelValues
        if let host = get("ETCD_HOST"), !host.isEmpty {
            var settings = EtcdSettings(host: host)
            if let text = get("ETCD_PORT"), !text.isEmpty {
                guard let port = UInt16(text), port > 0 else { throw RouteError("ETCD_PORT '\(text)' is not a port (1…65535)") }
                settings.port = port
            }
            if let text = get("ETCD_INTERVAL"), !text.isEmpty {
                guard let seconds = Double(text), seconds >= 0.1, seconds <= 86400 else {
                    throw RouteError("ETCD_INTERVAL '\(text)' is not a number of seconds (0.1…86400)")
                }
                settings.interval = seconds
            }
            options.etcd = settings
        }
        return options
    }

    /// The route URIs among the arguments. `--check` is the caller's; any other option (there is none but
    /// `--help`) is bad usage. A first argument that is the path of logspout's own executable (the seed's
    /// `docker run … /bin/logspout syslog://…`) is skipped.
    public static func uris(arguments: [String]) throws(RouteError) -> [String] {
        var uris = arguments.filter { $0 != "--check" }
        if let first = uris.first, isOwnExecutable(first) { uris.removeFirst() }
        for arg in uris where arg.hasPrefix("-") { throw RouteError("unknown option '\(arg)' (see route --help)") }
        return uris
    }

    /// A path ending in `/logspout`: `/bin/logspout`, `/logspout/logspout`.
    public static func isOwnExecutable(_ argument: String) -> Bool {
        argument.hasSuffix("/logspout")
    }

    /// `syslog://` (or `syslog:///`): a route without a host, the deis logger found through etcd.
    public static func isDiscoveryURI(_ uri: String) -> Bool {
        let lower = uri.lowercased()
        return lower == "syslog://" || lower == "syslog:///"
    }

    /// The routes that are not routes, one line each naming the route and what is wrong: a URI route
    /// cannot parse, `syslog://` without `ETCD_HOST`. route refuses to start with any (exit 78), and
    /// `route --check` reports exactly these. A receiver that cannot be resolved is not one of them.
    public func routeErrors() -> [String] {
        var errors: [String] = []
        for uri in uris {
            do { _ = try RouteSpec(uri: uri) } catch { errors.append(error.message) }
        }
        if etcd == nil {
            for uri in discoveryURIs {
                errors.append("bad route URI '\(uri)': without a host it names the deis logger found through etcd, and ETCD_HOST is not set")
            }
        }
        return errors
    }

    /// The usage text of `route --help`.
    public static let usage = """
        usage: route [--check] [ROUTE-URI...]

        Reads records (one JSON object per line, see docs/records.md) on standard input and writes one
        routed record per record and matching route on standard output: the record with
        "route":{"id":…,"target":{…}} added, everything emit-syslog needs. Diagnostics go to standard
        error. With no route at all it reads and drops records, so that a route added later works.

        route URIs:
          syslog://HOST:PORT, syslog+udp://HOST:PORT   syslog over UDP (HOST alone: DNS SRV)
          syslog+tcp://HOST:PORT                       syslog over TCP
          syslog+tls://HOST:PORT                       syslog over TLS (emit-syslog's LOGSPOUT_TLS_*)
          multiline+syslog+tcp://HOST:PORT             (any of these) joining a message's lines
          syslog://                                    the deis logger found through etcd (ETCD_HOST)
          query options: filter.name=NAME or GLOB (* ?), filter.id=ID-PREFIX,
                         filter.sources=stdout,stderr, filter.labels=KEY or KEY:VALUE,...,
                         append_tag=TEXT, format=rfc5424|rfc3164|deis, structured_data=TEXT,
                         multiline.pattern=REGEX, multiline.match=first|last|nonfirst|nonlast,
                         multiline.flush_after=MS, multiline.separator=TEXT, any other: passed on
          e.g. route 'syslog+tcp://logs.example.com:514?filter.name=*_db&append_tag=.db'

        A route that is not one (a bad URI, syslog:// without ETCD_HOST) is one line on standard error and
        route does not start (exit 78). A first argument ending in /logspout is skipped.

        options:
          --check         check the routes of the arguments and ROUTE_URIS, start nothing: one line per
                          bad route, exit 78 when there is one, else 0
          --ready-fd N    once the routes are loaded (with ETCD_HOST, after etcd's first answer) and the
                          bus listens, write a newline to descriptor N and close it
          -h, --help      print this help and exit

        environment:
          ROUTE_URIS      more route URIs, comma-separated
          ROUTESPATH      folder of persisted routes, one <id>.json each (default /mnt/routes; used when
                          it exists); SIGHUP reads it again
          ETCD_HOST       deis-logger discovery: read /deis/logs/{host,port,protocol} from etcd's v2 API
          ETCD_PORT       etcd's client port (default 4001)
          ETCD_INTERVAL   seconds between two reads of etcd (default 10)
          LOGSPOUT_BUS    the bus's Unix socket: live subscriptions and route management for httpd
                          (default /tmp/logspout-bus.sock; empty: no bus; see docs/bus.md)
          LOGSPOUT_METRICS_DIR  write the metrics into LOGSPOUT_METRICS_DIR/route.prom (docs/route.md)
          METRICS_MAX_LABEL_VALUES  routes with a series of their own in the metrics (default 500,
                          0…100000); the others share route="_other"

        signals: SIGHUP reloads ROUTESPATH; SIGTERM and SIGINT let route finish its input, then exit 0.

        exit status: 0 at the end of input or when standard output is closed, 64 on bad usage,
        70 on an internal error, 74 when reading standard input or writing standard output fails,
        78 on a bad route or environment value (ETCD_PORT, ETCD_INTERVAL, METRICS_MAX_LABEL_VALUES).

        """
}
