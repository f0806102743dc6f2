import JSON
import Syslog

/// Why a route target (or a part of one: its address, its multiline options) was refused, in one
/// sentence: `unknown format 'json' (rfc5424, rfc3164 or deis)`.
public struct TargetError: Error, Sendable, Equatable, CustomStringConvertible {
    public var message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}

/// How a target's messages travel (JSON `protocol`).
public enum TargetProtocol: String, Sendable, CaseIterable, CustomStringConvertible {
    case udp, tcp, tls

    public var description: String { rawValue }

    /// The port of an address that names none: 514, or RFC 5425's 6514 for TLS.
    public var defaultPort: UInt16 { self == .tls ? Address.tlsPort : Address.syslogPort }

    /// The URI schemes (and gliderlabs/logspout adapters) of syslog routes, and their protocols.
    public static let schemes: [(name: String, transport: TargetProtocol)] = [
        ("syslog", .udp), ("syslog+udp", .udp), ("syslog+tcp", .tcp), ("syslog+tls", .tls),
    ]

    /// The protocol a URI scheme or a flat route's adapter names (`what` says which, for the message), and
    /// whether it asks for multiline: gliderlabs/logspout's multiline adapter wraps another,
    /// `multiline+syslog+tcp`.
    public static func named(_ name: String, _ what: String) throws(TargetError) -> (transport: TargetProtocol, multiline: Bool) {
        let multiline = name.hasPrefix("multiline+")
        let base = multiline ? String(name.dropFirst("multiline+".count)) : name
        guard let scheme = schemes.first(where: { $0.name == base }) else {
            throw TargetError("unknown \(what) '\(base)' (\(oneOf(schemes.map(\.name))))")
        }
        return (scheme.transport, multiline)
    }
}

/// A target's members other than `type`, `addr`, `protocol`, `format` and `append_tag`, in order, with
/// their JSON values: passed through to the emitter as given. A name given twice keeps its first place
/// and its last value.
public struct TargetOptions: Sendable, Equatable, ExpressibleByDictionaryLiteral {
    public struct Member: Sendable, Equatable {
        public var name: String
        public var value: JSONValue
    }

    public private(set) var members: [Member] = []

    public init(_ members: [(String, JSONValue)] = []) {
        for (name, value) in members { set(name, value) }
    }

    public init(dictionaryLiteral elements: (String, JSONValue)...) {
        self.init(elements)
    }

    /// The value of the option `name`.
    public subscript(name: String) -> JSONValue? { members.first { $0.name == name }?.value }

    mutating func set(_ name: String, _ value: JSONValue) {
        if let i = members.firstIndex(where: { $0.name == name }) {
            members[i].value = value
        } else {
            members.append(Member(name: name, value: value))
        }
    }
}

/// Where a route sends records and how they are written: the routed record's `route.target`. `route`
/// makes one to accept a route (from a URI, route JSON or gliderlabs/logspout's flat form) and writes its
/// JSON into each routed record; emit-syslog reads that JSON back with the same parser to act on it.
///
///     {"type":"syslog","addr":"logs.example.com:514","protocol":"tcp","format":"rfc3164","append_tag":".db"}
public struct RouteTarget: Sendable, Equatable {
    /// The kind of target (`type`); syslog is the only one.
    public static let type = "syslog"

    /// `addr` as given: `host:port`, `[v6]:port`, an IP literal, or a bare name (DNS SRV).
    public let addr: String
    /// `addr`, read; an address without a port takes the protocol's default.
    public let address: Address
    /// `protocol`: udp (when not given), tcp or tls.
    public let transport: TargetProtocol
    /// nil leaves the choice to the emitter (`SYSLOG_FORMAT`).
    public let format: SyslogFormat?
    /// Appended to the syslog tag (the container name).
    public let appendTag: String?
    /// The other members, passed through in order.
    public let options: TargetOptions
    /// The `structured_data` option, read as a template; nil when absent or empty.
    public let structuredData: ContainerTemplate?
    /// The `multiline` and `multiline.*` options; nil when the route does not join lines.
    public let multiline: MultilineOptions?

