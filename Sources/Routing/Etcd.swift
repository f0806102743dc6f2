import Contract
import HTTP
import JSON
import Synchronization
import Syscall

/// Where etcd is and how often to ask it: `ETCD_HOST`, `ETCD_PORT` (4001), `ETCD_INTERVAL` (10 s).
public struct EtcdSettings: Sendable, Equatable {
    public var host: String
    public var port: UInt16
    /// Seconds between two reads.
    public var interval: Double
    /// The longest a connection or an answer may take, in milliseconds.
    public var timeoutMs: Int

    public init(host: String, port: UInt16 = 4001, interval: Double = 10, timeoutMs: Int = 3000) {
        self.host = host
        self.port = port
        self.interval = interval
        self.timeoutMs = timeoutMs
    }

    /// `host:port`, IPv6 in brackets.
    public var endpoint: String { host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)" }
}

/// What one read of etcd found.
public enum EtcdReading: Sendable, Equatable {
    /// The deis logger's address: `/deis/logs/host`, `/deis/logs/port`, `/deis/logs/protocol` (udp
    /// when not set).
    case found(host: String, port: String, transport: String)
    /// etcd answered, but this key is not set.
    case missing(key: String)
    /// etcd could not be reached or did not answer as expected.
    case unreachable(reason: String)
}

/// deis-logger discovery: reads etcd's v2 keys API on a background thread, every `interval` seconds,
/// and hands each reading to route's event loop through a mutex-guarded mailbox and an eventfd (which
/// is in the loop's epoll set). The record path never waits on etcd.
public final class EtcdPoller: Sendable {
    public let settings: EtcdSettings
    /// Readable when readings are waiting: add it to the event loop, then call `take()`.
    public let eventFD: Int32
    private let mailbox = Mutex<[EtcdReading]>([])

    public init(settings: EtcdSettings) throws(SyscallError) {
        self.settings = settings
        eventFD = try Sys.eventfd()
    }

    deinit { Sys.close(eventFD) }

    /// Starts reading etcd: at once, then every `interval` seconds, forever.
    public func start() {
        let thread = { @Sendable [self] in
            while true {
                let reading = Self.read(settings)
                mailbox.withLock { $0.append(reading) }
                Sys.signalEvent(eventFD)
                let micros = max(0.01, settings.interval) * 1_000_000
                Sys.sleep(microseconds: UInt64(min(micros, Double(UInt32.max - 1))))
            }
        }
        // No thread: route goes on without discovery, as with etcd unreachable.
        do { try Sys.startThread(thread) } catch {
            mailbox.withLock { $0.append(.unreachable(reason: "\(error)")) }
            Sys.signalEvent(eventFD)
        }
    }

    /// The readings that arrived since the last call, oldest first.
    public func take() -> [EtcdReading] {
        Sys.drainEvent(eventFD)
        return mailbox.withLock { readings in
            let taken = readings
            readings.removeAll()
            return taken
        }
    }

    /// The three keys, read once (blocking, up to the timeout per request).
    public static func read(_ settings: EtcdSettings) -> EtcdReading {
        var values: [String?] = []
        for key in ["host", "port", "protocol"] {
            switch readKey("/deis/logs/" + key, settings) {
            case .success(let value): values.append(value)
            case .failure(let error): return .unreachable(reason: error.message)
            }
        }
        guard let host = values[0] else { return .missing(key: "/deis/logs/host") }
        guard let port = values[1] else { return .missing(key: "/deis/logs/port") }
        let transport = values[2].flatMap { $0.isEmpty ? nil : $0 } ?? "udp"
        return .found(host: host, port: port, transport: transport)
    }

    /// `GET /v2/keys<key>`: the node's value, nil when the key is not set (404).
    static func readKey(_ key: String, _ settings: EtcdSettings) -> Result<String?, RouteError> {
        let fd: Int32
        do {
            fd = try connect(settings)
        } catch {
            return .failure(error)
        }
        defer { Sys.close(fd) }
        let request = serializeRequest(method: "GET", target: "/v2/keys" + key, host: settings.endpoint,
                                       headers: [("Accept", "application/json"), ("Connection", "close")])
        let response: HTTPResponse
        do {
            response = try HTTPExchange.roundTrip(fd: fd, request: request, timeoutMs: settings.timeoutMs, maxBody: 1 << 20)
        } catch {
            if case .syscall(let cause) = error { return .failure(RouteError("\(error)", cause: cause)) }
            return .failure(RouteError("\(error)"))
        }
        if response.head.status == 404 { return .success(nil) }
        guard response.head.status == 200 else {
            return .failure(RouteError("GET /v2/keys\(key) answered \(response.head.status) \(response.head.reason)"))
        }
        guard let doc = try? JSONValue.parse(response.body), let node = doc["node"] else {
            return .failure(RouteError("GET /v2/keys\(key): not an etcd v2 answer"))
        }
        if node["dir"]?.bool == true { return .success(nil) }
        return .success(node["value"]?.string ?? "")
    }

