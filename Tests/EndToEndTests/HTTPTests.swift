// httpd in the appliance (supervisor.sh), against the real engine, with real clients: curl, Python's
// websockets, raw sockets for what clients do not do on purpose (stall, pipeline, send garbage).

#if canImport(Glibc)
import Glibc
#endif
import JSON
import Syscall
import Testing

/// An appliance with httpd on a random port, its routes folder in a temp dir.
final class Appliance {
    let port: UInt16
    let routes: String
    var supervisor: Child
    let routeArgs: [String]
    let env: [String: String]

    init(_ routeArgs: [String] = ["syslog://127.0.0.1:9"], env: [String: String] = [:]) throws {
        port = Env.freePort()
        routes = Env.tempDir()
        self.routeArgs = routeArgs
        var e = env
        e["PORT"] = String(port)
        e["ROUTESPATH"] = routes
        // The raw clients below say `Host: x`: a name, served without a token only when listed.
        if e["HTTPD_HOSTS"] == nil { e["HTTPD_HOSTS"] = "x" }
        self.env = e
        supervisor = try startSupervisor(routeArgs, env: e)
        try waitHealthy()
    }

    /// The supervisor said every stage is ready (startSupervisor waited for it): /health answers at once.
    func waitHealthy() throws {
        guard eventually(timeoutMs: 15_000, { (try? self.curl(["/health"]).stdout) == #"{"status":"ok"}"# + "\n" }) else {
            throw TestFailure("httpd did not become healthy: \(supervisor.stderr)")
        }
    }

    func restart() throws {
        supervisor.signal(SIGTERM)
        _ = supervisor.wait(timeoutMs: 15_000)
        supervisor = try startSupervisor(routeArgs, env: env)
        try waitHealthy()
    }

    var base: String { "http://127.0.0.1:\(port)" }

    /// curl with `args` (the first one that starts with "/" is a path on this appliance).
    @discardableResult
    func curl(_ args: [String], timeoutMs: Int = 20_000) throws -> (status: Int32, stdout: String, stderr: String) {
        try run(["/usr/bin/curl", "-sS"] + args.map { $0.hasPrefix("/") ? base + $0 : $0 }, timeoutMs: timeoutMs)
    }

    /// A streaming curl left running; the response head goes to a file of its own (see `subscribed`).
    func stream(_ path: String, _ extra: [String] = []) throws -> Child {
        let headers = Env.tempDir() + "/headers"
        let child = try Child(["/usr/bin/curl", "-sSN", "-D", headers] + extra + [base + path])
        streamHeaders[child.pid] = headers
        return child
    }

    private var streamHeaders: [pid_t: String] = [:]

    /// Waits until every stream has its response head (httpd sends it right after asking route's bus for
    /// the subscription), then makes one more round trip over the bus (/health): route has taken every
    /// subscription once it answered, so a line logged from now on reaches every stream.
    func subscribed(_ streams: [Child] = [], raw: [RawClient] = []) throws {
        for stream in streams {
            let path = try #require(streamHeaders[stream.pid])
            guard eventually(timeoutMs: 10_000, { String(decoding: readFile(path), as: UTF8.self).contains("\r\n\r\n") }) else {
                throw TestFailure("no response head for \(path): \(stream.stderr)")
            }
        }
        for client in raw {
            guard client.receive(until: "\r\n\r\n").contains("\r\n\r\n") else { throw TestFailure("no response head") }
        }
        guard (try curl(["/health"])).stdout == #"{"status":"ok"}"# + "\n" else { throw TestFailure("/health failed") }
    }

    deinit { supervisor.stop() }
}

/// A TCP connection to 127.0.0.1:port for hand-made requests.
final class RawClient {
    let fd: Int32
    init(port: UInt16) throws { fd = try Sys.connectTCP(host: "127.0.0.1", port: port) }
    deinit { close(fd) }
    func send(_ s: String) { _ = try? Sys.writeAll(fd, Array(s.utf8)) }
    /// What arrives until `marker` has been seen (or the peer closes, or `ms` pass).
    func receive(until marker: String, ms: Int = 10_000) -> String {
        receive(ms: ms) { $0.contains(marker) }
    }
    /// What arrives until `done` holds for it (or the peer closes, or `ms` pass).
    func receive(ms: Int = 10_000, until done: (String) -> Bool) -> String {
        var result: [UInt8] = []
        var buf = [UInt8](repeating: 0, count: 65536)
        let deadline = Sys.monotonicNanos() + UInt64(ms) * 1_000_000
        while Sys.monotonicNanos() < deadline, !done(String(decoding: result, as: UTF8.self)) {
            guard (try? Sys.poll(fd, events: Int16(POLLIN), timeout: 100)) == true else { continue }
            let n = buf.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if n <= 0 { break }
            result += buf[0..<n]
        }
        return String(decoding: result, as: UTF8.self)
    }

