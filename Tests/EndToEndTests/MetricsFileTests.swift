// attach's and route's metrics files (LOGSPOUT_METRICS_DIR): the counters against the records really
// sent, labels bounded and released, nothing rewritten while idle, the last values kept at exit, and
// promtool's check of the text. attach's part needs the private Docker engine.

#if canImport(Glibc)
import Glibc
#endif
import Records
import Syscall
import Testing

/// The samples of a metrics file, by what precedes the value (`name{labels}`); empty while it is absent.
func metricSamples(_ path: String) -> [String: Double] {
    var samples: [String: Double] = [:]
    for line in String(decoding: readFile(path), as: UTF8.self).split(separator: "\n") where !line.hasPrefix("#") {
        guard let space = line.lastIndex(of: " "), let value = Double(line[line.index(after: space)...]) else { continue }
        samples[String(line[..<space])] = value
    }
    return samples
}

/// The file's inode and modification time: a rewrite (a rename over it) changes both.
func fileIdentity(_ path: String) -> [Int] {
    var st = stat()
    guard stat(path, &st) == 0 else { return [] }
    return [Int(st.st_ino), st.st_mtim.tv_sec, st.st_mtim.tv_nsec]
}

/// `promtool check metrics` (Debian's prometheus, which scripts/test.sh installs) finds nothing to say
/// about the file: neither an error nor a lint problem.
func expectPromtoolPasses(_ path: String, sourceLocation: SourceLocation = #_sourceLocation) throws {
    guard access("/usr/bin/promtool", X_OK) == 0 else {
        Issue.record("promtool is not installed (scripts/test.sh installs Debian's prometheus)", sourceLocation: sourceLocation)
        return
    }
    let child = try Child(["/usr/bin/promtool", "check", "metrics"], stdin: path)
    guard let status = child.wait(timeoutMs: 20_000) else { throw TestFailure("promtool did not finish") }
    let output = String(decoding: child.stdout, as: UTF8.self) + child.stderr
    #expect(status == 0, "\(output)", sourceLocation: sourceLocation)
    #expect(output == "", sourceLocation: sourceLocation)
}

/// The stage is idle for 1.5 s: its file is not written again (same inode, time and text).
func expectNotRewrittenWhileIdle(_ path: String, sourceLocation: SourceLocation = #_sourceLocation) {
    let before = fileIdentity(path)
    let text = readFile(path)
    pace(ms: 1500)
    #expect(fileIdentity(path) == before, sourceLocation: sourceLocation)
    #expect(readFile(path) == text, sourceLocation: sourceLocation)
}

