// attach against the real engine started by scripts/engine.sh. Every test watches only its own
// containers (unique names), and the suite runs serialized because one test restarts dockerd.

#if canImport(Glibc)
import Glibc
#endif
import Records
import Syscall
import Testing

/// Lines a container printed, as `docker logs` (the engine itself) reports them: the oracle.
func engineLogs(_ name: String) throws -> [String] {
    let out = try docker("logs", name)
    return out.isEmpty ? [] : out.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
}

/// The `seq N` numbers among `records`.
func sequence(_ records: [Record]) -> [Int] {
    records.compactMap { r in r.data.hasPrefix("seq ") ? Int(r.data.dropFirst(4)) : nil }
}

/// A script printing "seq N" every `ms` ms, N kept in a file so it continues across restarts; it ends
/// cleanly on SIGTERM between two lines, so a restart loses no number. With `last`, it prints that line
/// when it ends (a marker after every number).
func counterScript(ms: Int = 10, last: String? = nil) -> String {
    let pause = ms >= 1000 ? "\(ms / 1000)" : "0.\(String(repeating: "0", count: 3 - String(ms).count))\(ms)"
    // SIGTERM (docker stop/restart) only ends the loop between two lines: the number printed is always the
    // number saved, so a restarted container goes on with the next one, never repeating or skipping one.
    return "trap 'stop=1' TERM; n=$(cat /n 2>/dev/null || echo 0); while [ -z \"$stop\" ]; do n=$((n+1)); echo \"seq $n\"; echo $n > /n; sleep \(pause); done"
        + (last.map { "; echo '\($0)'" } ?? "")
}

@Suite("attach against a real Docker engine", .serialized)
struct AttachEndToEndTests {
    @Test("--help prints usage and exits 0; bad usage exits 64")
    func usage() throws {
        let help = try run([Env.binDir + "/attach", "--help"])
        #expect(help.status == 0)
        #expect(help.stdout.hasPrefix("usage: attach"))
        let bad = try run([Env.binDir + "/attach", "--bogus"])
        #expect(bad.status == 64)
        #expect(bad.stderr.hasPrefix("attach: unknown argument '--bogus'"))
        let badSize = try run([Env.binDir + "/attach", "--max-line-size", "ten"])
        #expect(badSize.status == 64)
        let badReady = try run([Env.binDir + "/attach", "--ready-fd", "1"])
        #expect(badReady.status == 64)
        #expect(badReady.stderr == "attach: --ready-fd needs a descriptor number from 3 up\n")
        let closedReady = try run([Env.binDir + "/attach", "--ready-fd", "999"])
        #expect(closedReady.status == 64)
        #expect(closedReady.stderr == "attach: --ready-fd 999: no such open descriptor\n")
    }

    @Test("an engine that cannot be reached is a clear error, exit 69")
    func unreachable() throws {
        let r = try run([Env.binDir + "/attach"], env: ["DOCKER_HOST": "unix:///nonexistent/docker.sock"])
        #expect(r.status == 69)
        #expect(r.stderr == "attach: connect to /nonexistent/docker.sock failed: No such file or directory\n")
        // Never ready: its readiness descriptor ends without the newline.
        let never = try Child([Env.binDir + "/attach", "--ready-fd", String(Child.readyFD)],
                              env: ["DOCKER_HOST": "unix:///nonexistent/docker.sock"], readiness: true)
        #expect(throws: TestFailure.self) { try never.waitReady() }
        #expect(never.wait() == 69)
    }

