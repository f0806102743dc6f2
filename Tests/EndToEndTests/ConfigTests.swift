// Configuration errors stop the start: supervisor.sh has route check the routes before any stage starts
// (a bad one: exit 78, one line per route, attach never started), a stage exiting 78 later stops the
// appliance with 78 instead of a restart loop, the seed's `/bin/logspout syslog://…` is accepted as
// written, a persisted route file that no longer validates is set aside, and the routes API checks a
// route as the start does. Then the same with the container image.

#if canImport(Glibc)
import Glibc
#endif
import JSON
import Syscall
import Testing

/// The names in a folder (none when it does not exist).
func folderEntries(_ path: String) -> [String] {
    guard let dir = opendir(path) else { return [] }
    defer { closedir(dir) }
    var names: [String] = []
    while let d = readdir(dir) {
        let n = withUnsafeBytes(of: d.pointee.d_name) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
        if n != "." && n != ".." { names.append(n) }
    }
    return names.sorted()
}

/// A supervisor run that may never become ready: its own TMPDIR, STATE_DIR and ROUTESPATH, and a marker
/// in its environment to find whatever it started.
struct MarkedRun {
    let marker = Env.unique("config")
    let tmp = Env.tempDir()
    let state = Env.tempDir() + "/state"
    let routes = Env.tempDir()
    let supervisor: Child

    init(_ args: [String], env extra: [String: String] = [:], bin: String = Env.binDir) throws {
        var env = ["DOCKER_HOST": try Env.dockerHost(), "LOGSPOUT_BIN": bin, "PORT": String(Env.freePort()), "TMPDIR": tmp,
                   "STATE_DIR": state, "ROUTESPATH": routes, "STOP_TEST_RUN": marker]
        for (k, v) in extra { env[k] = v }
        supervisor = try Child(["/bin/busybox", "sh", Env.repoRoot + "/supervisor.sh"] + args, env: env)
    }

    /// The supervisor's exit status (nil: still running after the documented stop time; then killed).
    func exitStatus(timeoutMs: Int = 40_000) -> Int32? {
        let status = supervisor.wait(timeoutMs: timeoutMs)
        if status == nil { supervisor.signal(SIGKILL) }
        return status
    }

    /// Nothing of the run is left: no process, no run folder.
    func expectNothingLeft(sourceLocation: SourceLocation = #_sourceLocation) {
        let left = processes(marked: marker, except: supervisor.pid)
        for pid in left.keys { kill(pid, SIGKILL) }
        #expect(left.isEmpty, "left running: \(left)", sourceLocation: sourceLocation)
        #expect(folderEntries(tmp).isEmpty, "run folder left in \(tmp)", sourceLocation: sourceLocation)
    }
}