    /// A blocking TCP connection to etcd, made within the timeout.
    static func connect(_ settings: EtcdSettings) throws(RouteError) -> Int32 {
        let addresses: [SocketAddress]
        do {
            addresses = try Sys.resolve(host: settings.host, port: settings.port, kind: .tcp)
        } catch {
            throw RouteError("\(error)", cause: error)
        }
        var last = RouteError("no address for \(settings.host)")
        for address in addresses {
            let fd: Int32
            do { fd = try Sys.socket(for: address, kind: .tcp) } catch {
                last = RouteError("\(error)", cause: error)
                continue
            }
            do throws(SyscallError) {
                if try !Sys.connect(fd, to: address) {
                    guard try Sys.waitWritable(fd, timeout: Int32(settings.timeoutMs)) else {
                        throw SyscallError("connect to", address.description, .timedOut)
                    }
                    if let e = Sys.socketError(fd) { throw SyscallError("connect to", address.description, e) }
                }
                try Sys.setNonBlocking(fd, false)
                return fd
            } catch {
                Sys.close(fd)
                last = RouteError("\(error)", cause: error)
            }
        }
        throw last
    }
}

/// What route does with etcd readings: keeps the last route, replaces it when the address changes,
/// and says on stderr when etcd goes down or comes back (once per change of state).
public struct DiscoveryState: Sendable {
    public let settings: EtcdSettings
    /// The route now in force from discovery.
    public private(set) var route: RouteSpec?
    /// Whether etcd answered last time; nil before the first reading.
    public private(set) var reachable: Bool?
    var lastFound: EtcdReading?
    var lastProblem: String?

    /// The id of the discovered route.
    public static let routeID = "etcd"

    public init(settings: EtcdSettings) {
        self.settings = settings
    }

    /// Takes a reading: returns the new route when it changed (`.some(nil)` never happens: a route is
    /// kept until another replaces it) and the lines to write on stderr.
    public mutating func apply(_ reading: EtcdReading) -> (route: RouteSpec?, messages: [String]) {
        var messages: [String] = []
        let at = "etcd at \(settings.endpoint)"
        let keeping = route.map { "keeping route etcd to \($0.target.addr) (\($0.target.transport))" } ?? "no route from it yet"
        switch reading {
        case .unreachable(let reason):
            if reachable != false {
                messages.append("\(at) is down (\(reason)); \(keeping)")
            }
            reachable = false
            return (nil, messages)
        case .missing(let key):
            if reachable == false { messages.append("\(at) is back") }
            reachable = true
            let problem = "\(at): \(key) is not set; \(keeping)"
            if lastProblem != problem { messages.append(problem) }
            lastProblem = problem
            return (nil, messages)
        case .found(let host, let port, let transport):
            if reachable == false { messages.append("\(at) is back") }
            reachable = true
            if reading == lastFound { return (nil, messages) }
            let addr = host.contains(":") && !host.hasPrefix("[") ? "[\(host)]:\(port)" : "\(host):\(port)"
            let target: RouteTarget
            do {
                target = try RouteTarget(json: ["type": .string(RouteTarget.type), "addr": .string(addr),
                                                "protocol": .string(transport.lowercased()), "format": "deis"])
            } catch {
                let problem = "\(at): the deis logger's address is unusable (\(error.message)); \(keeping)"
                if lastProblem != problem { messages.append(problem) }
                lastProblem = problem
                return (nil, messages)
            }
            lastFound = reading
            lastProblem = nil
            let spec = RouteSpec(id: Self.routeID, target: target)
            route = spec
            messages.append("\(at): the deis logger is at \(addr) (\(target.transport)); route etcd set")
            return (spec, messages)
        }
    }
}
