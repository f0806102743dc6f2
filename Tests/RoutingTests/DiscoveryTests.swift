import Contract
import JSON
import Records
import Testing
@testable import Routing

@Suite("deis-logger discovery and options")
struct DiscoveryTests {
    @Test("a route to the discovered address, replaced when it changes; down and back said once each")
    func states() throws {
        var state = DiscoveryState(settings: EtcdSettings(host: "127.0.0.1", port: 4001))
        var (route, messages) = state.apply(.unreachable(reason: "connect to 127.0.0.1:4001 failed: Connection refused"))
        #expect(route == nil)
        #expect(messages == ["etcd at 127.0.0.1:4001 is down (connect to 127.0.0.1:4001 failed: Connection refused); no route from it yet"])
        (route, messages) = state.apply(.unreachable(reason: "again"))
        #expect(route == nil && messages == [])
        (route, messages) = state.apply(.found(host: "logs", port: "514", transport: "udp"))
        #expect(try route == RouteSpec(id: "etcd", target: RouteTarget(addr: "logs:514", transport: .udp, format: .deis)))
        #expect(messages == ["etcd at 127.0.0.1:4001 is back", "etcd at 127.0.0.1:4001: the deis logger is at logs:514 (udp); route etcd set"])
        (route, messages) = state.apply(.found(host: "logs", port: "514", transport: "udp"))
        #expect(route == nil && messages == [])
        (route, messages) = state.apply(.found(host: "logs2", port: "601", transport: "TCP"))
        #expect(try route?.target == RouteTarget(addr: "logs2:601", transport: .tcp, format: .deis))
        (route, messages) = state.apply(.unreachable(reason: "timed out"))
        #expect(route == nil)
        #expect(messages == ["etcd at 127.0.0.1:4001 is down (timed out); keeping route etcd to logs2:601 (tcp)"])
        #expect(state.route?.target.addr == "logs2:601")
        (route, messages) = state.apply(.missing(key: "/deis/logs/host"))
        #expect(route == nil)
        #expect(messages == ["etcd at 127.0.0.1:4001 is back", "etcd at 127.0.0.1:4001: /deis/logs/host is not set; keeping route etcd to logs2:601 (tcp)"])
        (route, messages) = state.apply(.missing(key: "/deis/logs/host"))
        #expect(messages == [])
        (route, messages) = state.apply(.found(host: "logs2", port: "99999", transport: "udp"))
        #expect(route == nil)
        #expect(messages == ["etcd at 127.0.0.1:4001: the deis logger's address is unusable (port '99999' of 'logs2:99999' is not in 1…65535); keeping route etcd to logs2:601 (tcp)"])
        (route, messages) = state.apply(.found(host: "::1", port: "514", transport: "udp"))
        #expect(route?.target.addr == "[::1]:514")
    }

    @Test("options: arguments, ROUTE_URIS, ROUTESPATH, ETCD_*; bad usage")
    func options() throws {
        let env = ["ROUTE_URIS": "syslog://a:1, syslog+tcp://b:2,", "ROUTESPATH": "/tmp/r", "ETCD_HOST": "etcd", "ETCD_PORT": "2379", "ETCD_INTERVAL": "0.5"]
        let o = try RouteOptions.parse(arguments: ["syslog://c:3"], environment: { env[$0] })
        #expect(o.uris == ["syslog://c:3", "syslog://a:1", "syslog+tcp://b:2"])
        #expect(o.routesPath == "/tmp/r")
        #expect(o.etcd == EtcdSettings(host: "etcd", port: 2379, interval: 0.5))
        let defaults = try RouteOptions.parse(arguments: [], environment: { _ in nil })
        #expect(defaults.uris == [] && defaults.routesPath == "/mnt/routes" && defaults.etcd == nil)
        #expect(try RouteOptions.parse(arguments: [], environment: { ["ETCD_HOST": "h"][$0] }).etcd == EtcdSettings(host: "h", port: 4001, interval: 10))
        #expect(throws: RouteError("unknown option '--verbose' (see route --help)")) {
            try RouteOptions.parse(arguments: ["--verbose"], environment: { _ in nil })
        }
        #expect(throws: RouteError("ETCD_PORT 'x' is not a port (1…65535)")) {
            try RouteOptions.parse(arguments: [], environment: { ["ETCD_HOST": "h", "ETCD_PORT": "x"][$0] })
        }
        #expect(throws: RouteError("ETCD_INTERVAL '0' is not a number of seconds (0.1…86400)")) {
            try RouteOptions.parse(arguments: [], environment: { ["ETCD_HOST": "h", "ETCD_INTERVAL": "0"][$0] })
        }
    }

    @Test("route errors: one line per route that is not one; syslog:// is discovery and needs ETCD_HOST; the own executable is skipped")
    func routeErrors() throws {
        let env = ["ROUTE_URIS": "syslog://ok:1,tcp://127.0.0.1:514"]
        let o = try RouteOptions.parse(arguments: ["syslog://a:99999", "syslog://", "syslog+tcp://b:601"], environment: { env[$0] })
        #expect(o.uris == ["syslog://a:99999", "syslog+tcp://b:601", "syslog://ok:1", "tcp://127.0.0.1:514"])
        #expect(o.discoveryURIs == ["syslog://"])
        #expect(o.routeErrors() == [
            "bad route URI 'syslog://a:99999': port '99999' of 'a:99999' is not in 1…65535",
            "bad route URI 'tcp://127.0.0.1:514': unknown scheme 'tcp' (syslog, syslog+udp, syslog+tcp or syslog+tls); for syslog over tcp, say syslog+tcp://",
            "bad route URI 'syslog://': without a host it names the deis logger found through etcd, and ETCD_HOST is not set",
        ])
        // With ETCD_HOST, syslog:// (or syslog:///) is discovery's route: nothing to add, nothing wrong.
        let deis = try RouteOptions.parse(arguments: ["SYSLOG:///"], environment: { ["ETCD_HOST": "etcd"][$0] })
        #expect(deis.uris.isEmpty && deis.discoveryURIs == ["SYSLOG:///"] && deis.routeErrors().isEmpty)
        // Other URIs without a host stay errors.
        #expect(try RouteOptions.parse(arguments: ["syslog+tcp://"], environment: { ["ETCD_HOST": "etcd"][$0] }).routeErrors()
                == ["bad route URI 'syslog+tcp://': no host"])
        // An unresolvable name is no configuration error: DNS may come back.
        #expect(try RouteOptions.parse(arguments: ["syslog://logs.invalid:514"], environment: { _ in nil }).routeErrors().isEmpty)
        // The seed's command form: a first argument naming logspout's own executable is skipped, silently.
        for path in ["/bin/logspout", "/logspout/logspout", "./build/logspout"] {
            #expect(try RouteOptions.uris(arguments: [path, "syslog://a:1"]) == ["syslog://a:1"])
            #expect(try RouteOptions.uris(arguments: ["--check", path]) == [])
        }
        #expect(try RouteOptions.uris(arguments: ["syslog://a:1", "/bin/logspout"]) == ["syslog://a:1", "/bin/logspout"], "only the first")
        #expect(try RouteOptions.uris(arguments: ["logspout", "/bin/logspoutx"]) == ["logspout", "/bin/logspoutx"])
        #expect(try RouteOptions.parse(arguments: ["syslog://a:1", "/bin/logspout"], environment: { _ in nil }).routeErrors()
                == ["bad route URI '/bin/logspout': expected scheme://host:port (syslog, syslog+udp, syslog+tcp or syslog+tls)"])
    }
}
