import Contract
import HTTP
import JSON
import Records
import Testing
@testable import HTTPServer

@Suite("router: a request to what to do")
struct RouterTests {
    func action(_ method: String, _ target: String, _ headers: [(String, String)] = [], body: String = "") -> RequestAction {
        Router.action(for: head(method, target, headers), body: Array(body.utf8))
    }

    @Test("/logs and its forms: filter, id, name, types, colors")
    func streams() {
        #expect(action("GET", "/logs") == .stream(StreamRequest(), .text(colors: true)))
        #expect(action("GET", "/logs/") == .stream(StreamRequest(), .text(colors: true)))
        var filter = StreamRequest()
        filter.filter.substring = "db"
        #expect(action("GET", "/logs/filter:db") == .stream(filter, .text(colors: true)))
        var byID = StreamRequest()
        byID.filter.id = "8713"
        byID.single = true
        #expect(action("GET", "/logs/id:8713") == .stream(byID, .text(colors: true)))
        var byName = StreamRequest()
        byName.filter.name = "my web"
        byName.single = true
        byName.colors = false
        #expect(action("GET", "/logs/name:my%20web?colors=off") == .stream(byName, .text(colors: false)))
        var stderr = StreamRequest()
        stderr.filter.types = [.stderr]
        for query in ["types=stderr", "sources=stderr", "type=stderr"] {
            #expect(action("GET", "/logs?\(query)") == .stream(stderr, .text(colors: true)))
        }
        var both = StreamRequest()
        both.filter.types = [.stdout, .stderr]
        #expect(action("GET", "/logs?types=stdout,stderr") == .stream(both, .text(colors: true)))
    }

    @Test("the stream's form: WebSocket upgrade, then Accept (SSE, JSON, NDJSON), else text")
    func modes() {
        #expect(Router.action(for: upgrade("/logs"), body: []) == .stream(StreamRequest(), .websocket))
        #expect(action("GET", "/logs", [("Accept", "text/event-stream")]) == .stream(StreamRequest(), .sse))
        #expect(action("GET", "/logs", [("Accept", "application/json")]) == .stream(StreamRequest(), .json))
        #expect(action("GET", "/logs", [("Accept", "application/x-ndjson")]) == .stream(StreamRequest(), .json))
        #expect(action("GET", "/logs", [("Accept", "*/*")]) == .stream(StreamRequest(), .text(colors: true)))
        #expect(action("HEAD", "/logs", [("Accept", "text/event-stream")]) == .streamHead(.sse))
        #expect(action("HEAD", "/logs?colors=off") == .streamHead(.text(colors: false)))
    }

