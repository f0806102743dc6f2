// The built `route` on files and FIFOs of records: exact output for each matcher and option, malformed
// lines, the routes folder and SIGHUP, SIGTERM, a closed stdout, and deis-logger discovery against a
// real etcd (scripts/etcd.sh). No Docker engine needed.

#if canImport(Glibc)
import Glibc
#endif
import JSON
import Records
import Syscall
import Testing

/// The route executable.
let routeBinary = Env.binDir + "/route"

/// Three containers, each with a stdout and a stderr line: the input of the matcher tests.
enum RouteInput {
    static let webID = String(repeating: "a1", count: 32)
    static let dbID = String(repeating: "b2", count: 32)
    static let cacheID = String(repeating: "c3", count: 32)
    static let containers = [
        #"{"id":"\#(webID)","name":"web","image":"nginx:1.27","hostname":"a1a1a1a1a1a1","pid":10,"labels":{"team":"web"}}"#,
        #"{"id":"\#(dbID)","name":"orders_db","image":"postgres:17","hostname":"b2b2b2b2b2b2","pid":20,"labels":{"team":"db","tier":"backend"}}"#,
        #"{"id":"\#(cacheID)","name":"cache","image":"redis:7","hostname":"c3c3c3c3c3c3","pid":30,"labels":{}}"#,
    ]
    /// (container index, source, line)
    static let lines: [(Int, String, String)] = {
        var result: [(Int, String, String)] = []
        var n = 0
        for (i, c) in containers.enumerated() {
            for source in ["stdout", "stderr"] {
                n += 1
                result.append((i, source, #"{"time":"2026-11-24T20:42:17.00000000\#(n)Z","source":"\#(source)","data":"line \#(n) \"quoted\" é","container":\#(c)}"#))
            }
        }
        return result
    }()
    static var text: String { lines.map { $0.2 + "\n" }.joined() }
}

/// 12 hex digits of the 64-bit FNV-1a hash of a URI: the id route gives a route from its arguments.
func routeStableID(_ uri: String) -> String {
    var h: UInt64 = 0xcbf2_9ce4_8422_2325
    for b in uri.utf8 {
        h ^= UInt64(b)
        h = h &* 0x0000_0100_0000_01B3
    }
    let hex = String(h, radix: 16)
    return String((String(repeating: "0", count: 16 - hex.count) + hex).prefix(12))
}

/// `line` routed by route `id` to `target` (compact JSON text).
func routedLine(_ line: String, id: String, target: String) -> String {
    String(line.dropLast()) + #","route":{"id":"\#(id)","target":\#(target)}}"# + "\n"
}

/// Writes `text` to a fresh file; returns its path.
func routeTempFile(_ text: String, name: String = "input.ndjson") -> String {
    let path = Env.tempDir() + "/" + name
    routeWriteFile(path, text)
    return path
}

func routeWriteFile(_ path: String, _ text: String) {
    let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
    _ = try? Sys.writeAll(fd, Array(text.utf8))
    close(fd)
}

/// A FIFO the test writes into, as a child's standard input: opened read-write first, so the child's
/// open does not block, and so the child sees the end of its input only when `close()` is called.
final class RouteFeeder {
    let path: String
    private var fd: Int32

    init() throws {
        path = Env.tempDir() + "/input.fifo"
        guard mkfifo(path, 0o600) == 0 else { throw TestFailure("mkfifo \(path): \(Errno.current)") }
        fd = open(path, O_RDWR | O_CLOEXEC)
        guard fd >= 0 else { throw TestFailure("open \(path): \(Errno.current)") }
    }

    func write(_ text: String) {
        _ = try? Sys.writeAll(fd, Array(text.utf8))
    }

    func close() {
        if fd >= 0 { Glibc.close(fd) }
        fd = -1
    }

    deinit { close() }
}

/// Runs route on `input` (a file) with `args`; returns its status, stdout and stderr.
func runRoute(_ args: [String], input: String, env: [String: String] = [:]) throws -> (status: Int32, stdout: String, stderr: String) {
    var e = env
    if e["ROUTESPATH"] == nil { e["ROUTESPATH"] = "/nonexistent/routes" }
    let child = try Child([routeBinary] + args, env: e, stdin: routeTempFile(input))
    guard let status = child.wait(timeoutMs: 20_000) else {
        child.signal(SIGKILL)
        throw TestFailure("route did not finish")
    }
    return (status, String(decoding: child.stdout, as: UTF8.self), child.stderr)
}

/// Runs `scripts/etcd.sh COMMAND`; throws with its output when it fails.
func routeEtcdScript(_ command: String) throws {
    let r = try run(["/bin/bash", Env.repoRoot + "/scripts/etcd.sh", command], timeoutMs: 300_000)
    guard r.status == 0 else { throw TestFailure("scripts/etcd.sh \(command) failed (\(r.status)): \(r.stderr)") }
}

/// How many reads etcd answered (its v2 store statistics: `getsSuccess`).
func routeEtcdGets() throws -> Int {
    let r = try run(["/usr/bin/curl", "-fsS", "http://127.0.0.1:4001/v2/stats/store"], timeoutMs: 10_000)
    guard r.status == 0, let gets = try JSONValue.parse(r.stdout)["getsSuccess"]?.int else {
        throw TestFailure("etcd's store statistics: \(r.stdout) \(r.stderr)")
    }
    return gets
}

/// Stands in for etcd on its port while it is stopped.
enum RouteEtcdStandIn {
    /// Listens on 127.0.0.1:4001 and hangs up on `connections` connections, one after the other.
    static func hangingUp(connections: Int) throws {
        let listener = try Sys.listenTCP(host: "127.0.0.1", port: 4001)
        defer { Sys.close(listener) }
        try Sys.setNonBlocking(listener, false)
        for _ in 0..<connections {
            guard try Sys.poll(listener, events: Int16(POLLIN), timeout: 15_000) else {
                throw TestFailure("route did not read etcd again within 15 s")
            }
            let fd = accept(listener, nil, nil)
            if fd >= 0 { close(fd) }
        }
    }
}

/// Sets (or, with nil, deletes) an etcd v2 key with curl.
func routeEtcdSet(_ key: String, _ value: String?) throws {
    let url = "http://127.0.0.1:4001/v2/keys" + key
    let args = value.map { ["/usr/bin/curl", "-fsS", "-XPUT", url, "--data-urlencode", "value=\($0)"] }
        ?? ["/usr/bin/curl", "-sS", "-XDELETE", url]
    let r = try run(args, timeoutMs: 10_000)
    guard r.status == 0 else { throw TestFailure("curl \(args.joined(separator: " ")) failed: \(r.stderr)") }
}

@Suite("route end-to-end", .serialized)
struct RouteEndToEndTests {
    @Test("--help prints usage and exits 0; bad usage exits 64, a bad environment value 78, with one line")
    func usage() throws {
        let help = try run([routeBinary, "--help"])
        #expect(help.status == 0)
        #expect(help.stdout.hasPrefix("usage: route [--check] [ROUTE-URI...]"))
        let bad = try run([routeBinary, "--bogus"])
        #expect(bad.status == 64)
        #expect(bad.stderr == "route: unknown option '--bogus' (see route --help)\n")
        let badPort = try run([routeBinary], env: ["ETCD_HOST": "127.0.0.1", "ETCD_PORT": "http"])
        #expect(badPort.status == 78)
        #expect(badPort.stderr == "route: ETCD_PORT 'http' is not a port (1…65535)\n")
        let badReady = try run([routeBinary, "--ready-fd", "0"])
        #expect(badReady.status == 64)
        #expect(badReady.stderr == "route: --ready-fd needs a descriptor number from 3 up\n")
    }

    /// (URI, which (container, source) it takes, the target JSON it carries)
    static let cases: [(String, @Sendable (Int, String) -> Bool, String)] = [
        ("syslog://127.0.0.1:514", { _, _ in true }, #"{"type":"syslog","addr":"127.0.0.1:514","protocol":"udp"}"#),
        ("syslog+udp://127.0.0.1:514", { _, _ in true }, #"{"type":"syslog","addr":"127.0.0.1:514","protocol":"udp"}"#),
        ("syslog+tcp://logs.example.com:601?filter.name=orders_db", { c, _ in c == 1 }, #"{"type":"syslog","addr":"logs.example.com:601","protocol":"tcp"}"#),
        ("syslog://l:514?filter.name=orders", { _, _ in false }, #"{}"#),
        ("syslog://l:514?filter.name=*_db", { c, _ in c == 1 }, #"{"type":"syslog","addr":"l:514","protocol":"udp"}"#),
        ("syslog://l:514?filter.name=we%3F", { c, _ in c == 0 }, #"{"type":"syslog","addr":"l:514","protocol":"udp"}"#),
        ("syslog://l:514?filter.id=a1a1a1a1a1a1", { c, _ in c == 0 }, #"{"type":"syslog","addr":"l:514","protocol":"udp"}"#),
        ("syslog://l:514?filter.id=\(RouteInput.cacheID)", { c, _ in c == 2 }, #"{"type":"syslog","addr":"l:514","protocol":"udp"}"#),
        ("syslog://l:514?filter.sources=stderr", { _, s in s == "stderr" }, #"{"type":"syslog","addr":"l:514","protocol":"udp"}"#),
        ("syslog://l:514?filter.sources=stdout,stderr", { _, _ in true }, #"{"type":"syslog","addr":"l:514","protocol":"udp"}"#),
        ("syslog://l:514?filter.labels=team:db", { c, _ in c == 1 }, #"{"type":"syslog","addr":"l:514","protocol":"udp"}"#),
        ("syslog://l:514?filter.labels=team", { c, _ in c < 2 }, #"{"type":"syslog","addr":"l:514","protocol":"udp"}"#),
        ("syslog://l:514?filter.labels=team:db,tier:frontend", { _, _ in false }, #"{}"#),
        ("syslog://l:514?filter.name=*_db&filter.sources=stdout&filter.labels=tier:backend", { c, s in c == 1 && s == "stdout" },
         #"{"type":"syslog","addr":"l:514","protocol":"udp"}"#),
        ("syslog+udp://[::1]:514?append_tag=.app&format=rfc3164&structured_data=%5Bx%401%5D&tcp_framing=octet-counted", { _, _ in true },
         #"{"type":"syslog","addr":"[::1]:514","protocol":"udp","format":"rfc3164","append_tag":".app","structured_data":"[x@1]","tcp_framing":"octet-counted"}"#),
        ("syslog://_syslog._udp.example.com?format=deis&append_tag=", { _, _ in true },
         #"{"type":"syslog","addr":"_syslog._udp.example.com","protocol":"udp","format":"deis","append_tag":""}"#),
    ]

    @Test("exact output for each matcher and option")
    func matchers() throws {
        for (uri, takes, target) in Self.cases {
            let r = try runRoute([uri], input: RouteInput.text)
            let expected = RouteInput.lines.filter { takes($0.0, $0.1) }.map { routedLine($0.2, id: routeStableID(uri), target: target) }.joined()
            #expect(r.status == 0, "\(uri)")
            #expect(r.stderr == "", "\(uri)")
            #expect(r.stdout == expected, "\(uri)")
        }
    }

    @Test("a bad route stops route at start: one line per bad route, exit 78, nothing read or written; --check says the same")
    func badRoutes() throws {
        let a = "syslog://a:514?filter.sources=stderr"
        let errors = """
            route: bad route URI 'syslog://b:99999': port '99999' of 'b:99999' is not in 1…65535
            route: bad route URI 'udp://x:1': unknown scheme 'udp' (syslog, syslog+udp, syslog+tcp or syslog+tls); for syslog over udp, say syslog+udp://

            """
        let r = try runRoute([a, "syslog://b:99999"], input: RouteInput.text, env: ["ROUTE_URIS": "syslog://ok:1,udp://x:1"])
        #expect(r.status == 78)
        #expect(r.stdout == "")
        #expect(r.stderr == errors)
        let check = try run([routeBinary, "--check", a, "syslog://b:99999"], env: ["ROUTE_URIS": "syslog://ok:1,udp://x:1"])
        #expect(check.status == 78 && check.stdout == "" && check.stderr == errors)
        let fine = try run([routeBinary, "--check", "/bin/logspout", a], env: ["ROUTE_URIS": "syslog://ok:1"])
        #expect(fine.status == 0 && fine.stdout == "" && fine.stderr == "")
    }

    @Test("several routes: one routed record per matching route, arguments then ROUTE_URIS")
    func severalRoutes() throws {
        let a = "syslog://a:514?filter.sources=stderr"
        let b = "syslog+tcp://b:601?filter.name=web"
        let r = try runRoute(["/logspout/logspout", a], input: RouteInput.text, env: ["ROUTE_URIS": b])
        #expect(r.status == 0)
        #expect(r.stderr == "")
        var expected = ""
        for (c, source, line) in RouteInput.lines {
            if source == "stderr" { expected += routedLine(line, id: routeStableID(a), target: #"{"type":"syslog","addr":"a:514","protocol":"udp"}"#) }
            if c == 0 { expected += routedLine(line, id: routeStableID(b), target: #"{"type":"syslog","addr":"b:601","protocol":"tcp"}"#) }
        }
        #expect(r.stdout == expected)
        // Every routed record is a record, with its route.
        let records = r.stdout.split(separator: "\n").compactMap { try? RecordCodec.decode(line: Array($0.utf8)) }
        #expect(records.count == 5)
        #expect(records.allSatisfy { $0.route != nil })
    }

    @Test("with no route at all, route reads everything, writes nothing, and says so once")
    func noRoutes() throws {
        let r = try runRoute([], input: RouteInput.text)
        #expect(r.status == 0)
        #expect(r.stdout == "")
        #expect(r.stderr == "route: no routes yet: records are read and dropped until a route is added\n")
    }

    @Test("malformed lines are reported with their line numbers and skipped; the rest is delivered")
    func malformed() throws {
        let uri = "syslog://l:514"
        let good = RouteInput.lines.map(\.2)
        let input = [good[0], #"{"time":"t","source":"stdout","data":"x","container":{"id":"a",}}"#, good[1], "not json", good[2], "",
                     #"{"time":"t","source":"stdin","data":"x","container":{"id":"a"}}"#, good[3], #"{"time":"t""#, good[4]].joined(separator: "\n") + "\n" + good[5]
        let r = try runRoute([uri], input: input)
        #expect(r.status == 0)
        #expect(r.stderr == """
            route: line 2, column 64: expected '"'
            route: line 4, column 1: expected '{'
            route: line 6, column 1: unexpected end of input, expected '{'
            route: line 7, column 22: field "source" must be "stdout" or "stderr"
            route: line 9, column 12: unexpected end of input, expected ',' or '}'

            """)
        let target = #"{"type":"syslog","addr":"l:514","protocol":"udp"}"#
        #expect(r.stdout == good.map { routedLine($0, id: routeStableID(uri), target: target) }.joined())
    }

    @Test("ROUTESPATH: a corrupt file is reported once, renamed .invalid; SIGHUP after adding a file loads it")
    func routesFolder() throws {
        let folder = Env.tempDir()
        routeWriteFile(folder + "/dbroute.json", #"{"id":"dbroute","source":{"filter":"db","types":["stderr"]},"target":{"type":"syslog","addr":"logs.example.com:514","append_tag":".db","protocol":"tcp","format":"rfc3164"}}"#)
        routeWriteFile(folder + "/broken.json", #"{"id":"broken","target":{"type":"syslog""#)
        routeWriteFile(folder + "/legacy.json", #"{"id":"legacy","adapter":"syslog+tcp","address":"old.example.com:601","filter_name":"web*","filter_sources":["stdout"],"options":{"append_tag":".w"}}"#)
        let feeder = try RouteFeeder()
        let route = try Child([routeBinary], env: ["ROUTESPATH": folder], stdin: feeder.path)
        defer { route.stop() }
        #expect(eventually(timeoutMs: 5000) { route.stderr.contains("broken.json") })
        feeder.write(RouteInput.text)
        let db = #"{"type":"syslog","addr":"logs.example.com:514","protocol":"tcp","format":"rfc3164","append_tag":".db"}"#
        let legacy = #"{"type":"syslog","addr":"old.example.com:601","protocol":"tcp","append_tag":".w"}"#
        let lines = RouteInput.lines.map(\.2)
        let first = routedLine(lines[0], id: "legacy", target: legacy) + routedLine(lines[3], id: "dbroute", target: db)
        #expect(eventually(timeoutMs: 5000) { String(decoding: route.stdout, as: UTF8.self) == first })

        routeWriteFile(folder + "/all.json", #"{"id":"all","target":{"type":"syslog","addr":"all.example.com:514"}}"#)
        route.signal(SIGHUP)
        #expect(eventually(timeoutMs: 5000) { route.stderr.contains("reloaded") })
        feeder.write(lines[0] + "\n")
        let all = #"{"type":"syslog","addr":"all.example.com:514","protocol":"udp"}"#
        let second = first + routedLine(lines[0], id: "all", target: all) + routedLine(lines[0], id: "legacy", target: legacy)
        #expect(eventually(timeoutMs: 5000) { String(decoding: route.stdout, as: UTF8.self) == second })
        feeder.close()
        #expect(route.wait() == 0)
        #expect(route.stderr == """
            route: \(folder)/broken.json: not JSON: line 1, column 41: unexpected end of input, expected ',' or '}'; renamed to broken.json.invalid
            route: reloaded 3 routes from \(folder); 3 in all

            """)
        #expect(Sys.exists(folder + "/broken.json.invalid") && !Sys.exists(folder + "/broken.json"))
    }

    @Test("SIGTERM means finish: input written after the signal still comes out, then exit 0")
    func sigtermFinishes() throws {
        let uri = "syslog://l:514"
        let feeder = try RouteFeeder()
        let route = try Child([routeBinary, "--ready-fd", String(Child.readyFD), uri], env: ["ROUTESPATH": "/nonexistent/routes"],
                              stdin: feeder.path, readiness: true)
        defer { route.stop() }
        try route.waitReady()
        let line = RouteInput.lines[0].2
        func routedCount() -> Int { route.stdout.reduce(0) { $0 + ($1 == 10 ? 1 : 0) } }
        for _ in 0..<500 { feeder.write(line + "\n") }
        #expect(eventually(timeoutMs: 5000) { route.stdout.count > 0 })
        route.signal(SIGTERM)
        // Input written after the signal comes out: route woke up with the signal pending, and went on.
        for _ in 0..<500 { feeder.write(line + "\n") }
        #expect(eventually(timeoutMs: 5000) { routedCount() == 1000 })
        #expect(route.wait(timeoutMs: 0) == nil, "route must not exit before the end of its input")
        route.signal(SIGINT)
        for _ in 0..<500 { feeder.write(line + "\n") }
        feeder.close()
        #expect(route.wait() == 0)
        let target = #"{"type":"syslog","addr":"l:514","protocol":"udp"}"#
        #expect(String(decoding: route.stdout, as: UTF8.self) == String(repeating: routedLine(line, id: routeStableID(uri), target: target), count: 1500))
        #expect(route.stderr == "")
    }

    @Test("a closed standard output ends route quietly, exit 0")
    func closedOutput() throws {
        let folder = Env.tempDir()
        let fifo = folder + "/out.fifo"
        #expect(mkfifo(fifo, 0o600) == 0)
        let reader = open(fifo, O_RDWR | O_CLOEXEC)
        defer { if reader >= 0 { close(reader) } }
        let input = routeTempFile(String(repeating: RouteInput.text, count: 2000))
        // stdout: the FIFO (the Child's stdout file is replaced through a shell redirection).
        let child = try Child(["/bin/sh", "-c", "exec \(routeBinary) syslog://l:514 > \(fifo)"], env: ["ROUTESPATH": "/nonexistent/routes"], stdin: input)
        var buf = [UInt8](repeating: 0, count: 4096)
        _ = buf.withUnsafeMutableBytes { read(reader, $0.baseAddress, $0.count) }
        close(reader)
        #expect(child.wait() == 0)
        #expect(child.stderr == "")
    }

    @Test("a failing standard output (/dev/full) is one line and exit 74")
    func failingOutput() throws {
        let input = routeTempFile(RouteInput.text)
        let child = try Child(["/bin/sh", "-c", "exec \(routeBinary) syslog://l:514 > /dev/full"], env: ["ROUTESPATH": "/nonexistent/routes"], stdin: input)
        #expect(child.wait() == 74)
        #expect(child.stderr == "route: standard output: write failed: No space left on device\n")
    }

    @Test("deis-logger discovery against a real etcd: route etcd, replaced on change, kept while etcd is down")
    func etcdDiscovery() throws {
        try routeEtcdScript("start")
        try routeEtcdSet("/deis/logs/host", "10.1.2.3")
        try routeEtcdSet("/deis/logs/port", "5514")
        try routeEtcdSet("/deis/logs/protocol", nil)
        let feeder = try RouteFeeder()
        // The seed's command: its own path, then syslog:// (no host: the deis logger, found through etcd).
        let route = try Child([routeBinary, "--ready-fd", String(Child.readyFD), "/bin/logspout", "syslog://"],
                              env: ["ROUTESPATH": "/nonexistent/routes", "ETCD_HOST": "127.0.0.1", "ETCD_PORT": "4001", "ETCD_INTERVAL": "1"],
                              stdin: feeder.path, readiness: true)
        defer {
            route.stop()
            try? routeEtcdScript("start")
        }
        // Ready once etcd's first answer gave it its route.
        try route.waitReady()
        #expect(route.stderr.hasPrefix("route: etcd at 127.0.0.1:4001: the deis logger is at 10.1.2.3:5514 (udp); route etcd set\n"))
        func routes() -> [Route] { route.records().compactMap(\.route) }
        func deis(_ addr: String, _ transport: String = "udp") -> Route {
            Route(id: "etcd", target: ["type": "syslog", "addr": .string(addr), "protocol": .string(transport), "format": "deis"])
        }
        let line = RouteInput.lines[0].2 + "\n"
        feeder.write(line)
        #expect(eventually(timeoutMs: 10_000) { routes() == [deis("10.1.2.3:5514")] })

        // A new address: later records go there.
        try routeEtcdSet("/deis/logs/host", "10.9.9.9")
        try routeEtcdSet("/deis/logs/protocol", "tcp")
        #expect(eventually(timeoutMs: 10_000) { route.stderr.contains("10.9.9.9:5514 (tcp)") })
        feeder.write(line)
        #expect(eventually(timeoutMs: 5000) { routes() == [deis("10.1.2.3:5514"), deis("10.9.9.9:5514", "tcp")] })

        // etcd down: one line, and the last route is kept.
        try routeEtcdScript("stop")
        #expect(eventually(timeoutMs: 15_000) { route.stderr.contains("is down") })
        // Two more reads while it is down: something on etcd's port that hangs up on every connection
        // (each read of etcd starts with a connection).
        try RouteEtcdStandIn.hangingUp(connections: 2)
        feeder.write(line)
        #expect(eventually(timeoutMs: 5000) { routes().count == 3 })
        #expect(routes().last == deis("10.9.9.9:5514", "tcp"))
        #expect(route.stderr.routeCount("is down") == 1)

        // etcd back: one line, however many reads come after it (two here: 3 keys each, counted by etcd).
        try routeEtcdScript("start")
        #expect(eventually(timeoutMs: 15_000) { route.stderr.contains("is back") })
        let reads = try routeEtcdGets()
        #expect(try eventually(timeoutMs: 15_000) { try routeEtcdGets() >= reads + 6 })
        #expect(route.stderr.routeCount("is back") == 1)
        #expect(route.stderr.routeCount("is down") == 1)
        feeder.close()
        #expect(route.wait() == 0)
        let lines = route.stderr.split(separator: "\n").map(String.init)
        #expect(lines.first == "route: etcd at 127.0.0.1:4001: the deis logger is at 10.1.2.3:5514 (udp); route etcd set")
        #expect(lines.contains("route: etcd at 127.0.0.1:4001: the deis logger is at 10.9.9.9:5514 (tcp); route etcd set"))
        #expect(lines.contains { $0.hasPrefix("route: etcd at 127.0.0.1:4001 is down (") && $0.hasSuffix("); keeping route etcd to 10.9.9.9:5514 (tcp)") })
        #expect(lines.last == "route: etcd at 127.0.0.1:4001 is back")
    }
}

extension String {
    /// How many times `part` occurs.
    func routeCount(_ part: String) -> Int {
        var count = 0
        var rest = Substring(self)
        while let r = rest.firstRange(of: part) {
            count += 1
            rest = rest[r.upperBound...]
        }
        return count
    }
}
