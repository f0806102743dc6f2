import Contract
import JSON
import Records

/// A label a route requires: `key` (the container has the label, whatever its value) or `key:value`
/// (the label has exactly that value).
public struct LabelFilter: Sendable, Equatable, CustomStringConvertible {
    public var key: String
    public var value: String?

    public init(key: String, value: String? = nil) {
        self.key = key
        self.value = value
    }

    /// Parses `key`, `key:value` or `key=value`, split at the first `:` or `=`.
    public init(parsing text: String) throws(RouteError) {
        let t = text.trimmingSpaces()
        if let sep = t.firstIndex(where: { $0 == ":" || $0 == "=" }) {
            key = String(t[..<sep])
            value = String(t[t.index(after: sep)...])
        } else {
            key = t
            value = nil
        }
        if key.isEmpty { throw RouteError("label filter '\(text)' has no key") }
    }

    /// `key` or `key:value`, as written in route JSON.
    public var description: String { value.map { "\(key):\($0)" } ?? key }
}

/// Which records a route takes. Every criterion that is set must hold; a source with none set takes
/// every record.
public struct RouteSource: Sendable, Equatable {
    /// A substring of the container name (the seed's `filter`).
    public var filter: String?
    /// The container name, exactly.
    public var name: String?
    /// A glob on the whole container name: `*`, `?`, `[a-z]`, `[!0-9]`, `\` escapes (`filter.name=*_db`).
    public var glob: String?
    /// A prefix of the container id (the short 12-digit id, the full id, or any prefix).
    public var id: String?
    /// The streams taken; empty means both.
    public var types: [Source]
    /// Labels the container must carry, all of them.
    public var labels: [LabelFilter]

    public init(filter: String? = nil, name: String? = nil, glob: String? = nil, id: String? = nil,
                types: [Source] = [], labels: [LabelFilter] = []) {
        self.filter = filter
        self.name = name
        self.glob = glob
        self.id = id
        self.types = types
        self.labels = labels
    }

    /// True when no criterion is set: the route takes everything.
    public var isEmpty: Bool {
        filter == nil && name == nil && glob == nil && id == nil && types.isEmpty && labels.isEmpty
    }
}

/// A route: which records (`source`) go where (`target`), under an id.
///
/// Its JSON (the seed's form, used by route files and the HTTP API):
///
///     {"id":"3631c027fb1b",
///      "source":{"filter":"db","types":["stderr"],"labels":["team:db"]},
///      "target":{"type":"syslog","addr":"logs.example.com:514","protocol":"tcp","append_tag":".db"}}
///
/// `init(json:)` also reads gliderlabs/logspout's flat form (`adapter`, `address`, `filter_name`, …).
public struct RouteSpec: Sendable, Equatable {
    public var id: String
    public var source: RouteSource
    public var target: RouteTarget

    public init(id: String, source: RouteSource = RouteSource(), target: RouteTarget) {
        self.id = id
        self.source = source
        self.target = target
    }

    // MARK: Ids

    /// Checks `id` (`RouteID.isValid`), or throws a message naming it.
    public static func validateID(_ id: String) throws(RouteError) {
        guard RouteID.isValid(id) else {
            throw RouteError("invalid route id '\(id)' (1 to 64 letters, digits, '.', '_' or '-', starting with a letter or digit)")
        }
    }

    /// 12 random lowercase hex digits.
    public static func randomID() -> String {
        var rng = SystemRandomNumberGenerator()
        return hex(rng.next(), digits: 12)
    }

    /// The first `digits` lowercase hex digits of `v` (most significant first).
    static func hex(_ v: UInt64, digits: Int) -> String {
        let all = Array("0123456789abcdef".utf8)
        var out: [UInt8] = []
        for i in 0..<digits {
            out.append(all[Int((v >> UInt64(60 - 4 * i)) & 0xF)])
        }
        return String(decoding: out, as: UTF8.self)
    }

    // MARK: JSON

