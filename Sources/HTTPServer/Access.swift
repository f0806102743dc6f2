import HTTP

/// Who may use httpd (docs/http.md#who-may-ask): the token (`HTTPD_TOKEN`), the origins and hosts let
/// in besides the request's own (`HTTPD_ORIGINS`, `HTTPD_HOSTS`), and whether `/routes` takes changes
/// (`ROUTES_READONLY`). Pure: a request head in, a refusal (or none) out.
public struct AccessPolicy: Sendable, Equatable {
    /// The bearer token every request but the page, `/health` and `/ready` must carry; nil: none is asked for.
    public var token: [UInt8]?
    /// Origins let in besides the request's own host, normalized (`scheme://host[:port]`, lowercase,
    /// without the scheme's default port).
    public private(set) var origins: Set<String> = []
    /// Host names let in without a token besides `localhost` and IP literals, lowercase.
    public private(set) var hosts: Set<String> = []
    /// `POST` and `DELETE` on `/routes` are refused (405).
    public var routesReadOnly = false

    public init(token: [UInt8]? = nil, origins: [String] = [], hosts: [String] = [], routesReadOnly: Bool = false) {
        self.token = token
        self.routesReadOnly = routesReadOnly
        for origin in origins { _ = allowOrigin(origin) }
        for host in hosts { _ = allowHost(host) }
    }

    /// Lets in `origin` (`scheme://host[:port]`); false when it is not an origin.
    public mutating func allowOrigin(_ origin: String) -> Bool {
        guard let o = Origin(origin) else { return false }
        origins.insert(o.normalized)
        return true
    }

    /// Lets in the host name `host` (without a port); false when it is empty or has a port or a scheme.
    public mutating func allowHost(_ host: String) -> Bool {
        guard !host.isEmpty, !host.contains(":"), !host.contains("/"), host.utf8.allSatisfy({ $0 > 0x20 && $0 < 0x7F }) else {
            return false
        }
        hosts.insert(lowercased(host))
        return true
    }

    /// The refusal `head` gets before anything else is looked at, or nil to serve it: 403 for a foreign
    /// `Origin` (whatever the token), 403 for a `Host` that is not local, an IP literal or listed (without
    /// a token), 401 for a missing or wrong token (but for the page, `/health` and `/ready`).
    func refusal(for head: HTTPRequestHead) -> RequestAction? {
        let host = head.header("Host").map(Authority.init)
        if let origin = head.header("Origin") {
            guard let o = Origin(origin), isAllowed(o, host: host) else {
                return .refuse(status: 403, message: "origin '\(origin)' may not use this server: only its own or one listed in HTTPD_ORIGINS")
            }
        }
        if token == nil, let host, !isLocal(host) {
            return .refuse(status: 403, message: "host '\(host.host)' is not served without a token: use localhost or an IP address, list the name in HTTPD_HOSTS, or set HTTPD_TOKEN")
        }
        if token != nil, !isOpen(head), !isAuthorized(head) {
            let given = head.header("Authorization") != nil || (allowsQueryToken(head) && head.queryValue("token") != nil)
            return .refuse(status: 401, message: given ? "the token is not the right one"
                : "a token is needed: send Authorization: Bearer <token> (HTTPD_TOKEN)")
        }
        return nil
    }

    /// Whether `head` carries the token (always, when there is none): `Authorization: Bearer <token>`,
    /// or `?token=` on a WebSocket or Server-Sent Events stream.
    func isAuthorized(_ head: HTTPRequestHead) -> Bool {
        guard let token else { return true }
        if let authorization = head.header("Authorization") {
            let u = Array(authorization.utf8)
            guard u.count > 7, lowercased(String(decoding: u[0..<7], as: UTF8.self)) == "bearer " else { return false }
            var given = u[7...]
            while given.first == 0x20 { given = given.dropFirst() }
            return Self.equal(given, token)
        }
        if allowsQueryToken(head), let given = head.queryValue("token") {
            return Self.equal(Array(given.utf8)[...], token)
        }
        return false
    }

    /// The page, `/health` and `/ready` are open: the page carries no data, and the probes then only
    /// say their status word.
    func isOpen(_ head: HTTPRequestHead) -> Bool {
        guard head.method == "GET" || head.method == "HEAD" else { return false }
        let path = head.path
        return path == "/" || path == "/index.html" || path == "/health" || path == "/ready"
    }