@Suite("route's metrics file")
struct RouteMetricsFileTests {
    @Test("the counters match the records sent; a subscriber's missed records are counted; a deleted route's series goes; idle, the file stays; at exit the last values stay")
    func counters() throws {
        let dir = Env.tempDir()
        let prom = dir + "/route.prom"
        let folder = Env.tempDir()
        routeWriteFile(folder + "/gone.json", #"{"id":"gone","source":{"name":"nobody"},"target":{"type":"syslog","addr":"l:514"}}"#)
        routeWriteFile(folder + "/broken.json", "{")
        let db = "syslog://l:514?filter.name=*_db"
        let stderr = "syslog://l:514?filter.sources=stderr"
        let bus = dir + "/bus.sock"
        let feeder = try RouteFeeder()
        let route = try Child([routeBinary, "--ready-fd", String(Child.readyFD), db, stderr],
                              env: ["ROUTESPATH": folder, "LOGSPOUT_BUS": bus, "LOGSPOUT_METRICS_DIR": dir],
                              stdin: feeder.path, readiness: true)
        defer {
            feeder.close()
            route.stop()
        }
        try route.waitReady()
        #expect(metricSamples(prom)["logspout_route_records_read_total"] == 0)

        // A subscriber that reads nothing while many records pass: it misses some.
        let subscriber = try Sys.connectUnix(path: bus)
        defer { close(subscriber) }
        try Sys.writeAll(subscriber, Array(#"{"op":"subscribe","filter":{}}"#.utf8) + [10])
        #expect(eventually(timeoutMs: 10_000) { metricSamples(prom)["logspout_route_bus_subscribers"] == 1 })

        let rounds = 6000
        let lines = RouteInput.lines
        let chunk = RouteInput.text
        for _ in 0..<rounds { feeder.write(chunk) }
        feeder.write("not a record\n{\"time\":1}\n")
        let sent = rounds * lines.count
        let toDB = rounds * lines.filter { $0.0 == 1 }.count
        let toStderr = rounds * lines.filter { $0.1 == "stderr" }.count
        let unmatched = rounds * lines.filter { $0.0 != 1 && $0.1 != "stderr" }.count
        let dbID = routeStableID(db)
        let stderrID = routeStableID(stderr)
        #expect(eventually(timeoutMs: 20_000) { metricSamples(prom)["logspout_route_lines_refused_total"] == 2 }, "\(metricSamples(prom))")
        var samples = metricSamples(prom)
        #expect(samples["logspout_route_records_read_total"] == Double(sent))
        #expect(samples["logspout_route_records_unmatched_total"] == Double(unmatched))
        #expect(samples["logspout_route_records_routed_total{route=\"\(dbID)\"}"] == Double(toDB))
        #expect(samples["logspout_route_records_routed_total{route=\"\(stderrID)\"}"] == Double(toStderr))
        #expect(samples["logspout_route_records_routed_total{route=\"gone\"}"] == 0)
        #expect(samples["logspout_route_routes"] == 3)
        #expect(samples["logspout_route_metrics_folded_total"] == 0)
        #expect(samples["logspout_route_invalid_route_files_total"] == 1)
        // What route wrote: one routed record per record and route taking it.
        #expect(eventually(timeoutMs: 10_000) { route.stdout.reduce(0) { $0 + ($1 == 10 ? 1 : 0) } == toDB + toStderr })

        // The subscriber reads now: what it got plus what it was told it missed is everything sent, and
        // what it missed is what the metrics say.
        var received = 0
        var missed = 0
        var pending: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 1 << 16)
        Sys.setTimeouts(subscriber, milliseconds: 5000)
        while received + missed < sent {
            let n = try Sys.read(subscriber, into: &buffer)
            if n == 0 { break }
            pending += buffer[0..<n]
            while let nl = pending.firstIndex(of: 10) {
                let line = String(decoding: pending[..<nl], as: UTF8.self)
                pending.removeSubrange(...nl)
                if line.hasPrefix(#"{"missed":"#) {
                    missed += Int(line.dropFirst(10).dropLast()) ?? 0
                } else if line != #"{"ok":true}"# {
                    received += 1
                }
            }
        }
        #expect(received + missed == sent)
        #expect(missed > 0)
        #expect(metricSamples(prom)["logspout_route_bus_missed_records_total"] == Double(missed))
        close(subscriber)
        #expect(eventually(timeoutMs: 10_000) { metricSamples(prom)["logspout_route_bus_subscribers"] == 0 })

        // The route from the folder is deleted: its series goes.
        unlink(folder + "/gone.json")
        route.signal(SIGHUP)
        #expect(eventually(timeoutMs: 10_000) { metricSamples(prom)["logspout_route_routes"] == 2 })
        samples = metricSamples(prom)
        #expect(samples["logspout_route_records_routed_total{route=\"gone\"}"] == nil)
        #expect(samples["logspout_route_records_routed_total{route=\"\(dbID)\"}"] == Double(toDB))

        try expectPromtoolPasses(prom)
        // Idle: the file is not written again.
        expectNotRewrittenWhileIdle(prom)

        // The last records, and the end of the input: the values at exit stay.
        feeder.write(chunk)
        feeder.close()
        #expect(route.wait() == 0)
        samples = metricSamples(prom)
        #expect(samples["logspout_route_records_read_total"] == Double(sent + lines.count))
        #expect(samples["logspout_route_records_routed_total{route=\"\(dbID)\"}"] == Double(toDB + lines.filter { $0.0 == 1 }.count))
        #expect(route.stderr.contains("route: line "), "\(route.stderr)")
    }

    @Test("beyond METRICS_MAX_LABEL_VALUES routes share route=\"_other\", counted; a bad value is one line and exit 78")
    func labelLimit() throws {
        let dir = Env.tempDir()
        let uris = ["syslog://l:514", "syslog://l:515", "syslog://l:516"]
        let r = try runRoute(uris, input: RouteInput.text, env: ["LOGSPOUT_METRICS_DIR": dir, "METRICS_MAX_LABEL_VALUES": "1"])
        #expect(r.status == 0)
        let samples = metricSamples(dir + "/route.prom")
        let n = Double(RouteInput.lines.count)
        #expect(samples["logspout_route_records_routed_total{route=\"\(routeStableID(uris[0]))\"}"] == n)
        #expect(samples["logspout_route_records_routed_total{route=\"_other\"}"] == 2 * n)
        #expect(samples["logspout_route_metrics_folded_total"] == 2)
        #expect(samples.keys.filter { $0.hasPrefix("logspout_route_records_routed_total") }.count == 2)

        let bad = try runRoute(uris, input: "", env: ["LOGSPOUT_METRICS_DIR": dir, "METRICS_MAX_LABEL_VALUES": "many"])
        #expect(bad.status == 78)
        #expect(bad.stderr == "route: METRICS_MAX_LABEL_VALUES 'many' must be a whole number from 0 to 100000\n")
    }
}

@Suite("attach's metrics file against a real Docker engine", .serialized)
struct AttachMetricsFileTests {
    @Test("records per container and stream match the records written; the lag is there; idle, the file stays; a removed container's series go")
    func counters() throws {
        let dir = Env.tempDir()
        let prom = dir + "/attach.prom"
        let attach = try startAttach(env: ["LOGSPOUT_METRICS_DIR": dir])
        defer { attach.stop() }
        #expect(eventually(timeoutMs: 10_000) { metricSamples(prom)["logspout_attach_engine_up"] == 1 })
        let c = TestContainer("metrics")
        try c.run("i=0; while [ $i -lt 300 ]; do echo out $i; echo err $i >&2; i=$((i+1)); done; echo last; sleep 60")
        #expect(eventually { attach.records().of(c.name).count == 601 })
        let records = attach.records().of(c.name)
        let short = String(c.id.prefix(12))
        let labels = "container_id=\"\(short)\",container_name=\"\(c.name)\""
        let stdout = records.filter { $0.source == .stdout }.count
        let stderr = records.filter { $0.source == .stderr }.count
        #expect(stdout == 301)
        #expect(stderr == 300)
        #expect(eventually(timeoutMs: 10_000) {
            metricSamples(prom)["logspout_attach_records_read_total{\(labels),stream=\"stdout\"}"] == Double(stdout)
        }, "\(metricSamples(prom))")
        let samples = metricSamples(prom)
        #expect(samples["logspout_attach_records_read_total{\(labels),stream=\"stderr\"}"] == Double(stderr))
        let lag = try #require(samples["logspout_attach_lag_seconds{\(labels)}"])
        #expect(lag >= 0)
        #expect(samples["logspout_attach_containers_followed"].map { $0 >= 1 } == true)
        #expect(samples["logspout_attach_engine_up"] == 1)
        #expect(samples["logspout_attach_engine_failures_total"] == 0)
        #expect(samples["logspout_attach_metrics_folded_total"] == 0)
        try expectPromtoolPasses(prom)
        // Idle (the container sleeps): the file is not written again, and the lag stays what it was.
        expectNotRewrittenWhileIdle(prom)

