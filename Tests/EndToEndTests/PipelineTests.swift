// The whole appliance: supervisor.sh running attach | route | emit-syslog against the real engine and a
// real rsyslog. Lines are numbered so that loss and duplication can be counted.

#if canImport(Glibc)
import Glibc
#endif
import JSON
import Syscall
import Testing

/// Starts supervisor.sh from the repository with the built stages, and waits until it says every stage
/// is ready (attach following the engine: a container started from then on is read from its first line).
func startSupervisor(_ routes: [String], env: [String: String] = [:]) throws -> Child {
    var e = env
    e["DOCKER_HOST"] = try Env.dockerHost()
    e["LOGSPOUT_BIN"] = Env.binDir
    if e["PORT"] == nil { e["PORT"] = String(Env.freePort()) }
    // busybox ash: the shell of the container image.
    let supervisor = try Child(["/bin/busybox", "sh", Env.repoRoot + "/supervisor.sh", "--ready-fd", String(Child.readyFD)] + routes,
                               env: e, readiness: true)
    try supervisor.waitReady()
    return supervisor
}

/// The `seq N` numbers rsyslog received from `app`, in arrival order.
func received(_ rsyslog: Rsyslog, app: String) -> [Int] {
    rsyslog.messages().compactMap { m -> Int? in
        guard m["app"]?.string == app, let msg = m["msg"]?.string, msg.hasPrefix("seq ") else { return nil }
        return Int(msg.dropFirst(4))
    }
}

/// The pids of a supervisor's stages, from /proc (children of its pid whose command is a stage).
func stagePids(_ supervisor: Child) -> [String: pid_t] {
    var result: [String: pid_t] = [:]
    guard let dir = opendir("/proc") else { return result }
    defer { closedir(dir) }
    while let entry = readdir(dir) {
        let name = withUnsafeBytes(of: entry.pointee.d_name) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
        guard let pid = pid_t(name) else { continue }
        let stat = String(decoding: readFile("/proc/\(pid)/stat"), as: UTF8.self)
        let fields = stat.split(separator: ")").last?.split(separator: " ") ?? []
        // The stage runs in a subshell of the supervisor: its parent is a child of the supervisor, or itself.
        guard fields.count > 2, let ppid = pid_t(fields[1]) else { continue }
        let cmd = String(decoding: readFile("/proc/\(pid)/cmdline").split(separator: 0).first ?? [], as: UTF8.self)
        for stage in ["attach", "route", "emit-syslog", "httpd"] where cmd.hasSuffix("/" + stage) {
            let grand = String(decoding: readFile("/proc/\(ppid)/stat"), as: UTF8.self).split(separator: ")").last?.split(separator: " ")
            if ppid == supervisor.pid || grand.map({ $0.count > 1 && pid_t($0[1]) == supervisor.pid }) == true {
                result[stage] = pid
            }
        }
    }
    return result
}

/// Kills a supervisor's stage `times` times (SIGKILL), each time once it runs again (but the last): five
/// deaths within a minute or more put the stage's next start seconds away (docs/supervisor.md).
func killRepeatedly(_ supervisor: Child, _ stage: String, times: Int) throws {
    for k in 1...times {
        var running: pid_t?
        #expect(eventually { running = stagePids(supervisor)[stage]; return running != nil })
        let old = try #require(running, "\(stage) running before kill \(k)")
        kill(old, SIGKILL)
        if k < times {
            #expect(eventually { stagePids(supervisor)[stage].map { $0 != old } == true }, "restarted after kill \(k)")
        }
    }
}

@Suite("the appliance: supervisor.sh, attach | route | emit-syslog, rsyslog", .serialized)
struct PipelineEndToEndTests {
    @Test("every line of a container reaches rsyslog with its fields; SIGTERM stops everything, exit 0")
    func delivers() throws {
        let rsyslog = try Rsyslog()
        let supervisor = try startSupervisor(["syslog+tcp://127.0.0.1:\(rsyslog.port)?append_tag=.app"])
        #expect(eventually { stagePids(supervisor).count == 4 })
        let c = TestContainer("pipe")
        try c.run("for i in $(seq 1 500); do echo \"seq $i\"; done; echo 'to stderr' >&2; sleep 30")
        #expect(eventually { received(rsyslog, app: c.name + ".app").count >= 500 })
        #expect(received(rsyslog, app: c.name + ".app") == Array(1...500))
        #expect(eventually { rsyslog.messages().contains { $0["msg"]?.string == "to stderr" } })
        let m = try #require(rsyslog.messages().first { $0["app"]?.string == c.name + ".app" && $0["msg"]?.string == "seq 1" })
        #expect(m["hostname"]?.string == String(c.id.prefix(12)))
        #expect(m["pri"]?.string == "14")
        #expect(rsyslog.messages().first { $0["msg"]?.string == "to stderr" }?["pri"]?.string == "11")
        let pids = stagePids(supervisor)
        let started = Sys.monotonicNanos()
        supervisor.signal(SIGTERM)
        #expect(supervisor.wait(timeoutMs: 15_000) == 0)
        #expect(Sys.monotonicNanos() - started < 10_000_000_000, "stopped within a few seconds")
        for (stage, pid) in pids { #expect(kill(pid, 0) != 0, "\(stage) is gone") }
        #expect(supervisor.stderr.contains("supervisor: stopped"))
    }

    @Test("multiline: a stack trace reaches rsyslog as one message; other routes still get its lines one by one")
    func multiline() throws {
        let rsyslog = try Rsyslog()
        let udp = try UDPListener()
        let supervisor = try startSupervisor(["multiline+syslog+tcp://127.0.0.1:\(rsyslog.port)?append_tag=.ml",
                                              "syslog://127.0.0.1:\(udp.port)?append_tag=.lines"],
                                             env: ["SYSLOG_TCP_FRAMING": "octet-counted", "MULTILINE_FLUSH_AFTER": "300"])
        #expect(eventually { stagePids(supervisor).count == 4 })
        let c = TestContainer("multiline")
        // A Java stack trace on stderr, a plain line on stdout, then the trace's last line after a pause:
        // it arrives after flush_after, so it is a message of its own.
        try c.run(#"printf 'Exception in thread "main" java.lang.IllegalStateException: boom\n\tat a.B.c(B.java:12)\n\tat a.B.main(B.java:5)\n' >&2; "#
                  + #"sleep 0.5; echo 'plain line'; sleep 2; printf '\tat late.Frame(F.java:1)\n' >&2; sleep 30"#)
        let app = c.name + ".ml"
        #expect(eventually { rsyslog.messages().filter { $0["app"]?.string == app }.count >= 3 }, "\(rsyslog.messages())")
        let got = rsyslog.messages().filter { $0["app"]?.string == app }
        #expect(got.compactMap { $0["msg"]?.string } == [
            "Exception in thread \"main\" java.lang.IllegalStateException: boom\n\tat a.B.c(B.java:12)\n\tat a.B.main(B.java:5)",
            "plain line", "\tat late.Frame(F.java:1)",
        ])
        #expect(got.first?["pri"]?.string == "11")
        var lines: [String] = []
        #expect(eventually { lines += udp.texts(timeoutMs: 200); return lines.count >= 5 }, "\(lines)")
        #expect(lines.filter { $0.contains(" \(c.name).lines ") }.count == 5, "the other route, line by line: \(lines)")
        supervisor.stop()
    }

