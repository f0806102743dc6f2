import Contract
import JSON
import Records
import Testing
@testable import Routing

@Suite("route URIs")
struct RouteURITests {
    @Test("the schemes give the protocol; the id is stable and 12 hex digits")
    func schemes() throws {
        let udp = try RouteSpec(uri: "syslog://logs.example.com:514")
        #expect(try udp.target == RouteTarget(addr: "logs.example.com:514", transport: .udp))
        #expect(udp.source.isEmpty)
        #expect(try RouteSpec(uri: "syslog+udp://10.0.0.1:514").target.transport == .udp)
        #expect(try RouteSpec(uri: "syslog+tcp://10.0.0.1:601").target.transport == .tcp)
        #expect(try RouteSpec(uri: "SYSLOG+TCP://10.0.0.1:601/").target.transport == .tcp)
        #expect(try RouteSpec(uri: "syslog+tls://logs:6514").target == RouteTarget(addr: "logs:6514", transport: .tls))
        #expect(udp.id == RouteSpec.stableID("syslog://logs.example.com:514"))
        #expect(udp.id.count == 12 && udp.id.allSatisfy { $0.isHexDigit && !$0.isUppercase })
        #expect(try RouteSpec(uri: "syslog://logs.example.com:514").id == udp.id)
        #expect(try RouteSpec(uri: "syslog://logs.example.com:515").id != udp.id)
        // FNV-1a 64 of "a" is af63dc4c8601ec8c.
        #expect(RouteSpec.stableID("a") == "af63dc4c8601")
    }

    @Test("addresses: host:port, IPv6 in brackets, a bare IP literal on the default port, a bare name for DNS SRV")
    func addresses() throws {
        #expect(try RouteSpec(uri: "syslog://[::1]:514").target.addr == "[::1]:514")
        #expect(try RouteSpec(uri: "syslog://::1").target.addr == "::1")
        #expect(try RouteSpec(uri: "syslog://::1").target.address == Address(host: "::1", port: 514))
        #expect(try RouteSpec(uri: "syslog+tcp://fe80::1").target.address == Address(host: "fe80::1", port: 514))
        #expect(try RouteSpec(uri: "syslog+tls://fe80::1").target.address == Address(host: "fe80::1", port: 6514, defaultPort: 6514))
        // A bare IPv6 literal is the whole host: a port goes with brackets.
        #expect(try RouteSpec(uri: "syslog://::1:514").target.address == Address(host: "::1:514", port: 514))
        #expect(try RouteSpec(uri: "syslog://_syslog._udp.example.com").target.addr == "_syslog._udp.example.com")
        #expect(try RouteSpec(uri: "syslog://logs").target.addr == "logs")
    }

