import HTTP
import Syscall
import Testing
@testable import HTTPServer

@Suite("access: the token, Origin, Host (DNS rebinding), read-only routes, 100-continue")
struct AccessTests {
    static let token = Array("s3cret-token".utf8)
    static let withToken = AccessPolicy(token: token)

    func action(_ policy: AccessPolicy, _ method: String, _ target: String, _ headers: [(String, String)], body: String = "") -> RequestAction {
        Router.action(for: head(method, target, headers), body: Array(body.utf8), access: policy)
    }

    func status(_ action: RequestAction?) -> Int? {
        if case .refuse(let status, _, _)? = action { return status }
        return nil
    }

    static let route = #"{"target":{"type":"syslog","addr":"h:514"}}"#

    @Test("a foreign Origin is 403 whatever the token: cross-site POSTs and WebSocket or SSE reads; curl sends none")
    func origins() {
        let open = AccessPolicy()
        let csrf = action(open, "POST", "/routes", [("Host", "127.0.0.1:8000"), ("Origin", "http://evil.example"), ("Content-Type", "text/plain")], body: Self.route)
        #expect(csrf == .refuse(status: 403, message: "origin 'http://evil.example' may not use this server: only its own or one listed in HTTPD_ORIGINS"))
        let ws = Router.action(for: head("GET", "/logs", upgrade("/logs").headers.map { ($0.name, $0.value) } + [("Origin", "http://evil.example")]),
                               body: [], access: open)
        #expect(status(ws) == 403)
        #expect(status(action(open, "GET", "/logs", [("Host", "localhost:8000"), ("Accept", "text/event-stream"), ("Origin", "https://evil.example")])) == 403)
        #expect(status(action(Self.withToken, "GET", "/routes", [("Host", "x"), ("Origin", "http://evil.example"), ("Authorization", "Bearer s3cret-token")])) == 403)
        // Its own origin: the Host's host and port.
        #expect(status(action(open, "POST", "/routes", [("Host", "localhost:8000"), ("Origin", "http://localhost:8000")], body: Self.route)) == nil)
        #expect(status(action(open, "GET", "/routes", [("Host", "LocalHost:8000"), ("Origin", "http://localhost:8000/")])) == nil)
        #expect(status(action(open, "GET", "/routes", [("Host", "localhost:8000"), ("Origin", "http://localhost:8001")])) == 403)
        #expect(status(action(open, "GET", "/routes", [("Host", "localhost"), ("Origin", "http://localhost")])) == nil)
        #expect(status(action(open, "GET", "/routes", [("Host", "localhost"), ("Origin", "https://localhost")])) == nil)
        #expect(status(action(open, "GET", "/routes", [("Host", "localhost"), ("Origin", "http://localhost:8000")])) == 403)
        #expect(status(action(open, "GET", "/routes", [("Host", "[::1]:8000"), ("Origin", "http://[::1]:8000")])) == nil)
        for bad in ["null", "file://", "http://", "ftp://localhost:8000", "http://localhost:8000/x", "http://u@localhost:8000", "http://localhost:80000"] {
            #expect(status(action(open, "GET", "/routes", [("Host", "localhost:8000"), ("Origin", bad)])) == 403, "\(bad)")
        }
        // Listed in HTTPD_ORIGINS.
        let listed = AccessPolicy(origins: ["https://dash.example.com", "http://10.0.0.5:3000"])
        #expect(status(action(listed, "GET", "/routes", [("Host", "127.0.0.1:8000"), ("Origin", "https://dash.example.com")])) == nil)
        #expect(status(action(listed, "GET", "/routes", [("Host", "127.0.0.1:8000"), ("Origin", "https://dash.example.com:443")])) == nil)
        #expect(status(action(listed, "GET", "/routes", [("Host", "127.0.0.1:8000"), ("Origin", "http://10.0.0.5:3000")])) == nil)
        #expect(status(action(listed, "GET", "/routes", [("Host", "127.0.0.1:8000"), ("Origin", "http://dash.example.com")])) == 403)
        // No Origin (curl): served.
        #expect(status(action(open, "POST", "/routes", [("Host", "localhost:8000"), ("Content-Type", "application/x-www-form-urlencoded")], body: Self.route)) == nil)
    }

