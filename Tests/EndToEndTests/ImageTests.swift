// The container image, as users run it: built by scripts/image.sh on the private engine, run with the
// engine's socket mounted at /tmp/docker.sock. Run as a plain `docker run` runs it: without an init, so
// supervisor.sh is PID 1 (the private engine gives containers an init by default; --init=false says no).

#if canImport(Glibc)
import Glibc
#endif
import Synchronization
import Syscall
import Testing

/// A process inside a container, from its /proc/PID/stat.
struct ContainerProcess {
    var pid: Int
    var command: String
    var state: String
    var parent: Int
}

/// The processes of a running container, as it sees them (its own PID namespace).
func containerProcesses(_ container: String) throws -> [ContainerProcess] {
    let text = try docker("exec", container, "sh", "-c", "cat /proc/[0-9]*/stat 2>/dev/null; true")
    return text.split(separator: "\n").compactMap { line in
        guard let open = line.firstIndex(of: "("), let close = line.lastIndex(of: ")"), let pid = Int(line[..<open].filter { $0 != " " }) else { return nil }
        let fields = line[line.index(after: close)...].split(separator: " ")
        guard fields.count > 1, let parent = Int(fields[1]) else { return nil }
        return ContainerProcess(pid: pid, command: String(line[line.index(after: open)..<close]), state: String(fields[0]), parent: parent)
    }
}

/// Waits until the appliance in `container` says it is ready (its supervisor's "ready" line: every stage
/// is, attach following the engine); throws after `timeoutMs`.
func waitApplianceReady(_ container: String, timeoutMs: Int = 30_000) throws {
    let host = try Env.dockerHost()
    var logs = ""
    guard try eventually(timeoutMs: timeoutMs, {
        logs = try run(["/usr/bin/docker", "logs", container], env: ["DOCKER_HOST": host]).stderr
        return logs.contains("supervisor: ready\n")
    }) else { throw TestFailure("the appliance did not say it was ready: \(logs)") }
}

/// The appliance's PID 1 is its supervisor, not an init: the container runs without one.
func expectSupervisorIsPID1(_ container: String, sourceLocation: SourceLocation = #_sourceLocation) throws {
    #expect(try docker("inspect", "-f", "{{.HostConfig.Init}}", container) == "false", sourceLocation: sourceLocation)
    let cmdline = try docker("exec", container, "cat", "/proc/1/cmdline").split(separator: "\0").map(String.init)
    #expect(cmdline.prefix(2) == ["/bin/sh", "/logspout/supervisor.sh"], "\(cmdline)", sourceLocation: sourceLocation)
}

/// The image of this tree (`ImageEndToEndTests.tag`), built by scripts/image.sh once per run of the tests.
func buildImage() throws {
    try imageBuilt.withLock { built in
        guard !built else { return }
        let host = try Env.dockerHost()
        let build = try run(["/bin/bash", Env.repoRoot + "/scripts/image.sh", ImageEndToEndTests.tag], env: ["DOCKER_HOST": host], timeoutMs: 600_000)
        guard build.status == 0 else { throw TestFailure("scripts/image.sh failed: \(build.stderr)") }
        built = true
    }
}

private let imageBuilt = Mutex(false)

@Suite("the container image", .serialized)
struct ImageEndToEndTests {
    static let tag = "logspout:test"