    @Test("every query option")
    func options() throws {
        let r = try RouteSpec(uri: "syslog+tcp://logs:601?filter.name=*_db&filter.id=3631c027&filter.sources=stderr&filter.labels=team:db,prod&append_tag=.db&format=rfc3164&structured_data=a%20b+c&tls_ca=")
        #expect(r.source == RouteSource(glob: "*_db", id: "3631c027", types: [.stderr],
                                        labels: [LabelFilter(key: "team", value: "db"), LabelFilter(key: "prod")]))
        #expect(r.target.appendTag == ".db")
        #expect(r.target.format == .rfc3164)
        #expect(r.target.json() == [
            "type": "syslog", "addr": "logs:601", "protocol": "tcp", "format": "rfc3164", "append_tag": ".db",
            "structured_data": "a b c", "tls_ca": "",
        ])
    }

    @Test("multiline: gliderlabs' multiline+ prefix and multiline.* options reach the target; bad ones are refused")
    func multiline() throws {
        let r = try RouteSpec(uri: "multiline+syslog+tcp://logs:601?multiline.match=first&multiline.pattern=%5E%5Cd")
        #expect(r.target.transport == .tcp)
        #expect(r.target.json() == ["type": "syslog", "addr": "logs:601", "protocol": "tcp", "multiline": "true",
                                    "multiline.match": "first", "multiline.pattern": #"^\d"#])
        #expect(try RouteSpec(uri: "syslog://l:1?multiline=true").target.json()["multiline"] == "true")
        #expect(throws: RouteError("bad route URI 'syslog://l:1?multiline.match=middle': multiline match 'middle' is not one of first, last, nonfirst, nonlast")) {
            try RouteSpec(uri: "syslog://l:1?multiline.match=middle")
        }
        #expect(throws: RouteError("bad route URI 'multiline+syslog://l:1?multiline.pattern=(': multiline pattern '(': missing closing ) for the group at offset 0")) {
            try RouteSpec(uri: "multiline+syslog://l:1?multiline.pattern=(")
        }
    }

    @Test("filter.name: a glob when it has * or ?, else the exact name")
    func nameOrGlob() throws {
        #expect(try RouteSpec(uri: "syslog://l:1?filter.name=web").source == RouteSource(name: "web"))
        #expect(try RouteSpec(uri: "syslog://l:1?filter.name=web?").source == RouteSource(glob: "web?"))
        #expect(try RouteSpec(uri: "syslog://l:1?filter.name=%2Aweb").source == RouteSource(glob: "*web"))
        #expect(try RouteSpec(uri: "syslog://l:1?filter.name=").source.isEmpty)
    }

    @Test("filter.sources: stdout, stderr or both; duplicates kept once")
    func sources() throws {
        #expect(try RouteSpec(uri: "syslog://l:1?filter.sources=stdout,stderr,stdout").source.types == [.stdout, .stderr])
        #expect(try RouteSpec(uri: "syslog://l:1?filter.sources=%20stdout%20").source.types == [.stdout])
    }

    @Test("bad URIs: one clear message naming the URI", arguments: [
        ("logs:514", "bad route URI 'logs:514': expected scheme://host:port (syslog, syslog+udp, syslog+tcp or syslog+tls)"),
        ("syslog://l:1?structured_data=%7B%7B.Data%7D%7D", "bad route URI 'syslog://l:1?structured_data=%7B%7B.Data%7D%7D': structured_data '{{.Data}}': {{.Data}} is not supported here (container fields only: {{.ContainerName}}, {{.Container.Name}}, {{.Container.ID}}, {{.Container.Config.Hostname}}, {{.Container.Config.Image}}, {{.Container.State.Pid}}, {{.Hostname}}, {{index .Container.Config.Labels \"key\"}})"),
        ("http://logs:514", "bad route URI 'http://logs:514': unknown scheme 'http' (syslog, syslog+udp, syslog+tcp or syslog+tls)"),
        ("syslog://", "bad route URI 'syslog://': no host"),
        ("syslog://:514", "bad route URI 'syslog://:514': address ':514' has no host"),
        ("syslog://logs:0", "bad route URI 'syslog://logs:0': port '0' of 'logs:0' is not in 1…65535"),
        ("syslog://logs:99999", "bad route URI 'syslog://logs:99999': port '99999' of 'logs:99999' is not in 1…65535"),
        ("syslog://logs:", "bad route URI 'syslog://logs:': port '' of 'logs:' is not in 1…65535"),
        ("syslog://logs:514:1", "bad route URI 'syslog://logs:514:1': address 'logs:514:1': write an IPv6 address in brackets, [::1]:514"),
        ("syslog://fe80::1::2", "bad route URI 'syslog://fe80::1::2': address 'fe80::1::2': write an IPv6 address in brackets, [::1]:514"),
        ("syslog://[::1:514", "bad route URI 'syslog://[::1:514': address '[::1:514' lacks its ']'"),
        ("syslog://logs:514/path", "bad route URI 'syslog://logs:514/path': unexpected path '/path'"),
        ("syslog://user@logs:514", "bad route URI 'syslog://user@logs:514': a route URI has no user@"),
        ("syslog://logs:514#x", "bad route URI 'syslog://logs:514#x': a route URI has no #fragment"),
        ("syslog://logs:514?filter.sources=stdin", "bad route URI 'syslog://logs:514?filter.sources=stdin': filter.sources: 'stdin' is not stdout or stderr"),
        ("syslog://logs:514?filter.labels=:x", "bad route URI 'syslog://logs:514?filter.labels=:x': filter.labels: label filter ':x' has no key"),
        ("syslog://logs:514?format=json", "bad route URI 'syslog://logs:514?format=json': unknown format 'json' (rfc5424, rfc3164 or deis)"),
        ("syslog://logs:514?filter.image=x", "bad route URI 'syslog://logs:514?filter.image=x': unknown filter 'filter.image' (filter.name, filter.id, filter.sources, filter.labels)"),
        ("syslog://logs:514?protocol=tcp", "bad route URI 'syslog://logs:514?protocol=tcp': option 'protocol' is set by the URI itself (scheme://host:port)"),
        ("syslog://logs:514?append_tag=%zz", "bad route URI 'syslog://logs:514?append_tag=%zz': bad %-escape in '%zz'"),
        ("syslog://logs:514?=x", "bad route URI 'syslog://logs:514?=x': an option without a name"),
    ])
    func bad(uri: String, message: String) {
        #expect(throws: RouteError(message)) { try RouteSpec(uri: uri) }
    }
}
