import JSON
import Syslog

/// Where a routed record goes and how it is written, read from its `route.target`.
public struct TargetSpec: Sendable, Equatable {
    public enum TransportProtocol: String, Sendable { case udp, tcp, tls }

    public var address: Address
    public var transport: TransportProtocol
    public var format: SyslogFormat?
    public var appendTag: String
    /// The route's `structured_data`, in place of `SYSLOG_STRUCTURED_DATA` (nil: none, or empty).
    public var structuredData: ContainerTemplate?
    /// How the route joins a message's lines (`multiline`, `multiline.*`); nil: one message per line.
    public var multiline: MultilineSpec?

    /// The key of the connection this target uses: targets with the same address and protocol share it.
    public var connectionKey: String { "\(transport.rawValue)://\(address)" }

    /// Reads a route target: `{"type":"syslog","addr":…,"protocol":"udp"|"tcp"|"tls","format":…,"append_tag":…}`.
    /// `environment` gives the `MULTILINE_*` defaults.
    public init(target: JSONValue, environment: (String) -> String? = { _ in nil }) throws(TargetError) {
        guard let type = target["type"]?.string ?? Optional("syslog"), type == "syslog" else {
            throw TargetError("target type '\(target["type"]?.string ?? "?")' is not syslog")
        }
        guard let addr = target["addr"]?.string, !addr.isEmpty else { throw TargetError("target has no addr") }
        let proto = (target["protocol"]?.string ?? "udp").lowercased()
        guard let transport = TransportProtocol(rawValue: proto) else {
            throw TargetError("protocol '\(proto)' is not udp, tcp or tls")
        }
        self.transport = transport
        address = try Address(parsing: addr, defaultPort: transport == .tls ? Address.tlsPort : Address.syslogPort)
        if let f = target["format"]?.string, !f.isEmpty {
            guard let format = SyslogFormat(rawValue: f) else {
                throw TargetError("format '\(f)' is not one of rfc5424, rfc3164, deis")
            }
            self.format = format
        }
        appendTag = target["append_tag"]?.string ?? ""
        if let sd = target["structured_data"]?.string, !sd.isEmpty {
            do { structuredData = try ContainerTemplate(sd) } catch { throw TargetError("structured_data \(error.message)") }
        }
        do { multiline = try MultilineSpec.of(target: target, env: environment) } catch { throw TargetError(error.message) }
    }
}

/// A bad route target, in one sentence.
public struct TargetError: Error, Sendable, Equatable, CustomStringConvertible {
    public var message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}

/// A receiver's address: `host:port`, `[v6]:port`, an IPv4/IPv6 literal, or a bare name that is looked up
/// as DNS SRV records.
public struct Address: Sendable, Hashable, CustomStringConvertible {
    public var host: String
    /// nil: look `host` up as SRV records (RFC 2782), falling back to `defaultPort`.
    public var port: UInt16?
    /// The port of an address that names none: 514 (syslog over UDP and TCP), 6514 for TLS (RFC 5425).
    public var defaultPort: UInt16

    public static let syslogPort: UInt16 = 514
    public static let tlsPort: UInt16 = 6514

    public init(host: String, port: UInt16?, defaultPort: UInt16 = Address.syslogPort) {
        self.host = host
        self.port = port
        self.defaultPort = defaultPort
    }

    public init(parsing text: String, defaultPort: UInt16 = Address.syslogPort) throws(TargetError) {
        self.defaultPort = defaultPort
        if text.hasPrefix("[") {
            guard let close = text.firstIndex(of: "]") else { throw TargetError("addr '\(text)': unclosed '['") }
            host = String(text[text.index(after: text.startIndex)..<close])
            let rest = text[text.index(after: close)...]
            if rest.isEmpty {
                port = defaultPort
            } else {
                guard rest.hasPrefix(":"), let p = UInt16(rest.dropFirst()), p > 0 else {
                    throw TargetError("addr '\(text)': bad port")
                }
                port = p
            }
        } else {
            let colons = text.filter { $0 == ":" }.count
            if colons == 0 {
                host = text
                port = nil  // a name without a port: DNS SRV
                if text.allSatisfy({ $0.isNumber || $0 == "." }) { port = defaultPort }  // an IPv4 literal
            } else if colons == 1 {
                let colon = text.firstIndex(of: ":")!
                host = String(text[..<colon])
                guard let p = UInt16(text[text.index(after: colon)...]), p > 0 else {
                    throw TargetError("addr '\(text)': bad port")
                }
                port = p
            } else {
                host = text  // a bare IPv6 literal
                port = defaultPort
            }
        }
        guard !host.isEmpty else { throw TargetError("addr '\(text)': no host") }
    }

    public var description: String {
        let h = host.contains(":") ? "[\(host)]" : host
        return port.map { "\(h):\($0)" } ?? h
    }
}
