// Who may use httpd, in the appliance: Origin and Host checks, the token, read-only routes, reserved
// route ids, a failing store, 100 Continue, bad query values. curl, Python's websockets, raw sockets.

#if canImport(Glibc)
import Glibc
#endif
import JSON
import Syscall
import Testing

/// The status of the first response in curl's `-i` output (a `100 Continue` skipped).
func statusCode(_ response: String) -> Int {
    var text = Substring(response)
    while text.hasPrefix("HTTP/1.1 100"), let end = text.firstRange(of: "\r\n\r\n") { text = text[end.upperBound...] }
    return Int(text.split(separator: " ").dropFirst().first ?? "") ?? 0
}

/// The body after the first response head.
func responseBody(_ response: String) -> String { response.components("\r\n\r\n").dropFirst().joined(separator: "\r\n\r\n") }

let upgradeHeaders = ["-H", "Connection: Upgrade", "-H", "Upgrade: websocket", "-H", "Sec-WebSocket-Version: 13",
                      "-H", "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ=="]

@Suite("httpd: who may ask — origins, hosts, the token, read-only routes, reserved ids", .serialized)
struct HTTPAccessTests {
    static let route = #"{"target":{"type":"syslog","addr":"127.0.0.1:9"}}"#

    @Test("without a token: a foreign Origin is 403 (a text/plain POST, a WebSocket, SSE), a foreign Host is 403; curl works")
    func originsAndHosts() throws {
        let app = try Appliance()
        let csrf = try app.curl(["-i", "-H", "Origin: http://evil.example", "-H", "Content-Type: text/plain", "--data-binary", Self.route, "/routes"])
        #expect(statusCode(csrf.stdout) == 403, "\(csrf.stdout)")
        #expect(responseBody(csrf.stdout).contains("origin 'http://evil.example' may not use this server"))
        #expect(try JSONValue.parse(try app.curl(["/routes"]).stdout).array?.count == 1, "nothing added")
        let ws = try app.curl(["-i", "-m", "5", "-H", "Origin: http://evil.example"] + upgradeHeaders + ["/logs"])
        #expect(statusCode(ws.stdout) == 403, "\(ws.stdout)")
        let sse = try app.curl(["-i", "-m", "5", "-H", "Origin: https://evil.example", "-H", "Accept: text/event-stream", "/logs"])
        #expect(statusCode(sse.stdout) == 403, "\(sse.stdout)")
        // The page's own origin, and curl without one, are served.
        let own = try app.curl(["-i", "-H", "Origin: http://127.0.0.1:\(app.port)", "--data-binary", Self.route, "/routes"])
        #expect(statusCode(own.stdout) == 201, "\(own.stdout)")
        let plain = try app.curl(["-i", "-d", Self.route, "/routes"])
        #expect(statusCode(plain.stdout) == 201, "\(plain.stdout)")
        // DNS rebinding: a name that is not localhost, an IP address or listed in HTTPD_HOSTS.
        for path in ["/routes", "/logs", "/", "/health"] {
            let rebound = try app.curl(["-i", "-m", "5", "-H", "Host: evil.example:\(app.port)", path])
            #expect(statusCode(rebound.stdout) == 403, "\(path): \(rebound.stdout)")
        }
        #expect(responseBody(try app.curl(["-i", "-H", "Host: evil.example", "/routes"]).stdout).contains("host 'evil.example' is not served without a token"))
        #expect(statusCode(try app.curl(["-i", "-H", "Host: localhost:\(app.port)", "/routes"]).stdout) == 200)
        #expect(statusCode(try app.curl(["-i", "-H", "Host: x", "/routes"]).stdout) == 200, "listed in HTTPD_HOSTS")
        // An unknown colors value.
        let colors = try app.curl(["-i", "-m", "5", "/logs?colors=maybe"])
        #expect(statusCode(colors.stdout) == 400 && colors.stdout.contains("colors must be on or off"), "\(colors.stdout)")
    }

