import Time
import HTTP
import JSON
import Records
import Syscall

/// Where the Docker Engine listens: `unix:///path` or `tcp://host:port`.
public enum DockerEndpoint: Sendable, Equatable, CustomStringConvertible {
    case unix(String)
    case tcp(host: String, port: UInt16)

    /// Parses a `DOCKER_HOST` value. A bare absolute path is taken as a Unix socket.
    public static func parse(_ text: String) throws(DockerError) -> DockerEndpoint {
        if text.hasPrefix("unix://") {
            let path = String(text.dropFirst("unix://".count))
            guard path.hasPrefix("/") else { throw DockerError("DOCKER_HOST '\(text)': a unix socket needs an absolute path") }
            return .unix(path)
        }
        if text.hasPrefix("/") { return .unix(text) }
        if text.hasPrefix("tcp://") || text.hasPrefix("http://") {
            var rest = Substring(text.drop { $0 != "/" }.dropFirst(2))
            if let slash = rest.firstIndex(of: "/") { rest = rest[..<slash] }
            var host: Substring
            var portText: Substring?
            if rest.hasPrefix("[") {
                guard let close = rest.firstIndex(of: "]") else { throw DockerError("DOCKER_HOST '\(text)': unclosed IPv6 address") }
                host = rest[rest.index(after: rest.startIndex)..<close]
                let after = rest[rest.index(after: close)...]
                if after.hasPrefix(":") { portText = after.dropFirst() }
            } else if let colon = rest.lastIndex(of: ":") {
                host = rest[..<colon]
                portText = rest[rest.index(after: colon)...]
            } else {
                host = rest
            }
            guard !host.isEmpty else { throw DockerError("DOCKER_HOST '\(text)': no host") }
            let port = portText.map { UInt16($0) } ?? 2375
            guard let port, port > 0 else { throw DockerError("DOCKER_HOST '\(text)': bad port") }
            return .tcp(host: String(host), port: port)
        }
        throw DockerError("DOCKER_HOST '\(text)' is neither unix:///path nor tcp://host:port")
    }

    /// `DOCKER_HOST` when set, else `/tmp/docker.sock` when it exists (where the container mounts it), else
    /// `/var/run/docker.sock`.
    public static func resolve(dockerHost: String?, exists: (String) -> Bool = Sys.exists) throws(DockerError) -> DockerEndpoint {
        if let dockerHost, !dockerHost.isEmpty { return try parse(dockerHost) }
        return exists("/tmp/docker.sock") ? .unix("/tmp/docker.sock") : .unix("/var/run/docker.sock")
    }

    /// Opens a new blocking connection.
    public func connect() throws(SyscallError) -> Int32 {
        switch self {
        case .unix(let path): return try Sys.connectUnix(path: path)
        case .tcp(let host, let port): return try Sys.connectTCP(host: host, port: port)
        }
    }

    public var description: String {
        switch self {
        case .unix(let path): return "unix://\(path)"
        case .tcp(let host, let port): return host.contains(":") ? "tcp://[\(host)]:\(port)" : "tcp://\(host):\(port)"
        }
    }
}

/// A failure talking to the engine, in one sentence.
public struct DockerError: Error, Sendable, CustomStringConvertible {
    public var message: String
    /// True when the engine could not be reached at all (as opposed to answering with an error).
    public var unreachable: Bool
    /// The failed system call behind it (connecting, reading, writing), errno included.
    public var cause: SyscallError?
    public init(_ message: String, unreachable: Bool = false, cause: SyscallError? = nil) {
        self.message = message
        self.unreachable = unreachable
        self.cause = cause
    }

    /// The failure of an exchange with the engine: the syscall behind it, when there is one, is kept.
    init(_ message: String, exchange: HTTPClientError) {
        if case .syscall(let e) = exchange { cause = e }
        self.message = message
        unreachable = true
    }
    public var description: String { message }
}

