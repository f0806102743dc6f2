import Contract
import JSON
import Records
import Text

extension RouteSpec {
    /// A route from a URI, as given on route's command line or in `ROUTE_URIS`:
    ///
    ///     syslog://logs.example.com:514?filter.name=*_db&filter.sources=stderr&append_tag=.db
    ///
    /// Schemes: `syslog` and `syslog+udp` (protocol udp), `syslog+tcp` (protocol tcp), `syslog+tls` (protocol tls). The address is
    /// `host:port`, `[v6]:port`, or a bare name (DNS SRV). Query options: `filter.name` (a glob on the
    /// whole name when it has `*` or `?`, else the exact name), `filter.id` (an id prefix),
    /// `filter.sources` (comma list of stdout, stderr), `filter.labels` (comma list of `key` or
    /// `key:value`), `append_tag`, `format`; any other option goes into the target as a string. Values
    /// are percent-decoded (`+` is a space). The id is `RouteSpec.stableID(uri)`, the same on every
    /// start.
    public init(uri: String) throws(RouteError) {
        do {
            try self.init(parsingURI: uri)
        } catch {
            throw RouteError("bad route URI '\(uri)': \(error.message)")
        }
    }

    private init(parsingURI uri: String) throws(RouteError) {
        guard let schemeEnd = uri.firstRange(of: "://") else {
            throw RouteError("expected scheme://host:port (syslog, syslog+udp, syslog+tcp or syslog+tls)")
        }
        let named: (transport: TargetProtocol, multiline: Bool)
        let scheme = uri[..<schemeEnd.lowerBound].lowercased()
        do { named = try TargetProtocol.named(scheme, "scheme") } catch {
            // gliderlabs/logspout's raw adapters send bare lines; the syslog over that transport is meant.
            guard ["udp", "tcp", "tls"].contains(scheme) else { throw RouteError(error.message) }
            throw RouteError(error.message + "; for syslog over \(scheme), say syslog+\(scheme)://")
        }
        var rest = uri[schemeEnd.upperBound...]
        if rest.contains("#") { throw RouteError("a route URI has no #fragment") }
        var query: Substring = ""
        if let q = rest.firstIndex(of: "?") {
            query = rest[rest.index(after: q)...]
            rest = rest[..<q]
        }
        var authority = rest
        if let slash = rest.firstIndex(of: "/") {
            authority = rest[..<slash]
            let path = rest[slash...]
            guard path == "/" else { throw RouteError("unexpected path '\(path)'") }
        }
        if authority.contains("@") { throw RouteError("a route URI has no user@") }
        guard !authority.isEmpty else { throw RouteError("no host") }
        let addr = String(authority)
        do { _ = try Address(parsing: addr) } catch { throw RouteError(error.message) }

        var source = RouteSource()
        // The target's members, as route JSON would give them; the contract reads them at the end.
        var target = RouteTarget.members(addr: addr, transport: named.transport, multiline: named.multiline)
        for item in query.split(separator: "&", omittingEmptySubsequences: true) {
            let key: String
            let value: String
            if let eq = item.firstIndex(of: "=") {
                key = try Self.percentDecode(item[..<eq])
                value = try Self.percentDecode(item[item.index(after: eq)...])
            } else {
                key = try Self.percentDecode(item)
                value = ""
            }
            switch key {
            case "":
                throw RouteError("an option without a name")
            case "filter.name":
                source.name = nil
                source.glob = nil
                if value.isEmpty { break }
                if Glob.isPattern(value) { source.glob = value } else { source.name = value }
            case "filter.id":
                source.id = value.isEmpty ? nil : value
            case "filter.sources":
                var types: [Source] = []
                for part in value.split(separator: ",") {
                    let name = part.trimmingSpaces()
                    if name.isEmpty { continue }
                    guard let t = Source(name: name) else {
                        throw RouteError("filter.sources: '\(name)' is not stdout or stderr")
                    }
                    if !types.contains(t) { types.append(t) }
                }
                source.types = types
            case "filter.labels":
                var labels: [LabelFilter] = []
                for part in value.split(separator: ",") where !part.trimmingSpaces().isEmpty {
                    do { labels.append(try LabelFilter(parsing: String(part))) } catch {
                        throw RouteError("filter.labels: \(error.message)")
                    }
                }
                source.labels = labels
            case "format":
                do { _ = try RouteTarget.format(named: value) } catch { throw RouteError(error.message) }
                target.append((key, .string(value)))
            case _ where RouteTarget.setByAddress.contains(key):
                throw RouteError("option '\(key)' is set by the URI itself (scheme://host:port)")
            default:
                if key.hasPrefix("filter.") {
                    throw RouteError("unknown filter '\(key)' (filter.name, filter.id, filter.sources, filter.labels)")
                }
                target.append((key, .string(value)))
            }
        }
        self.init(id: Self.stableID(uri), source: source, target: try Self.readTarget(target))
    }

    /// The id of a route given as a URI: the first 12 hex digits of the 64-bit FNV-1a hash of the URI's
    /// text, so the same URI names the same route on every start.
    public static func stableID(_ uri: String) -> String {
        hex(FNV1a.hash64(uri.utf8), digits: 12)
    }

    /// Decodes `%XX` escapes and `+` (a space), as in a URL query.
    static func percentDecode(_ s: Substring) throws(RouteError) -> String {
        guard let out = Percent.decode(s, plusAsSpace: true) else { throw RouteError("bad %-escape in '\(s)'") }
        return String(decoding: out, as: UTF8.self)
    }
}
