import JSON
import Records

/// Route ids: `[A-Za-z0-9][A-Za-z0-9._-]{0,63}`, so that an id can never name a path outside the routes
/// folder (route files are `<id>.json`).
public enum RouteID {
    /// The rule, as a regular expression, for messages.
    public static let pattern = "[A-Za-z0-9][A-Za-z0-9._-]{0,63}"

    /// Whether `id` can name a route.
    public static func isValid(_ id: String) -> Bool {
        let u = Array(id.utf8)
        guard (1...64).contains(u.count) else { return false }
        func alnum(_ c: UInt8) -> Bool {
            (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x5A) || (c >= 0x61 && c <= 0x7A)
        }
        return alnum(u[0]) && u.dropFirst().allSatisfy { alnum($0) || $0 == 0x2E || $0 == 0x5F || $0 == 0x2D }
    }
}

/// What a live subscription asks for (docs/bus.md): all given fields must match.
public struct SubscriptionFilter: Sendable, Equatable {
    /// A prefix of the container id.
    public var id: String?
    /// The container name, exactly.
    public var name: String?
    /// A substring of the container name.
    public var substring: String?
    /// The streams wanted; nil: both.
    public var types: Set<Source>?

    /// Empty strings and an empty set count as not given.
    public init(id: String? = nil, name: String? = nil, substring: String? = nil, types: Set<Source>? = nil) {
        self.id = id.flatMap { $0.isEmpty ? nil : $0 }
        self.name = name.flatMap { $0.isEmpty ? nil : $0 }
        self.substring = substring.flatMap { $0.isEmpty ? nil : $0 }
        self.types = types.flatMap { $0.isEmpty ? nil : $0 }
    }

    /// Reads `{"id":…,"name":…,"filter":…,"types":[…]}`; nil is the empty filter.
    public init(json: JSONValue?) throws(BusError) {
        guard let json else {
            self.init()
            return
        }
        guard json.object != nil else { throw BusError(400, "filter must be an object") }
        var types: Set<Source>?
        if let list = json["types"]?.array {
            var set = Set<Source>()
            for t in list {
                guard let text = t.string, let source = Source(name: text) else {
                    throw BusError(400, "filter types must be \"stdout\" or \"stderr\"")
                }
                set.insert(source)
            }
            types = set
        }
        self.init(id: json["id"]?.string, name: json["name"]?.string, substring: json["filter"]?.string, types: types)
    }

    /// `{"id":…,"name":…,"filter":…,"types":[…]}`, each only when set.
    public func json() -> JSONValue {
        var members: [(String, JSONValue)] = []
        if let id { members.append(("id", .string(id))) }
        if let name { members.append(("name", .string(name))) }
        if let substring { members.append(("filter", .string(substring))) }
        if let types {
            members.append(("types", .array([Source.stdout, .stderr].filter(types.contains).map { .string($0.name) })))
        }
        return .object(members)
    }

    /// Whether a container with this id and name is wanted (the stream is checked apart).
    public func matches(id cid: String, name cname: String) -> Bool {
        if let id, !cid.hasPrefix(id) { return false }
        if let name, cname != name { return false }
        if let substring, !cname.contains(substring) { return false }
        return true
    }
}

/// A bus answer that is not `ok`, and why: `status` is the HTTP status an HTTP front answers with (400 bad
/// request, 404 no such route, 500 the store or the bus failed).
public struct BusError: Error, Sendable, Equatable, CustomStringConvertible {
    public var status: Int
    public var message: String

    public init(_ status: Int, _ message: String) {
        self.status = status
        self.message = message
    }

    public var description: String { message }
}

/// The operations of route's bus, by the name a request's `op` gives.
public enum BusOperation: String, Sendable, CaseIterable {
    case ping, list, get, add, delete, subscribe
}

/// A request on route's bus (docs/bus.md): one JSON object on one line, `{"op":…,…}`.
public enum BusRequest: Sendable, Equatable {
    case ping
    /// Every route.
    case list
    case get(id: String)
    /// A route's JSON (route.md), checked and stored by route.
    case add(route: JSONValue)
    case delete(id: String)
    /// Turns the connection into a stream of the records the filter takes.
    case subscribe(SubscriptionFilter)