/// What attach needs to know of a container, from `GET /containers/{id}/json`: the container as records
/// carry it, and what decides how it is read (environment, TTY, state).
public struct ContainerInfo: Sendable, Equatable {
    /// Id, name, image, hostname, pid and labels, as records carry them.
    public var container: Container
    public var env: [String]
    public var tty: Bool
    public var running: Bool
    /// The container's log driver (`HostConfig.LogConfig.Type`: `json-file`, `local`, `syslog`…); empty when
    /// the engine does not say.
    public var logDriver: String

    public var id: String { container.id }
    public var name: String {
        get { container.name }
        set { container.name = newValue }
    }
    public var image: String { container.image }
    public var hostname: String { container.hostname }
    public var pid: Int { container.pid }
    public var labels: Labels { container.labels }

    public init(id: String, name: String, image: String, hostname: String, pid: Int,
                labels: Labels, env: [String], tty: Bool, running: Bool, logDriver: String = "") {
        container = Container(id: id, name: name, image: image, hostname: hostname, pid: pid, labels: labels)
        self.env = env
        self.tty = tty
        self.running = running
        self.logDriver = logDriver
    }

    /// Reads the inspect document.
    public init(inspect doc: JSONValue) throws(DockerError) {
        guard let id = doc["Id"]?.string else { throw DockerError("container inspect without an Id") }
        var name = doc["Name"]?.string ?? ""
        if name.hasPrefix("/") { name.removeFirst() }
        let config = doc["Config"]
        container = Container(
            id: id, name: name, image: config?["Image"]?.string ?? "", hostname: config?["Hostname"]?.string ?? "",
            pid: doc["State"]?["Pid"]?.int ?? 0,
            labels: Labels(config?["Labels"]?.object?.compactMap { k, v in v.string.map { Label(k, $0) } } ?? []))
        running = doc["State"]?["Running"]?.bool ?? false
        tty = config?["Tty"]?.bool ?? false
        env = config?["Env"]?.array?.compactMap(\.string) ?? []
        logDriver = doc["HostConfig"]?["LogConfig"]?["Type"]?.string ?? ""
    }
}

/// Blocking calls to the Docker Engine API, each on a connection of its own.
public final class DockerClient: @unchecked Sendable {
    public let endpoint: DockerEndpoint
    /// The API version prefix in use, e.g. "v1.41" (set by `negotiate`).
    public private(set) var versionPrefix = ""
    /// The oldest API version attach works with (events `Actor`, nanosecond `since`).
    public static let minimumAPIVersion = (1, 25)
    public var timeoutMs = 10_000

    public init(endpoint: DockerEndpoint) {
        self.endpoint = endpoint
    }

    /// `GET /_ping`: reads the engine's `Api-Version` and uses it for every later call.
    @discardableResult
    public func negotiate() throws(DockerError) -> String {
        let response = try get("/_ping")
        guard response.head.status == 200 else {
            throw DockerError("\(endpoint): /_ping answered \(response.head.status) \(response.head.reason)")
        }
        guard let version = response.head.header("Api-Version") else {
            throw DockerError("\(endpoint): /_ping has no Api-Version header; is this a Docker engine?")
        }
        try Self.checkVersion(version, endpoint: endpoint)
        versionPrefix = "/v" + version
        return version
    }

    /// Accepts an `Api-Version` value of at least `minimumAPIVersion`, or says why not.
    public static func checkVersion(_ version: String, endpoint: DockerEndpoint) throws(DockerError) {
        let parts = version.split(separator: ".", omittingEmptySubsequences: false).map { Int($0) }
        guard parts.count == 2, let major = parts[0], let minor = parts[1] else {
            throw DockerError("\(endpoint): unreadable Api-Version '\(version)'")
        }
        if (major, minor) < minimumAPIVersion {
            throw DockerError("\(endpoint): the engine speaks API \(version); attach needs \(minimumAPIVersion.0).\(minimumAPIVersion.1) or newer")
        }
    }