@Suite("configuration errors stop the start", .serialized)
struct ConfigEndToEndTests {
    @Test("a bad route: exit 78 with one line per bad route before any stage starts; attach read nothing, moved no cursor")
    func badRoutes() throws {
        let c = TestContainer("config-bad")
        try c.run("while :; do echo line; sleep 0.05; done")
        let marked = try MarkedRun(["tcp://127.0.0.1:514", "syslog://127.0.0.1:514"], env: ["ROUTE_URIS": "syslog://"])
        #expect(marked.exitStatus(timeoutMs: 10_000) == 78, "\(marked.supervisor.stderr)")
        #expect(marked.supervisor.stderr == """
            route: bad route URI 'tcp://127.0.0.1:514': unknown scheme 'tcp' (syslog, syslog+udp, syslog+tcp or syslog+tls); for syslog over tcp, say syslog+tcp://
            route: bad route URI 'syslog://': without a host it names the deis logger found through etcd, and ETCD_HOST is not set

            """)
        #expect(folderEntries(marked.state).isEmpty && !Sys.exists(marked.state), "attach never ran: no STATE_DIR, no cursor")
        marked.expectNothingLeft()
        // With ETCD_HOST, syslog:// is the deis logger found through etcd: no configuration error.
        #expect(try run([routeBinary, "--check", "/bin/logspout", "syslog://"], env: ["ETCD_HOST": "127.0.0.1"]).status == 0)
        // A name that does not resolve (now) is no configuration error: DNS may come back.
        #expect(try run([routeBinary, "--check", "syslog://logs.invalid:514"]).status == 0)
    }

    @Test("the seed's form: supervisor.sh /bin/logspout syslog://… routes every line, without a warning")
    func seedForm() throws {
        let udp = try UDPListener()
        let supervisor = try startSupervisor(["/bin/logspout", "syslog://127.0.0.1:\(udp.port)?append_tag=.seed"])
        defer { supervisor.stop() }
        let c = TestContainer("config-seed")
        try c.run("for i in 1 2 3; do echo \"seq $i\"; done; sleep 30")
        var got: [String] = []
        #expect(eventually { got += udp.texts(timeoutMs: 200); return got.filter { $0.contains(" \(c.name).seed ") }.count >= 3 })
        #expect(!supervisor.stderr.contains("/bin/logspout"), "\(supervisor.stderr)")
        #expect(!supervisor.stderr.contains("bad route"), "\(supervisor.stderr)")
        supervisor.signal(SIGTERM)
        #expect(supervisor.wait(timeoutMs: 40_000) == 0)
    }

    @Test("a stage exiting 78 (bad configuration) stops the appliance gracefully with 78, not restarted in a loop")
    func stageConfigError() throws {
        let marked = try MarkedRun(["syslog+tcp://127.0.0.1:9"], env: ["SYSLOG_TCP_FRAMING": "bogus"])
        #expect(marked.exitStatus() == 78, "\(marked.supervisor.stderr)")
        let stderr = marked.supervisor.stderr
        #expect(stderr.routeCount("emit-syslog: SYSLOG_TCP_FRAMING 'bogus' is neither newline nor octet-counted\n") == 1, "started once: \(stderr)")
        #expect(stderr.contains("supervisor: emit-syslog: bad configuration (exit 78); stopping\n"), "\(stderr)")
        #expect(!stderr.contains("restarting") && !stderr.contains("keeps dying") && !stderr.contains("to drain routed"), "\(stderr)")
        #expect(stderr.hasSuffix("supervisor: stopped\n"), "\(stderr)")
        marked.expectNothingLeft()
    }

    @Test("a stage that exits 78 when restarted stops the appliance with 78 after a graceful stop of the others")
    func stageConfigErrorAtRestart() throws {
        // A route that runs the first time and, started again, finds its configuration bad.
        let bin = Env.tempDir()
        for stage in ["attach", "emit-syslog", "httpd"] { symlink(Env.binDir + "/" + stage, bin + "/" + stage) }
        let script = """
            #!/bin/sh
            for a; do [ "$a" != --check ] || exec \(Env.binDir)/route "$@"; done
            if [ -e "$0.ran" ]; then echo "route: bad configuration at restart" >&2; exit 78; fi
            : > "$0.ran"
            exec \(Env.binDir)/route "$@"

            """
        let fd = open(bin + "/route", O_WRONLY | O_CREAT | O_TRUNC, 0o755)
        _ = script.withCString { write(fd, $0, strlen($0)) }
        close(fd)
        let marked = try MarkedRun(["syslog://127.0.0.1:9"], bin: bin)
        #expect(eventually { stagePids(marked.supervisor).count == 4 })
        let route = try #require(stagePids(marked.supervisor)["route"])
        kill(route, SIGKILL)
        #expect(marked.exitStatus() == 78, "\(marked.supervisor.stderr)")
        let stderr = marked.supervisor.stderr
        #expect(stderr.contains("supervisor: route exited (137); restarting\n"), "\(stderr)")
        #expect(stderr.routeCount("route: bad configuration at restart\n") == 1, "not started again for the drain: \(stderr)")
        #expect(stderr.contains("supervisor: route: bad configuration (exit 78); stopping\n"), "\(stderr)")
        #expect(stderr.hasSuffix("supervisor: stopped\n"), "\(stderr)")
        marked.expectNothingLeft()
    }

    @Test("a persisted route file that no longer validates: renamed .invalid, one line; the start and SIGHUP go on")
    func invalidRouteFile() throws {
        let udp = try UDPListener()
        let routes = Env.tempDir()
        let good = #"{"id":"good","target":{"type":"syslog","addr":"127.0.0.1:\#(udp.port)","append_tag":".file"}}"#
        for (name, text) in [("good.json", good), ("old.json", #"{"id":"old","target":{"type":"syslog","addr":"logs:99999"}}"#)] {
            let fd = open(routes + "/" + name, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
            _ = text.withCString { write(fd, $0, strlen($0)) }
            close(fd)
        }
        let supervisor = try startSupervisor([], env: ["ROUTESPATH": routes])
        defer { supervisor.stop() }
        let line = "route: \(routes)/old.json: port '99999' of 'logs:99999' is not in 1…65535; renamed to old.json.invalid\n"
        #expect(supervisor.stderr.routeCount(line) == 1, "\(supervisor.stderr)")
        #expect(folderEntries(routes) == ["good.json", "old.json.invalid"])
        let route = try #require(stagePids(supervisor)["route"])
        kill(route, SIGHUP)
        #expect(eventually { supervisor.stderr.contains("route: reloaded 1 route from \(routes); 1 in all\n") }, "\(supervisor.stderr)")
        #expect(stagePids(supervisor)["route"] == route, "SIGHUP never ends route")
        #expect(supervisor.stderr.routeCount(line) == 1, "set aside: not reported again")
        let c = TestContainer("config-file")
        try c.run("echo 'seq 1'; sleep 30")
        var got: [String] = []
        #expect(eventually { got += udp.texts(timeoutMs: 200); return got.contains { $0.contains(" \(c.name).file ") } })
    }

    @Test("the routes API checks a route as the start does: 400 with the same reason; an unresolvable receiver is 201")
    func routesAPI() throws {
        let app = try Appliance()
        let reason = "port '99999' of 'x:99999' is not in 1…65535"
        let check = try run([routeBinary, "--check", "syslog://x:99999"])
        #expect(check.status == 78 && check.stderr == "route: bad route URI 'syslog://x:99999': \(reason)\n")
        let bad = try app.curl(["-i", "-X", "POST", "--data-binary", #"{"target":{"type":"syslog","addr":"x:99999"}}"#, "/routes"])
        #expect(bad.stdout.hasPrefix("HTTP/1.1 400 "), "\(bad.stdout)")
        #expect(bad.stdout.contains(reason), "\(bad.stdout)")
        let far = try app.curl(["-i", "-X", "POST", "--data-binary", #"{"target":{"type":"syslog","addr":"logs.invalid:514"}}"#, "/routes"])
        #expect(far.stdout.hasPrefix("HTTP/1.1 201 "), "\(far.stdout)")
        #expect(!app.supervisor.stderr.contains("exited"), "\(app.supervisor.stderr)")
    }
}

extension ImageEndToEndTests {
    @Test("the image: a bad route is exit 78 and one line in docker logs; the seed's /bin/logspout syslog://… works without a warning")
    func imageConfig() throws {
        let host = try Env.dockerHost()
        try buildImage()
        let socket = String(host.dropFirst("unix://".count))
        let state = Env.tempDir()
        let bad = TestContainer("appliance-bad")
        bad.id = try dockerArgs(["run", "-d", "--init=false", "--name", bad.name, "--network", "host", "-e", "PORT=\(Env.freePort())",
                                 "-v", "\(socket):/tmp/docker.sock", "-v", "\(state):/var/lib/logspout", Self.tag, "tcp://127.0.0.1:514"])
        #expect(eventually(timeoutMs: 15_000) { (try? docker("inspect", "-f", "{{.State.Running}}", bad.name)) == "false" })
        #expect(try docker("inspect", "-f", "{{.State.ExitCode}}", bad.name) == "78")
        let logs = try run(["/usr/bin/docker", "logs", bad.name], env: ["DOCKER_HOST": host])
        #expect(logs.stdout == "")
        #expect(logs.stderr == "route: bad route URI 'tcp://127.0.0.1:514': unknown scheme 'tcp' (syslog, syslog+udp, syslog+tcp or syslog+tls); for syslog over tcp, say syslog+tcp://\n")
        #expect(folderEntries(state).isEmpty, "attach moved no cursor")

        let udp = try UDPListener()
        let port = Env.freePort()
        let seed = TestContainer("appliance-seed")
        seed.id = try dockerArgs(["run", "-d", "--init=false", "--name", seed.name, "--network", "host", "-e", "PORT=\(port)",
                                  "-v", "\(socket):/tmp/docker.sock", Self.tag, "/bin/logspout", "syslog://127.0.0.1:\(udp.port)?append_tag=.seed"])
        try waitApplianceReady(seed.name)
        let c = TestContainer("imaged-seed")
        try c.run("for i in 1 2 3; do echo \"seq $i\"; done; sleep 30")
        var got: [String] = []
        #expect(eventually(timeoutMs: 10_000) { got += udp.texts(timeoutMs: 300); return got.filter { $0.contains(" \(c.name).seed ") }.count >= 3 })
        let seedLogs = try run(["/usr/bin/docker", "logs", seed.name], env: ["DOCKER_HOST": host]).stderr
        #expect(!seedLogs.contains("/bin/logspout") && !seedLogs.contains("bad route"), "\(seedLogs)")
        try docker("stop", "-t", "10", seed.name)
        #expect(try docker("inspect", "-f", "{{.State.ExitCode}}", seed.name) == "0")
    }
}