    @Test("without a token, a Host that is not localhost, an IP literal or listed is 403 (DNS rebinding)")
    func hosts() {
        let open = AccessPolicy()
        for host in ["localhost", "localhost:8000", "LOCALHOST:1", "127.0.0.1", "127.0.0.1:8000", "10.1.2.3:80", "[::1]:8000", "[fe80::1]", "[::ffff:127.0.0.1]:8000"] {
            #expect(status(action(open, "GET", "/routes", [("Host", host)])) == nil, "\(host)")
        }
        for host in ["evil.example", "evil.example:8000", "127.0.0.1.evil.example", "localhost.evil.example", "1.2.3", "256.1.1.1", "x", "0x7f.0.0.1"] {
            #expect(action(open, "GET", "/routes", [("Host", host)]) == .refuse(
                status: 403, message: "host '\(Authority(host).host)' is not served without a token: use localhost or an IP address, list the name in HTTPD_HOSTS, or set HTTPD_TOKEN"), "\(host)")
        }
        #expect(status(action(open, "GET", "/", [("Host", "evil.example")])) == 403, "the page too")
        #expect(status(action(open, "GET", "/health", [("Host", "evil.example")])) == 403)
        // HTTP/1.0 without Host: no browser sends that.
        #expect(Router.action(for: head("GET", "/routes", version: 0), body: [], access: open) == .api(.list))
        let listed = AccessPolicy(hosts: ["logspout.internal", "Dash.Example.COM"])
        #expect(status(action(listed, "GET", "/routes", [("Host", "logspout.internal:8000")])) == nil)
        #expect(status(action(listed, "GET", "/routes", [("Host", "dash.example.com")])) == nil)
        #expect(status(action(listed, "GET", "/routes", [("Host", "other.internal")])) == 403)
        // With a token, any host (the token is the check).
        #expect(status(action(Self.withToken, "GET", "/routes", [("Host", "evil.example"), ("Authorization", "Bearer s3cret-token")])) == nil)
    }

    @Test("with a token: every request needs it, but the page and /health; 401 says how; ?token= on WebSocket and SSE only")
    func token() {
        let p = Self.withToken
        let local = ("Host", "localhost:8000")
        #expect(action(p, "GET", "/routes", [local]) == .refuse(status: 401, message: "a token is needed: send Authorization: Bearer <token> (HTTPD_TOKEN)"))
        #expect(action(p, "GET", "/routes", [local, ("Authorization", "Bearer wrong")]) == .refuse(status: 401, message: "the token is not the right one"))
        #expect(status(action(p, "GET", "/routes", [local, ("Authorization", "Bearer s3cret-tokenX")])) == 401)
        #expect(status(action(p, "GET", "/routes", [local, ("Authorization", "Bearer s3cret-toke")])) == 401)
        #expect(status(action(p, "GET", "/routes", [local, ("Authorization", "Basic czNjcmV0LXRva2Vu")])) == 401)
        #expect(action(p, "GET", "/routes", [local, ("Authorization", "Bearer s3cret-token")]) == .api(.list))
        #expect(action(p, "GET", "/routes", [local, ("Authorization", "bearer s3cret-token")]) == .api(.list))
        #expect(status(action(p, "POST", "/routes", [local], body: Self.route)) == 401)
        #expect(status(action(p, "DELETE", "/routes/db", [local])) == 401)
        #expect(status(action(p, "GET", "/logs", [local])) == 401)
        #expect(status(action(p, "GET", "/metrics", [local])) == 401, "any other path needs it too")
        #expect(status(action(p, "GET", "/nope", [local])) == 401)
        #expect(status(action(p, "POST", "/", [local])) == 401)
        // Open: the page, /health (which then gives no details).
        #expect(action(p, "GET", "/", [local]) == .page)
        #expect(action(p, "HEAD", "/index.html", [local]) == .page)
        #expect(action(p, "GET", "/health", [local]) == .health(detailed: false))
        #expect(action(p, "GET", "/health", [local, ("Authorization", "Bearer s3cret-token")]) == .health(detailed: true))
        #expect(action(AccessPolicy(), "GET", "/health", [local]) == .health(detailed: true))
        // ?token= on a WebSocket and an EventSource stream only.
        let ws = upgrade("/logs?token=s3cret-token")
        #expect(Router.action(for: ws, body: [], access: p) == .stream(StreamRequest(), .websocket))
        #expect(status(Router.action(for: upgrade("/logs?token=wrong"), body: [], access: p)) == 401)
        #expect(action(p, "GET", "/logs?token=s3cret-token", [local, ("Accept", "text/event-stream")]) == .stream(StreamRequest(), .sse))
        #expect(action(p, "GET", "/logs/name:web?token=s3cret%2Dtoken", [local, ("Accept", "text/event-stream")]) != .refuse(status: 401, message: "the token is not the right one"))
        #expect(status(action(p, "GET", "/logs?token=s3cret-token", [local])) == 401, "not on a plain stream")
        #expect(status(action(p, "GET", "/routes?token=s3cret-token", [local])) == 401, "nor on /routes")
        #expect(status(action(p, "POST", "/routes?token=s3cret-token", [local, ("Accept", "text/event-stream")], body: Self.route)) == 401)
    }

    @Test("the token compare looks at every byte and at the length")
    func compare() {
        #expect(AccessPolicy.equal(Array("abc".utf8)[...], Array("abc".utf8)))
        #expect(!AccessPolicy.equal(Array("abd".utf8)[...], Array("abc".utf8)))
        #expect(!AccessPolicy.equal(Array("ab".utf8)[...], Array("abc".utf8)))
        #expect(!AccessPolicy.equal(Array("abc\u{0}".utf8)[...], Array("abc".utf8)))
        #expect(!AccessPolicy.equal([][...], Array("abc".utf8)))
    }

    @Test("401 carries WWW-Authenticate: Bearer")
    func challenge() {
        var out: [UInt8] = []
        Router.refusal(status: 401, message: "a token is needed", allow: nil).append(to: &out, closing: false, headOnly: false)
        #expect(text(out).hasPrefix("HTTP/1.1 401 Unauthorized\r\n"))
        #expect(text(out).contains("\r\nWWW-Authenticate: Bearer realm=\"logspout\"\r\n"))
    }

    @Test("ROUTES_READONLY: POST and DELETE on /routes are 405 with Allow: GET; reading goes on")
    func readOnly() {
        let p = AccessPolicy(routesReadOnly: true)
        let local = ("Host", "localhost")
        let refused = RequestAction.refuse(status: 405, message: "the routes are read-only here (ROUTES_READONLY): they can be read, not added or deleted", allow: "GET")
        #expect(action(p, "POST", "/routes", [local], body: Self.route) == refused)
        #expect(action(p, "DELETE", "/routes/db", [local]) == refused)
        #expect(action(p, "PUT", "/routes", [local]) == refused)
        #expect(action(p, "GET", "/routes", [local]) == .api(.list))
        #expect(action(p, "GET", "/routes/db", [local]) == .api(.get(id: "db")))
    }

    @Test("100-continue: a request the body cannot change is refused before it; else the body is asked for")
    func continueOrNot() {
        let local = ("Host", "localhost")
        let p = Self.withToken
        let auth = ("Authorization", "Bearer s3cret-token")
        #expect(Router.refusalBeforeBody(head("POST", "/routes", [local, auth]), access: p) == nil)
        #expect(status(Router.refusalBeforeBody(head("POST", "/routes", [local]), access: p)) == 401)
        #expect(status(Router.refusalBeforeBody(head("POST", "/routes", [local, auth, ("Origin", "http://evil.example")]), access: p)) == 403)
        #expect(status(Router.refusalBeforeBody(head("POST", "/routes", [("Host", "evil.example")]), access: AccessPolicy())) == 403)
        #expect(status(Router.refusalBeforeBody(head("POST", "/routes", [local]), access: AccessPolicy(routesReadOnly: true))) == 405)
        #expect(status(Router.refusalBeforeBody(head("POST", "/logs", [local]), access: AccessPolicy())) == 405)
        #expect(status(Router.refusalBeforeBody(head("POST", "/nope", [local]), access: AccessPolicy())) == 404)
        #expect(status(Router.refusalBeforeBody(head("POST", "/routes/db", [local]), access: AccessPolicy())) == 405)
    }

    @Test("the environment: HTTPD_TOKEN or HTTPD_TOKEN_FILE (newline trimmed), origins, hosts, ROUTES_READONLY; bad ones never show the token")
    func environment() throws {
        func parse(_ env: [String: String], file: [UInt8]? = nil) -> Result<AccessPolicy, ConfigurationError> {
            HTTPDCommand.access(environment: { env[$0] }, readFile: { path throws(SyscallError) in
                guard let file, path == "/run/secrets/token" else { throw SyscallError("open", path, .noEntry) }
                return file
            })
        }
        #expect(try parse([:]).get() == AccessPolicy())
        #expect(try parse(["HTTPD_TOKEN": "abc"]).get().token == Array("abc".utf8))
        #expect(try parse(["HTTPD_TOKEN_FILE": "/run/secrets/token"], file: Array("abc\n".utf8)).get().token == Array("abc".utf8))
        #expect(try parse(["HTTPD_TOKEN_FILE": "/run/secrets/token"], file: Array("abc\r\n".utf8)).get().token == Array("abc".utf8))
        #expect(try parse(["HTTPD_TOKEN_FILE": "/run/secrets/token"], file: Array("abc".utf8)).get().token == Array("abc".utf8))
        func failure(_ r: Result<AccessPolicy, ConfigurationError>) -> String? {
            if case .failure(let e) = r { return e.message }
            return nil
        }
        #expect(failure(parse(["HTTPD_TOKEN": "abc", "HTTPD_TOKEN_FILE": "/run/secrets/token"], file: [97])) == "HTTPD_TOKEN and HTTPD_TOKEN_FILE are both set: set one")
        #expect(failure(parse(["HTTPD_TOKEN": ""])) == "HTTPD_TOKEN is set but empty")
        #expect(failure(parse(["HTTPD_TOKEN_FILE": "/run/secrets/token"], file: [10])) == "HTTPD_TOKEN_FILE '/run/secrets/token' is empty")
        #expect(failure(parse(["HTTPD_TOKEN_FILE": "/nope"]))?.hasPrefix("HTTPD_TOKEN_FILE '/nope' cannot be read: ") == true)
        #expect(failure(parse(["HTTPD_TOKEN": "two words"])) == "HTTPD_TOKEN must be printable ASCII without spaces")
        #expect(failure(parse(["HTTPD_TOKEN_FILE": "/run/secrets/token"], file: Array("a b\n".utf8))) == "HTTPD_TOKEN_FILE's token must be printable ASCII without spaces")
        let listed = try? parse(["HTTPD_ORIGINS": "https://dash.example.com, http://10.0.0.5:3000", "HTTPD_HOSTS": "logspout.internal,,Dash.example.com",
                                 "ROUTES_READONLY": "true"]).get()
        #expect(listed?.origins == ["https://dash.example.com", "http://10.0.0.5:3000"])
        #expect(listed?.hosts == ["logspout.internal", "dash.example.com"])
        #expect(listed?.routesReadOnly == true)
        #expect(failure(parse(["HTTPD_ORIGINS": "dash.example.com"])) == "HTTPD_ORIGINS: 'dash.example.com' is not an origin (http://host[:port] or https://host[:port])")
        #expect(failure(parse(["HTTPD_HOSTS": "dash.example.com:8000"])) == "HTTPD_HOSTS: 'dash.example.com:8000' is not a host name (no port, no scheme)")
        #expect(failure(parse(["ROUTES_READONLY": "maybe"])) == "ROUTES_READONLY 'maybe' is not true or false")
        #expect(try parse(["ROUTES_READONLY": "0"]).get().routesReadOnly == false)
    }
}
