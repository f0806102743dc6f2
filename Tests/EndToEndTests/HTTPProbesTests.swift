// /metrics, /ready and /health in the appliance (supervisor.sh and its four stages, the real engine):
// the stages' snapshot files served as they are, the supervisor's stage counts, a stage down seen by
// /health, the token, and a real Prometheus (promtool, and a server scraping with the token).

#if canImport(Glibc)
import Glibc
#endif
import JSON
import Syscall
import Testing

/// The supervisor's run folder under `tmp` (its TMPDIR): `logspout.XXXXXX`.
private func runFolder(_ tmp: String) throws -> String {
    let names = (try? Sys.listDirectory(tmp)) ?? []
    guard let name = names.first(where: { $0.hasPrefix("logspout.") }) else { throw TestFailure("no run folder in \(tmp): \(names)") }
    return tmp + "/" + name
}

/// A value of `name` (its whole series text, labels included, e.g. `x{stage="route"}`) in a metrics text.
private func sample(_ body: String, _ series: String) -> String? {
    for line in lines(body) where line.hasPrefix(series + " ") { return String(line.dropFirst(series.count + 1)) }
    return nil
}

private let stageFiles = ["supervisor.prom", "attach.prom", "route.prom", "emit-syslog.prom"]
private let metricsType = "text/plain; version=0.0.4; charset=utf-8"

/// `promtool` from Debian's `prometheus` package.
private func promtool() throws -> String {
    for path in ["/usr/bin/promtool", "/usr/local/bin/promtool"] where access(path, X_OK) == 0 { return path }
    throw TestFailure("promtool is not installed (Debian's prometheus package; scripts/test.sh installs it)")
}

@Suite("httpd: /metrics, /ready, /health in the appliance; a real Prometheus", .serialized)
struct HTTPProbesTests {
    @Test("/metrics: httpd's families, then the stages' files in the folder, as they are, in order; promtool accepts it; 405s")
    func metrics() throws {
        let tmp = Env.tempDir()
        let app = try Appliance(env: ["TMPDIR": tmp])
        let folder = try runFolder(tmp) + "/metrics"
        #expect(Sys.exists(folder + "/supervisor.prom"), "the supervisor publishes at once")
        // The files can be rewritten at any moment (at most every 0.5 s): the body is compared with the files
        // as they were just before and just after it was served, when they did not change meanwhile.
        var body = ""
        var expected = ""
        let same = eventually {
            let before = stageFiles.map { String(decoding: readFile(folder + "/" + $0), as: UTF8.self) }
            guard let response = try? app.curl(["-i", "/metrics"]) else { return false }
            let after = stageFiles.map { String(decoding: readFile(folder + "/" + $0), as: UTF8.self) }
            guard before == after else { return false }
            body = responseBody(response.stdout)
            expected = after.joined()
            #expect(statusCode(response.stdout) == 200)
            #expect(response.stdout.contains("\r\nContent-Type: \(metricsType)\r\n"), "\(response.stdout.prefix(300))")
            return body.hasSuffix(expected)
        }
        #expect(same, "served:\n\(body)\nfiles:\n\(expected)")
        #expect(body.hasPrefix("# HELP logspout_build_info "))
        #expect(body.firstRange(of: "logspout_httpd_requests_total")!.lowerBound < body.firstRange(of: "logspout_supervisor_stage_up")!.lowerBound)
        for stage in ["attach", "route", "emit-syslog", "httpd"] {
            #expect(sample(body, "logspout_supervisor_stage_up{stage=\"\(stage)\"}") == "1", "\(stage)")
            #expect(sample(body, "logspout_supervisor_stage_restarts_total{stage=\"\(stage)\"}") == "0", "\(stage)")
        }
        for file in stageFiles {
            let present = Sys.exists(folder + "/" + file) ? "1" : "0"
            #expect(sample(body, "logspout_httpd_metrics_file_present{file=\"\(file)\"}") == present, "\(file)")
        }
        print("/metrics: \(body.utf8.count) bytes, files present: \(stageFiles.filter { Sys.exists(folder + "/" + $0) })")
        // The requests so far are counted (the health checks, the /metrics above).
        let twoxx = try #require(Int(sample(try app.curl(["/metrics"]).stdout, "logspout_httpd_requests_total{code=\"2xx\"}") ?? ""))
        #expect(twoxx >= 2)

        // promtool: the exposition format, and the naming conventions.
        let saved = Env.tempDir() + "/metrics.txt"
        let text = try app.curl(["/metrics"])
        #expect(text.status == 0 && text.stdout.hasPrefix("# HELP "))
        try Sys.writeFileAtomically(saved, Array(text.stdout.utf8))
        let check = try run(["/bin/sh", "-c", "\(try promtool()) check metrics < \(saved)"])
        #expect(check.status == 0, "promtool: \(check.stdout) \(check.stderr)")

        // HEAD: the head alone; other methods 405 with Allow.
        let head = try app.curl(["-sI", "/metrics"])
        #expect(statusCode(head.stdout) == 200 && head.stdout.contains("Content-Type: \(metricsType)"))
        for path in ["/metrics", "/ready"] {
            for method in ["POST", "PUT", "DELETE"] {
                let refused = try app.curl(["-i", "-X", method, path])
                #expect(statusCode(refused.stdout) == 405, "\(method) \(path): \(refused.stdout)")
                #expect(refused.stdout.contains("\r\nAllow: GET, HEAD\r\n"), "\(method) \(path)")
            }
        }
        // /ready: every route listed; nothing sent yet or ok, so ready.
        let ready = try app.curl(["-i", "/ready"])
        let value = try JSONValue.parse(responseBody(ready.stdout))
        #expect(statusCode(ready.stdout) == 200 && value["status"]?.string == "ready", "\(ready.stdout)")
        #expect(value["routes"]?.array?.first?["addr"]?.string == "127.0.0.1:9", "\(ready.stdout)")
    }