    /// Whether the server closed the connection.
    func closedByPeer() -> Bool {
        guard (try? Sys.poll(fd, events: Int16(POLLIN), timeout: 2000)) == true else { return false }
        var b: UInt8 = 0
        return recv(fd, &b, 1, Int32(MSG_PEEK)) == 0
    }
}

/// How many whole responses (a head, and as many body bytes as its Content-Length says) `text` holds.
func wholeResponses(_ text: String) -> Int {
    let bytes = Array(text.utf8)
    var start = 0
    var count = 0
    while let end = bytes.indices.dropFirst(start).first(where: { bytes[$0...].starts(with: [13, 10, 13, 10]) }) {
        let head = String(decoding: bytes[start..<end], as: UTF8.self).lowercased()
        let length = head.split(separator: "\r\n").first { $0.hasPrefix("content-length:") }
            .flatMap { Int($0.dropFirst("content-length:".count).filter { $0 != " " }) } ?? 0
        guard bytes.count - (end + 4) >= length else { break }
        count += 1
        start = end + 4 + length
    }
    return count
}

func lines(_ s: String) -> [String] { s.split(separator: "\n", omittingEmptySubsequences: true).map(String.init) }

@Suite("httpd: live streams, the routes API, the server", .serialized)
struct HTTPEndToEndTests {
    @Test("/logs plain text: colours, name column, colors=off, single-container bare lines, types")
    func plainText() throws {
        let app = try Appliance()
        let c = TestContainer("http-text")
        let coloured = try app.stream("/logs/filter:\(c.name)")
        let plain = try app.stream("/logs/filter:\(c.name)?colors=off")
        let byName = try app.stream("/logs/name:\(c.name)")
        let stderrOnly = try app.stream("/logs/name:\(c.name)?types=stderr")
        let sources = try app.stream("/logs/name:\(c.name)?sources=stdout")
        try c.run("\(TestContainer.waitForGo); echo one; printf 'two\\ttab\\n'; echo err >&2; sleep 30")
        let byID = try app.stream("/logs/id:\(c.id.prefix(12))")
        try app.subscribed([coloured, plain, byName, stderrOnly, sources, byID])
        try c.go()
        // Every stream has as many lines as it is to get (more would have come with these).
        func count(_ stream: Child) -> Int { lines(String(decoding: stream.stdout, as: UTF8.self)).count }
        #expect(eventually {
            count(coloured) >= 3 && count(plain) >= 3 && count(byName) >= 3 && count(byID) >= 3 && count(stderrOnly) >= 1 && count(sources) >= 2
        })
        let name = c.name
        let pad = String(repeating: " ", count: max(0, 16 - name.count))
        // One container on this connection: the first colour of the cycle; stdout and stderr may interleave.
        #expect(Set(lines(String(decoding: coloured.stdout, as: UTF8.self))) ==
                Set(["one", "two\ttab", "err"].map { "\u{1B}[1;37m\(pad)\(name)|\($0)\u{1B}[0m" }))
        #expect(Set(lines(String(decoding: plain.stdout, as: UTF8.self))) == ["\(pad)\(name)|one", "\(pad)\(name)|two\ttab", "\(pad)\(name)|err"])
        #expect(Set(lines(String(decoding: byName.stdout, as: UTF8.self))) == ["one", "two\ttab", "err"])
        // Bare lines; the engine may write stderr's line between stdout's two (two pipes, read apart).
        let idLines = lines(String(decoding: byID.stdout, as: UTF8.self))
        #expect(idLines.filter { $0 != "err" } == ["one", "two\ttab"] && idLines.contains("err"), "\(idLines)")
        #expect(String(decoding: stderrOnly.stdout, as: UTF8.self) == "err\n")
        #expect(String(decoding: sources.stdout, as: UTF8.self) == "one\ntwo\ttab\n")
    }

    @Test("headers come at once; JSON lines and Server-Sent Events carry id, name, type, data, time")
    func jsonAndSSE() throws {
        let app = try Appliance()
        let c = TestContainer("http-json")
        // Headers before any line.
        let early = try RawClient(port: app.port)
        early.send("GET /logs/name:\(c.name) HTTP/1.1\r\nHost: x\r\n\r\n")
        let head = early.receive(until: "\r\n\r\n")
        #expect(head.hasPrefix("HTTP/1.1 200 OK\r\n"))
        #expect(head.contains("Transfer-Encoding: chunked\r\n") && head.contains("Content-Type: text/plain; charset=utf-8\r\n"))
        let sseHead = try RawClient(port: app.port)
        sseHead.send("GET /logs/name:\(c.name) HTTP/1.1\r\nHost: x\r\nAccept: text/event-stream\r\n\r\n")
        let sseHeaders = sseHead.receive(until: "\r\n\r\n")
        #expect(sseHeaders.contains("Content-Type: text/event-stream\r\n") && sseHeaders.contains("X-Accel-Buffering: no\r\n"))
        let json = try app.stream("/logs/name:\(c.name)", ["-H", "Accept: application/json"])
        let sse = try app.stream("/logs/name:\(c.name)", ["-H", "Accept: text/event-stream"])
        try app.subscribed([json, sse])
        try c.run("echo 'say \"hi\"'; sleep 7")
        #expect(eventually { !json.stdout.isEmpty && String(decoding: sse.stdout, as: UTF8.self).contains("data: ") })
        let object = try JSONValue.parse(lines(String(decoding: json.stdout, as: UTF8.self)).first ?? "")
        #expect(object["id"]?.string == c.id)
        #expect(object["name"]?.string == c.name)
        #expect(object["type"]?.string == "stdout")
        #expect(object["data"]?.string == "say \"hi\"")
        #expect(object["time"]?.string?.count == 30)
        #expect(object.object?.map(\.0) == ["id", "name", "type", "data", "time"])
        // SSE: headers for proxies, a data line per record, a comment ping within ~5 s.
        #expect(eventually(timeoutMs: 8000) { String(decoding: sse.stdout, as: UTF8.self).contains(": ping\n\n") })
        let text = String(decoding: sse.stdout, as: UTF8.self)
        let data = text.split(separator: "\n").first { $0.hasPrefix("data: ") }.map { String($0.dropFirst(6)) } ?? ""
        #expect(try JSONValue.parse(data) == object)
    }

    @Test("WebSocket: upgrade, one text frame of JSON per record, ping/pong, close handshake")
    func webSocket() throws {
        let app = try Appliance()
        let c = TestContainer("http-ws")
        let script = """
            import asyncio, json, sys, websockets
            async def main():
                async with websockets.connect(sys.argv[1]) as ws:
                    print("open", flush=True)
                    pong = await ws.ping()
                    await asyncio.wait_for(pong, 5)
                    print("pong", flush=True)
                    for _ in range(2):
                        print(await asyncio.wait_for(ws.recv(), 20), flush=True)
                    await ws.close()
                    print("closed", ws.close_code, flush=True)
            asyncio.run(main())
            """
        let client = try Child(["/usr/bin/python3", "-c", script, "ws://127.0.0.1:\(app.port)/logs/name:\(c.name)"])
        #expect(eventually(timeoutMs: 5000) { String(decoding: client.stdout, as: UTF8.self).contains("pong") })
        try app.subscribed()  // the upgrade's answer came after the subscription was asked for
        try c.run("echo first; echo second >&2; sleep 10")
        #expect(client.wait(timeoutMs: 20_000) == 0, "\(client.stderr)")
        let out = lines(String(decoding: client.stdout, as: UTF8.self))
        try #require(out.count == 5, "\(out) \(client.stderr)")
        let messages = try out[2...3].map { try JSONValue.parse($0) }
        #expect(Set(messages.compactMap { $0["data"]?.string }) == ["first", "second"])
        #expect(Set(messages.compactMap { $0["type"]?.string }) == ["stdout", "stderr"])
        #expect(out[4] == "closed 1000")
        // A bad upgrade is refused.
        let bad = try app.curl(["-i", "-H", "Connection: Upgrade", "-H", "Upgrade: websocket", "-H", "Sec-WebSocket-Version: 8",
                                "-H", "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==", "/logs"])
        #expect(bad.stdout.hasPrefix("HTTP/1.1 426"))
        #expect(bad.stdout.contains("Sec-WebSocket-Version: 13"))
    }

    @Test("the routes API: add (both forms), list, get, delete; persisted across a restart; errors")
    func routesAPI() throws {
        let app = try Appliance()
        func call(_ method: String, _ path: String, _ body: String? = nil) throws -> (code: Int, type: String, body: String) {
            var args = ["-i", "-X", method, path]
            if let body { args += ["-H", "Content-Type: application/json", "--data-binary", body] }
            let r = try app.curl(args)
            let parts = r.stdout.components("\r\n\r\n")
            let headLines = parts.first?.split(separator: "\r\n") ?? []
            let code = Int(headLines.first?.split(separator: " ").dropFirst().first ?? "") ?? 0
            let type = headLines.first { $0.lowercased().hasPrefix("content-type:") }.map { String($0.dropFirst(14)) } ?? ""
            return (code, type, parts.dropFirst().joined(separator: "\r\n\r\n"))
        }
        let added = try call("POST", "/routes", #"{"source":{"filter":"db","types":["stderr"]},"target":{"type":"syslog","addr":"logs.example.com:514","append_tag":".db"}}"#)
        #expect(added.code == 201 && added.type == "application/json")
        let route = try JSONValue.parse(added.body)
        let id = try #require(route["id"]?.string)
        #expect(id.count == 12 && id.allSatisfy { "0123456789abcdef".contains($0) })
        #expect(route["target"]?["append_tag"]?.string == ".db")
        let flat = try call("POST", "/routes", #"{"id":"flat1","adapter":"syslog+tcp","address":"logs.example.com:6514","filter_name":"web"}"#)
        #expect(flat.code == 201, "\(flat.body)")
        let list = try call("GET", "/routes")
        #expect(list.code == 200 && list.type == "application/json")
        let ids = try JSONValue.parse(list.body).array?.compactMap { $0["id"]?.string } ?? []
        #expect(ids.count == 3 && ids.contains(id) && ids.contains("flat1"))
        #expect(try call("GET", "/routes/\(id)").code == 200)
        // Persisted: the appliance comes back with it.
        try app.restart()
        #expect(try call("GET", "/routes/\(id)").body.contains(id))
        #expect(try JSONValue.parse(try call("GET", "/routes").body).array?.count == 3)
        #expect(try call("DELETE", "/routes/\(id)").code == 200)
        #expect(try call("GET", "/routes/\(id)").code == 404)
        #expect(try call("DELETE", "/routes/\(id)").code == 404)
        // Errors.
        for (body, fragment) in [("{not json", "invalid JSON"), (#"{"target":{"type":"kafka","addr":"x:1"}}"#, "kafka"),
                                 (#"{"id":"../etc","target":{"type":"syslog","addr":"x:1"}}"#, "id"), ("[1]", "object"),
                                 (#"{"target":{"type":"syslog","addr":"x:1","structured_data":"{{.Data}}"}}"#, "{{.Data}} is not supported here"),
                                 (#"{"target":{"type":"syslog","addr":"x:1","multiline.pattern":"(a)\\1"}}"#, #"backreference \\1 is not supported"#)] {
            let r = try call("POST", "/routes", body)
            #expect(r.code == 400 && r.type == "application/json", "\(body): \(r)")
            #expect(r.body.contains(fragment), "\(body): \(r.body)")
        }
        #expect(try call("GET", "/nope").code == 404)
        let wrong = try app.curl(["-i", "-X", "PUT", "/routes"])
        #expect(wrong.stdout.hasPrefix("HTTP/1.1 405") && wrong.stdout.contains("Allow: GET, POST\r\n"))
        #expect(try call("GET", "/routes/a%20b").code == 400)
    }

    @Test("a route added over HTTP takes effect for the very next record")
    func routeTakesEffect() throws {
        let app = try Appliance()
        let udp = try UDPListener()
        let c = TestContainer("http-effect")
        let body = #"{"source":{"name":"\#(c.name)"},"target":{"type":"syslog","addr":"127.0.0.1:\#(udp.port)","format":"rfc3164"}}"#
        #expect(try app.curl(["-X", "POST", "--data-binary", body, "/routes"]).stdout.contains("\"id\""))
        try c.run("echo routed; sleep 10")
        #expect(eventually { udp.texts(timeoutMs: 200).contains { $0.hasSuffix("]: routed") } })
    }

    @Test("a stalled subscriber loses only its own lines; syslog gets all 100,000")
    func stalledSubscriber() throws {
        let rsyslog = try Rsyslog()
        let app = try Appliance(["syslog+tcp://127.0.0.1:\(rsyslog.port)"])
        let c = TestContainer("http-stall")
        let stalled = try RawClient(port: app.port)
        stalled.send("GET /logs/name:\(c.name) HTTP/1.1\r\nHost: x\r\n\r\n")
        try app.subscribed(raw: [stalled])
        try c.run("seq 1 100000 | sed 's/^/seq /'; sleep 60")
        #expect(eventually(timeoutMs: 60_000) { received(rsyslog, app: c.name).count >= 100_000 })
        #expect(Set(received(rsyslog, app: c.name)) == Set(1...100_000))
        // The stalled client, reading now, is told what it missed.
        let text = stalled.receive(until: " skipped: this client reads more slowly than the logs arrive")
        #expect(text.contains(" skipped: this client reads more slowly than the logs arrive"))
    }

    @Test("200 concurrent stream clients each get every line")
    func manyClients() throws {
        let app = try Appliance()
        let c = TestContainer("http-many")
        var clients: [RawClient] = []
        for _ in 0..<200 {
            let client = try RawClient(port: app.port)
            client.send("GET /logs/name:\(c.name) HTTP/1.1\r\nHost: x\r\n\r\n")
            clients.append(client)
        }
        try app.subscribed(raw: clients)
        try c.run("for i in 1 2 3 4 5 6 7 8 9 10; do echo line-$i; done; sleep 30")
        var complete = 0
        for client in clients {
            let text = client.receive(until: "line-10\n", ms: 20_000)
            if (1...10).allSatisfy({ text.contains("line-\($0)\n") }) { complete += 1 }
        }
        #expect(complete == 200)
    }

    @Test("the server: keep-alive and pipelining, malformed requests get 400 and a close, slow heads time out, /health")
    func server() throws {
        let app = try Appliance(env: ["HTTPD_HEAD_TIMEOUT": "1"])
        let pipelined = try RawClient(port: app.port)
        pipelined.send("GET /health HTTP/1.1\r\nHost: x\r\n\r\nGET /routes HTTP/1.1\r\nHost: x\r\n\r\n")
        let two = pipelined.receive { wholeResponses($0) >= 2 }
        #expect(two.components("HTTP/1.1 200 OK").count == 3, "\(two)")
        let garbage = try RawClient(port: app.port)
        garbage.send("BLAH\r\n\r\n")
        #expect(garbage.receive { wholeResponses($0) >= 1 }.hasPrefix("HTTP/1.1 400"))
        #expect(garbage.closedByPeer())
        let slow = try RawClient(port: app.port)
        slow.send("GET /health HTTP/1.1\r\nHost:")
        let answer = slow.receive(ms: 4000) { wholeResponses($0) >= 1 }
        #expect(answer.hasPrefix("HTTP/1.1 408"), "\(answer)")
        // Still serving everyone else.
        #expect(try app.curl(["/health"]).stdout == #"{"status":"ok"}"# + "\n")
        let big = try app.curl(["-i", "-H", "X-Big: " + String(repeating: "a", count: 20000), "/health"])
        #expect(big.stdout.hasPrefix("HTTP/1.1 431"))
        let bodyFile = Env.tempDir() + "/big.json"
        let fd = open(bodyFile, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        _ = [UInt8](repeating: 32, count: 2 << 20).withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
        close(fd)
        let tooBig = try app.curl(["-i", "-X", "POST", "--data-binary", "@" + bodyFile, "/routes"])
        #expect(tooBig.stdout.hasPrefix("HTTP/1.1 413"), "\(tooBig.stdout.prefix(200))")
        // Without route's bus: 503.
        let port = Env.freePort()
        let lone = try Child([Env.binDir + "/httpd", "--ready-fd", String(Child.readyFD)],
                             env: ["PORT": String(port), "LOGSPOUT_BUS": "/nonexistent/bus.sock"], readiness: true)
        defer { lone.stop() }
        try lone.waitReady()
        #expect(try run(["/usr/bin/curl", "-s", "-o", "/dev/null", "-w", "%{http_code}", "http://127.0.0.1:\(port)/health"]).stdout == "503")
        #expect(lone.stderr.isEmpty)
    }

    @Test("the live page in a real browser (headless Chromium) shows the lines as text")
    func page() throws {
        let app = try Appliance()
        let html = try app.curl(["-i", "/"])
        #expect(html.stdout.hasPrefix("HTTP/1.1 200 OK") && html.stdout.contains("Content-Type: text/html; charset=utf-8"))
        let c = TestContainer("http-page")
        try c.run("i=0; while true; do i=$((i+1)); echo \"page line $i\"; echo \"<b>bold</b> $i\" >&2; sleep 0.1; done")
        let port = String(Env.freePort())
        // The page is read until it shows what the test looks for (or 30 s pass).
        let browser = try run(["/usr/bin/python3", "-c", Self.devtools, "\(app.base)/", "30", port, c.name, "page line ", "<b>bold</b> "],
                              timeoutMs: 60_000)
        #expect(browser.status == 0, "\(browser.stderr)")
        let result = try JSONValue.parse(browser.stdout.split(separator: "\n").last.map(String.init) ?? "")
        let text = result["text"]?.string ?? ""
        #expect(text.contains(c.name))
        #expect(text.contains("page line "))
        #expect(text.contains("<b>bold</b> "), "log text is shown as text")
        #expect(result["bold"]?.int == 0, "and never becomes markup")
    }

    /// Drives headless Chromium over the DevTools protocol: opens the page and reads what it shows until
    /// the text holds every one of the arguments after the port (or the seconds given are up).
    static let devtools = #"""
import asyncio, json, os, subprocess, sys, time, urllib.request, websockets, tempfile
url = sys.argv[1]
token = os.environ.get("PAGE_TOKEN", "")
prompts = []
port = int(sys.argv[3])
prof = tempfile.mkdtemp()
chrome = subprocess.Popen(["chromium", "--headless", "--no-sandbox", "--disable-gpu", f"--remote-debugging-port={port}",
                           f"--user-data-dir={prof}", "about:blank"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
try:
    for _ in range(100):
        try:
            targets = json.load(urllib.request.urlopen(f"http://127.0.0.1:{port}/json/list"))
            page = next(t for t in targets if t["type"] == "page")
            break
        except Exception:
            time.sleep(0.1)
    async def main():
        async with websockets.connect(page["webSocketDebuggerUrl"], max_size=None) as ws:
            n = 0
            async def call(method, **params):
                nonlocal n
                n += 1
                await ws.send(json.dumps({"id": n, "method": method, "params": params}))
                while True:
                    m = json.loads(await ws.recv())
                    if m.get("method") == "Page.javascriptDialogOpening":  # the page asks for its token
                        prompts.append(m["params"]["message"])
                        await ws.send(json.dumps({"id": 0, "method": "Page.handleJavaScriptDialog",
                                                  "params": {"accept": True, "promptText": token}}))
                    if m.get("id") == n:
                        return m
            await call("Page.enable")
            await call("Page.navigate", url=url)
            deadline = time.monotonic() + float(sys.argv[2])
            wanted = sys.argv[4:]
            expression = "JSON.stringify({text: document.body.innerText, bold: [...document.querySelectorAll('b')].filter(e => e.textContent === 'bold').length})"
            while True:
                r = await call("Runtime.evaluate", expression=expression, returnByValue=True)
                value = r["result"]["result"].get("value") or "{}"
                text = json.loads(value).get("text", "")
                if all(w in text for w in wanted) or time.monotonic() > deadline:
                    break
                await asyncio.sleep(0.1)
            print(json.dumps(dict(json.loads(value), prompts=len(prompts))))
    asyncio.run(main())
finally:
    chrome.kill()
"""#
}

extension String {
    func components(_ separator: String) -> [String] {
        var parts: [String] = []
        var rest = Substring(self)
        while let r = rest.firstRange(of: separator) {
            parts.append(String(rest[..<r.lowerBound]))
            rest = rest[r.upperBound...]
        }
        parts.append(String(rest))
        return parts
    }
}