    public var operation: BusOperation {
        switch self {
        case .ping: .ping
        case .list: .list
        case .get: .get
        case .add: .add
        case .delete: .delete
        case .subscribe: .subscribe
        }
    }

    /// The request's line, `"\n"` included.
    public func line() -> [UInt8] {
        var members: [(String, JSONValue)] = [("op", .string(operation.rawValue))]
        switch self {
        case .ping, .list: break
        case .get(let id), .delete(let id): members.append(("id", .string(id)))
        case .add(let route): members.append(("route", route))
        case .subscribe(let filter): members.append(("filter", filter.json()))
        }
        var out = JSONValue.object(members).encoded()
        out.append(10)
        return out
    }

    /// Reads a request line (without its `"\n"`); a bad one is a 400 error saying why.
    public init(line: [UInt8]) throws(BusError) {
        let request: JSONValue
        do { request = try JSONValue.parse(line) } catch { throw BusError(400, "bad request: \(error)") }
        guard let op = request["op"]?.string else { throw BusError(400, #"bad request: no "op""#) }
        guard let operation = BusOperation(rawValue: op) else { throw BusError(400, "bad request: unknown op '\(op)'") }
        func field(_ name: String) throws(BusError) -> JSONValue {
            guard let value = request[name] else { throw BusError(400, "bad request: no \"\(name)\"") }
            return value
        }
        func id() throws(BusError) -> String {
            guard let id = try field("id").string else { throw BusError(400, #"bad request: no "id""#) }
            return id
        }
        switch operation {
        case .ping: self = .ping
        case .list: self = .list
        case .get: self = .get(id: try id())
        case .add: self = .add(route: try field("route"))
        case .delete: self = .delete(id: try id())
        case .subscribe: self = .subscribe(try SubscriptionFilter(json: request["filter"]))
        }
    }
}

/// route's answer to a request: one line, `{"ok":true,…}` or `{"ok":false,"status":N,"error":"…"}`.
public enum BusReply: Sendable, Equatable {
    /// `{"ok":true}`: ping, delete, subscribe.
    case ok
    /// `{"ok":true,"routes":[…]}`: list.
    case routes([JSONValue])
    /// `{"ok":true,"route":…}`: get, add (the stored route).
    case route(JSONValue)
    case failed(BusError)

    /// Appends the answer's line, `"\n"` included.
    public func append(to out: inout [UInt8]) {
        let members: [(String, JSONValue)]
        switch self {
        case .ok: members = [("ok", .bool(true))]
        case .routes(let routes): members = [("ok", .bool(true)), ("routes", .array(routes))]
        case .route(let route): members = [("ok", .bool(true)), ("route", route)]
        case .failed(let e): members = [("ok", .bool(false)), ("status", .number(String(e.status))), ("error", .string(e.message))]
        }
        JSONValue.object(members).append(to: &out)
        out.append(10)
    }

    /// Reads an answer line; one that cannot be read is a failure (500).
    public init(line: some Collection<UInt8>) {
        guard let answer = try? JSONValue.parse(Array(line)) else {
            self = .failed(BusError(500, "unreadable answer"))
            return
        }
        guard answer["ok"]?.bool == true else {
            self = .failed(BusError(answer["status"]?.int ?? 500, answer["error"]?.string ?? "the bus failed"))
            return
        }
        if let routes = answer["routes"]?.array {
            self = .routes(routes)
        } else if let route = answer["route"] {
            self = .route(route)
        } else {
            self = .ok
        }
    }
}

/// The lines of a subscription's stream that are not records.
public enum BusStream {
    /// `{"missed":N}`: N records were dropped for this subscriber since the last such line.
    public static func appendMissed(_ count: Int, to out: inout [UInt8]) {
        out.append(contentsOf: #"{"missed":"#.utf8)
        out.append(contentsOf: String(count).utf8)
        out.append(contentsOf: "}\n".utf8)
    }

    /// The count of a `{"missed":N}` line; nil for any other line.
    public static func missed(_ line: some Collection<UInt8>) -> Int? {
        (try? JSONValue.parse(Array(line)))?["missed"]?.int
    }
}
