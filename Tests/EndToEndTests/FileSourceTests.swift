// attach reading containers' json-file logs from disk (--log-source, DOCKER_CONTAINERS_DIR) against the
// private engine, whose data root scripts/engine.sh keeps: the same records as through the logs endpoint,
// rotation, removal, a missing folder, corrupt lines, restarts.

#if canImport(Glibc)
import Glibc
#endif
import Records
import Syscall
import Testing

/// Where the private engine keeps its containers' folders.
func engineContainersDir() throws -> String {
    try docker("info", "-f", "{{.DockerRootDir}}") + "/containers"
}

/// attach reading log files from the private engine's folder (`source`: auto, files or api).
func startFileAttach(_ source: String, _ args: [String] = [], env: [String: String] = [:]) throws -> Child {
    var e = env
    if e["DOCKER_CONTAINERS_DIR"] == nil { e["DOCKER_CONTAINERS_DIR"] = try engineContainersDir() }
    return try startAttach(["--log-source", source] + args, env: e)
}

/// The raw record lines a child wrote for one container (by its id), in order.
func rawRecords(_ child: Child, id: String) -> [[UInt8]] {
    let marker = Array("\"id\":\"\(id)\"".utf8)
    return child.stdout.split(separator: 10).map(Array.init).filter { line in
        line.count >= marker.count && (0...(line.count - marker.count)).contains { line[$0..<$0 + marker.count].elementsEqual(marker) }
    }
}

/// The end of a container's `<id>-json.log` in `folder`, as text.
func lastLogged(_ folder: String, _ id: String) -> String {
    let log = (try? Sys.readFile(folder + "/\(id)-json.log", maxBytes: 4 << 20)) ?? []
    return String(decoding: log.suffix(200), as: UTF8.self)
}

/// How many inotify descriptors a process holds.
func inotifyDescriptors(_ pid: pid_t) -> Int {
    let names = (try? Sys.listDirectory("/proc/\(pid)/fd")) ?? []
    return names.filter { name in
        var buf = [CChar](repeating: 0, count: 64)
        let n = readlink("/proc/\(pid)/fd/\(name)", &buf, buf.count - 1)
        return n > 0 && String(decoding: buf[0..<n].map { UInt8(bitPattern: $0) }, as: UTF8.self) == "anon_inode:inotify"
    }.count
}

/// The masks of the inotify watches a process holds (`/proc/PID/fdinfo`: `inotify wd:… mask:2c6 …`).
func inotifyWatchMasks(_ pid: pid_t) -> [UInt32] {
    let names = (try? Sys.listDirectory("/proc/\(pid)/fdinfo")) ?? []
    return names.flatMap { name in
        String(decoding: readFile("/proc/\(pid)/fdinfo/\(name)"), as: UTF8.self).split(separator: "\n").filter { $0.hasPrefix("inotify wd:") }.compactMap { line in
            line.split(separator: " ").first { $0.hasPrefix("mask:") }.flatMap { UInt32($0.dropFirst(5), radix: 16) }
        }
    }
}

@Suite("attach reading json-file logs from disk", .serialized)
struct FileSourceTests {
    @Test("--log-source and LOG_SOURCE: a bad value is a one-line error, 64 as an argument, 78 from the environment")
    func badSetting() throws {
        let arg = try run([Env.binDir + "/attach", "--log-source", "disk"])
        #expect(arg.status == 64)
        #expect(arg.stderr == "attach: --log-source 'disk' must be auto, files or api\n")
        let env = try run([Env.binDir + "/attach"], env: ["LOG_SOURCE": "disk"])
        #expect(env.status == 78)
        #expect(env.stderr == "attach: LOG_SOURCE 'disk' must be auto, files or api\n")
        let dir = try run([Env.binDir + "/attach"], env: ["DOCKER_CONTAINERS_DIR": "relative/dir"])
        #expect(dir.status == 78)
        #expect(dir.stderr == "attach: DOCKER_CONTAINERS_DIR 'relative/dir' must be an absolute path\n")
        let linger = try run([Env.binDir + "/attach"], env: ["LOG_LINGER_MS": "200"])
        #expect(linger.status == 78)
        #expect(linger.stderr == "attach: LOG_LINGER_MS '200' must be a whole number of milliseconds from 0 to 100\n")
    }

