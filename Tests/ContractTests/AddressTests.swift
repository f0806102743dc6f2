import Contract
import Testing

@Suite("receiver addresses")
struct AddressTests {
    @Test("host:port, [v6]:port, IP literals on the default port, and bare names for SRV", arguments: [
        ("logs.example.com:514", Address(host: "logs.example.com", port: 514)),
        ("127.0.0.1:5514", Address(host: "127.0.0.1", port: 5514)),
        ("127.0.0.1", Address(host: "127.0.0.1", port: 514)),
        ("[::1]:6514", Address(host: "::1", port: 6514)),
        ("[::1]", Address(host: "::1", port: 514)),
        ("logs:0514", Address(host: "logs", port: 514)),
        ("syslog.service.consul", Address(host: "syslog.service.consul", port: nil)),
        ("_syslog._udp.example.com", Address(host: "_syslog._udp.example.com", port: nil)),
    ])
    func addresses(text: String, expected: Address) throws {
        #expect(try Address(parsing: text) == expected)
    }

    @Test("a bare IPv6 literal is accepted, whole, and takes the default port", arguments: [
        ("::1", "::1"), ("fe80::1", "fe80::1"), ("::", "::"), ("2001:db8::8:800:200c:417a", "2001:db8::8:800:200c:417a"),
        ("1:2:3:4:5:6:7:8", "1:2:3:4:5:6:7:8"), ("::ffff:192.0.2.1", "::ffff:192.0.2.1"), ("fe80::1%eth0", "fe80::1%eth0"),
        // With no brackets, what looks like a port is the literal's last group.
        ("::1:514", "::1:514"),
    ])
    func bareIPv6(text: String, host: String) throws {
        #expect(try Address(parsing: text) == Address(host: host, port: 514))
        #expect(try Address(parsing: text, defaultPort: 6514) == Address(host: host, port: 6514, defaultPort: 6514))
        #expect(try Address(parsing: text).description == "[\(host)]:514")
    }

    @Test("the default port: literals take it at once, names after their SRV lookup")
    func defaultPort() throws {
        #expect(try Address(parsing: "10.0.0.1", defaultPort: 6514).port == 6514)
        let name = try Address(parsing: "logs.example.com", defaultPort: 6514)
        #expect(name.port == nil && name.defaultPort == 6514 && name.description == "logs.example.com")
        #expect(try Address(parsing: "logs:601", defaultPort: 6514).port == 601)
    }

    @Test("bad addresses say why", arguments: [
        ("", "empty address"),
        ("logs 514", "address 'logs 514' is not host:port or a name"),
        ("user@logs", "address 'user@logs' is not host:port or a name"),
        ("logs/x", "address 'logs/x' is not host:port or a name"),
        ("[::1", "address '[::1' lacks its ']'"),
        ("[::1]x", "address '[::1]x': expected ':' after ']'"),
        ("[logs]:514", "address '[logs]:514': brackets are for IPv6 addresses"),
        ("logs:514:1", "address 'logs:514:1': write an IPv6 address in brackets, [::1]:514"),
        ("1:2:3:4:5:6:7:8:9", "address '1:2:3:4:5:6:7:8:9': write an IPv6 address in brackets, [::1]:514"),
        ("fe80::1::2", "address 'fe80::1::2': write an IPv6 address in brackets, [::1]:514"),
        ("12345::1", "address '12345::1': write an IPv6 address in brackets, [::1]:514"),
        ("::1%", "address '::1%': write an IPv6 address in brackets, [::1]:514"),
        ("::256.0.0.1", "address '::256.0.0.1': write an IPv6 address in brackets, [::1]:514"),
        (":514", "address ':514' has no host"),
        ("host:0", "port '0' of 'host:0' is not in 1…65535"),
        ("host:99999", "port '99999' of 'host:99999' is not in 1…65535"),
        ("host:65536", "port '65536' of 'host:65536' is not in 1…65535"),
        ("host:", "port '' of 'host:' is not in 1…65535"),
        ("host:+514", "port '+514' of 'host:+514' is not in 1…65535"),
        ("[::1]:", "port '' of '[::1]:' is not in 1…65535"),
    ])
    func badAddresses(text: String, message: String) {
        #expect(throws: TargetError(message)) { try Address(parsing: text) }
    }
}