    @Test("kill -9 of each stage under load: repaired within seconds, at most what was in flight lost")
    func killEachStage() throws {
        let rsyslog = try Rsyslog()
        let state = Env.tempDir()
        let supervisor = try startSupervisor(["syslog+tcp://127.0.0.1:\(rsyslog.port)"], env: ["STATE_DIR": state])
        #expect(eventually { stagePids(supervisor).count == 4 })
        let c = TestContainer("kill9")
        try c.run(counterScript(ms: 2, last: "end"))
        for stage in ["attach", "route", "emit-syslog"] {
            let before = received(rsyslog, app: c.name).count
            #expect(eventually { received(rsyslog, app: c.name).count > before + 200 })
            let old = try #require(stagePids(supervisor)[stage])
            kill(old, SIGKILL)
            #expect(eventually(timeoutMs: 5000) { stagePids(supervisor)[stage].map { $0 != old } == true },
                    "\(stage) restarted")
            let after = received(rsyslog, app: c.name).count
            #expect(eventually { received(rsyslog, app: c.name).count > after + 200 }, "delivery resumed after \(stage)")
        }
        try docker("stop", "-t", "5", c.name)
        let total = (try engineLogs(c.name)).filter { $0.hasPrefix("seq ") }.count
        // The container's last line: what was not lost has come before it.
        #expect(eventually { rsyslog.messages().contains { $0["app"]?.string == c.name && $0["msg"]?.string == "end" } })
        let got = received(rsyslog, app: c.name)
        let distinct = Set(got)
        let lost = total - distinct.count
        let duplicated = got.count - distinct.count
        print("kill -9 of each stage: \(total) lines, \(lost) lost, \(duplicated) duplicated")
        #expect(lost <= total / 20, "lost \(lost) of \(total)")
        // attach saves its cursors after every write: a kill -9 repeats at most the batch it had just written.
        #expect(duplicated <= 25, "duplicated \(duplicated) of \(total)")
        #expect(distinct.max() == total, "the last line arrived")
        #expect(supervisor.stderr.contains("attach exited"))
        supervisor.stop()
    }

    @Test("a graceful appliance restart with STATE_DIR: nothing lost, nothing duplicated")
    func gracefulRestart() throws {
        let rsyslog = try Rsyslog()
        let state = Env.tempDir()
        let route = ["syslog+tcp://127.0.0.1:\(rsyslog.port)"]
        var supervisor = try startSupervisor(route, env: ["STATE_DIR": state])
        #expect(eventually { stagePids(supervisor).count == 4 })
        let c = TestContainer("graceful")
        try c.run(counterScript(ms: 3, last: "end"))
        for round in 0..<2 {
            let before = received(rsyslog, app: c.name).count
            #expect(eventually { received(rsyslog, app: c.name).count > before + 300 })
            supervisor.signal(SIGTERM)
            #expect(supervisor.wait(timeoutMs: 15_000) == 0, "round \(round)")
            // The container logs on while the appliance is down.
            let logged = try engineLogs(c.name).count
            #expect(eventually { (try? engineLogs(c.name).count).map { $0 >= logged + 300 } == true })
            supervisor = try startSupervisor(route, env: ["STATE_DIR": state])
        }
        let before = received(rsyslog, app: c.name).count
        #expect(eventually { received(rsyslog, app: c.name).count > before + 300 })
        try docker("stop", "-t", "5", c.name)
        let total = (try engineLogs(c.name)).filter { $0.hasPrefix("seq ") }.count
        #expect(eventually { received(rsyslog, app: c.name).count >= total })
        // The container's last line: a line delivered twice would have come before it.
        #expect(eventually { rsyslog.messages().contains { $0["app"]?.string == c.name && $0["msg"]?.string == "end" } })
        let got = received(rsyslog, app: c.name)
        #expect(got.count == total)
        #expect(got.sorted() == Array(1...total), "every line once")
        supervisor.stop()
    }
}