    /// Reads a route's JSON, the seed's form or gliderlabs/logspout's flat form. A missing id becomes
    /// `defaultID`, or 12 random hex digits. Unknown fields are errors, except inside `target`, whose
    /// other members are options passed through to the emitter.
    public init(json: JSONValue, defaultID: String? = nil) throws(RouteError) {
        guard case .object(let members) = json else { throw RouteError("a route must be a JSON object") }
        if members.contains(where: { $0.0 == "adapter" || $0.0 == "address" }) {
            try self.init(flat: members, defaultID: defaultID)
            return
        }
        var id: String?
        var source = RouteSource()
        var target: RouteTarget?
        for (key, value) in members {
            switch key {
            case "id": id = try Self.optionalString(value, "id").flatMap { $0.isEmpty ? nil : $0 }
            case "source":
                if value == .null { source = RouteSource(); continue }
                guard case .object(let fields) = value else { throw RouteError(#"field "source" must be an object"#) }
                source = try Self.readSource(fields)
            case "target":
                guard case .object(let fields) = value else { throw RouteError(#"field "target" must be an object"#) }
                target = try Self.readTarget(fields)
            default:
                throw RouteError("unknown field \"\(key)\" (a route has id, source and target)")
            }
        }
        guard let target else { throw RouteError(#"missing field "target""#) }
        let theID = id ?? defaultID ?? Self.randomID()
        try Self.validateID(theID)
        self.init(id: theID, source: source, target: target)
    }

    /// Parses `text` as JSON, then as a route.
    public init(jsonText text: [UInt8], defaultID: String? = nil) throws(RouteError) {
        let value: JSONValue
        do { value = try JSONValue.parse(text) } catch { throw RouteError("not JSON: \(error)") }
        try self.init(json: value, defaultID: defaultID)
    }

    /// gliderlabs/logspout's persisted form.
    init(flat members: [(String, JSONValue)], defaultID: String?) throws(RouteError) {
        var id: String?
        var adapter: String?
        var address: String?
        var source = RouteSource()
        var options: [(String, JSONValue)] = []
        for (key, value) in members {
            switch key {
            case "id": id = try Self.optionalString(value, "id").flatMap { $0.isEmpty ? nil : $0 }
            case "adapter": adapter = try Self.optionalString(value, "adapter")
            case "address": address = try Self.optionalString(value, "address")
            case "filter_name":
                if let name = try Self.optionalString(value, "filter_name"), !name.isEmpty {
                    if Glob.isPattern(name) { source.glob = name } else { source.name = name }
                }
            case "filter_id": source.id = try Self.optionalString(value, "filter_id").flatMap { $0.isEmpty ? nil : $0 }
            case "filter_sources": source.types = try Self.readTypes(value, "filter_sources")
            case "filter_labels": source.labels = try Self.readLabels(value, "filter_labels")
            case "options":
                if value == .null { continue }
                guard case .object(let o) = value else { throw RouteError(#"field "options" must be an object"#) }
                options = o
            default:
                throw RouteError("unknown field \"\(key)\" in a flat (gliderlabs) route")
            }
        }
        guard let adapter else { throw RouteError(#"missing field "adapter""#) }
        let named: (transport: TargetProtocol, multiline: Bool)
        do { named = try TargetProtocol.named(adapter, "adapter") } catch { throw RouteError(error.message) }
        guard let address else { throw RouteError(#"missing field "address""#) }
        var targetFields = RouteTarget.members(addr: address, transport: named.transport, multiline: named.multiline)
        for (key, value) in options {
            if RouteTarget.setByAddress.contains(key) {
                throw RouteError("option '\(key)' is set by the adapter and address")
            }
            targetFields.append((key, value))
        }
        let target = try Self.readTarget(targetFields)
        let theID = id ?? defaultID ?? Self.randomID()
        try Self.validateID(theID)
        self.init(id: theID, source: source, target: target)
    }

    static func optionalString(_ value: JSONValue, _ field: String) throws(RouteError) -> String? {
        switch value {
        case .null: return nil
        case .string(let s): return s
        default: throw RouteError("field \"\(field)\" must be a string")
        }
    }

    static func readSource(_ fields: [(String, JSONValue)]) throws(RouteError) -> RouteSource {
        var source = RouteSource()
        for (key, value) in fields {
            let empty: (String?) -> String? = { $0.flatMap { $0.isEmpty ? nil : $0 } }
            switch key {
            case "filter": source.filter = empty(try optionalString(value, "source.filter"))
            case "name": source.name = empty(try optionalString(value, "source.name"))
            case "glob": source.glob = empty(try optionalString(value, "source.glob"))
            case "id": source.id = empty(try optionalString(value, "source.id"))
            case "types": source.types = try readTypes(value, "source.types")
            case "labels": source.labels = try readLabels(value, "source.labels")
            default:
                throw RouteError("unknown field \"source.\(key)\" (filter, name, glob, id, types or labels)")
            }
        }
        return source
    }

    static func readTypes(_ value: JSONValue, _ field: String) throws(RouteError) -> [Source] {
        if value == .null { return [] }
        guard case .array(let items) = value else { throw RouteError("field \"\(field)\" must be an array of \"stdout\" or \"stderr\"") }
        var types: [Source] = []
        for item in items {
            guard case .string(let s) = item, let t = Source(name: s) else {
                throw RouteError("field \"\(field)\" must be an array of \"stdout\" or \"stderr\", not \(item)")
            }
            if !types.contains(t) { types.append(t) }
        }
        return types
    }

    static func readLabels(_ value: JSONValue, _ field: String) throws(RouteError) -> [LabelFilter] {
        if value == .null { return [] }
        guard case .array(let items) = value else { throw RouteError("field \"\(field)\" must be an array of \"key\" or \"key:value\"") }
        var labels: [LabelFilter] = []
        for item in items {
            guard case .string(let s) = item else {
                throw RouteError("field \"\(field)\" must be an array of \"key\" or \"key:value\", not \(item)")
            }
            labels.append(try LabelFilter(parsing: s))
        }
        return labels
    }

    /// The target of a route: the contract's one reader of targets, its refusal a route's.
    static func readTarget(_ fields: [(String, JSONValue)]) throws(RouteError) -> RouteTarget {
        do { return try RouteTarget(members: fields) } catch { throw RouteError(error.message) }
    }

    /// The route in the seed's form, fields in a fixed order: `id`, `source` (omitted when it takes
    /// everything: `filter`, `name`, `glob`, `id`, `types`, `labels`, each only when set), `target`.
    public func json() -> JSONValue {
        var members: [(String, JSONValue)] = [("id", .string(id))]
        if !source.isEmpty {
            var s: [(String, JSONValue)] = []
            if let v = source.filter { s.append(("filter", .string(v))) }
            if let v = source.name { s.append(("name", .string(v))) }
            if let v = source.glob { s.append(("glob", .string(v))) }
            if let v = source.id { s.append(("id", .string(v))) }
            if !source.types.isEmpty { s.append(("types", .array(source.types.map { .string($0.name) }))) }
            if !source.labels.isEmpty { s.append(("labels", .array(source.labels.map { .string($0.description) }))) }
            members.append(("source", .object(s)))
        }
        members.append(("target", target.json()))
        return .object(members)
    }

    /// What routed records carry: `{"id":…,"target":{…}}`, compact.
    public func routeJSON() -> [UInt8] {
        JSONValue.object([("id", .string(id)), ("target", target.json())]).encoded()
    }
}

extension StringProtocol {
    /// Without leading and trailing spaces and tabs.
    func trimmingSpaces() -> String {
        var s = Substring(self)
        while let f = s.first, f == " " || f == "\t" { s.removeFirst() }
        while let l = s.last, l == " " || l == "\t" { s.removeLast() }
        return String(s)
    }
}
