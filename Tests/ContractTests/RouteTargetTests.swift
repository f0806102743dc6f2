import Contract
import JSON
import Syslog
import Testing

func target(_ text: String) throws -> RouteTarget {
    try RouteTarget(json: try JSONValue.parse(text))
}

@Suite("route targets")
struct RouteTargetTests {
    @Test("a target carries address, protocol, format and append_tag")
    func fields() throws {
        let t = try target(#"{"type":"syslog","addr":"h:1","protocol":"tcp","format":"deis","append_tag":".x"}"#)
        #expect(t.transport == .tcp && t.format == .deis && t.appendTag == ".x")
        #expect(t.addr == "h:1" && t.address == Address(host: "h", port: 1))
        #expect(try target(#"{"type":"syslog","addr":"h:6514","protocol":"tls"}"#).transport == .tls)
        // Without a port, TLS means RFC 5425's 6514: for a literal, and after a name's SRV lookup finds nothing.
        let literal = try target(#"{"type":"syslog","addr":"10.0.0.1","protocol":"tls"}"#)
        #expect(literal.address.port == 6514 && literal.address.description == "10.0.0.1:6514")
        let srv = try target(#"{"type":"syslog","addr":"logs.example.com","protocol":"tls"}"#)
        #expect(srv.address.port == nil && srv.address.defaultPort == 6514)
        #expect(try target(#"{"type":"syslog","addr":"10.0.0.1","protocol":"tcp"}"#).address.port == 514)
        let u = try target(#"{"type":"syslog","addr":"h:1","protocol":null,"format":null,"append_tag":null}"#)
        #expect(u.transport == .udp && u.format == nil && u.appendTag == nil && u.options == [:])
        #expect(u.structuredData == nil && u.multiline == nil)
    }

    @Test("a bare IPv6 literal is an address, on the protocol's default port")
    func bareIPv6() throws {
        let udp = try target(#"{"type":"syslog","addr":"::1"}"#)
        #expect(udp.addr == "::1" && udp.address == Address(host: "::1", port: 514))
        let tls = try target(#"{"type":"syslog","addr":"fe80::1","protocol":"tls"}"#)
        #expect(tls.address == Address(host: "fe80::1", port: 6514, defaultPort: 6514))
        #expect(tls.json().description == #"{"type":"syslog","addr":"fe80::1","protocol":"tls"}"#)
    }

    @Test("the JSON written back: type, addr, protocol, format, append_tag, then the options in order, as given")
    func json() throws {
        let t = try target(#"{"append_tag":".db","structured_data":"[x@1 a=\"b\"]","type":"syslog","tcp_framing":"octet-counted","addr":"l:1","max":1.50,"format":"rfc3164","deep":{"k":[1,null]},"protocol":"tcp"}"#)
        #expect(t.json().description == #"{"type":"syslog","addr":"l:1","protocol":"tcp","format":"rfc3164","append_tag":".db","structured_data":"[x@1 a=\"b\"]","tcp_framing":"octet-counted","max":1.50,"deep":{"k":[1,null]}}"#)
        #expect(try RouteTarget(json: t.json()) == t)
        #expect(t.options["max"] == .number("1.50") && t.options["nothing"] == nil)
        // An option given twice keeps its first place and its last value.
        let twice = try target(#"{"type":"syslog","addr":"l:1","a":"1","b":"2","a":"3"}"#)
        #expect(twice.options == ["a": "3", "b": "2"])
        #expect(twice.json().description == #"{"type":"syslog","addr":"l:1","protocol":"udp","a":"3","b":"2"}"#)
    }

    @Test("typed fields make the target their JSON makes; equality is every field's")
    func typed() throws {
        let typed = try RouteTarget(addr: "logs:601", transport: .tcp, format: .rfc3164, appendTag: ".db",
                                    options: ["structured_data": "x", "multiline": "true"])
        #expect(try typed == target(#"{"type":"syslog","addr":"logs:601","protocol":"tcp","format":"rfc3164","append_tag":".db","structured_data":"x","multiline":"true"}"#))
        #expect(typed.structuredData?.description == "x" && typed.multiline == MultilineOptions())
        #expect(try typed != RouteTarget(addr: "logs:601", transport: .tcp, format: .rfc3164, appendTag: ".db",
                                         options: ["multiline": "true", "structured_data": "x"]))
        #expect(try RouteTarget(addr: "l:1") != RouteTarget(addr: "l:1", transport: .tcp))
        #expect(try RouteTarget(addr: "l:1") != RouteTarget(addr: "l:1", appendTag: ""))
        #expect(try RouteTarget(addr: "l:1") == RouteTarget(addr: "l:1"))
    }

    @Test("URI schemes and gliderlabs adapters name the protocol; multiline+ wraps them")
    func schemes() throws {
        #expect(try TargetProtocol.named("syslog", "scheme") == (.udp, false))
        #expect(try TargetProtocol.named("syslog+udp", "scheme") == (.udp, false))
        #expect(try TargetProtocol.named("syslog+tcp", "scheme") == (.tcp, false))
        #expect(try TargetProtocol.named("syslog+tls", "adapter") == (.tls, false))
        #expect(try TargetProtocol.named("multiline+syslog+tcp", "adapter") == (.tcp, true))
        #expect(throws: TargetError("unknown scheme 'http' (syslog, syslog+udp, syslog+tcp or syslog+tls)")) {
            try TargetProtocol.named("http", "scheme")
        }
        #expect(throws: TargetError("unknown adapter 'raw' (syslog, syslog+udp, syslog+tcp or syslog+tls)")) {
            try TargetProtocol.named("multiline+raw", "adapter")
        }
        #expect(TargetProtocol.allCases.map(\.defaultPort) == [514, 514, 6514])
    }

    @Test("bad targets are refused with a message", arguments: [
        (#"[]"#, #"field "target" must be an object"#),
        (#"{"type":1,"addr":"l:1"}"#, #"field "target.type" must be a string"#),
        (#"{"type":"syslog","addr":7}"#, #"field "target.addr" must be a string"#),
        (#"{"type":"syslog","addr":"l:1","protocol":6}"#, #"field "target.protocol" must be a string"#),
        (#"{"type":"syslog","addr":"l:1","format":true}"#, #"field "target.format" must be a string"#),
        (#"{"type":"syslog","addr":"l:1","append_tag":[]}"#, #"field "target.append_tag" must be a string"#),
        (#"{"addr":"l:1"}"#, #"missing field "target.type""#),
        (#"{"addr":"10.0.0.1","protocol":"tls"}"#, #"missing field "target.type""#),
        (#"{"type":"syslog"}"#, #"missing field "target.addr""#),
        (#"{"type":"syslog","addr":null}"#, #"missing field "target.addr""#),
        (#"{"type":"http","addr":"l:1"}"#, "unknown target type 'http' (only syslog)"),
        (#"{"type":"syslog","addr":""}"#, "empty address"),
        (#"{"type":"syslog","addr":"l:99999"}"#, "port '99999' of 'l:99999' is not in 1…65535"),
        // The address is checked before the protocol.
        (#"{"type":"syslog","addr":"[::1","protocol":"dtls"}"#, "address '[::1' lacks its ']'"),
        (#"{"type":"syslog","addr":"l:1","protocol":"dtls"}"#, "protocol 'dtls' is not supported (udp, tcp or tls)"),
        (#"{"type":"syslog","addr":"l:1","protocol":"TLS"}"#, "protocol 'TLS' is not supported (udp, tcp or tls)"),
        (#"{"type":"syslog","addr":"l:1","format":"gelf"}"#, "unknown format 'gelf' (rfc5424, rfc3164 or deis)"),
        (#"{"type":"syslog","addr":"l:1","format":""}"#, "unknown format '' (rfc5424, rfc3164 or deis)"),
        (#"{"type":"syslog","addr":"l:1","multiline":"yes"}"#, "multiline must be true or false"),
        (#"{"type":"syslog","addr":"l:1","multiline.match":1}"#, "multiline.match must be a string"),
        (#"{"type":"syslog","addr":"l:1","multiline.size":"9"}"#, "unknown option multiline.size (pattern, match, flush_after, separator)"),
        (#"{"type":"syslog","addr":"l:1","multiline.match":"middle"}"#, "multiline match 'middle' is not one of first, last, nonfirst, nonlast"),
        (#"{"type":"syslog","addr":"l:1","multiline.flush_after":"soon"}"#, "multiline flush_after 'soon' must be a whole number of milliseconds from 1 to 3600000"),
        (#"{"type":"syslog","addr":"l:1","multiline.flush_after":"0"}"#, "multiline flush_after '0' must be a whole number of milliseconds from 1 to 3600000"),
        (#"{"type":"syslog","addr":"l:1","multiline.pattern":"(unclosed"}"#, "multiline pattern '(unclosed': missing closing ) for the group at offset 0"),
        (#"{"type":"syslog","addr":"l:1","multiline.pattern":"(a)\\1"}"#, #"multiline pattern '(a)\1': backreference \1 is not supported"#),
        (#"{"type":"syslog","addr":"l:1","multiline.pattern":"a{1001}"}"#, "multiline pattern 'a{1001}': repetition count in {1001} is over 1000"),
        (#"{"type":"syslog","addr":"l:1","structured_data":7}"#, "option 'structured_data' must be a string"),
        (#"{"type":"syslog","addr":"l:1","structured_data":"x {{.Source}}"}"#, #"structured_data 'x {{.Source}}': {{.Source}} is not supported here (container fields only: {{.ContainerName}}, {{.Container.Name}}, {{.Container.ID}}, {{.Container.Config.Hostname}}, {{.Container.Config.Image}}, {{.Container.State.Pid}}, {{.Hostname}}, {{index .Container.Config.Labels "key"}})"#),
    ])
    func refusals(json: String, message: String) throws {
        let value = try JSONValue.parse(json)
        #expect(throws: TargetError(message)) { try RouteTarget(json: value) }
    }

    @Test("structured_data is read as a template once; empty is none")
    func structuredData() throws {
        let t = try target(#"{"type":"syslog","addr":"l:1","structured_data":"x@1 n=\"{{.ContainerName}}\""}"#)
        #expect(t.structuredData == (try ContainerTemplate(#"x@1 n="{{.ContainerName}}""#)))
        #expect(try target(#"{"type":"syslog","addr":"l:1","structured_data":""}"#).structuredData == nil)
    }

    @Test("format names are SyslogFormat's")
    func formats() throws {
        for format in SyslogFormat.allCases {
            #expect(try RouteTarget.format(named: format.rawValue) == format)
        }
        #expect(throws: TargetError("unknown format 'json' (rfc5424, rfc3164 or deis)")) { try RouteTarget.format(named: "json") }
    }
}

@Suite("multiline options")
struct MultilineOptionsTests {
    func multiline(_ members: JSONValue) throws -> MultilineOptions? {
        guard case .object(var fields) = members else { return nil }
        fields.insert(contentsOf: [("type", "syslog"), ("addr", "h:1")], at: 0)
        return try RouteTarget(members: fields).multiline
    }

    @Test("multiline=true or any multiline.* option turns joining on; the last of them decides")
    func enabled() throws {
        #expect(try multiline([:]) == nil)
        #expect(try multiline(["multiline": "false"]) == nil)
        #expect(try multiline(["multiline": .bool(false)]) == nil)
        #expect(try multiline(["multiline": "true"]) == MultilineOptions())
        #expect(try multiline(["multiline": .bool(true)]) == MultilineOptions())
        #expect(try multiline(["multiline.match": "first", "multiline": "false"]) == nil)
        #expect(try multiline(["multiline": "false", "multiline.separator": " "]) == MultilineOptions(separator: " "))
        #expect(try multiline(["multiline.pattern": "^x", "multiline.match": "last", "multiline.flush_after": "20",
                               "multiline.separator": "|"])
                == MultilineOptions(pattern: "^x", match: .last, flushAfterMs: 20, separator: "|"))
    }

    @Test("route options, and MULTILINE_* as their defaults")
    func environment() throws {
        let none: (String) -> String? = { _ in nil }
        #expect(try MultilineSpec(MultilineOptions(), environment: none) == MultilineSpec())
        let env = ["MULTILINE_PATTERN": "^x", "MULTILINE_MATCH": "last", "MULTILINE_FLUSH_AFTER": "20", "MULTILINE_SEPARATOR": "|"]
        #expect(try MultilineSpec(MultilineOptions(), environment: { env[$0] })
                == MultilineSpec(pattern: "^x", match: .last, flushAfterMs: 20, separator: "|"))
        #expect(try MultilineSpec(MultilineOptions(match: .first), environment: { env[$0] })
                == MultilineSpec(pattern: "^x", match: .first, flushAfterMs: 20, separator: "|"))
        #expect(try MultilineSpec(MultilineOptions(pattern: "^y", flushAfterMs: 5, separator: " "), environment: { env[$0] })
                == MultilineSpec(pattern: "^y", match: .last, flushAfterMs: 5, separator: " "))
        // Empty variables count as unset.
        #expect(try MultilineSpec(MultilineOptions(), environment: { _ in "" }) == MultilineSpec())
        #expect(MultilineSpec.environment.allSatisfy { env[$0] != nil })
        for (name, value, message) in [
            ("MULTILINE_MATCH", "middle", "multiline match 'middle' is not one of first, last, nonfirst, nonlast"),
            ("MULTILINE_FLUSH_AFTER", "0", "multiline flush_after '0' must be a whole number of milliseconds from 1 to 3600000"),
            ("MULTILINE_PATTERN", "(", "multiline pattern '(': missing closing ) for the group at offset 0"),
        ] {
            #expect(throws: TargetError(message)) { try MultilineSpec(MultilineOptions(), environment: { $0 == name ? value : nil }) }
        }
    }

    @Test("specs compare by their settings; the matcher holds the compiled pattern")
    func matcher() throws {
        #expect(try MultilineSpec(pattern: "^x") == MultilineSpec(pattern: "^x"))
        #expect(try MultilineSpec(pattern: "^x") != MultilineSpec(pattern: "^x", separator: " "))
        let matcher = try MultilineMatcher(MultilineSpec(pattern: #"^\d"#, match: .first, flushAfterMs: 7, separator: "|"))
        #expect(matcher.matches("1 a") && !matcher.matches("a 1"))
        #expect(matcher.match == .first && matcher.flushAfterMs == 7 && matcher.separator == "|")
        #expect(throws: TargetError("multiline pattern '[': missing closing ] in [")) { try MultilineSpec(pattern: "[") }
        // Matched in time linear in the line (a backtracking engine takes minutes on this one), and Sendable.
        let evil: any Sendable = try MultilineMatcher(MultilineSpec(pattern: "^(a+)+$"))
        #expect((evil as? MultilineMatcher)?.matches(String(repeating: "a", count: 30) + "!") == false)
    }
}