    @Test("stdout and stderr lines arrive as records, byte-exact: tabs, quotes, backslashes, UTF-8, invalid UTF-8, empty")
    func content() throws {
        let attach = try startAttach()
        let c = TestContainer("content")
        try c.run(#"printf 'tab\there\n'; printf 'quote " and backslash \\ end\n'; printf 'héllo wörld ✓ 🎉\n'; printf '\377\376 bad\n'; echo; echo to-stderr >&2; echo last; sleep 30"#)
        #expect(eventually { attach.records().of(c.name).count >= 7 })
        let records = attach.records().of(c.name)
        let stdout = records.filter { $0.source == .stdout }.map(\.data)
        #expect(stdout == ["tab\there", #"quote " and backslash \ end"#, "héllo wörld ✓ 🎉", "\u{FFFD}\u{FFFD} bad", "", "last"])
        #expect(records.filter { $0.source == .stderr }.map(\.data) == ["to-stderr"])
        let r = try #require(records.first)
        #expect(r.container.id == c.id)
        #expect(r.container.image == Env.image)
        #expect(r.container.hostname == String(c.id.prefix(12)))
        #expect(r.container.pid > 0)
        #expect(!r.partial)
        #expect(r.time.hasSuffix("Z") && r.time.count == 30)
        attach.stop()
        #expect(attach.status == 0)
        #expect(attach.stderr == "")
    }

    @Test("a 20,000-byte line is one record; a 300 KiB line comes in partial pieces")
    func longLines() throws {
        let attach = try startAttach()
        let c = TestContainer("long")
        try c.run("head -c 20000 /dev/zero | tr '\\0' a; echo; head -c 307200 /dev/zero | tr '\\0' b; echo; echo after")
        #expect(eventually { attach.records().of(c.name).contains { $0.data == "after" } })
        let records = attach.records().of(c.name)
        #expect(records.count == 4)
        #expect(records.first?.data == String(repeating: "a", count: 20000))
        #expect(records.first?.partial == false)
        let pieces = records.dropFirst().prefix(2)
        #expect(pieces.map(\.data.utf8.count) == [262144, 307200 - 262144])
        #expect(pieces.map(\.partial) == [true, false])
        #expect(pieces.allSatisfy { $0.data.allSatisfy { $0 == "b" } })
    }

    @Test("--max-line-size sets where lines are cut")
    func maxLineSize() throws {
        let attach = try startAttach(["--max-line-size", "4096"])
        let c = TestContainer("maxline")
        try c.run("head -c 10000 /dev/zero | tr '\\0' c; echo")
        #expect(eventually { attach.records().of(c.name).count >= 3 })
        #expect(attach.records().of(c.name).map(\.data.utf8.count) == [4096, 4096, 1808])
    }

    @Test("a TTY container is read raw, its \\r\\n line ends removed")
    func tty() throws {
        let attach = try startAttach()
        let c = TestContainer("tty")
        try c.run("echo one; printf 'two\\ttabbed\\n'; echo three", extra: ["-t"])
        #expect(eventually { attach.records().of(c.name).count >= 3 })
        #expect(attach.records().of(c.name).map(\.data) == ["one", "two\ttabbed", "three"])
        #expect(attach.records().of(c.name).allSatisfy { $0.source == .stdout })
    }

    @Test("invalid UTF-8 through the local log driver is replaced")
    func localDriver() throws {
        let attach = try startAttach()
        let c = TestContainer("local")
        try c.run(#"printf 'ok \300\257 \355\240\200 end\n'"#, extra: ["--log-driver", "local"])
        #expect(eventually { !attach.records().of(c.name).isEmpty })
        let data = try #require(attach.records().of(c.name).first?.data)
        #expect(data.hasPrefix("ok \u{FFFD}"))
        #expect(data.hasSuffix(" end"))
        #expect(!data.contains("\u{00C0}"))
    }

    @Test("a container running before attach starts is read from now; BACKLOG=true replays it")
    func fromNowAndBacklog() throws {
        let c = TestContainer("before")
        try c.run("echo early; \(TestContainer.waitForGo); echo late; sleep 60")
        #expect(eventually { (try? engineLogs(c.name)) == ["early"] })
        let attach = try startAttach()
        let backlog = try startAttach(env: ["BACKLOG": "true"])
        try c.go()
        #expect(eventually { attach.records().of(c.name).count >= 1 && backlog.records().of(c.name).count >= 2 })
        #expect(attach.records().of(c.name).map(\.data) == ["late"])
        #expect(backlog.records().of(c.name).map(\.data) == ["early", "late"])
    }

    @Test("docker restart loses and repeats no line (sequence numbers)")
    func restart() throws {
        let attach = try startAttach()
        let c = TestContainer("restart")
        try c.run(counterScript(ms: 5))
        #expect(eventually { sequence(attach.records().of(c.name)).count >= 50 })
        try docker("restart", "-t", "5", c.name)
        let before = sequence(attach.records().of(c.name)).count
        #expect(eventually { sequence(attach.records().of(c.name)).count >= before + 100 })
        try docker("restart", "-t", "5", c.name)
        try docker("stop", "-t", "5", c.name)
        let oracle = try engineLogs(c.name)
        #expect(eventually { attach.records().of(c.name).count >= oracle.count })
        // A line after the container's last: had attach repeated one, it would have come before this.
        let after = TestContainer("restart-after")
        try after.run("echo after")
        #expect(eventually { !attach.records().of(after.name).isEmpty })
        let seq = sequence(attach.records().of(c.name))
        #expect(seq == Array(1...(seq.last ?? 1)), "attach delivered every number once, in order")
        #expect(attach.records().of(c.name).map(\.data) == oracle, "attach delivered exactly what the engine logged")
        #expect(attach.records().of(c.name).map(\.container.pid).reduce(into: Set<Int>()) { $0.insert($1) }.count == 3,
                "each run's records carry that run's pid")
    }

    @Test("docker rename shows in later records")
    func rename() throws {
        let attach = try startAttach()
        let c = TestContainer("rename")
        try c.run("echo before; \(TestContainer.waitForGo); echo after; sleep 60")
        #expect(eventually { attach.records().of(c.name).count == 1 })
        let renamed = c.name + "-renamed"
        try docker("rename", c.name, renamed)
        try docker("exec", renamed, "touch", "/go")
        #expect(eventually { attach.records().of(id: c.id).count == 2 })
        #expect(attach.records().of(id: c.id).map(\.container.name) == [c.name, renamed])
        _ = try? docker("rm", "-f", renamed)
    }

    @Test("LOGSPOUT=ignore and excluded labels are skipped")
    func ignored() throws {
        let attach = try startAttach(env: ["EXCLUDE_LABEL": "logspout.exclude:yes", "EXCLUDE_LABELS": "skipme"])
        let ignored = TestContainer("ignored")
        try ignored.run("echo ignored", extra: ["-e", "LOGSPOUT=ignore"])
        let labelled = TestContainer("labelled")
        try labelled.run("echo labelled", extra: ["--label", "logspout.exclude=yes"])
        let keyOnly = TestContainer("keyonly")
        try keyOnly.run("echo keyonly", extra: ["--label", "skipme=whatever"])
        let otherValue = TestContainer("othervalue")
        try otherValue.run("echo kept", extra: ["--label", "logspout.exclude=no"])
        #expect(eventually { attach.records().of(otherValue.name).count == 1 })
        // The skipped containers' lines would have come before a container started after them.
        let later = TestContainer("later")
        try later.run("echo later")
        #expect(eventually { attach.records().of(later.name).count == 1 })
        let names = Set(attach.records().map(\.container.name))
        #expect(!names.contains(ignored.name) && !names.contains(labelled.name) && !names.contains(keyOnly.name))
    }

    @Test("SIGTERM flushes and exits 0; a closed stdout ends attach cleanly")
    func signalsAndPipe() throws {
        let attach = try startAttach()
        attach.signal(SIGINT)
        #expect(attach.wait() == 0)
        // attach | head -n 1: attach must end when head has gone.
        let c = TestContainer("pipe")
        try c.run("while true; do echo tick; sleep 0.05; done")
        let host = try Env.dockerHost()
        let r = try run(["/bin/sh", "-c", "DOCKER_HOST=\(host) '\(Env.binDir)/attach' 2>/tmp/attach-pipe.err | head -n 1 >/dev/null; cat /tmp/attach-pipe.err"],
                        timeoutMs: 20_000)
        #expect(r.status == 0)
        #expect(r.stdout == "")
    }

    @Test("a dockerd restart: attach reconnects, resumes without loss or repeat, and reads new containers from their first line")
    func daemonRestart() throws {
        let attach = try startAttach()
        let c = TestContainer("survivor")
        try c.run(counterScript(ms: 20), extra: ["--restart", "always"])
        #expect(eventually { sequence(attach.records().of(c.name)).count >= 20 })
        let restart = try run(["/bin/bash", Env.repoRoot + "/scripts/engine.sh", "restart-daemon"], timeoutMs: 120_000)
        #expect(restart.status == 0, "engine restart: \(restart.stderr)")
        // A container started right away, maybe before attach is back: read from its very first line.
        let fresh = TestContainer("fresh")
        try fresh.run("echo first; echo second; sleep 60")
        #expect(eventually(timeoutMs: 30_000) { attach.records().of(fresh.name).count >= 2 })
        #expect(attach.records().of(fresh.name).map(\.data) == ["first", "second"])
        let before = sequence(attach.records().of(c.name)).last ?? 0
        #expect(eventually(timeoutMs: 30_000) { (sequence(attach.records().of(c.name)).last ?? 0) >= before + 20 })
        try docker("stop", "-t", "5", c.name)
        let oracle = try engineLogs(c.name)
        #expect(eventually { attach.records().of(c.name).count >= oracle.count })
        #expect(attach.records().of(c.name).map(\.data) == oracle)
        #expect(attach.status == nil, "attach kept running")
        #expect(attach.stderr.contains("lost the events stream"))
        #expect(attach.stderr.contains("is back"))
    }
}
