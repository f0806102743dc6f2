import Contract
import HTTP
import JSON

/// What a request asks for (docs/http.md), decided from the request alone; the connection acts on it.
enum RequestAction: Equatable {
    /// A live stream on `/logs…`: a subscription on the bus, written in `mode`.
    case stream(StreamRequest, StreamMode)
    /// `HEAD /logs…`: the stream's head, without asking the bus.
    case streamHead(StreamMode)
    /// A `/routes` call: one request on the bus, answered as `Router.answer` says.
    case api(BusRequest)
    /// `/health`: a ping on the bus; its answer says why when `detailed` (no token is set, or the
    /// request carries it).
    case health(detailed: Bool)
    /// `/ready`: the routes from the bus, their receivers from emit-syslog's health file; the routes
    /// are shown when `detailed` (as for `/health`).
    case ready(detailed: Bool)
    /// `/metrics`: httpd's own metrics and the stages' snapshot files; the bus is not asked.
    case metrics
    /// The live page.
    case page
    /// An answer the bus is not asked for: a JSON error (400, 404, 405 with `Allow`; 401, 403 from
    /// `AccessPolicy`).
    case refuse(status: Int, message: String, allow: String? = nil)
}

/// httpd's routes: a request's method, path, query and headers (and the body of `POST /routes`) to what
/// to do, with the 400, 401, 403, 404 and 405 decisions. Pure: the connection does the rest.
enum Router {
    static func action(for head: HTTPRequestHead, body: [UInt8], access: AccessPolicy = AccessPolicy()) -> RequestAction {
        if let refusal = access.refusal(for: head) { return refusal }
        return route(head, body: body, access: access)!
    }

    /// For a request whose client waits for `100 Continue` before its body (RFC 9110 §10.1.1): the
    /// refusal it gets whatever the body (401, 403, 404, 405, 400 for its path), or nil to ask for the body.
    static func refusalBeforeBody(_ head: HTTPRequestHead, access: AccessPolicy) -> RequestAction? {
        if let refusal = access.refusal(for: head) { return refusal }
        let action = route(head, body: nil, access: access)
        if case .refuse = action { return action }
        return nil
    }

    /// What a request allowed in asks for; nil only when the body decides and is not there yet.
    static func route(_ head: HTTPRequestHead, body: [UInt8]?, access: AccessPolicy) -> RequestAction? {
        let path = head.path
        let method = head.method
        func notAllowed(_ allow: String) -> RequestAction {
            .refuse(status: 405, message: "method \(method) not allowed here; allowed: \(allow)", allow: allow)
        }
        let getOrHead = method == "GET" || method == "HEAD"
        if path == "/logs" || path.hasPrefix("/logs/") {
            guard getOrHead else { return notAllowed("GET, HEAD") }
            let request: StreamRequest
            switch StreamRequest.parse(head) {
            case .success(let r): request = r
            case .failure(let e): return .refuse(status: 400, message: e.message)
            }
            let mode = streamMode(head, colors: request.colors)
            return method == "HEAD" ? .streamHead(mode) : .stream(request, mode)
        }
        if path == "/routes" {
            switch method {
            case "GET": return .api(.list)
            case "POST" where access.routesReadOnly: return readOnly()
            case "POST": return body.map(addRoute)
            default: return access.routesReadOnly ? readOnly() : notAllowed("GET, POST")
            }
        }
        if path.hasPrefix("/routes/") {
            let id = String(path.dropFirst("/routes/".count))
            guard RouteID.isValid(id) else {
                return .refuse(status: 400, message: "invalid route id '\(id)': it must match \(RouteID.pattern)")
            }
            switch method {
            case "GET": return .api(.get(id: id))
            case "DELETE" where access.routesReadOnly: return readOnly()
            case "DELETE": return .api(.delete(id: id))
            default: return access.routesReadOnly ? readOnly() : notAllowed("GET, DELETE")
            }
        }
        if path == "/health" {
            return getOrHead ? .health(detailed: access.isAuthorized(head)) : notAllowed("GET, HEAD")
        }
        if path == "/ready" {
            return getOrHead ? .ready(detailed: access.isAuthorized(head)) : notAllowed("GET, HEAD")
        }
        if path == "/metrics" {
            return getOrHead ? .metrics : notAllowed("GET, HEAD")
        }
        if path == "/" || path == "/index.html" {
            return getOrHead ? .page : notAllowed("GET, HEAD")
        }
        return .refuse(status: 404, message: "no such path '\(path)'; see docs/http.md")
    }

    /// `ROUTES_READONLY`: the routes can be read only.
    static func readOnly() -> RequestAction {
        .refuse(status: 405, message: "the routes are read-only here (ROUTES_READONLY): they can be read, not added or deleted",
                allow: "GET")
    }

