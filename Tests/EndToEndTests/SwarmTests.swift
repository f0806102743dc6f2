// The repository's docker-compose.yml, deployed as users deploy it: `docker stack deploy` on a
// single-node swarm of the private engine, and Debian's docker-compose (1.29). The appliance's container
// reaches a receiver on the host through its network's gateway; the test's containers run without a
// network, as everywhere else.

#if canImport(Glibc)
import Glibc
#endif
import Syscall
import Testing

/// The host's first IPv4 address that is not a loopback one: what a container on a bridge or overlay
/// network reaches the host at (the engine's networks have no NAT; the host takes its own addresses from
/// any interface).
func hostAddress() throws -> String {
    var list: UnsafeMutablePointer<ifaddrs>?
    guard getifaddrs(&list) == 0 else { throw TestFailure("getifaddrs: \(Errno.current)") }
    defer { freeifaddrs(list) }
    var cursor = list
    while let entry = cursor {
        cursor = entry.pointee.ifa_next
        guard let sa = entry.pointee.ifa_addr, sa.pointee.sa_family == sa_family_t(AF_INET),
              entry.pointee.ifa_flags & UInt32(IFF_LOOPBACK) == 0, entry.pointee.ifa_flags & UInt32(IFF_UP) != 0 else { continue }
        let name = String(cString: entry.pointee.ifa_name)
        // The engine's own bridges come and go with the networks.
        guard !name.hasPrefix("docker"), !name.hasPrefix("br-"), !name.hasPrefix("veth") else { continue }
        var text = [CChar](repeating: 0, count: Int(INET_ADDRSTRLEN))
        var address = sa.withMemoryRebound(to: sockaddr_in.self, capacity: 1) { $0.pointee.sin_addr }
        inet_ntop(AF_INET, &address, &text, socklen_t(text.count))
        return String(decoding: text.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
    throw TestFailure("the host has no IPv4 address but loopback ones: a container could not reach a receiver on it")
}

/// The numbers a counter container (`counterScript`) wrote, among the syslog lines of `texts` tagged
/// `tag`.
func counted(_ texts: [String], tag: String) -> [Int] {
    texts.compactMap { line -> Int? in
        guard line.contains(" \(tag) "), let last = line.split(separator: " ").last, line.contains(" seq ") else { return nil }
        return Int(last)
    }
}

@Suite("docker-compose.yml with docker stack deploy and docker-compose", .serialized)
struct SwarmEndToEndTests {
    static let compose = Env.repoRoot + "/docker-compose.yml"

    /// The file's variables for a test: the image built from this tree, the route to `udp` on the host,
    /// the private engine's socket, a token file.
    static func variables(route: String) throws -> [String: String] {
        let host = try Env.dockerHost()
        let dir = Env.tempDir()
        let token = dir + "/httpd_token"
        let fd = open(token, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        _ = "a-token-for-the-test\n".utf8CString.withUnsafeBytes { write(fd, $0.baseAddress, $0.count - 1) }
        close(fd)
        return ["DOCKER_HOST": host, "LOGSPOUT_IMAGE": ImageEndToEndTests.tag, "ROUTE_URIS": route,
                "DOCKER_SOCK": String(host.dropFirst("unix://".count)), "LOGSPOUT_TOKEN_FILE": token,
                "DOCKER_CONTAINERS": try engineContainersDir()]
    }

    /// Runs a command with the file's variables, printing its output (the suite's log shows each step).
    @discardableResult
    static func step(_ argv: [String], env: [String: String], timeoutMs: Int = 180_000) throws -> String {
        let r = try run(argv, env: env, timeoutMs: timeoutMs)
        print("$ \(argv.map { $0.hasPrefix("/") ? String($0.split(separator: "/").last!) : $0 }.joined(separator: " "))")
        for line in (r.stdout + r.stderr).split(separator: "\n") { print("  \(line)") }
        guard r.status == 0 else { throw TestFailure("\(argv.joined(separator: " ")) failed (\(r.status)): \(r.stdout)\(r.stderr)") }
        return r.stdout
    }

    /// Leaves the swarm, if the engine is in one (a run that died may have left it so); removes what a
    /// stack left.
    static func leaveSwarm(stack: String) {
        _ = try? dockerArgs(["stack", "rm", stack])
        // A stack's containers go away after its services; its volumes can only go once they have.
        _ = eventually(timeoutMs: 60_000) {
            ((try? dockerArgs(["ps", "-aq", "--filter", "label=com.docker.stack.namespace=\(stack)"])) ?? "").isEmpty
        }
        _ = try? dockerArgs(["swarm", "leave", "--force"])
        // The bridge a swarm makes for its tasks' way out stays after the swarm is left.
        _ = try? dockerArgs(["network", "rm", "docker_gwbridge"])
        for volume in ["routes", "state"] { _ = try? dockerArgs(["volume", "rm", "-f", "\(stack)_\(volume)"]) }
    }

    /// The running container of a service's task (its one task on this single node), once there is one.
    static func taskContainer(service: String, not old: String = "") -> String? {
        let ids = (try? dockerArgs(["ps", "-q", "--no-trunc", "--filter", "label=com.docker.swarm.service.name=\(service)"])) ?? ""
        return ids.split(separator: "\n").map(String.init).first { $0 != old }
    }

    static func health(_ container: String) -> String {
        (try? docker("inspect", "-f", "{{.State.Health.Status}}", container)) ?? ""
    }

    @Test("docker stack deploy: one task, (healthy); a container's lines reach the host; an update neither loses nor repeats a line")
    func stack() throws {
        try buildImage()
        let stack = "logspout-e2e"
        let service = stack + "_logspout"
        Self.leaveSwarm(stack: stack)
        defer { Self.leaveSwarm(stack: stack) }
        let udp = try UDPListener(host: "0.0.0.0")
        let env = try Self.variables(route: "syslog://\(try hostAddress()):\(udp.port)?append_tag=.swarm")
        try Self.step(["/usr/bin/docker", "swarm", "init", "--advertise-addr", "127.0.0.1"], env: env)
        try Self.step(["/usr/bin/docker", "stack", "deploy", "--resolve-image", "never", "-c", Self.compose, stack], env: env)
        var first: String?
        #expect(eventually(timeoutMs: 60_000) { first = Self.taskContainer(service: service); return first != nil })
        let tasks = (try? docker("service", "ps", "--no-trunc", service)) ?? ""
        let task = try #require(first, "no task started: \(tasks)")
        try waitApplianceReady(task)
        // The file's check runs every 10 s; the first after the start.
        #expect(eventually(timeoutMs: 60_000) { Self.health(task) == "healthy" }, "\(Self.health(task))")
        try Self.step(["/usr/bin/docker", "service", "ps", service, "--format", "{{.Name}} {{.DesiredState}} {{.CurrentState}}"], env: env)
        try Self.step(["/usr/bin/docker", "ps", "--filter", "id=\(task)", "--format", "{{.Names}} {{.Status}}"], env: env)

        let c = TestContainer("swarmed")
        try c.run(counterScript(ms: 20))
        var got: [String] = []
        func collect() { got += udp.texts(timeoutMs: 300) }
        let tag = "\(c.name).swarm"
        #expect(eventually(timeoutMs: 20_000) { collect(); return counted(got, tag: tag).count >= 20 }, "lines reach the host: \(got.suffix(3))")

        // An update replaces the task: the old one stops (draining, saving where each stream was in the
        // state volume) before the new one starts and goes on from there.
        try Self.step(["/usr/bin/docker", "service", "update", "--force", "--detach=false", "--quiet", service], env: env, timeoutMs: 240_000)
        var second: String?
        #expect(eventually(timeoutMs: 60_000) { second = Self.taskContainer(service: service, not: task); return second != nil })
        let replaced = try #require(second)
        try waitApplianceReady(replaced)
        let before = counted(got, tag: tag).count
        #expect(eventually(timeoutMs: 20_000) { collect(); return counted(got, tag: tag).count >= before + 30 }, "lines flow after the update")
        #expect(eventually(timeoutMs: 60_000) { Self.health(replaced) == "healthy" }, "\(Self.health(replaced))")
        try Self.step(["/usr/bin/docker", "service", "ps", service, "--format", "{{.Name}} {{.DesiredState}} {{.CurrentState}}"], env: env)

        try docker("stop", "-t", "5", c.name)
        let total = try engineLogs(c.name).count
        #expect(eventually(timeoutMs: 20_000) { collect(); return counted(got, tag: tag).count >= total })
        collect()
        let numbers = counted(got, tag: tag)
        #expect(numbers.sorted() == Array(1...total), "every line once across the update: \(numbers.count) received, \(total) written")
        print("swarm: \(total) lines written, \(numbers.count) received, \(Set(numbers).count) different, across `docker service update --force`")
        let logs = try run(["/usr/bin/docker", "logs", task], env: env)
        #expect(logs.stderr.contains("supervisor: stopped"), "the old task stopped gracefully: \(logs.stderr.suffix(500))")
    }

    @Test("docker-compose up -d with the same file: lines reach the host, (healthy); docker-compose down")
    func compose() throws {
        try buildImage()
        let project = String(Env.unique("logspoutcompose").filter { $0 != "-" })
        let udp = try UDPListener(host: "0.0.0.0")
        let env = try Self.variables(route: "syslog://\(try hostAddress()):\(udp.port)?append_tag=.compose")
        let composeCommand = ["/usr/bin/docker-compose", "--ansi", "never", "-p", project, "-f", Self.compose]
        defer { _ = try? run(composeCommand + ["down", "-v"], env: env) }
        try Self.step(composeCommand + ["up", "-d"], env: env)
        let container = try Self.step(composeCommand + ["ps", "-q"], env: env).split(separator: "\n").first.map(String.init)
        let id = try #require(container)
        try waitApplianceReady(id)
        #expect(try docker("exec", id, "cat", "/run/secrets/httpd_token") == "a-token-for-the-test", "the token file, as a secret")
        let c = TestContainer("composed")
        try c.run(counterScript(ms: 20))
        var got: [String] = []
        #expect(eventually(timeoutMs: 20_000) { got += udp.texts(timeoutMs: 300); return counted(got, tag: "\(c.name).compose").count >= 20 })
        #expect(eventually(timeoutMs: 60_000) { Self.health(id) == "healthy" }, "\(Self.health(id))")
        #expect(try docker("inspect", "-f", "{{.Config.StopTimeout}}", id) == "40", "stop_grace_period")
        try Self.step(composeCommand + ["ps"], env: env)
        try Self.step(composeCommand + ["down", "-v"], env: env, timeoutMs: 120_000)
        let logs = try run(["/usr/bin/docker", "logs", id], env: env)
        #expect(logs.status != 0 || logs.stderr.contains("supervisor: stopped"), "removed, or stopped gracefully")
    }
}
