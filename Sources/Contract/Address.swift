/// A receiver's address, as a route target's `addr` gives it: `host:port`, `[v6]:port`, an IPv4 or IPv6
/// literal (which takes the default port), or a bare name, whose DNS SRV records give the receivers.
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

    /// Reads `host:port`, `[v6]:port`, `[v6]`, an IPv4 or IPv6 literal, or a bare name. A bare IPv6
    /// literal is the whole host: `::1:514` is the address `::1:514` on the default port, so a port goes
    /// with brackets, `[::1]:514`.
    public init(parsing text: String, defaultPort: UInt16 = Address.syslogPort) throws(TargetError) {
        self.defaultPort = defaultPort
        guard !text.isEmpty else { throw TargetError("empty address") }
        if text.utf8.contains(where: { $0 <= 0x20 || $0 == 0x7F || $0 == UInt8(ascii: "/") || $0 == UInt8(ascii: "@")
            || $0 == UInt8(ascii: "?") || $0 == UInt8(ascii: "#") }) {
            throw TargetError("address '\(text)' is not host:port or a name")
        }
        var portText: Substring?
        if text.hasPrefix("[") {
            guard let close = text.firstIndex(of: "]") else { throw TargetError("address '\(text)' lacks its ']'") }
            let inside = text[text.index(after: text.startIndex)..<close]
            let rest = text[text.index(after: close)...]
            if !rest.isEmpty {
                guard rest.first == ":" else { throw TargetError("address '\(text)': expected ':' after ']'") }
                portText = rest.dropFirst()
            }
            guard inside.contains(":") else { throw TargetError("address '\(text)': brackets are for IPv6 addresses") }
            host = String(inside)
        } else if let colon = text.firstIndex(of: ":") {
            let after = text[text.index(after: colon)...]
            if after.contains(":") {
                guard Self.isIPv6(text[...]) else {
                    throw TargetError("address '\(text)': write an IPv6 address in brackets, [::1]:514")
                }
                host = text  // a bare IPv6 literal
            } else {
                host = String(text[..<colon])
                portText = after
            }
        } else {
            host = text
        }
        guard !host.isEmpty else { throw TargetError("address '\(text)' has no host") }
        if let portText {
            guard !portText.isEmpty, portText.utf8.count <= 5, portText.utf8.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }),
                  let n = UInt16(portText), n >= 1
            else { throw TargetError("port '\(portText)' of '\(text)' is not in 1…65535") }
            port = n
        } else if host.contains(":") || host.utf8.allSatisfy({ ($0 >= 0x30 && $0 <= 0x39) || $0 == UInt8(ascii: ".") }) {
            port = defaultPort  // an IPv6 or IPv4 literal
        } else {
            port = nil  // a name without a port: DNS SRV
        }
    }

    /// `[v6]:port`, `host:port`, or the bare name.
    public var description: String {
        let h = host.contains(":") ? "[\(host)]" : host
        return port.map { "\(h):\($0)" } ?? h
    }

    /// Whether `text` is an IPv6 address (RFC 4291's text forms: eight groups of up to four hex digits,
    /// `::` for a run of zero groups, an IPv4 address for the last two), with an optional `%zone`.
    static func isIPv6(_ text: Substring) -> Bool {
        var address = text
        if let percent = text.firstIndex(of: "%") {
            guard text.index(after: percent) < text.endIndex else { return false }
            address = text[..<percent]
        }
        func groups(_ part: Substring, last: Bool) -> Int? {
            if part.isEmpty { return 0 }
            let pieces = part.split(separator: ":", omittingEmptySubsequences: false)
            var count = 0
            for (i, piece) in pieces.enumerated() {
                if last && i == pieces.count - 1 && piece.contains(".") {
                    guard isIPv4(piece) else { return nil }
                    count += 2
                } else {
                    guard (1...4).contains(piece.utf8.count), piece.allSatisfy({ $0.isASCII && $0.isHexDigit }) else { return nil }
                    count += 1
                }
            }
            return count
        }
        if let gap = address.firstRange(of: "::") {
            let head = address[..<gap.lowerBound]
            let tail = address[gap.upperBound...]
            guard !tail.contains("::"), let h = groups(head, last: false), let t = groups(tail, last: true) else { return false }
            return h + t <= 7
        }
        return groups(address, last: true) == 8
    }

    /// Whether `text` is a dotted-quad IPv4 address.
    static func isIPv4(_ text: Substring) -> Bool {
        let parts = text.split(separator: ".", omittingEmptySubsequences: false)
        return parts.count == 4 && parts.allSatisfy { part in
            (1...3).contains(part.utf8.count) && part.utf8.allSatisfy { $0 >= 0x30 && $0 <= 0x39 } && Int(part)! <= 255
        }
    }
}