    @Test("docker run the image: every line reaches syslog, /health answers, docker restart loses and repeats nothing")
    func image() throws {
        let host = try Env.dockerHost()
        try buildImage()
        let socket = String(host.dropFirst("unix://".count))
        let udp = try UDPListener()
        let port = Env.freePort()
        let appliance = TestContainer("appliance")
        appliance.id = try dockerArgs(["run", "-d", "--init=false", "--name", appliance.name, "--network", "host", "-e", "PORT=\(port)",
                                       "-v", "\(socket):/tmp/docker.sock", Self.tag, "syslog://127.0.0.1:\(udp.port)?append_tag=.img",
                                       // emit-syslog complains about this one on stderr: the appliance's own
                                       // output, which must not be routed (it skips its own container).
                                       "syslog://unresolvable.invalid:514"])
        #expect(eventually(timeoutMs: 15_000) {
            (try? run(["/usr/bin/curl", "-s", "http://127.0.0.1:\(port)/health"]).stdout) == #"{"status":"ok"}"# + "\n"
        })
        try waitApplianceReady(appliance.name)
        try expectSupervisorIsPID1(appliance.name)
        let c = TestContainer("imaged")
        try c.run(counterScript(ms: 20))
        var got: [String] = []
        func collect() { got += udp.texts(timeoutMs: 300) }
        #expect(eventually(timeoutMs: 10_000) { collect(); return got.count >= 20 })
        // A graceful restart of the appliance (docker restart: SIGTERM to its supervisor, then start).
        try docker("restart", "-t", "10", appliance.name)
        #expect(try docker("inspect", "-f", "{{.State.Running}}", appliance.name) == "true")
        let before = got.count
        #expect(eventually(timeoutMs: 15_000) { collect(); return got.count >= before + 30 })
        try docker("stop", "-t", "5", c.name)
        let total = (try engineLogs(c.name)).count
        #expect(eventually(timeoutMs: 10_000) { collect(); return got.count >= total })
        let numbers = got.compactMap { line -> Int? in
            guard line.contains(" \(c.name).img ") else { return nil }
            return line.split(separator: " ").last.flatMap { Int($0) }
        }
        #expect(numbers.sorted() == Array(1...total), "every line once, across the restart")
        #expect(!got.contains { $0.contains(" \(appliance.name)") }, "the appliance skips its own container")
        let own = try run(["/usr/bin/docker", "logs", appliance.name], env: ["DOCKER_HOST": host])
        #expect(own.stderr.contains("unresolvable.invalid"), "the appliance did write to its stderr")
        let first = try #require(got.first { $0.contains(" \(c.name).img ") })
        #expect(first.hasPrefix("<14>1 ") && first.contains(" \(c.id.prefix(12)) \(c.name).img "))
        // PID 1 reaps: a stage killed is reaped and started again; a process whose parent ended (here the
        // shell of a docker exec) is adopted by PID 1 and reaped when it ends. No zombie is left.
        try expectSupervisorIsPID1(appliance.name)
        let route = try #require(try containerProcesses(appliance.name).first { $0.command == "route" })
        try docker("exec", appliance.name, "kill", "-9", String(route.pid))
        let orphan = try #require(Int(try docker("exec", appliance.name, "sh", "-c", "sleep 1 >/dev/null 2>&1 & echo $!")))
        let adopted = try containerProcesses(appliance.name).first { $0.pid == orphan }
        #expect(adopted == nil || adopted?.parent == 1, "the orphan's parent is PID 1: \(String(describing: adopted))")
        var procs: [ContainerProcess] = []
        #expect(try eventually(timeoutMs: 15_000) {
            procs = try containerProcesses(appliance.name)
            return !procs.contains { $0.pid == route.pid || $0.pid == orphan } && procs.contains { $0.command == "route" && $0.parent == 1 }
        }, "the killed route and the orphan are reaped, a new route runs: \(procs)")
        #expect(!procs.contains { $0.state == "Z" }, "no zombie: \(procs)")
        #expect(try run(["/usr/bin/docker", "logs", appliance.name], env: ["DOCKER_HOST": host]).stderr.contains("supervisor: route exited (137); restarting"))
        // The supervisor's own metrics (written with the image's busybox mv): the restart counted.
        #expect(eventually(timeoutMs: 10_000) {
            let metrics = (try? run(["/usr/bin/curl", "-s", "http://127.0.0.1:\(port)/metrics"]).stdout) ?? ""
            return metrics.contains("logspout_supervisor_stage_restarts_total{stage=\"route\"} 1\n")
                && metrics.contains("logspout_supervisor_stage_up{stage=\"route\"} 1\n")
        }, "supervisor.prom in the image")
        // docker stop: the supervisor drains and exits 0, within seconds.
        let started = Sys.monotonicNanos()
        try docker("stop", "-t", "10", appliance.name)
        #expect(Sys.monotonicNanos() - started < 8_000_000_000)
        #expect(try docker("inspect", "-f", "{{.State.ExitCode}}", appliance.name) == "0")
        let logs = try run(["/usr/bin/docker", "logs", appliance.name], env: ["DOCKER_HOST": host])
        #expect(logs.stderr.contains("supervisor: stopped"))
    }

    @Test("the image with the engine's containers folder mounted read-only ships through the log files; without it, through the logs endpoint")
    func logSource() throws {
        let host = try Env.dockerHost()
        try buildImage()
        let socket = String(host.dropFirst("unix://".count))
        // The private engine's data root is its own: its containers folder is mounted where the image looks.
        let mount = ["-v", "\(try engineContainersDir()):/var/lib/docker/containers:ro"]
        for (source, extra) in [("file", mount), ("api", [])] {
            let udp = try UDPListener()
            let port = Env.freePort()
            let appliance = TestContainer("appliance-\(source)")
            appliance.id = try dockerArgs(["run", "-d", "--init=false", "--name", appliance.name, "--network", "host", "-e", "PORT=\(port)",
                                           "-v", "\(socket):/tmp/docker.sock"] + extra + [Self.tag, "syslog://127.0.0.1:\(udp.port)?append_tag=.src"])
            try waitApplianceReady(appliance.name)
            let c = TestContainer("sourced-\(source)")
            try c.run("seq 1 300 | sed 's/^/seq /'; sleep 600")
            var got: [Int] = []
            #expect(eventually(timeoutMs: 15_000) {
                for text in udp.texts(timeoutMs: 300) where text.contains(" \(c.name).src ") {
                    if let n = text.split(separator: " ").last.flatMap({ Int($0) }) { got.append(n) }
                }
                return got.count >= 300
            })
            #expect(got.sorted() == Array(1...300), "every line once, through \(source)")
            // Every container the appliance follows (all but itself) is read the one way.
            let others = try docker("ps", "-q").split(separator: "\n").count - 1
            var samples: [String: Double] = [:]
            #expect(eventually(timeoutMs: 10_000) {
                samples = [:]
                let text = (try? run(["/usr/bin/curl", "-s", "http://127.0.0.1:\(port)/metrics"]).stdout) ?? ""
                for line in text.split(separator: "\n") where line.hasPrefix("logspout_attach_containers_followed_by_source{") {
                    guard let space = line.lastIndex(of: " ") else { continue }
                    samples[String(line[..<space])] = Double(line[line.index(after: space)...])
                }
                return samples == ["logspout_attach_containers_followed_by_source{source=\"\(source)\"}": Double(others),
                                   "logspout_attach_containers_followed_by_source{source=\"\(source == "file" ? "api" : "file")\"}": 0]
            }, "\(others) containers read through \(source): \(samples)")
            try docker("stop", "-t", "10", appliance.name)
            let logs = try run(["/usr/bin/docker", "logs", appliance.name], env: ["DOCKER_HOST": host])
            #expect(!logs.stderr.contains("attach:"), "attach says nothing while all is well: \(logs.stderr)")
        }
    }

    @Test("the static image resolves names (/etc/hosts, DNS A and SRV) and speaks verified, mutual TLS")
    func names() throws {
        let host = try Env.dockerHost()
        try buildImage()
        let udp = try UDPListener()
        let dns = try DNSServer(["--host-record=a.test,127.0.0.1", "--srv-host=logs.test,a.test,\(udp.port),10,10"])
        let pki = try TestPKI()
        let tls = try RsyslogTLS(pki: pki, auth: .certValid)
        let port = Env.freePort()
        let appliance = TestContainer("appliance-names")
        appliance.id = try dockerArgs(["run", "-d", "--init=false", "--name", appliance.name, "--network", "host", "-e", "PORT=\(port)",
                                       "--add-host", "hosts.test:127.0.0.1", "-v", "\(dns.dir)/resolv.conf:/etc/resolv.conf:ro",
                                       "-v", "\(pki.dir):/tls:ro", "-e", "LOGSPOUT_TLS_CA_CERTS=/tls/ca.pem",
                                       "-e", "LOGSPOUT_TLS_CLIENT_CERT=/tls/client.pem", "-e", "LOGSPOUT_TLS_CLIENT_KEY=/tls/client.key",
                                       "-v", "\(String(host.dropFirst("unix://".count))):/tmp/docker.sock", Self.tag,
                                       "syslog://hosts.test:\(udp.port)?append_tag=.hosts",
                                       "syslog://a.test:\(udp.port)?append_tag=.a",
                                       "syslog://logs.test?append_tag=.srv",
                                       "syslog+tls://localhost:\(tls.port)?append_tag=.tls"])
        #expect(eventually(timeoutMs: 15_000) {
            (try? run(["/usr/bin/curl", "-s", "http://127.0.0.1:\(port)/health"]).stdout) == #"{"status":"ok"}"# + "\n"
        })
        try waitApplianceReady(appliance.name)
        let c = TestContainer("named")
        try c.run("while true; do echo resolved; sleep 0.2; done")
        var got: Set<String> = []
        let wanted: Set<String> = [".hosts", ".a", ".srv"].reduce(into: []) { $0.insert(" \(c.name)\($1) ") }
        #expect(eventually(timeoutMs: 15_000) {
            for text in udp.texts(timeoutMs: 300) {
                for w in wanted where text.contains(w) && text.hasSuffix(" resolved") { got.insert(w) }
            }
            return got == wanted
        }, "every route's name was resolved: \(got)")
        let logs = try run(["/usr/bin/docker", "logs", appliance.name], env: ["DOCKER_HOST": host])
        #expect(!logs.stderr.contains("emit-syslog:"), "no lookup or handshake failed: \(logs.stderr)")
        // The TLS route: the system's bundle (SSL_CERT_FILE) and the test CA trusted, a client certificate.
        #expect(eventually(timeoutMs: 10_000) {
            tls.messages().contains { $0["app"]?.string == "\(c.name).tls" && $0["msg"]?.string == "resolved" }
        }, "\(tls.diagnostics)")
        try docker("stop", "-t", "10", appliance.name)
    }

    @Test("the image's HEALTHCHECK: (healthy) while httpd answers, (unhealthy) while it does not; `logspout health` says why, within its 2 s")
    func health() throws {
        try buildImage()
        let host = try Env.dockerHost()
        let check = try docker("image", "inspect", "-f", "{{json .Config.Healthcheck.Test}}", Self.tag)
        #expect(check == #"["CMD","/logspout/logspout","health"]"#)
        let port = Env.freePort()
        let appliance = TestContainer("appliance-health")
        // The image's check, run every second here (10 s in the image) so that the test need not wait.
        appliance.id = try dockerArgs(["run", "-d", "--init=false", "--name", appliance.name, "--network", "host", "-e", "PORT=\(port)",
                                       "--health-interval", "1s", "--health-retries", "2",
                                       "-v", "\(String(host.dropFirst("unix://".count))):/tmp/docker.sock", Self.tag])
        func status() -> String { (try? docker("inspect", "-f", "{{.State.Health.Status}}", appliance.name)) ?? "" }
        #expect(eventually(timeoutMs: 30_000) { status() == "healthy" }, "\(status())")
        try waitApplianceReady(appliance.name)
        #expect(try run(["/usr/bin/docker", "exec", appliance.name, "logspout", "health"], env: ["DOCKER_HOST": host]).status == 0)
        // httpd stopped (SIGSTOP): the kernel still takes the connection, nobody answers. The supervisor
        // sees a live process and leaves it be.
        let httpd = try #require(try containerProcesses(appliance.name).first { $0.command == "httpd" })
        try docker("exec", appliance.name, "kill", "-STOP", String(httpd.pid))
        let started = Sys.monotonicNanos()
        let stopped = try run(["/usr/bin/docker", "exec", appliance.name, "logspout", "health"], env: ["DOCKER_HOST": host])
        let took = Sys.monotonicNanos() - started
        #expect(stopped.status == 1)
        #expect(stopped.stderr == "health: no answer from 127.0.0.1:\(port) within 2 s\n")
        // Its own deadline (2 s) and the docker exec around it.
        #expect(took < 6_000_000_000, "\(took / 1_000_000) ms")
        #expect(eventually(timeoutMs: 30_000) { status() == "unhealthy" }, "\(status())")
        try docker("exec", appliance.name, "kill", "-CONT", String(httpd.pid))
        #expect(eventually(timeoutMs: 30_000) { status() == "healthy" }, "\(status())")
        try docker("stop", "-t", "10", appliance.name)
    }

    @Test("`logspout health` against a stopped appliance (nothing on the port) or one that never answers exits 1 within 2 s, saying why")
    func healthBadInput() throws {
        let logspout = Env.binDir + "/logspout"
        let port = Env.freePort()
        var started = Sys.monotonicNanos()
        let refused = try run([logspout, "health"], env: ["PORT": String(port)])
        #expect(refused.status == 1)
        #expect(refused.stderr == "health: nothing answers on 127.0.0.1:\(port): Connection refused\n")
        #expect(Sys.monotonicNanos() - started < 6_000_000_000)
        // A socket that listens and never accepts: the kernel completes the connection, nobody answers.
        let silent = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(silent) }
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_port = port.bigEndian
        addr.sin_addr.s_addr = UInt32(0x7F00_0001).bigEndian
        let bound = withUnsafePointer(to: &addr) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(silent, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) } }
        try #require(bound == 0 && listen(silent, 4) == 0)
        started = Sys.monotonicNanos()
        let mute = try run([logspout, "health"], env: ["PORT": String(port)])
        #expect(mute.status == 1)
        #expect(mute.stderr == "health: no answer from 127.0.0.1:\(port) within 2 s\n")
        #expect(Sys.monotonicNanos() - started < 6_000_000_000, "its own deadline, 2 s, and the start of a process")
        let usage = try run([logspout, "health", "--port=1"])
        #expect(usage.status == 64 && usage.stderr.hasPrefix("health: unknown argument"))
    }
}
