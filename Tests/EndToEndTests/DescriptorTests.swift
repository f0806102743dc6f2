// Out of descriptors: httpd's listener and route's bus stop accepting for a moment instead of spinning,
// say so once, and serve again when descriptors free up; every stage raises its soft limit at start.
// No engine needed: the stages run alone, under `prlimit` (util-linux).

#if canImport(Glibc)
import Glibc
#endif
import Syscall
import Testing

/// The process's hard descriptor limit.
private func hardLimit() -> Int {
    var limit = rlimit()
    getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit)
    return Int(clamping: limit.rlim_max)
}

/// The soft and hard "Max open files" of a running process.
private func openFilesLimits(_ pid: pid_t) -> (soft: String, hard: String)? {
    let text = String(decoding: readFile("/proc/\(pid)/limits"), as: UTF8.self)
    guard let line = text.split(separator: "\n").first(where: { $0.hasPrefix("Max open files") }) else { return nil }
    let fields = line.dropFirst("Max open files".count).split(separator: " ")
    return fields.count >= 2 ? (String(fields[0]), String(fields[1])) : nil
}

/// route, with its bus at `bus`, reading a FIFO that stays open; under `prlimit` when `nofile` is given.
private func startRoute(bus: String, nofile: String? = nil, feeder: RouteFeeder) throws -> Child {
    let limit = nofile.map { ["/usr/bin/prlimit", "--nofile=" + $0] } ?? []
    let route = try Child(limit + [Env.binDir + "/route", "--ready-fd", String(Child.readyFD), "syslog://127.0.0.1:9"],
                          env: ["LOGSPOUT_BUS": bus, "ROUTESPATH": "/nonexistent/routes"], stdin: feeder.path, readiness: true)
    try route.waitReady()
    return route
}

private func lineCount(_ s: String) -> Int { lines(s).count }

@Suite("Descriptors: the soft limit raised, accept paused while there are none", .serialized)
struct DescriptorEndToEndTests {
    @Test("out of descriptors (ulimit -n 64, 100 connections), httpd says so once, does not spin, and serves again")
    func httpdOutOfDescriptors() throws {
        let dir = Env.tempDir()
        let feeder = try RouteFeeder()
        let route = try startRoute(bus: dir + "/bus.sock", feeder: feeder)
        defer {
            feeder.close()  // route ends at the end of its input
            route.stop()
        }
        let port = Env.freePort()
        let httpd = try Child(["/usr/bin/prlimit", "--nofile=64:64", Env.binDir + "/httpd", "--ready-fd", String(Child.readyFD)],
                              env: ["PORT": String(port), "LOGSPOUT_BUS": dir + "/bus.sock"], readiness: true)
        defer { httpd.stop() }
        try httpd.waitReady()
        var clients: [RawClient] = []
        for _ in 0..<100 { clients.append(try RawClient(port: port)) }
        #expect(eventually(timeoutMs: 10_000) { httpd.stderr.contains("out of descriptors") }, "\(httpd.stderr)")
        // The scenario: the connections stay a while (on a listener that spins, a million lines a second).
        pace(ms: 1500)
        let during = httpd.stderr
        #expect(lineCount(during) == 1, "\(during.prefix(500))")
        #expect(during.hasPrefix("httpd: out of descriptors (64 open); not accepting for now"), "\(during.prefix(300))")
        clients.removeAll()
        let health = try run(["/usr/bin/curl", "-sS", "-o", "/dev/null", "-w", "%{http_code}", "http://127.0.0.1:\(port)/health"], timeoutMs: 20_000)
        #expect(health.stdout == "200", "\(health)")
        #expect(eventually(timeoutMs: 10_000) { httpd.stderr.contains("httpd: accepting again") }, "\(httpd.stderr)")
        #expect(lineCount(httpd.stderr) == 2, "\(httpd.stderr.prefix(500))")
        #expect(route.stderr.isEmpty, "\(route.stderr)")
    }

    @Test("out of descriptors, route's bus says so once, does not spin, and answers again")
    func busOutOfDescriptors() throws {
        let dir = Env.tempDir()
        let bus = dir + "/bus.sock"
        let feeder = try RouteFeeder()
        let route = try startRoute(bus: bus, nofile: "64:64", feeder: feeder)
        defer {
            feeder.close()
            route.stop()
        }
        var clients: [Int32] = []
        defer { for fd in clients { close(fd) } }
        for _ in 0..<100 { clients.append(try Sys.connectUnix(path: bus)) }
        #expect(eventually(timeoutMs: 10_000) { route.stderr.contains("bus: out of descriptors") }, "\(route.stderr)")
        pace(ms: 1500)
        #expect(lineCount(route.stderr) == 1, "\(route.stderr.prefix(500))")
        for fd in clients { close(fd) }
        clients.removeAll()
        let fd = try Sys.connectUnix(path: bus)
        defer { close(fd) }
        try Sys.writeAll(fd, Array(#"{"op":"ping"}"#.utf8) + [10])
        Sys.setTimeouts(fd, milliseconds: 10_000)
        var buffer = [UInt8](repeating: 0, count: 256)
        let n = try Sys.read(fd, into: &buffer)
        #expect(String(decoding: buffer[0..<n], as: UTF8.self) == #"{"ok":true}"# + "\n")
        #expect(eventually(timeoutMs: 10_000) { route.stderr.contains("route: bus: accepting again") }, "\(route.stderr)")
        #expect(lineCount(route.stderr) == 2, "\(route.stderr.prefix(500))")
    }

    @Test("every stage raises its soft descriptor limit to the hard one at start", arguments: ["httpd", "route", "emit-syslog", "logspout"])
    func softLimitRaised(_ stage: String) throws {
        let hard = min(hardLimit(), 4096)
        try #require(hard > 64)
        let feeder = try RouteFeeder()
        let dir = Env.tempDir()
        var argv = ["/usr/bin/prlimit", "--nofile=64:\(hard)"]
        switch stage {
        case "logspout": argv += [Env.binDir + "/logspout", "httpd"]
        default: argv += [Env.binDir + "/" + stage]
        }
        let child = try Child(argv + ["--ready-fd", String(Child.readyFD)],
                              env: ["PORT": String(Env.freePort()), "LOGSPOUT_BUS": dir + "/bus.sock", "ROUTESPATH": "/nonexistent/routes"],
                              stdin: feeder.path, readiness: true)
        defer {
            feeder.close()
            child.stop()
        }
        try child.waitReady()
        let limits = try #require(openFilesLimits(child.pid))
        #expect(limits.soft == String(hard) && limits.hard == String(hard), "\(limits)")
    }
}