    /// The stream's form: WebSocket for an upgrade, else by `Accept`; plain text by default.
    static func streamMode(_ head: HTTPRequestHead, colors: Bool) -> StreamMode {
        let accept = head.header("Accept") ?? ""
        if head.isWebSocketUpgrade { return .websocket }
        if accept.contains("text/event-stream") { return .sse }
        if accept.contains("application/json") || accept.contains("application/x-ndjson") { return .json }
        return .text(colors: colors)
    }

    /// `POST /routes`: the body must be a JSON object.
    static func addRoute(_ body: [UInt8]) -> RequestAction {
        let route: JSONValue
        do { route = try JSONValue.parse(body) } catch {
            return .refuse(status: 400, message: "invalid JSON: \(error)")
        }
        guard route.object != nil else { return .refuse(status: 400, message: "a route is a JSON object") }
        return .api(.add(route: route))
    }

    /// The response to a `/routes` call once the bus answered: the bus's error with its status, or what
    /// the call returns.
    static func answer(_ request: BusRequest, _ reply: BusReply) -> JSONResponse {
        if case .failed(let error) = reply { return .error(error.status, error.message) }
        switch request {
        case .list:
            guard case .routes(let routes) = reply else { return JSONResponse(200, .array([])) }
            return JSONResponse(200, .array(routes))
        case .get:
            return route(200, reply)
        case .add:
            return route(201, reply)
        case .delete(let id):
            return JSONResponse(200, .object([("id", .string(id)), ("deleted", .bool(true))]))
        case .ping, .subscribe:  // not asked as calls
            return JSONResponse(200, .null)
        }
    }

    /// The route a `get` or `add` answered with.
    static func route(_ status: Int, _ reply: BusReply) -> JSONResponse {
        guard case .route(let route) = reply else { return JSONResponse(status, .null) }
        return JSONResponse(status, route)
    }

    /// The response for a `refuse` action: `{"error":"…"}`, with `Allow` for a 405 and
    /// `WWW-Authenticate` for a 401 (RFC 6750 §3).
    static func refusal(status: Int, message: String, allow: String?) -> Response {
        var response = JSONResponse.error(status, message).response
        if let allow { response.extra = [HTTPField("Allow", allow)] }
        if status == 401 { response.extra.append(HTTPField("WWW-Authenticate", #"Bearer realm="logspout""#)) }
        return response
    }

    /// When the bus cannot be reached for an action that needs it.
    static func unreachable(_ action: RequestAction) -> Response {
        if case .health(let detailed) = action {
            let status = detailed ? #"{"status":"the bus is unreachable"}"# : #"{"status":"unavailable"}"#
            return Response(503, contentType: "application/json", body: Array(status.utf8) + [10])
        }
        return JSONResponse.error(503, "route's bus is unreachable").response
    }

    /// `/health` when a stage is down (`problem` says which), without asking the bus.
    static func unhealthy(_ problem: String, detailed: Bool) -> Response {
        let status = JSONValue.object([("status", .string(detailed ? problem : "unavailable"))])
        return Response(503, contentType: "application/json", body: status.encoded() + [10])
    }

    /// `/health` once the bus answered its ping (whatever the answer).
    static let healthy = Response(200, contentType: "application/json", body: Array(#"{"status":"ok"}"#.utf8) + [10])

    /// A call whose bus connection closed before the answer.
    static let busClosed = JSONResponse.error(503, "route's bus closed the connection")
}

/// A JSON response: a status and one value, written with a newline.
struct JSONResponse: Equatable {
    var status: Int
    var value: JSONValue

    init(_ status: Int, _ value: JSONValue) {
        self.status = status
        self.value = value
    }

    /// `{"error":"…"}`.
    static func error(_ status: Int, _ message: String) -> JSONResponse {
        JSONResponse(status, .object([("error", .string(message))]))
    }

    var response: Response {
        var body = value.encoded()
        body.append(10)
        return Response(status, contentType: "application/json", body: body)
    }
}

/// A response with a known length, written by `append`.
struct Response: Equatable {
    var status: Int
    var contentType: String
    var body: [UInt8]
    var extra: [HTTPField] = []

    init(_ status: Int, contentType: String, body: [UInt8], extra: [HTTPField] = []) {
        self.status = status
        self.contentType = contentType
        self.body = body
        self.extra = extra
    }

    /// Appends the head (`Content-Type`, `Content-Length`, the extra fields, `Connection: close` when
    /// `closing`) and, unless the request was a HEAD, the body.
    func append(to out: inout [UInt8], closing: Bool, headOnly: Bool) {
        var headers: [(String, String)] = [("Content-Type", contentType), ("Content-Length", String(body.count))]
        headers += extra.map { ($0.name, $0.value) }
        if closing { headers.append(("Connection", "close")) }
        appendResponseHead(status: status, headers: headers, to: &out)
        if !headOnly { out += body }
    }
}
