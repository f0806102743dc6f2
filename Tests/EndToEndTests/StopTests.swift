// supervisor.sh's stop: a graceful stop while a stage is down or backing off drains every pipe (nothing
// lost, nothing repeated after a restart with the same STATE_DIR), and a SIGTERM or SIGINT at any moment of
// the supervisor's life, from its first instruction, ends it with exit 0 and leaves nothing behind.

#if canImport(Glibc)
import Glibc
#endif
import JSON
import Syscall
import Testing

/// The processes (other than `except`) whose environment holds `STOP_TEST_RUN=marker`: a supervisor run
/// started with that marker, and everything it started (subshells, stages), inherit it.
func processes(marked marker: String, except: pid_t) -> [pid_t: String] {
    var found: [pid_t: String] = [:]
    let wanted = Array("STOP_TEST_RUN=\(marker)".utf8)
    guard let dir = opendir("/proc") else { return found }
    defer { closedir(dir) }
    while let entry = readdir(dir) {
        let name = withUnsafeBytes(of: entry.pointee.d_name) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
        guard let pid = pid_t(name), pid != except else { continue }
        let environment = readFile("/proc/\(pid)/environ").split(separator: 0)
        guard environment.contains(where: { Array($0) == wanted }) else { continue }
        // A zombie is not running; its parent is: that one counts.
        let stat = String(decoding: readFile("/proc/\(pid)/stat"), as: UTF8.self)
        if stat.split(separator: ")").last?.split(separator: " ").first == "Z" { continue }
        found[pid] = String(decoding: readFile("/proc/\(pid)/cmdline").map { $0 == 0 ? 32 : $0 }, as: UTF8.self)
    }
    return found
}

/// Whether `pid` has a handler for `sig` (its SigCgt mask in /proc/PID/status).
func catches(_ pid: pid_t, _ sig: Int32) -> Bool {
    let status = String(decoding: readFile("/proc/\(pid)/status"), as: UTF8.self)
    guard let line = status.split(separator: "\n").first(where: { $0.hasPrefix("SigCgt:") }),
          let mask = UInt64(line.dropFirst(7).drop(while: { $0 == "\t" || $0 == " " }), radix: 16) else { return false }
    return mask & (UInt64(1) << UInt64(sig - 1)) != 0
}

/// The numbers of `seq N` lines among a stream's lines (`/logs/name:…`: bare lines).
private func seqLines(_ stream: Child) -> [Int] {
    lines(String(decoding: stream.stdout, as: UTF8.self)).compactMap { $0.hasPrefix("seq ") ? Int($0.dropFirst(4)) : nil }
}

@Suite("supervisor.sh: stops that lose nothing and leave nothing behind", .serialized)
struct StopEndToEndTests {
    @Test("route stopped, killed, then SIGTERM at once: what was in its pipe arrives after a restart, every line once")
    func stageDownAtStop() throws {
        let rsyslog = try Rsyslog()
        let state = Env.tempDir()
        let route = ["syslog+tcp://127.0.0.1:\(rsyslog.port)"]
        var supervisor = try startSupervisor(route, env: ["STATE_DIR": state])
        #expect(eventually { stagePids(supervisor).count == 4 })
        let c = TestContainer("stop-down")
        try c.run(counterScript(ms: 3, last: "end"))
        #expect(eventually { received(rsyslog, app: c.name).count > 200 })
        let routePid = try #require(stagePids(supervisor)["route"])
        kill(routePid, SIGSTOP)
        // The scenario: route stopped for 3 s while the container logs on, its lines piling up in the pipe.
        pace(ms: 3000)
        let delivered = received(rsyslog, app: c.name).count
        kill(routePid, SIGKILL)
        supervisor.signal(SIGTERM)
        #expect(supervisor.wait(timeoutMs: 40_000) == 0)
        #expect(supervisor.stderr.contains("supervisor: route is down; starting it to drain records"), "\(supervisor.stderr)")
        #expect(supervisor.stderr.contains("supervisor: stopped"))
        // The drain delivered what was in the pipe before the supervisor exited.
        #expect(eventually { received(rsyslog, app: c.name).count > delivered }, "the lines in the pipe were drained")
        print("stop with route down: \(received(rsyslog, app: c.name).count - delivered) lines drained from its pipe")
        supervisor = try startSupervisor(route, env: ["STATE_DIR": state])
        let before = received(rsyslog, app: c.name).count
        #expect(eventually { received(rsyslog, app: c.name).count > before + 100 })
        try docker("stop", "-t", "5", c.name)
        let total = (try engineLogs(c.name)).filter { $0.hasPrefix("seq ") }.count
        // The container's last line: a line delivered twice would have come before it.
        #expect(eventually { rsyslog.messages().contains { $0["app"]?.string == c.name && $0["msg"]?.string == "end" } })
        let got = received(rsyslog, app: c.name)
        let distinct = Set(got)
        print("stop with route down, then a restart: \(total) lines, \(total - distinct.count) lost, \(got.count - distinct.count) duplicated")
        #expect(got.count == total)
        #expect(got.sorted() == Array(1...total), "every line once")
        supervisor.stop()
    }