    @Test("bad stream paths and values are 400; other methods 405 with Allow")
    func badStreams() {
        #expect(action("GET", "/logs/web") == .refuse(
            status: 400, message: "unknown stream 'web': use /logs, /logs/filter:TEXT, /logs/id:ID or /logs/name:NAME"))
        #expect(action("GET", "/logs/color:red") == .refuse(status: 400, message: "unknown stream 'color:': use filter:, id: or name:"))
        #expect(action("GET", "/logs/name:") == .refuse(status: 400, message: "empty or badly encoded value in 'name:'"))
        #expect(action("GET", "/logs?types=stdin") == .refuse(status: 400, message: "types must be stdout, stderr or both, not 'stdin'"))
        #expect(action("GET", "/logs?colors=maybe") == .refuse(status: 400, message: "colors must be on or off (true/false, 1/0, yes/no), not 'maybe'"))
        for on in ["on", "true", "1", "yes", "ON", ""] { #expect(action("GET", "/logs?colors=\(on)") == .stream(StreamRequest(), .text(colors: true))) }
        for off in ["off", "false", "0", "no", "Off"] {
            guard case .stream(let r, .text(colors: false)) = action("GET", "/logs?colors=\(off)") else {
                Issue.record("colors=\(off) is off")
                continue
            }
            #expect(!r.colors)
        }
        #expect(action("POST", "/logs") == .refuse(status: 405, message: "method POST not allowed here; allowed: GET, HEAD", allow: "GET, HEAD"))
        // The method is checked before the path's values.
        #expect(action("DELETE", "/logs/bad") == .refuse(
            status: 405, message: "method DELETE not allowed here; allowed: GET, HEAD", allow: "GET, HEAD"))
    }

    @Test("/routes: list, add (an object), get and delete by a valid id")
    func routes() {
        #expect(action("GET", "/routes") == .api(.list))
        #expect(action("GET", "/routes?x=1") == .api(.list))
        #expect(action("POST", "/routes", body: #"{"target":{"addr":"h:514"}}"#)
            == .api(.add(route: .object([("target", .object([("addr", .string("h:514"))]))]))))
        #expect(action("GET", "/routes/db.1") == .api(.get(id: "db.1")))
        #expect(action("DELETE", "/routes/db_1-x") == .api(.delete(id: "db_1-x")))
    }

    @Test("/routes errors: bad JSON, not an object, a bad id (before the method), 405")
    func routeErrors() {
        guard case .refuse(400, let message, nil) = action("POST", "/routes", body: "{") else {
            Issue.record("bad JSON is a 400")
            return
        }
        #expect(message.hasPrefix("invalid JSON: "))
        #expect(action("POST", "/routes", body: "[1]") == .refuse(status: 400, message: "a route is a JSON object"))
        let badID = RequestAction.refuse(status: 400, message: "invalid route id 'a%20b': it must match [A-Za-z0-9][A-Za-z0-9._-]{0,63}")
        #expect(action("GET", "/routes/a%20b") == badID)
        #expect(action("PUT", "/routes/a%20b") == badID)
        #expect(action("GET", "/routes/") == .refuse(status: 400, message: "invalid route id '': it must match \(RouteID.pattern)"))
        #expect(action("PUT", "/routes") == .refuse(status: 405, message: "method PUT not allowed here; allowed: GET, POST", allow: "GET, POST"))
        #expect(action("POST", "/routes/db") == .refuse(
            status: 405, message: "method POST not allowed here; allowed: GET, DELETE", allow: "GET, DELETE"))
    }

    @Test("/health, the page, and 404 for anything else")
    func others() {
        #expect(action("GET", "/health") == .health(detailed: true))
        #expect(action("HEAD", "/health") == .health(detailed: true))
        #expect(action("POST", "/health") == .refuse(status: 405, message: "method POST not allowed here; allowed: GET, HEAD", allow: "GET, HEAD"))
        #expect(action("GET", "/") == .page)
        #expect(action("GET", "/index.html") == .page)
        #expect(action("DELETE", "/") == .refuse(status: 405, message: "method DELETE not allowed here; allowed: GET, HEAD", allow: "GET, HEAD"))
        #expect(action("GET", "/logsx") == .refuse(status: 404, message: "no such path '/logsx'; see docs/http.md"))
        #expect(action("GET", "/routesx") == .refuse(status: 404, message: "no such path '/routesx'; see docs/http.md"))
        #expect(action("GET", "/health/") == .refuse(status: 404, message: "no such path '/health/'; see docs/http.md"))
    }

    @Test("the bus's answers become responses: routes, the stored route, deleted, the bus's errors")
    func answers() {
        let route = JSONValue.object([("id", .string("db"))])
        #expect(Router.answer(.list, .routes([route])) == JSONResponse(200, .array([route])))
        #expect(Router.answer(.list, .ok) == JSONResponse(200, .array([])))
        #expect(Router.answer(.get(id: "db"), .route(route)) == JSONResponse(200, route))
        #expect(Router.answer(.add(route: route), .route(route)) == JSONResponse(201, route))
        #expect(Router.answer(.add(route: route), .ok) == JSONResponse(201, .null))
        #expect(Router.answer(.delete(id: "db"), .ok) == JSONResponse(200, .object([("id", .string("db")), ("deleted", .bool(true))])))
        #expect(Router.answer(.get(id: "x"), .failed(BusError(404, "no route 'x'"))) == .error(404, "no route 'x'"))
        // An answer that cannot be read is the bus's failure.
        #expect(Router.answer(.list, BusReply(line: Array("garbage".utf8))) == .error(500, "unreadable answer"))
    }

    @Test("response bytes: head fields in order, Connection: close, no body for HEAD; 405 carries Allow")
    func responses() {
        var out: [UInt8] = []
        JSONResponse(200, .array([])).response.append(to: &out, closing: false, headOnly: false)
        #expect(text(out) == "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 3\r\n\r\n[]\n")
        out = []
        Router.refusal(status: 405, message: "no", allow: "GET, HEAD").append(to: &out, closing: true, headOnly: true)
        #expect(text(out) == "HTTP/1.1 405 Method Not Allowed\r\nContent-Type: application/json\r\nContent-Length: 15\r\n"
            + "Allow: GET, HEAD\r\nConnection: close\r\n\r\n")
        out = []
        Router.unreachable(.health(detailed: true)).append(to: &out, closing: false, headOnly: false)
        #expect(text(out).hasSuffix("\r\n\r\n{\"status\":\"the bus is unreachable\"}\n"))
        #expect(text(out).hasPrefix("HTTP/1.1 503 "))
        #expect(Router.unreachable(.health(detailed: false)).body == Array("{\"status\":\"unavailable\"}\n".utf8))
        #expect(Router.unreachable(.api(.list)) == JSONResponse.error(503, "route's bus is unreachable").response)
        #expect(Router.healthy.body == Array("{\"status\":\"ok\"}\n".utf8))
    }
}