    @Test("the attach corpus and a TTY container: files and api write the same records, byte for byte; metrics say which way")
    func sameRecords() throws {
        let metricsDir = Env.tempDir()
        let files = try startFileAttach("files", env: ["LOGSPOUT_METRICS_DIR": metricsDir])
        let api = try startFileAttach("api")
        let c = TestContainer("files-corpus")
        try c.run(JSONFileTests.corpus + "; sleep 2")
        let t = TestContainer("files-tty")
        try t.run(#"echo one; printf 'two\ttabbed\n'; printf '\377 bad\n'; echo; echo three; sleep 2"#, extra: ["-t"])
        #expect(eventually {
            let m = metricSamples(metricsDir + "/attach.prom")
            return m["logspout_attach_containers_followed_by_source{source=\"file\"}"] == 2
        })
        _ = try docker("wait", c.name)
        _ = try docker("wait", t.name)
        #expect(eventually { files.records().of(c.name).last?.data == "last, without a newline" })
        // Through the endpoint the last line may be missing (below): its last record is that line or the one before.
        #expect(eventually {
            let last = api.records().of(c.name).last?.data
            return (last?.hasPrefix("after") == true || last == "last, without a newline") && api.records().of(t.name).last?.data == "three"
        })
        #expect(eventually { files.records().of(t.name).last?.data == "three" })
        // The container's last bytes, without "\n", reach the file when it exits: the logs endpoint, which
        // ends when the container stops, sometimes ends before them (then, through the endpoint, that
        // line is missing); from the file it is read after the container died.
        _ = eventually(timeoutMs: 2000) { api.records().of(c.name).last?.data == "last, without a newline" }
        let fromFiles = rawRecords(files, id: c.id)
        #expect(fromFiles.count == 13)  // 12 lines, the 300 KiB one in two pieces
        let fromAPI = rawRecords(api, id: c.id)
        #expect(fromAPI == fromFiles || fromAPI == Array(fromFiles.dropLast()))
        #expect(rawRecords(files, id: t.id).count == 5)
        #expect(rawRecords(files, id: t.id) == rawRecords(api, id: t.id))
        #expect(files.records().of(c.name).contains { $0.data == "\u{FFFD}\u{FFFD} bad" })
        files.stop()
        api.stop()
        #expect(files.stderr == "")
        #expect(api.stderr == "")
        let m = metricSamples(metricsDir + "/attach.prom")
        #expect(m["logspout_attach_file_corrupt_lines_total"] == 0)
        #expect(m["logspout_attach_containers_skipped_total"] == 0)
        try expectPromtoolPasses(metricsDir + "/attach.prom")
    }

    @Test("a timestamp whose fraction ends in 0 (trimmed in the file): the same record both ways, nine digits")
    func trailingZero() throws {
        let files = try startFileAttach("files")
        let api = try startFileAttach("api")
        let c = TestContainer("files-zero")
        // Running a while after its lines: both attach processes inspect it while it runs (its pid is in
        // the records).
        try c.run("seq 1 400; sleep 1")
        _ = try docker("wait", c.name)
        #expect(eventually { files.records().of(c.name).count == 400 && api.records().of(c.name).count == 400 })
        // The engine trims the fraction's zeros in the file: find such an entry.
        let log = try Sys.readFile(try docker("inspect", "-f", "{{.LogPath}}", c.name), maxBytes: 1 << 20)
        #expect(try fileEntries(log).count == 400)
        // `…,"time":"2026-…Z"}`: the value after the key "time".
        let times = String(decoding: log, as: UTF8.self).split(separator: "\n").compactMap { line -> Substring? in
            let parts = line.split(separator: "\"")
            guard let k = parts.lastIndex(of: "time"), k + 2 < parts.count else { return nil }
            return parts[k + 2]
        }
        #expect(times.count == 400)
        let short = times.firstIndex { $0.count < 30 }
        #expect(short != nil, "no time in the file ends in 0 (one in ten does)")
        if let short {
            let record = files.records().of(c.name)[short]
            #expect(record.time.count == 30)
            #expect(record.time.hasPrefix(String(times[short].dropLast())))
            #expect(record.time.hasSuffix("0Z"))
        }
        #expect(rawRecords(files, id: c.id) == rawRecords(api, id: c.id))
    }

    @Test("rotation under load (max-size=1m, max-file=3): every line once, in order")
    func rotation() throws {
        let metricsDir = Env.tempDir()
        let attach = try startFileAttach("files", env: ["LOGSPOUT_METRICS_DIR": metricsDir])
        let c = TestContainer("files-rotate")
        let count = 150_000
        try c.run(TestContainer.waitForGo + "; seq 1 \(count) | sed 's/^/seq /'; sleep 2",
                  extra: ["--log-opt", "max-size=1m", "--log-opt", "max-file=3"])
        #expect(eventually {
            metricSamples(metricsDir + "/attach.prom")["logspout_attach_containers_followed_by_source{source=\"file\"}"] == 1
        })
        try c.go()
        #expect(eventually(timeoutMs: 60_000) { sequence(attach.records().of(c.name)).last == count })
        let seq = sequence(attach.records().of(c.name))
        #expect(seq.count == count)
        #expect(seq == Array(1...count), "every number once, in order")
        // It did rotate: the folder holds older generations.
        let names = try Sys.listDirectory(try engineContainersDir() + "/" + c.id)
        #expect(names.contains("\(c.id)-json.log.1"))
        #expect(attach.stderr == "")
    }

    @Test("inotify's queue overflowing while attach is held back, the rotations' events lost: every line once, in order; said once, counted")
    func eventOverflow() throws {
        let metricsDir = Env.tempDir()
        let c = TestContainer("files-overflow")
        let count = 60_000
        // About 4 MB: four rotations, none deleted.
        try c.run(TestContainer.waitForGo + "; seq 1 \(count) | sed 's/^/seq /'; touch /done; sleep 60",
                  extra: ["--log-opt", "max-size=1m", "--log-opt", "max-file=8"])
        // A queue of one event, for attach's inotify descriptor only (the kernel reads the limit when one
        // is made): once attach is held back, all after the first event is lost, the new files' too.
        let knob = "/proc/sys/fs/inotify/max_queued_events"
        let limit = readFile(knob)
        #expect(limit.count > 1, "\(knob) is readable")
        func setLimit(_ bytes: [UInt8]) throws {
            let fd = open(knob, O_WRONLY)
            guard fd >= 0 else { throw TestFailure("open \(knob): errno \(errno)") }
            defer { close(fd) }
            try Sys.writeAll(fd, bytes)
        }
        try setLimit(Array("1\n".utf8))
        let attach: Child
        do {
            attach = try startFileAttach("files", env: ["LOGSPOUT_METRICS_DIR": metricsDir])
            #expect(eventually { inotifyDescriptors(attach.pid) == 1 })
            try setLimit(limit)
        } catch {
            try? setLimit(limit)
            throw error
        }
        #expect(readFile(knob) == limit)
        #expect(eventually {
            metricSamples(metricsDir + "/attach.prom")["logspout_attach_containers_followed_by_source{source=\"file\"}"] == 1
        })
        attach.signal(SIGSTOP)
        try c.go()
        #expect(eventually(timeoutMs: 60_000) { (try? docker("exec", c.name, "test", "-e", "/done")) != nil })
        attach.signal(SIGCONT)
        #expect(eventually(timeoutMs: 60_000) { sequence(attach.records().of(c.name)).last == count })
        #expect(sequence(attach.records().of(c.name)) == Array(1...count), "every number once, in order")
        #expect(eventually { (metricSamples(metricsDir + "/attach.prom")["logspout_attach_file_event_overflows_total"] ?? 0) >= 1 })
        let names = try Sys.listDirectory(try engineContainersDir() + "/" + c.id)
        #expect(names.contains("\(c.id)-json.log.3"), "it rotated four times: \(names.sorted())")
        let said = attach.stderr.split(separator: "\n")
        #expect(said.count == 1)
        #expect(said.first?.hasPrefix("attach: inotify: events lost") == true, "\(said)")
    }

    /// attach following `c`'s log file, stopped (SIGSTOP) while `c` (waiting for `go`) writes `count` lines
    /// of `seq` and touches /done; returned once the engine wrote the last one, attach still stopped.
    func writtenWhileStopped(_ c: TestContainer, count: Int) throws -> (attach: Child, metricsDir: String, folder: String) {
        let metricsDir = Env.tempDir()
        let attach = try startFileAttach("files", env: ["LOGSPOUT_METRICS_DIR": metricsDir])
        #expect(eventually {
            metricSamples(metricsDir + "/attach.prom")["logspout_attach_containers_followed_by_source{source=\"file\"}"] == 1
        })
        attach.signal(SIGSTOP)
        try c.go()
        #expect(eventually(timeoutMs: 60_000) { (try? docker("exec", c.name, "test", "-e", "/done")) != nil })
        let folder = try engineContainersDir() + "/" + c.id
        #expect(eventually(timeoutMs: 30_000) { lastLogged(folder, c.id).contains("seq \(count)\\n") }, "the engine wrote the last line")
        return (attach, metricsDir, folder)
    }

    @Test("compress=true, attach held back over several rotations: the generations compressed meanwhile are read through zlib; every line once, in order")
    func heldBackWhileCompressed() throws {
        let c = TestContainer("files-held-gz")
        let count = 110_000
        // About 8.7 MB: four rotations, each rotated file compressed to `….N.gz` and its plain name deleted
        // while attach is stopped; each `.gz` over 128 KiB, so it is read over several turns.
        try c.run(TestContainer.waitForGo + "; seq 1 \(count) | sed 's/^/seq /'; touch /done; sleep 60",
                  extra: ["--log-opt", "max-size=2m", "--log-opt", "max-file=8", "--log-opt", "compress=true"])
        let (attach, _, folder) = try writtenWhileStopped(c, count: count)
        // Every rotated generation compressed: none left under its plain name.
        #expect(eventually(timeoutMs: 30_000) {
            let names = (try? Sys.listDirectory(folder)) ?? []
            return names.filter { $0.hasSuffix(".gz") }.count >= 3 && !names.contains { $0.hasPrefix("\(c.id)-json.log.") && !$0.hasSuffix(".gz") }
        }, "\(((try? Sys.listDirectory(folder)) ?? []).sorted())")
        for name in ((try? Sys.listDirectory(folder)) ?? []) where name.hasSuffix(".gz") {
            let size = (try? Sys.readFile(folder + "/" + name, maxBytes: 4 << 20))?.count ?? 0
            #expect(size > 128 * 1024, "\(name): \(size) bytes, more than attach reads of one in a turn")
        }
        attach.signal(SIGCONT)
        #expect(eventually(timeoutMs: 60_000) { sequence(attach.records().of(c.name)).last == count })
        #expect(sequence(attach.records().of(c.name)) == Array(1...count), "every number once, in order")
        #expect(attach.stderr == "")
    }

    @Test("attach held back over more rotations than max-file keeps: the generations deleted unread said once with the span, counted; the rest once, in order. Over as many as it keeps: nothing lost, nothing said",
          arguments: [(compress: false, rotations: 6), (compress: true, rotations: 6), (compress: false, rotations: 3), (compress: true, rotations: 3)])
    func heldBackPastMaxFile(compress: Bool, rotations: Int) throws {
        let c = TestContainer("files-held-del\(compress ? "-gz" : "")")
        // About 12,600 lines a 1 MB file: `rotations` rotations and half a file more, three generations
        // kept. Attach holds the file it was reading (empty: the container waits), so after three rotations
        // every file made since is still there (the one held is deleted), and after six the three made
        // first after it are deleted unread.
        let count = rotations * 12_600 + 6_000
        try c.run(TestContainer.waitForGo + "; seq 1 \(count) | sed 's/^/seq /'; touch /done; sleep 60",
                  extra: ["--log-opt", "max-size=1m", "--log-opt", "max-file=3"] + (compress ? ["--log-opt", "compress=true"] : []))
        let (attach, metricsDir, folder) = try writtenWhileStopped(c, count: count)
        #expect(eventually(timeoutMs: 30_000) {
            let names = ((try? Sys.listDirectory(folder)) ?? []).filter { $0.hasPrefix("\(c.id)-json.log") }
            return names.count == 3 && (!compress || names.filter { $0.hasSuffix(".gz") }.count == 2)
        }, "\(((try? Sys.listDirectory(folder)) ?? []).sorted())")
        attach.signal(SIGCONT)
        #expect(eventually(timeoutMs: 60_000) { sequence(attach.records().of(c.name)).last == count })
        let seq = sequence(attach.records().of(c.name))
        let gaps = metricsDir + "/attach.prom"
        if rotations == 3 {
            #expect(seq == Array(1...count), "every number once, in order")
            #expect(eventually { metricSamples(gaps)["logspout_attach_file_gaps_total"] == 0 })
            #expect(attach.stderr == "")
            return
        }
        // The file held is read to its end, then on from the oldest generation left.
        let cut = seq.indices.dropLast().first { seq[$0 + 1] != seq[$0] + 1 }
        #expect(cut != nil, "lines were deleted")
        if let cut {
            #expect(seq[...cut] == ArraySlice(1...seq[cut]), "the file held, once, in order")
            #expect(seq[(cut + 1)...] == ArraySlice(seq[cut + 1]...count), "the generations left, once, in order")
            #expect(seq[cut + 1] - seq[cut] > 30_000, "three files skipped: \(seq[cut]) to \(seq[cut + 1])")
        }
        #expect(eventually { metricSamples(gaps)["logspout_attach_file_gaps_total"] == 1 })
        let said = attach.stderr.split(separator: "\n")
        #expect(said.count == 1)
        #expect(said.first?.contains("its log files from ") == true, "\(said)")
        #expect(said.first?.contains("were deleted by the engine (max-file) before they were read: lines up to ") == true, "\(said)")
        #expect(said.first?.contains(" skipped (") == true, "the span: \(said)")
    }

    @Test("a file being written is read after every linger, its writes not watched; idle, a write wakes attach again: every line once, in order")
    func writtenThenIdle() throws {
        let attach = try startFileAttach("files")
        let c = TestContainer("files-written")
        let count = 2000
        try c.run(TestContainer.waitForGo + "; i=0; while [ $i -lt \(count) ]; do i=$((i+1)); echo \"seq $i\"; usleep 2000; done; "
                  + "touch /done; until [ -e /go2 ]; do sleep 0.05; done; echo 'seq \(count + 1)'; sleep 60")
        let modify: UInt32 = 0x2  // IN_MODIFY
        func masks() -> [UInt32] { inotifyWatchMasks(attach.pid) }
        #expect(eventually { masks().count == 1 && masks()[0] & modify != 0 }, "idle: writes watched: \(masks())")
        try c.go()
        #expect(eventually(timeoutMs: 20_000) { masks().count == 1 && masks()[0] & modify == 0 }, "written: writes not watched: \(masks())")
        #expect(eventually(timeoutMs: 60_000) { (try? docker("exec", c.name, "test", "-e", "/done")) != nil })
        #expect(eventually { sequence(attach.records().of(c.name)).last == count })
        #expect(eventually { masks().count == 1 && masks()[0] & modify != 0 }, "idle again: writes watched: \(masks())")
        // One line after a pause: the watch wakes attach for it.
        try docker("exec", c.name, "touch", "/go2")
        #expect(eventually { sequence(attach.records().of(c.name)).last == count + 1 })
        #expect(sequence(attach.records().of(c.name)) == Array(1...(count + 1)), "every number once, in order")
        #expect(attach.stderr == "")
    }

    @Test("a log file truncated in place: read again from its start, said once, counted; nothing repeated")
    func truncation() throws {
        let metricsDir = Env.tempDir()
        let attach = try startFileAttach("files", env: ["LOGSPOUT_METRICS_DIR": metricsDir])
        let c = TestContainer("files-truncate")
        try c.run(counterScript(ms: 10))
        #expect(eventually { sequence(attach.records().of(c.name)).count >= 50 })
        // As a hand or `logrotate … copytruncate` would; the engine writes on at the start (O_APPEND).
        let path = try docker("inspect", "-f", "{{.LogPath}}", c.name)
        #expect(truncate(path, 0) == 0)
        let before = sequence(attach.records().of(c.name)).count
        #expect(eventually { sequence(attach.records().of(c.name)).count >= before + 50 })
        #expect(eventually { metricSamples(metricsDir + "/attach.prom")["logspout_attach_file_truncations_total"] == 1 })
        let seq = sequence(attach.records().of(c.name))
        #expect(seq == seq.sorted() && Set(seq).count == seq.count, "in order, none twice")
        // A line every 10 ms: at most what was written between the last read and the truncation is lost —
        // a linger's worth (LOG_LINGER_MS, 80 ms) and a line or two.
        #expect(seq.count >= (seq.last ?? 0) - 10, "at most what was written between the last read and the truncation is lost")
        let said = attach.stderr.split(separator: "\n")
        #expect(said.count == 1)
        #expect(said.first?.hasPrefix("attach: logs of \(c.name): its log file was truncated") == true)
    }

    @Test("docker rm -f mid-stream: every line written before the removal arrives")
    func removal() throws {
        let attach = try startFileAttach("files")
        let c = TestContainer("files-rm")
        // Bursts of 100 lines, 10 ms apart.
        try c.run("n=0; while true; do n=$((n+1)); echo \"seq $n\"; [ $((n % 100)) != 0 ] || sleep 0.01; done")
        #expect(eventually { sequence(attach.records().of(c.name)).count >= 5_000 })
        // The test holds the file open: after the removal, what it holds is every line written.
        let path = try docker("inspect", "-f", "{{.LogPath}}", c.name)
        let fd = open(path, O_RDONLY)
        #expect(fd >= 0)
        defer { close(fd) }
        try docker("rm", "-f", c.name)
        #expect(!Sys.exists(path))
        var written: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 1 << 16)
        while true {
            let n = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if n <= 0 { break }
            written += buffer[0..<n]
        }
        let lines = try fileEntries(written)
        #expect(lines.count > 5_000)
        let expected = Array(1...lines.count)
        #expect(eventually { sequence(attach.records().of(id: c.id)).count >= lines.count })
        #expect(sequence(attach.records().of(id: c.id)) == expected)
        #expect(attach.stderr == "")
    }

    @Test("the folder missing: auto reads through the logs endpoint; files skips the container, said once, counted")
    func mountMissing() throws {
        let metricsDir = Env.tempDir()
        let auto = try startAttach(["--log-source", "auto"], env: ["DOCKER_CONTAINERS_DIR": "/nonexistent/containers"])
        let files = try startAttach(["--log-source", "files"],
                                    env: ["DOCKER_CONTAINERS_DIR": "/nonexistent/containers", "LOGSPOUT_METRICS_DIR": metricsDir])
        let c = TestContainer("files-missing")
        try c.run("echo one; echo two; sleep 1; echo three; sleep 30")
        #expect(eventually { auto.records().of(c.name).map(\.data) == ["one", "two", "three"] })
        #expect(eventually { metricSamples(metricsDir + "/attach.prom")["logspout_attach_containers_skipped_total"] == 1 })
        try docker("restart", "-t", "1", c.name)
        #expect(eventually { auto.records().of(c.name).count == 6 })
        #expect(files.records().of(c.name).isEmpty)
        #expect(files.stderr == "attach: logs of \(c.name): cannot open the folder /nonexistent/containers/\(c.id): No such file or directory; skipped (--log-source files)\n")
        #expect(auto.stderr == "")
        #expect(metricSamples(metricsDir + "/attach.prom")["logspout_attach_containers_followed_by_source{source=\"file\"}"] == 0)
    }

    @Test("corrupt lines written into the file: skipped, said with the offset, counted; the stream goes on")
    func corruptLines() throws {
        let metricsDir = Env.tempDir()
        let attach = try startFileAttach("files", env: ["LOGSPOUT_METRICS_DIR": metricsDir])
        let c = TestContainer("files-corrupt")
        try c.run("echo before; " + TestContainer.waitForGo + "; echo after; sleep 30")
        #expect(eventually { attach.records().of(c.name).map(\.data) == ["before"] })
        let path = try docker("inspect", "-f", "{{.LogPath}}", c.name)
        let offset = try Sys.readFile(path).count
        let fd = open(path, O_WRONLY | O_APPEND)
        #expect(fd >= 0)
        let garbage = Array("{\"log\":\"cut short\n not json at all\n{\"log\":\"x\\n\",\"stream\":\"stdout\"}\n".utf8)
        #expect(garbage.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) } == garbage.count)
        close(fd)
        try c.go()
        #expect(eventually { attach.records().of(c.name).map(\.data) == ["before", "after"] })
        #expect(eventually { metricSamples(metricsDir + "/attach.prom")["logspout_attach_file_corrupt_lines_total"] == 3 })
        let lines = attach.stderr.split(separator: "\n")
        #expect(lines.count == 3)
        #expect(lines.first?.hasPrefix("attach: logs of \(c.name): a corrupt line at byte \(offset) of its log file skipped: ") == true)
        #expect(lines.last?.hasSuffix("an entry without an RFC 3339 time") == true)
    }

    @Test("graceful restarts with STATE_DIR, from files to api and back: nothing lost, nothing repeated")
    func restarts() throws {
        let state = Env.tempDir()
        let c = TestContainer("files-restart")
        var seen: [Int] = []
        var first = true
        for source in ["files", "api", "files"] {
            let attach = try startFileAttach(source, env: ["STATE_DIR": state])
            if first {
                try c.run(counterScript(ms: 5))
                first = false
            }
            let before = seen.count
            #expect(eventually { sequence(attach.records().of(c.name)).count >= 100 }, "\(source)")
            attach.stop()
            #expect(attach.status == 0)
            seen += sequence(attach.records().of(c.name))
            #expect(seen.count > before)
            pace(ms: 300)  // the container logs on while no attach runs
        }
        #expect(seen == Array(1...(seen.last ?? 1)), "every number once, in order, across the restarts")
    }
}