    @Test("route ids from the arguments are reserved: 409, not persisted, also once deleted; a file with one is ignored at start")
    func reservedIDs() throws {
        let app = try Appliance()
        let id = try #require(try JSONValue.parse(try app.curl(["/routes"]).stdout).array?.first?["id"]?.string)
        let body = #"{"id":"\#(id)","target":{"type":"syslog","addr":"evil.example:514"}}"#
        let taken = try app.curl(["-i", "-d", body, "/routes"])
        #expect(statusCode(taken.stdout) == 409, "\(taken.stdout)")
        #expect(responseBody(taken.stdout).contains("route id '\(id)' is reserved"))
        #expect(try app.curl(["/routes/\(id)"]).stdout.contains("127.0.0.1:9"))
        #expect(statusCode(try app.curl(["-i", "-X", "DELETE", "/routes/\(id)"]).stdout) == 200)
        #expect(statusCode(try app.curl(["-i", "-d", body, "/routes"]).stdout) == 409, "also once deleted")
        #expect(!Sys.exists(app.routes + "/\(id).json"), "nothing persisted")
        // A file an earlier version persisted under that id does not override the argument route.
        let fd = open(app.routes + "/\(id).json", O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        _ = Array(body.utf8).withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
        close(fd)
        try app.restart()
        #expect(try app.curl(["/routes/\(id)"]).stdout.contains("127.0.0.1:9"))
        let said = app.supervisor.stderr.split(separator: "\n").filter { $0.contains("is reserved") }
        #expect(said.count == 1 && said.first?.contains("\(id).json") == true, "\(app.supervisor.stderr)")
    }

    @Test("a store that cannot write answers 500; Expect: 100-continue gets 100 (curl -d), or the refusal before the body")
    func storeAndContinue() throws {
        let app = try Appliance()
        mkdir(app.routes + "/db.json", 0o755)
        mkdir(app.routes + "/db.json/inside", 0o755)  // where the file goes: rename cannot replace it
        let failed = try app.curl(["-i", "-d", #"{"id":"db","target":{"type":"syslog","addr":"127.0.0.1:9"}}"#, "/routes"])
        #expect(statusCode(failed.stdout) == 500, "\(failed.stdout)")
        #expect(responseBody(failed.stdout).contains("cannot save route db"))
        // curl -d with Expect: 100-continue (what it sends by itself for big bodies) waits for the 100.
        let posted = try app.curl(["-v", "-H", "Expect: 100-continue", "-d", Self.route, "/routes"])
        #expect(posted.stderr.contains("> Expect: 100-continue"), "\(posted.stderr)")
        #expect(posted.stderr.contains("< HTTP/1.1 100 Continue"), "\(posted.stderr)")
        #expect(posted.stderr.contains("< HTTP/1.1 201 Created"), "\(posted.stderr)")
        // By hand: the 100 comes before the body is sent.
        let raw = try RawClient(port: app.port)
        let routeBytes = Self.route.utf8.count
        raw.send("POST /routes HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: \(routeBytes)\r\nExpect: 100-continue\r\n\r\n")
        #expect(raw.receive(until: "\r\n\r\n") == "HTTP/1.1 100 Continue\r\n\r\n")
        raw.send(Self.route)
        #expect(raw.receive { wholeResponses($0) >= 1 }.hasPrefix("HTTP/1.1 201 Created"))
        // A request the body would not change is answered at once, and the body is never read.
        let refused = try RawClient(port: app.port)
        refused.send("POST /routes HTTP/1.1\r\nHost: 127.0.0.1\r\nOrigin: http://evil.example\r\nContent-Length: 50\r\nExpect: 100-continue\r\n\r\n")
        let answer = refused.receive { wholeResponses($0) >= 1 }
        #expect(answer.hasPrefix("HTTP/1.1 403 Forbidden") && answer.contains("Connection: close"), "\(answer)")
        #expect(refused.closedByPeer())
    }

    @Test("with HTTPD_TOKEN: 401 without it, the header or ?token= on WebSocket/SSE only; the page and /health stay open; never logged")
    func token() throws {
        let token = "t0ken-\(Env.unique("x"))"
        let app = try Appliance(env: ["HTTPD_TOKEN": token])
        let bearer = ["-H", "Authorization: Bearer \(token)"]
        let none = try app.curl(["-i", "/routes"])
        #expect(statusCode(none.stdout) == 401, "\(none.stdout)")
        #expect(none.stdout.contains("\r\nWWW-Authenticate: Bearer"))
        #expect(statusCode(try app.curl(["-i", "-H", "Authorization: Bearer wrong", "/routes"]).stdout) == 401)
        #expect(statusCode(try app.curl(["-i"] + bearer + ["/routes"]).stdout) == 200)
        #expect(statusCode(try app.curl(["-i"] + bearer + ["-d", Self.route, "/routes"]).stdout) == 201)
        #expect(statusCode(try app.curl(["-i"] + bearer + ["-H", "Host: logs.example.com", "/routes"]).stdout) == 200, "any Host with the token")
        #expect(statusCode(try app.curl(["-i", "/routes?token=\(token)"]).stdout) == 401, "?token= is for streams")
        #expect(statusCode(try app.curl(["-i", "-m", "5", "/logs?token=\(token)"]).stdout) == 401, "and only WebSocket and SSE ones")
        #expect(statusCode(try app.curl(["-i", "/metrics"]).stdout) == 401)
        #expect(statusCode(try app.curl(["-i", "/"]).stdout) == 200)
        #expect(try app.curl(["/health"]).stdout == #"{"status":"ok"}"# + "\n")
        #expect(statusCode(try app.curl(["-i", "-m", "5"] + upgradeHeaders + ["/logs?token=wrong"]).stdout) == 401)
        let sse = try app.curl(["-i", "-m", "2", "-H", "Accept: text/event-stream", "/logs?token=\(token)"])
        #expect(statusCode(sse.stdout) == 200 && sse.stdout.contains("Content-Type: text/event-stream"), "\(sse.stdout)")
        // A WebSocket with ?token= gets the lines.
        let c = TestContainer("http-token")
        let script = """
            import asyncio, sys, websockets
            async def main():
                async with websockets.connect(sys.argv[1]) as ws:
                    print("open", flush=True)
                    print(await asyncio.wait_for(ws.recv(), 20), flush=True)
            asyncio.run(main())
            """
        let client = try Child(["/usr/bin/python3", "-c", script, "ws://127.0.0.1:\(app.port)/logs/name:\(c.name)?token=\(token)"])
        #expect(eventually(timeoutMs: 10_000) { String(decoding: client.stdout, as: UTF8.self).contains("open") }, "\(client.stderr)")
        try app.subscribed()
        try c.run("echo with-token; sleep 10")
        #expect(client.wait(timeoutMs: 20_000) == 0, "\(client.stderr)")
        #expect(String(decoding: client.stdout, as: UTF8.self).contains("with-token"))
        #expect(!app.supervisor.stderr.contains(token), "the token is never logged")
    }

    @Test("httpd alone: HTTPD_TOKEN_FILE (a Docker secret), bad settings exit 78 in one line, ROUTES_READONLY is 405")
    func settings() throws {
        let secret = Env.tempDir() + "/token"
        let fd = open(secret, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        _ = Array("from-a-file\n".utf8).withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
        close(fd)
        let port = Env.freePort()
        let base = "http://127.0.0.1:\(port)"
        let lone = try Child([Env.binDir + "/httpd", "--ready-fd", String(Child.readyFD)],
                             env: ["PORT": String(port), "LOGSPOUT_BUS": "/nonexistent/bus.sock", "HTTPD_TOKEN_FILE": secret,
                                   "ROUTES_READONLY": "true"], readiness: true)
        defer { lone.stop() }
        try lone.waitReady()
        func code(_ args: [String]) throws -> String {
            try run(["/usr/bin/curl", "-s", "-o", "/dev/null", "-w", "%{http_code}"] + args).stdout
        }
        #expect(try code(["\(base)/routes"]) == "401")
        #expect(try code(["-H", "Authorization: Bearer from-a-file", "\(base)/routes"]) == "503", "in: the bus is what is missing")
        let post = try run(["/usr/bin/curl", "-s", "-i", "-H", "Authorization: Bearer from-a-file", "-d", Self.route, "\(base)/routes"])
        #expect(statusCode(post.stdout) == 405 && post.stdout.contains("\r\nAllow: GET\r\n") && post.stdout.contains("read-only"), "\(post.stdout)")
        #expect(try code(["-X", "DELETE", "-H", "Authorization: Bearer from-a-file", "\(base)/routes/db"]) == "405")
        #expect(lone.stderr.isEmpty)
        for (env, message) in [(["HTTPD_TOKEN": "secret-value", "HTTPD_TOKEN_FILE": secret], "HTTPD_TOKEN and HTTPD_TOKEN_FILE are both set: set one"),
                               (["HTTPD_TOKEN_FILE": "/nonexistent/token"], "HTTPD_TOKEN_FILE '/nonexistent/token' cannot be read: "),
                               (["HTTPD_TOKEN": "secret value"], "HTTPD_TOKEN must be printable ASCII without spaces"),
                               (["HTTPD_ORIGINS": "dash.example.com"], "HTTPD_ORIGINS: 'dash.example.com' is not an origin"),
                               (["ROUTES_READONLY": "maybe"], "ROUTES_READONLY 'maybe' is not true or false")] {
            let r = try run([Env.binDir + "/httpd"], env: env.merging(["PORT": String(Env.freePort())]) { a, _ in a }, timeoutMs: 10_000)
            #expect(r.status == 78, "\(env)")
            #expect(r.stderr.hasPrefix("httpd: " + message) && r.stderr.split(separator: "\n").count == 1, "\(r.stderr)")
            #expect(!r.stderr.contains("secret"), "never the token")
        }
    }

    @Test("the live page with a token: it asks once, then shows the lines (headless Chromium)")
    func pageWithToken() throws {
        let token = "page-\(Env.unique("t"))"
        let app = try Appliance(env: ["HTTPD_TOKEN": token])
        let c = TestContainer("http-page-token")
        try c.run("i=0; while true; do i=$((i+1)); echo \"token line $i\"; sleep 0.1; done")
        let browser = try run(["/usr/bin/python3", "-c", HTTPEndToEndTests.devtools, "\(app.base)/", "30", String(Env.freePort()), c.name, "token line "],
                              env: ["PAGE_TOKEN": token], timeoutMs: 60_000)
        #expect(browser.status == 0, "\(browser.stderr)")
        let result = try JSONValue.parse(browser.stdout.split(separator: "\n").last.map(String.init) ?? "")
        #expect(result["text"]?.string?.contains("token line ") == true, "\(browser.stdout)")
        #expect(result["prompts"]?.int == 1)
    }
}
