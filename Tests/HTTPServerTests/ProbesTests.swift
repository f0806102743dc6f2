#if canImport(Glibc)
import Glibc
#endif
import HTTP
import JSON
import Metrics
import Testing
@testable import HTTPServer

/// A fresh folder with `files` written in it.
private func folder(_ files: [String: [UInt8]]) -> String {
    var template = Array("/tmp/httpd-probes-XXXXXX".utf8CString)
    let dir = template.withUnsafeMutableBufferPointer { String(cString: mkdtemp($0.baseAddress!)!) }
    for (name, bytes) in files {
        let fd = open(dir + "/" + name, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        _ = bytes.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
        close(fd)
    }
    return dir
}

private func bytes(_ s: String) -> [UInt8] { Array(s.utf8) }

@Suite("/metrics, /ready, /health: the router, the stages' files, the answers")
struct ProbesTests {
    func action(_ method: String, _ target: String, access: AccessPolicy = AccessPolicy(), _ headers: [(String, String)] = []) -> RequestAction {
        Router.action(for: head(method, target, headers), body: [], access: access)
    }

    @Test("/metrics and /ready take GET and HEAD; any other method is 405 with Allow")
    func methods() {
        #expect(action("GET", "/metrics") == .metrics)
        #expect(action("HEAD", "/metrics") == .metrics)
        #expect(action("GET", "/ready") == .ready(detailed: true))
        #expect(action("HEAD", "/ready") == .ready(detailed: true))
        for method in ["POST", "PUT", "DELETE", "PATCH"] {
            for path in ["/metrics", "/ready"] {
                #expect(action(method, path) == .refuse(status: 405, message: "method \(method) not allowed here; allowed: GET, HEAD", allow: "GET, HEAD"))
            }
        }
        #expect(action("GET", "/metrics/") == .refuse(status: 404, message: "no such path '/metrics/'; see docs/http.md"))
    }

    @Test("with a token: /metrics needs it (401); /ready is open but detailed only with it; the Host check is off")
    func token() {
        let access = AccessPolicy(token: bytes("s3cret"))
        let bearer = [("Authorization", "Bearer s3cret")]
        guard case .refuse(401, _, _) = action("GET", "/metrics", access: access) else {
            Issue.record("/metrics without the token is served")
            return
        }
        guard case .refuse(401, _, _) = action("GET", "/metrics", access: access, [("Authorization", "Bearer nope")]) else {
            Issue.record("/metrics with a wrong token is served")
            return
        }
        #expect(action("GET", "/metrics", access: access, bearer) == .metrics)
        // What Prometheus sends: Host 127.0.0.1:PORT (an IP literal), or a name (a token lifts the Host check).
        #expect(action("GET", "/metrics", access: access, bearer + [("Host", "127.0.0.1:8000")]) == .metrics)
        #expect(action("GET", "/metrics", access: access, bearer + [("Host", "logspout.internal:8000")]) == .metrics)
        #expect(action("GET", "/ready", access: access) == .ready(detailed: false))
        #expect(action("GET", "/ready", access: access, bearer) == .ready(detailed: true))
        // Without a token, a foreign name is refused like everywhere.
        guard case .refuse(403, _, _) = action("GET", "/metrics", [("Host", "evil.example")]) else {
            Issue.record("/metrics for a foreign Host without a token is served")
            return
        }
    }

    @Test("a file is read up to its bound, cut after its last whole line; a missing one is nil; no folder, no files")
    func boundedRead() {
        let line = "logspout_x_total 1\n"
        let big = String(repeating: line, count: 100)
        let dir = folder(["big.prom": bytes(big), "small.prom": bytes(line), "open.prom": bytes("a 1\nb 2"), "empty.prom": []])
        let files = StageFiles(directory: dir)
        let cut = files.read("big.prom", maxBytes: 50)
        #expect(cut?.cut == true)
        #expect(cut?.bytes == bytes(String(repeating: line, count: 2)), "two whole lines of 19 bytes fit in 50")
        #expect(files.read("big.prom", maxBytes: big.utf8.count)?.cut == false)
        #expect(files.read("big.prom", maxBytes: big.utf8.count)?.bytes.count == big.utf8.count)
        #expect(files.read("small.prom")?.bytes == bytes(line))
        #expect(files.read("open.prom")?.bytes == bytes("a 1\nb 2\n"), "a last line without its newline gets one")
        #expect(files.read("empty.prom")?.bytes == [])
        #expect(files.read("missing.prom") == nil)
        #expect(StageFiles(directory: nil).read("small.prom") == nil)
        #expect(StageFiles(directory: "").read("small.prom") == nil)
        // The bound is the publishers': a file of exactly 1 MiB is whole, one byte more is cut.
        let mib = [UInt8](repeating: 0x61, count: MetricsPublisher.maxFileBytes - 1) + [10]
        let dir2 = folder(["mib.prom": mib, "over.prom": mib + bytes("b 1\n")])
        #expect(StageFiles(directory: dir2).read("mib.prom")?.bytes.count == MetricsPublisher.maxFileBytes)
        let over = StageFiles(directory: dir2).read("over.prom")
        #expect(over?.cut == true && over?.bytes.count == MetricsPublisher.maxFileBytes)
    }

    @Test("/metrics: httpd's families first, then supervisor, attach, route, emit-syslog as they are, missing ones skipped")
    func concatenation() {
        let supervisor = "# HELP logspout_supervisor_stage_up x\n# TYPE logspout_supervisor_stage_up gauge\nlogspout_supervisor_stage_up{stage=\"route\"} 1\n"
        let route = "# HELP logspout_route_records_total x\n# TYPE logspout_route_records_total counter\nlogspout_route_records_total 7\n"
        let syslog = "# HELP logspout_syslog_sent_total x\n# TYPE logspout_syslog_sent_total counter\nlogspout_syslog_sent_total 3\n"
        // Written in another order than served; attach.prom missing; another file not served.
        let dir = folder(["emit-syslog.prom": bytes(syslog), "route.prom": bytes(route), "supervisor.prom": bytes(supervisor),
                          "other.prom": bytes("nope 1\n")])
        var stats = HTTPDStats()
        stats.responded(200)
        stats.responded(200)
        stats.responded(404)
        stats.responded(101)
        stats.streamsRefused = 2
        let body = text(StageFiles(directory: dir).metricsBody(&stats, now: HTTPDStats.Now(connections: 3, streams: 1, bufferedBytes: 640)))
        let own = body[..<body.firstRange(of: "# HELP logspout_supervisor_stage_up")!.lowerBound]
        #expect(body.hasPrefix("# HELP logspout_build_info "))
        #expect(body.hasSuffix(supervisor + route + syslog), "the files, verbatim, in order")
        #expect(!body.contains("nope"))
        #expect(own.contains("logspout_build_info{version=\"\(BuildInfo.version)\",swift=\"\(BuildInfo.swift)\"} 1\n"))
        for sample in ["logspout_httpd_requests_total{code=\"1xx\"} 1", "logspout_httpd_requests_total{code=\"2xx\"} 2",
                       "logspout_httpd_requests_total{code=\"3xx\"} 0", "logspout_httpd_requests_total{code=\"4xx\"} 1",
                       "logspout_httpd_requests_total{code=\"5xx\"} 0", "logspout_httpd_connections 3", "logspout_httpd_streams 1",
                       "logspout_httpd_streams_refused_total 2", "logspout_httpd_stream_buffer_bytes 640",
                       "logspout_httpd_metrics_file_present{file=\"supervisor.prom\"} 1", "logspout_httpd_metrics_file_present{file=\"attach.prom\"} 0",
                       "logspout_httpd_metrics_file_present{file=\"route.prom\"} 1", "logspout_httpd_metrics_files_cut_total 0"] {
            #expect(own.contains(sample + "\n"), "\(sample)")
        }
        // Every family of httpd's own is declared once, before its samples.
        let types = own.split(separator: "\n").filter { $0.hasPrefix("# TYPE ") }
        #expect(Set(types).count == types.count && types.count == 10)
        // Without a folder: httpd's own only.
        var alone = HTTPDStats()
        let solo = text(StageFiles(directory: nil).metricsBody(&alone, now: HTTPDStats.Now()))
        #expect(solo.hasSuffix("logspout_httpd_metrics_files_cut_total 0\n"))
    }

    @Test("/health's stage check: the stages supervisor.prom says are down")
    func stagesDown() {
        let prom = """
            # HELP logspout_supervisor_stage_up x
            # TYPE logspout_supervisor_stage_up gauge
            logspout_supervisor_stage_up{stage="attach"} 1
            logspout_supervisor_stage_up{stage="route"} 0
            logspout_supervisor_stage_up{stage="emit-syslog"} 0
            logspout_supervisor_stage_up{stage="httpd"} 1
            logspout_supervisor_stage_restarts_total{stage="route"} 0

            """
        #expect(StageFiles.stagesDown(bytes(prom)) == ["route", "emit-syslog"])
        #expect(StageFiles(directory: folder(["supervisor.prom": bytes(prom)])).liveness() == "route, emit-syslog are down")
        let one = prom.replacing("stage=\"route\"} 0", with: "stage=\"route\"} 1")
        #expect(StageFiles(directory: folder(["supervisor.prom": bytes(one)])).liveness() == "emit-syslog is down")
        let all = one.replacing("} 0", with: "} 1")
        #expect(StageFiles(directory: folder(["supervisor.prom": bytes(all)])).liveness() == nil)
        #expect(StageFiles(directory: folder([:])).liveness() == nil, "no file: nothing known to be down")
        #expect(StageFiles(directory: nil).liveness() == nil)
        let response = Router.unhealthy("emit-syslog is down", detailed: true)
        #expect(response.status == 503 && response.body == bytes("{\"status\":\"emit-syslog is down\"}\n"))
        #expect(Router.unhealthy("emit-syslog is down", detailed: false).body == bytes("{\"status\":\"unavailable\"}\n"))
    }

    static let routes: [JSONValue] = [
        try! JSONValue.parse(#"{"id":"central","target":{"type":"syslog","addr":"logs.example.com:514"}}"#),
        try! JSONValue.parse(#"{"id":"local","target":{"type":"syslog","addr":"127.0.0.1:514","protocol":"tcp"}}"#),
        try! JSONValue.parse(#"{"id":"new","target":{"type":"syslog","addr":"10.0.0.9:514"}}"#),
    ]

    @Test("/ready from a health file: failing routes named with why (503); unknown and absent routes are not failing")
    func ready() throws {
        let health = bytes("""
            {"id":"central","addr":"logs.example.com:514","transport":"udp","state":"failing","error":"cannot resolve logs.example.com: no such host"}
            {"id":"local","addr":"127.0.0.1:514","transport":"tcp","state":"ok"}
            {"id":"gone","addr":"10.9.9.9:514","transport":"tcp","state":"failing","error":"refused"}
            not json

            """)
        let degraded = ReadyReport.response(routes: Self.routes, health: health, problem: nil, detailed: true)
        #expect(degraded.status == 503)
        #expect(text(degraded.body) == #"{"status":"degraded","routes":["#
            + #"{"id":"central","addr":"logs.example.com:514","transport":"udp","state":"failing","error":"cannot resolve logs.example.com: no such host"},"#
            + #"{"id":"local","addr":"127.0.0.1:514","transport":"tcp","state":"ok"},"#
            + #"{"id":"new","addr":"10.0.0.9:514","state":"unknown"}]}"# + "\n", "a route the bus no longer lists is not shown")
        #expect(text(ReadyReport.response(routes: Self.routes, health: health, problem: nil, detailed: false).body) == #"{"status":"degraded"}"# + "\n")

        let fine = bytes("""
            {"id":"central","addr":"logs.example.com:514","transport":"udp","state":"unknown"}
            {"id":"local","addr":"127.0.0.1:514","transport":"tcp","state":"ok"}
            """)
        let ready = ReadyReport.response(routes: Self.routes, health: fine, problem: nil, detailed: true)
        #expect(ready.status == 200)
        let value = try JSONValue.parse(ready.body)
        #expect(value["status"]?.string == "ready")
        #expect(value["routes"]?.array?.map { $0["state"]?.string ?? "" } == ["unknown", "ok", "unknown"])
        #expect(text(ReadyReport.response(routes: Self.routes, health: fine, problem: nil, detailed: false).body) == #"{"status":"ready"}"# + "\n")
        // No health file (httpd alone, or emit-syslog has not written it): every route unknown, ready.
        let alone = ReadyReport.response(routes: Self.routes, health: nil, problem: nil, detailed: true)
        #expect(alone.status == 200)
        #expect(try JSONValue.parse(alone.body)["routes"]?.array?.allSatisfy { $0["state"]?.string == "unknown" } == true)
        #expect(ReadyReport.response(routes: [], health: nil, problem: nil, detailed: true).body == bytes(#"{"status":"ready","routes":[]}"# + "\n"))
    }

    @Test("/ready when something else is wrong: a stage down, the bus unreachable (the health file's routes shown)")
    func readyProblem() throws {
        let health = bytes(#"{"id":"local","addr":"127.0.0.1:514","transport":"tcp","state":"ok"}"# + "\n")
        let down = ReadyReport.response(routes: nil, health: health, problem: "route is down", detailed: true)
        #expect(down.status == 503)
        #expect(text(down.body) == #"{"status":"degraded","error":"route is down","routes":[{"id":"local","addr":"127.0.0.1:514","transport":"tcp","state":"ok"}]}"# + "\n")
        #expect(text(ReadyReport.response(routes: nil, health: health, problem: "route is down", detailed: false).body) == #"{"status":"degraded"}"# + "\n")
        let unreachable = ReadyReport.response(routes: nil, health: nil, problem: "route's bus is unreachable", detailed: true)
        #expect(unreachable.status == 503 && text(unreachable.body) == #"{"status":"degraded","error":"route's bus is unreachable","routes":[]}"# + "\n")
    }
}