    @Test("a stage killed: its restarts counted; /health and /ready 503 naming it while it is down, 200 once it is back")
    func stageDown() throws {
        let app = try Appliance(env: ["TMPDIR": Env.tempDir()])
        // Six deaths within a minute put the next start 4 s away (docs/supervisor.md): it is down meanwhile.
        try killRepeatedly(app.supervisor, "emit-syslog", times: 6)
        var health = ""
        #expect(eventually {
            health = (try? app.curl(["-i", "/health"]).stdout) ?? ""
            return statusCode(health) == 503
        }, "\(health)")
        #expect(responseBody(health) == #"{"status":"emit-syslog is down"}"# + "\n", "\(health)")
        #expect(stagePids(app.supervisor)["emit-syslog"] == nil, "still backing off")
        let ready = try app.curl(["-i", "/ready"]).stdout
        #expect(statusCode(ready) == 503, "\(ready)")
        let value = try JSONValue.parse(responseBody(ready))
        #expect(value["status"]?.string == "degraded" && value["error"]?.string == "emit-syslog is down", "\(ready)")
        #expect(value["routes"]?.array?.count == 1, "the routes still listed: the bus answers")
        let down = try app.curl(["/metrics"]).stdout
        #expect(sample(down, "logspout_supervisor_stage_up{stage=\"emit-syslog\"}") == "0")
        #expect(sample(down, "logspout_supervisor_stage_up{stage=\"route\"}") == "1")
        // Back after its backoff.
        #expect(eventually(timeoutMs: 30_000) { (try? app.curl(["/health"]).stdout) == #"{"status":"ok"}"# + "\n" })
        #expect(stagePids(app.supervisor)["emit-syslog"] != nil)
        let back = try app.curl(["/metrics"]).stdout
        #expect(sample(back, "logspout_supervisor_stage_up{stage=\"emit-syslog\"}") == "1")
        #expect(sample(back, "logspout_supervisor_stage_restarts_total{stage=\"emit-syslog\"}") == "6", "\(back)")
        for stage in ["attach", "route", "httpd"] {
            #expect(sample(back, "logspout_supervisor_stage_restarts_total{stage=\"\(stage)\"}") == "0", "\(stage)")
        }
        #expect(statusCode(try app.curl(["-i", "/ready"]).stdout) == 200)
    }

    @Test("every stage's metrics in one /metrics, counting a container's lines; /ready names the route whose receiver cannot be resolved")
    func allStages() throws {
        let udp = try UDPListener()
        let app = try Appliance(["syslog://127.0.0.1:\(udp.port)", "syslog://nonexistent.invalid:514"],
                                env: ["TMPDIR": Env.tempDir(), "SYSLOG_UNHEALTHY_AFTER": "1"])
        // The arguments' routes have stable ids made from them: found by their address.
        let list = try JSONValue.parse(try app.curl(["/routes"]).stdout).array ?? []
        func id(_ addr: String) -> String { list.first { $0["target"]?["addr"]?.string == addr }?["id"]?.string ?? "?" }
        let good = id("127.0.0.1:\(udp.port)"), lost = id("nonexistent.invalid:514")
        let c = TestContainer("probes-all")
        try c.run("for i in $(seq 1 50); do echo \"line $i\"; done; echo oops >&2; sleep 60")
        var got: [String] = []
        #expect(eventually { got += udp.texts(timeoutMs: 200); return got.filter { $0.contains(" \(c.name) ") }.count >= 51 })
        let short = String(c.id.prefix(12))
        var body = ""
        let counted = eventually {
            body = (try? app.curl(["/metrics"]).stdout) ?? ""
            return sample(body, "logspout_attach_records_read_total{container_id=\"\(short)\",container_name=\"\(c.name)\",stream=\"stdout\"}") == "50"
                // Held for the receiver whose name does not resolve (yet): DNS may come back.
                && sample(body, "logspout_syslog_buffered_messages{route=\"\(lost)\",addr=\"nonexistent.invalid:514\",transport=\"udp\"}") == "51"
                && sample(body, "logspout_route_records_routed_total{route=\"\(good)\"}") == "51"
                // What the receiver got was sent: counted within the file's next write.
                && sample(body, "logspout_syslog_messages_sent_total{route=\"\(good)\",addr=\"127.0.0.1:\(udp.port)\",transport=\"udp\"}") == "51"
        }
        #expect(counted, "\(body)")
        #expect(sample(body, "logspout_attach_records_read_total{container_id=\"\(short)\",container_name=\"\(c.name)\",stream=\"stderr\"}") == "1")
        for family in ["logspout_build_info", "logspout_httpd_requests_total", "logspout_supervisor_stage_up", "logspout_attach_containers_followed",
                       "logspout_attach_lag_seconds", "logspout_route_records_unmatched_total", "logspout_route_bus_subscribers",
                       "logspout_syslog_connected", "logspout_syslog_receiver_failing"] {
            #expect(body.contains("\n# TYPE \(family) ") || body.hasPrefix("# HELP \(family) "), "\(family) missing")
        }
        let saved = Env.tempDir() + "/metrics.txt"
        try Sys.writeFileAtomically(saved, Array(body.utf8))
        let check = try run(["/bin/sh", "-c", "\(try promtool()) check metrics < \(saved)"])
        #expect(check.status == 0, "promtool: \(check.stdout) \(check.stderr)")
        print("/metrics with every stage (\(body.utf8.count) bytes):\n\(lines(body).filter { !$0.hasPrefix("#") && ($0.contains(short) || $0.contains("route=\"")) }.prefix(40).joined(separator: "\n"))")

        var ready = ""
        #expect(eventually {
            ready = (try? app.curl(["-i", "/ready"]).stdout) ?? ""
            return statusCode(ready) == 503
        }, "\(ready)")
        let value = try JSONValue.parse(responseBody(ready))
        #expect(value["status"]?.string == "degraded", "\(ready)")
        let routes = value["routes"]?.array ?? []
        let failing = routes.first { $0["id"]?.string == lost }
        #expect(failing?["state"]?.string == "failing" && failing?["error"]?.string == "cannot resolve nonexistent.invalid: no such host", "\(ready)")
        #expect(routes.first { $0["id"]?.string == good }?["state"]?.string == "ok", "\(ready)")
        print("/ready: \(responseBody(ready))")
    }

    @Test("route stopped (SIGSTOP): a call waits 5 s for the bus, then 504; /health and /ready 503 saying so; /metrics still answers")
    func busStuck() throws {
        let app = try Appliance(env: ["TMPDIR": Env.tempDir()])
        let route = try #require(stagePids(app.supervisor)["route"])
        kill(route, SIGSTOP)
        defer { kill(route, SIGCONT) }
        let routes = try app.curl(["-i", "--max-time", "20", "/routes"])
        #expect(statusCode(routes.stdout) == 504, "\(routes.stdout)")
        #expect(responseBody(routes.stdout) == #"{"error":"route's bus did not answer within 5 s"}"# + "\n", "\(routes.stdout)")
        let health = try app.curl(["-i", "--max-time", "20", "/health"])
        #expect(statusCode(health.stdout) == 503 && responseBody(health.stdout) == #"{"status":"route's bus did not answer within 5 s"}"# + "\n", "\(health.stdout)")
        let ready = try app.curl(["-i", "--max-time", "20", "/ready"])
        #expect(statusCode(ready.stdout) == 503, "\(ready.stdout)")
        #expect(try JSONValue.parse(responseBody(ready.stdout))["error"]?.string == "route's bus did not answer within 5 s", "\(ready.stdout)")
        // The same connection goes on: a keep-alive request after the 504 is served.
        let metrics = try app.curl(["-i", "--max-time", "20", "/metrics"])
        #expect(statusCode(metrics.stdout) == 200)
        kill(route, SIGCONT)
        #expect(eventually { (try? app.curl(["/health"]).stdout) == #"{"status":"ok"}"# + "\n" })
        #expect(statusCode(try app.curl(["-i", "/routes"]).stdout) == 200)
    }

    @Test("with HTTPD_TOKEN: /metrics needs it (401 without, 200 with); /ready and /health answer the status word without it")
    func token() throws {
        let app = try Appliance(env: ["HTTPD_TOKEN": "probe-token", "TMPDIR": Env.tempDir()])
        let refused = try app.curl(["-i", "/metrics"])
        #expect(statusCode(refused.stdout) == 401 && refused.stdout.contains("WWW-Authenticate: Bearer"), "\(refused.stdout)")
        #expect(statusCode(try app.curl(["-i", "-H", "Authorization: Bearer wrong", "/metrics"]).stdout) == 401)
        let served = try app.curl(["-i", "-H", "Authorization: Bearer probe-token", "/metrics"])
        #expect(statusCode(served.stdout) == 200 && served.stdout.contains("logspout_supervisor_stage_up"), "\(served.stdout.prefix(300))")
        // A token lifts the Host check: a name works as well as an address.
        let named = try app.curl(["-i", "-H", "Authorization: Bearer probe-token", "-H", "Host: logspout.example:\(app.port)", "/metrics"])
        #expect(statusCode(named.stdout) == 200)
        #expect(try app.curl(["/ready"]).stdout == #"{"status":"ready"}"# + "\n")
        let detailed = try app.curl(["-H", "Authorization: Bearer probe-token", "/ready"]).stdout
        #expect(try JSONValue.parse(detailed)["routes"]?.array?.count == 1, "\(detailed)")
        #expect(statusCode(try app.curl(["-i", "-X", "POST", "/ready"]).stdout) == 401, "the token first, then the method")
        #expect(statusCode(try app.curl(["-i", "-X", "POST", "-H", "Authorization: Bearer probe-token", "/ready"]).stdout) == 405)
    }

    @Test("a real Prometheus scrapes /metrics with the token: the target is up, logspout's series are there")
    func prometheus() throws {
        let token = "scrape-\(UInt32.random(in: 0...UInt32.max))"
        let app = try Appliance(env: ["HTTPD_TOKEN": token, "TMPDIR": Env.tempDir()])
        let dir = Env.tempDir()
        let tokenFile = dir + "/token"
        try Sys.writeFileAtomically(tokenFile, Array(token.utf8))
        let config = """
            global:
              scrape_interval: 1s
              scrape_timeout: 1s
            scrape_configs:
              - job_name: logspout
                authorization:
                  credentials_file: \(tokenFile)
                static_configs:
                  - targets: ['127.0.0.1:\(app.port)']

            """
        try Sys.writeFileAtomically(dir + "/prometheus.yml", Array(config.utf8))
        let check = try run(["/bin/sh", "-c", "\(try promtool()) check config \(dir)/prometheus.yml"])
        #expect(check.status == 0, "\(check.stdout) \(check.stderr)")
        let port = Env.freePort()
        let server = try Child(["/usr/bin/prometheus", "--config.file=\(dir)/prometheus.yml", "--storage.tsdb.path=\(dir)/data",
                                "--web.listen-address=127.0.0.1:\(port)"])
        defer { server.stop() }
        /// The samples of a query: the series' labels and the value, as Prometheus's HTTP API returns them.
        func query(_ q: String) -> [(labels: JSONValue, value: String)] {
            guard let out = try? run(["/usr/bin/curl", "-sS", "-G", "--data-urlencode", "query=\(q)", "http://127.0.0.1:\(port)/api/v1/query"]),
                  let value = try? JSONValue.parse(out.stdout), value["status"]?.string == "success" else { return [] }
            return (value["data"]?["result"]?.array ?? []).map { ($0["metric"] ?? .null, $0["value"]?.array?.last?.string ?? "") }
        }
        var up: [(labels: JSONValue, value: String)] = []
        let scraped = eventually(timeoutMs: 60_000) {
            up = query("up{job=\"logspout\"}")
            return up.first?.value == "1"
        }
        #expect(scraped, "Prometheus did not scrape logspout: \(up) \(server.stderr.suffix(2000))")
        #expect(up.first?.labels["instance"]?.string == "127.0.0.1:\(app.port)")
        var stages: [(labels: JSONValue, value: String)] = []
        #expect(eventually(timeoutMs: 30_000) {
            stages = query("logspout_supervisor_stage_up")
            return stages.count == 4 && stages.allSatisfy { $0.value == "1" }
        }, "\(stages)")
        let build = query("logspout_build_info")
        #expect(build.count == 1 && build.first?.value == "1" && build.first?.labels["version"]?.string?.isEmpty == false, "\(build)")
        #expect(query("logspout_httpd_requests_total{code=\"2xx\"}").first.flatMap { Int($0.value) }.map { $0 >= 1 } == true)
        // What Prometheus reports about its target: no scrape error (a 401 would be one).
        let targets = (try? run(["/usr/bin/curl", "-sS", "http://127.0.0.1:\(port)/api/v1/targets"]).stdout) ?? ""
        let active = try JSONValue.parse(targets)["data"]?["activeTargets"]?.array?.first
        #expect(active?["health"]?.string == "up" && active?["lastError"]?.string == "", "\(targets)")
        print("prometheus: target \(active?["scrapeUrl"]?.string ?? "?") \(active?["health"]?.string ?? "?"), \(stages.count) stage series")
    }
}