    @Test("emit-syslog backing off after repeated deaths, then SIGTERM: the routed lines are sent, every line once")
    func stageBackingOffAtStop() throws {
        let rsyslog = try Rsyslog()
        let state = Env.tempDir()
        let app = try Appliance(["syslog+tcp://127.0.0.1:\(rsyslog.port)"], env: ["STATE_DIR": state])
        let c = TestContainer("stop-backoff")
        let name = c.name
        let stream = try app.stream("/logs/name:\(name)")
        try app.subscribed([stream])
        // 1–100 at once; 101–300 on the first go; 301–310 and "end" on the second.
        try c.run("for i in $(seq 1 100); do echo \"seq $i\"; done; \(TestContainer.waitForGo); "
                  + "for i in $(seq 101 300); do echo \"seq $i\"; done; until [ -e /go2 ]; do sleep 0.05; done; "
                  + "for i in $(seq 301 310); do echo \"seq $i\"; done; echo end; sleep 60")
        #expect(eventually { received(rsyslog, app: name).count >= 100 })
        // Nothing is in flight while the container waits: each kill loses nothing. The sixth death within a
        // minute puts the next start 4 s away.
        try killRepeatedly(app.supervisor, "emit-syslog", times: 6)
        #expect(eventually { app.supervisor.stderr.contains("emit-syslog keeps dying (exit 137, 6 times)") }, "\(app.supervisor.stderr)")
        #expect(stagePids(app.supervisor)["emit-syslog"] == nil, "backing off")
        try c.go()
        // route has routed 101–300 (into the pipe emit-syslog reads): the stream has them.
        #expect(eventually { seqLines(stream).count >= 300 })
        #expect(stagePids(app.supervisor)["emit-syslog"] == nil, "still backing off")
        app.supervisor.signal(SIGTERM)
        #expect(app.supervisor.wait(timeoutMs: 40_000) == 0)
        #expect(app.supervisor.stderr.contains("supervisor: emit-syslog is down; starting it to drain routed"), "\(app.supervisor.stderr)")
        // The drain sent them before the supervisor exited.
        #expect(eventually { received(rsyslog, app: name).count >= 300 })
        #expect(received(rsyslog, app: name) == Array(1...300))
        app.supervisor = try startSupervisor(app.routeArgs, env: app.env)
        try docker("exec", name, "touch", "/go2")
        // The container's last line: a line delivered twice (or resent from the pipe) would have come before it.
        #expect(eventually { rsyslog.messages().contains { $0["app"]?.string == name && $0["msg"]?.string == "end" } })
        #expect(received(rsyslog, app: name) == Array(1...310), "every line once")
    }

    @Test("SIGTERM, SIGINT or two SIGTERMs from the supervisor's first instruction on: exit 0, no process, no run folder",
          arguments: [(0, SIGTERM, false, true), (0, SIGTERM, false, false), (0, SIGINT, true, true), (100, SIGTERM, false, true),
                      (200, SIGTERM, false, false), (500, SIGINT, false, true), (1000, SIGTERM, false, true), (1500, SIGTERM, true, false),
                      (2000, SIGTERM, false, true), (3000, SIGINT, false, true), (5000, SIGTERM, true, true), (10_000, SIGTERM, false, false),
                      (20_000, SIGTERM, false, true), (50_000, SIGINT, false, false), (100_000, SIGTERM, true, true),
                      (200_000, SIGTERM, false, true), (500_000, SIGTERM, false, false)])
    func earlySignal(delayUs: Int, sig: Int32, twice: Bool, readiness: Bool) throws {
        let marker = Env.unique("run")
        let tmp = Env.tempDir()
        let env = ["DOCKER_HOST": try Env.dockerHost(), "LOGSPOUT_BIN": Env.binDir, "PORT": String(Env.freePort()),
                   "TMPDIR": tmp, "ROUTESPATH": Env.tempDir(), "STOP_TEST_RUN": marker]
        let supervisor = try Child(["/bin/busybox", "sh", Env.repoRoot + "/supervisor.sh"]
                                   + (readiness ? ["--ready-fd", String(Child.readyFD)] : []) + ["syslog://127.0.0.1:9"],
                                   env: env, readiness: readiness)
        // Its first instruction has run once the shell has a handler for TERM (busybox ash catches INT from
        // its own start; the trap takes both at once).
        // Looked at closely (every 0.1 ms), so that a delay of 0 is the first moment after it.
        let deadline = Sys.monotonicNanos() + 10_000_000_000
        while !catches(supervisor.pid, SIGTERM) && Sys.monotonicNanos() < deadline { usleep(100) }
        #expect(catches(supervisor.pid, SIGTERM), "the supervisor traps TERM (and INT with it)")
        if delayUs > 0 { usleep(useconds_t(delayUs)) }
        supervisor.signal(sig)
        if twice { supervisor.signal(SIGTERM) }
        // Within the documented stop time (docs/supervisor.md: at most 35 s).
        let status = supervisor.wait(timeoutMs: 40_000)
        if status == nil { supervisor.signal(SIGKILL) }
        #expect(status == 0, "after \(delayUs) µs: \(supervisor.stderr)")
        #expect(!supervisor.stderr.contains("not set"), "\(supervisor.stderr)")
        let left = processes(marked: marker, except: supervisor.pid)
        for pid in left.keys { kill(pid, SIGKILL) }
        #expect(left.isEmpty, "left running after \(delayUs) µs: \(left)")
        let dir = opendir(tmp)
        var entries: [String] = []
        while let d = dir.flatMap({ readdir($0) }) {
            let n = withUnsafeBytes(of: d.pointee.d_name) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
            if n != "." && n != ".." { entries.append(n) }
        }
        if let dir { closedir(dir) }
        #expect(entries.isEmpty, "run folder left in \(tmp) after \(delayUs) µs: \(entries)")
    }
}