    /// Reads a target object. Unknown members are options; the target is then checked as a whole.
    public init(json: JSONValue) throws(TargetError) {
        guard case .object(let members) = json else { throw TargetError(#"field "target" must be an object"#) }
        try self.init(members: members)
    }

    /// A target from its typed fields, checked as one read from JSON is.
    public init(addr: String, transport: TargetProtocol = .udp, format: SyslogFormat? = nil, appendTag: String? = nil,
                options: TargetOptions = [:]) throws(TargetError) {
        try self.init(members: Self.members(addr: addr, transport: transport, format: format, appendTag: appendTag, options: options))
    }

    /// Reads a target object's members: the one parser and checker of targets.
    public init(members: [(String, JSONValue)]) throws(TargetError) {
        func string(_ value: JSONValue, _ field: String) throws(TargetError) -> String? {
            switch value {
            case .null: return nil
            case .string(let s): return s
            default: throw TargetError("field \"target.\(field)\" must be a string")
            }
        }
        var type: String?
        var addr: String?
        var protocolName = "udp"
        var formatName: String?
        var appendTag: String?
        var options = TargetOptions()
        for (key, value) in members {
            switch key {
            case "type": type = try string(value, "type")
            case "addr": addr = try string(value, "addr")
            case "protocol": protocolName = try string(value, "protocol") ?? "udp"
            case "format": formatName = try string(value, "format")
            case "append_tag": appendTag = try string(value, "append_tag")
            default: options.set(key, value)
            }
        }
        guard let type else { throw TargetError(#"missing field "target.type""#) }
        guard let addr else { throw TargetError(#"missing field "target.addr""#) }
        guard type == Self.type else { throw TargetError("unknown target type '\(type)' (only \(Self.type))") }
        let transport = TargetProtocol(rawValue: protocolName)
        address = try Address(parsing: addr, defaultPort: (transport ?? .udp).defaultPort)
        guard let transport else {
            throw TargetError("protocol '\(protocolName)' is not supported (\(oneOf(TargetProtocol.allCases.map(\.rawValue))))")
        }
        format = try formatName.map { (name) throws(TargetError) in try Self.format(named: name) }
        // emit-syslog joins lines as multiline options say: options that cannot work are refused here.
        multiline = try MultilineOptions.read(options.members)
        // emit-syslog works out structured_data as a template: one it cannot evaluate is refused here.
        if let sd = options["structured_data"] {
            guard let text = sd.string else { throw TargetError("option 'structured_data' must be a string") }
            do { structuredData = text.isEmpty ? nil : try ContainerTemplate(text) } catch {
                throw TargetError("structured_data \(error.message)")
            }
        } else {
            structuredData = nil
        }
        self.addr = addr
        self.transport = transport
        self.appendTag = appendTag
        self.options = options
    }

    /// The format `name` names (`format`).
    public static func format(named name: String) throws(TargetError) -> SyslogFormat {
        guard let format = SyslogFormat(rawValue: name) else {
            throw TargetError("unknown format '\(name)' (\(oneOf(SyslogFormat.allCases.map(\.rawValue))))")
        }
        return format
    }

    /// The members a URI's scheme and host, or a flat route's adapter and address, give a target: `type`,
    /// `addr`, `protocol`, and `multiline` for gliderlabs/logspout's `multiline+` adapters. Options cannot
    /// set the first three (`setByAddress`).
    public static func members(addr: String, transport: TargetProtocol, multiline: Bool) -> [(String, JSONValue)] {
        var members = members(addr: addr, transport: transport, format: nil, appendTag: nil, options: [:])
        if multiline { members.append(("multiline", "true")) }
        return members
    }

    /// The members a route's address form sets, which its options cannot.
    public static let setByAddress = ["type", "addr", "protocol"]

    /// The target object routed records carry: `type`, `addr`, `protocol`, then `format` and `append_tag`
    /// when set, then the other options in order.
    public func json() -> JSONValue {
        .object(Self.members(addr: addr, transport: transport, format: format, appendTag: appendTag, options: options))
    }

    static func members(addr: String, transport: TargetProtocol, format: SyslogFormat?, appendTag: String?,
                        options: TargetOptions) -> [(String, JSONValue)] {
        var members: [(String, JSONValue)] = [("type", .string(type)), ("addr", .string(addr)), ("protocol", .string(transport.rawValue))]
        if let format { members.append(("format", .string(format.rawValue))) }
        if let appendTag { members.append(("append_tag", .string(appendTag))) }
        for option in options.members { members.append((option.name, option.value)) }
        return members
    }
}

/// `a, b or c`, for messages that list the choices.
func oneOf(_ names: [String]) -> String {
    names.count < 2 ? names.joined() : names.dropLast().joined(separator: ", ") + " or " + names.last!
}