    /// Browsers cannot set a header on a WebSocket or an `EventSource`: those two may carry `?token=`.
    func allowsQueryToken(_ head: HTTPRequestHead) -> Bool {
        guard head.method == "GET", head.path == "/logs" || head.path.hasPrefix("/logs/") else { return false }
        return head.isWebSocketUpgrade || (head.header("Accept") ?? "").contains("text/event-stream")
    }

    /// Compares in time that depends on the token's length only, not on where the bytes differ.
    static func equal(_ given: ArraySlice<UInt8>, _ token: [UInt8]) -> Bool {
        var difference: UInt8 = given.count == token.count ? 0 : 1
        var i = given.startIndex
        for t in token {
            let g = i < given.endIndex ? given[i] : 0
            difference |= g ^ t
            i += 1
        }
        return difference == 0
    }

    /// `localhost` (any port), an IPv4 or [IPv6] literal, or a listed name.
    func isLocal(_ host: Authority) -> Bool {
        let name = lowercased(host.host)
        return name == "localhost" || name == "localhost." || Self.isIPv4(name) || Self.isIPv6Literal(name) || hosts.contains(name)
    }

    /// The request's own origin (its host and port are the `Host`'s), or one listed.
    func isAllowed(_ origin: Origin, host: Authority?) -> Bool {
        if origins.contains(origin.normalized) { return true }
        guard let host, lowercased(host.host) == origin.host else { return false }
        if let port = host.port { return origin.port == port }
        // A Host without a port: the scheme's own.
        return origin.port == origin.defaultPort
    }

    static func isIPv4(_ s: String) -> Bool {
        let parts = s.split(separator: ".", omittingEmptySubsequences: false)
        return parts.count == 4 && parts.allSatisfy { p in
            (1...3).contains(p.count) && p.utf8.allSatisfy { $0 >= 0x30 && $0 <= 0x39 } && Int(p)! <= 255
        }
    }

    static func isIPv6Literal(_ s: String) -> Bool {
        guard s.hasPrefix("["), s.hasSuffix("]"), s.count > 2 else { return false }
        let inner = s.dropFirst().dropLast()
        return inner.contains(":") && inner.utf8.allSatisfy { ($0 >= 0x30 && $0 <= 0x39) || ($0 >= 0x61 && $0 <= 0x66) || $0 == 0x3A || $0 == 0x2E }
    }
}

/// A `Host` field: `host[:port]`, `[v6][:port]`.
struct Authority: Equatable {
    var host: String
    var port: Int?
    /// The port, when there is one, is a number from 0 to 65535.
    var hasValidPort = true

    init(_ text: String) {
        var portText: Substring?
        if text.hasPrefix("["), let close = text.firstIndex(of: "]") {
            host = String(text[...close])
            let rest = text[text.index(after: close)...]
            if !rest.isEmpty { portText = rest.hasPrefix(":") ? rest.dropFirst() : rest }
        } else if let colon = text.lastIndex(of: ":") {
            host = String(text[..<colon])
            portText = text[text.index(after: colon)...]
        } else {
            host = text
        }
        if let portText {
            port = portText.utf8.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }) ? Int(portText).flatMap { $0 <= 65535 ? $0 : nil } : nil
            hasValidPort = port != nil
        }
    }
}

/// An `Origin` field, `scheme://host[:port]` (RFC 6454 §7); `null` and anything else are not one.
struct Origin: Equatable {
    var scheme: String
    var host: String
    var port: Int

    init?(_ text: String) {
        let t = lowercased(text.hasSuffix("/") ? String(text.dropLast()) : text)
        guard let sep = t.firstRange(of: "://") else { return nil }
        scheme = String(t[..<sep.lowerBound])
        guard scheme == "http" || scheme == "https" else { return nil }
        let rest = t[sep.upperBound...]
        guard !rest.contains(where: { "/@?# ".contains($0) }) else { return nil }
        let authority = Authority(String(rest))
        guard !authority.host.isEmpty, authority.hasValidPort else { return nil }
        host = authority.host
        port = authority.port ?? (scheme == "https" ? 443 : 80)
    }

    var defaultPort: Int { scheme == "https" ? 443 : 80 }

    var normalized: String { scheme + "://" + host + (port == defaultPort ? "" : ":" + String(port)) }
}

private func lowercased(_ s: String) -> String {
    String(decoding: s.utf8.map { $0 >= 0x41 && $0 <= 0x5A ? $0 | 0x20 : $0 }, as: UTF8.self)
}