        // Removed: its series go.
        try docker("rm", "-f", c.name)
        #expect(eventually(timeoutMs: 10_000) { !String(decoding: readFile(prom), as: UTF8.self).contains(short) })

        attach.signal(SIGTERM)
        #expect(attach.wait() == 0)
        #expect(metricSamples(prom)["logspout_attach_records_read_total{\(labels),stream=\"stdout\"}"] == nil)
    }

    @Test("beyond METRICS_MAX_LABEL_VALUES containers share container_id=\"_other\"; a bad value is one line and exit 78")
    func labelLimit() throws {
        let dir = Env.tempDir()
        let prom = dir + "/attach.prom"
        let attach = try startAttach(env: ["LOGSPOUT_METRICS_DIR": dir, "METRICS_MAX_LABEL_VALUES": "0"])
        defer { attach.stop() }
        let c = TestContainer("metrics-folded")
        try c.run("echo one; echo two; sleep 60")
        #expect(eventually { attach.records().of(c.name).count == 2 })
        let other = "container_id=\"_other\",container_name=\"_other\""
        // Containers already running when attach started are folded too: at least this one's lines.
        #expect(eventually(timeoutMs: 10_000) {
            (metricSamples(prom)["logspout_attach_records_read_total{\(other),stream=\"stdout\"}"] ?? 0) >= 2
        }, "\(metricSamples(prom))")
        let samples = metricSamples(prom)
        #expect(samples["logspout_attach_metrics_folded_total"].map { $0 >= 1 } == true)
        #expect(!String(decoding: readFile(prom), as: UTF8.self).contains(String(c.id.prefix(12))))

        let bad = try run([Env.binDir + "/attach"], env: ["METRICS_MAX_LABEL_VALUES": "-3", "DOCKER_HOST": try Env.dockerHost()])
        #expect(bad.status == 78)
        #expect(bad.stderr == "attach: METRICS_MAX_LABEL_VALUES '-3' must be a whole number from 0 to 100000\n")
    }
}