    /// The engine's clock (`GET /info` → `SystemTime`), so "from now" means the engine's now.
    public func systemTime() throws(DockerError) -> Timestamp? {
        let doc = try getJSON("/info")
        return doc["SystemTime"]?.string.flatMap { Timestamp(rfc3339: $0) }
    }

    /// Ids of the running containers (`GET /containers/json`).
    public func runningContainers() throws(DockerError) -> [String] {
        let doc = try getJSON("/containers/json")
        guard let list = doc.array else { throw DockerError("/containers/json did not answer a list") }
        return list.compactMap { $0["Id"]?.string }
    }

    /// `GET /containers/{id}/json`; nil when no such container exists (any more).
    public func inspect(_ id: String) throws(DockerError) -> ContainerInfo? {
        let response = try get("/containers/\(id)/json")
        if response.head.status == 404 { return nil }
        guard response.head.status == 200 else { throw statusError("/containers/\(id)/json", response) }
        let doc: JSONValue
        do { doc = try JSONValue.parse(response.body) } catch {
            throw DockerError("/containers/\(id)/json: \(error)")
        }
        return try ContainerInfo(inspect: doc)
    }

    /// The request for a container's log stream. `since` nil with `tail0` reads only new lines.
    public func logsRequest(id: String, since: Timestamp?, onlyNew: Bool) -> [UInt8] {
        var target = "\(versionPrefix)/containers/\(id)/logs?follow=1&stdout=1&stderr=1&timestamps=1"
        if let since { target += "&since=" + since.sinceParameter } else if onlyNew { target += "&tail=0" }
        return serializeRequest(method: "GET", target: target)
    }

    /// The request for the container events stream.
    public func eventsRequest() -> [UInt8] {
        // filters={"type":["container"]}
        serializeRequest(method: "GET", target: "\(versionPrefix)/events?filters=%7B%22type%22%3A%5B%22container%22%5D%7D")
    }

    /// Opens a connection, sends `request` and reads the response head; the caller reads the body.
    public func openStream(_ request: [UInt8]) throws(DockerError) -> (fd: Int32, head: HTTPHead, parser: HTTPResponseParser, bodyPrefix: [UInt8], ended: Bool) {
        let fd: Int32
        do { fd = try endpoint.connect() } catch { throw DockerError(error.description, unreachable: true, cause: error) }
        do {
            let r = try HTTPExchange.sendAndReadHead(fd: fd, request: request, timeoutMs: timeoutMs)
            return (fd, r.head, r.parser, r.bodyPrefix, r.ended)
        } catch {
            Sys.close(fd)
            throw DockerError("\(endpoint): \(error)", exchange: error)
        }
    }

    func get(_ path: String) throws(DockerError) -> HTTPResponse {
        let fd: Int32
        do { fd = try endpoint.connect() } catch { throw DockerError(error.description, unreachable: true, cause: error) }
        defer { Sys.close(fd) }
        do {
            return try HTTPExchange.roundTrip(fd: fd, request: serializeRequest(method: "GET", target: versionPrefix + path), timeoutMs: timeoutMs)
        } catch {
            throw DockerError("\(endpoint) GET \(path): \(error)", exchange: error)
        }
    }

    func getJSON(_ path: String) throws(DockerError) -> JSONValue {
        let response = try get(path)
        guard response.head.status == 200 else { throw statusError(path, response) }
        do { return try JSONValue.parse(response.body) } catch { throw DockerError("\(path): \(error)") }
    }

    func statusError(_ path: String, _ response: HTTPResponse) -> DockerError {
        var message = String(decoding: response.body.prefix(300), as: UTF8.self)
        if let doc = try? JSONValue.parse(response.body), let m = doc["message"]?.string { message = m }
        return DockerError("GET \(path) answered \(response.head.status): \(message)")
    }
}
