import Text

// An incremental HTTP/1.1 request parser for a server (RFC 9112): fed bytes as they arrive, in pieces of any
// size, it reports each request's head, its body's bytes (de-chunked) and its end, then goes on to the next
// request on the connection (keep-alive and pipelining, RFC 9112 §9.3).
//
// States, per request:
//
//   requestLine ──▶ fields ──▶ fixed(remaining)                                     ──▶ end
//                          ├─▶ chunkSize ──▶ chunkData ──▶ chunkDataEnd ─┐
//                          │      ▲──────────────────────────────────────┘ (size 0) ──▶ trailers ──▶ end
//                          └─▶ (no body)                                            ──▶ end
//
// After the end it is back at requestLine, or paused: when the request ends the connection (no more
// requests may be processed, §9.6), asks to switch protocols (the bytes that follow are not HTTP), or the
// caller asked for a pause after every request. `feed` returns how many bytes it consumed, so the rest
// can be kept or handed on. An error is final: the server answers with its status and closes.
//
// Strictness, where RFC 9112 lets a server choose: a lone LF ends a line (§2.2); empty lines before a
// request line are skipped (§2.2); bare CR, obsolete line folding (§5.2), whitespace before a colon
// (§5.1), a missing or repeated Host (§3.2), Transfer-Encoding with Content-Length (§6.1) and in
// HTTP/1.0 (§6.1) are rejected.

/// A parsed request head: request line and header fields, names and values as sent (RFC 9112 §3, §5).
public struct HTTPRequestHead: Sendable, Equatable {
    /// The method token, case-sensitive (RFC 9110 §9.1).
    public var method: String
    /// The request target as sent, still percent-encoded (RFC 9112 §3.2).
    public var target: String
    /// 0 for HTTP/1.0, 1 for HTTP/1.1 (a later 1.x is taken as 1.1, RFC 9110 §6.2).
    public var versionMinor: Int
    /// The header fields in order, values without surrounding whitespace (RFC 9112 §5).
    public var headers: [HTTPField]

    public init(method: String, target: String, versionMinor: Int = 1, headers: [HTTPField] = []) {
        self.method = method
        self.target = target
        self.versionMinor = versionMinor
        self.headers = headers
    }

    /// The target's path, before any '?', still percent-encoded; for an absolute-form target, the path
    /// after the authority, "/" when empty (RFC 9112 §3.2.1, §3.2.2).
    public var path: String {
        var u = afterAbsoluteFormAuthority() ?? target.utf8[...]
        if let q = u.firstIndex(of: UInt8(ascii: "?")) { u = u[..<q] }
        return u.isEmpty ? "/" : String(Substring(u))
    }

    /// The query's `name=value` pairs in order, percent-decoded with '+' as a space (RFC 3986 §3.4, the HTML
    /// form encoding); a pair that does not decode to UTF-8 is kept as sent.
    public var query: [(name: String, value: String)] {
        var u = afterAbsoluteFormAuthority() ?? target.utf8[...]
        guard let q = u.firstIndex(of: UInt8(ascii: "?")) else { return [] }
        u = u[u.index(after: q)...]
        var pairs: [(name: String, value: String)] = []
        for part in u.split(separator: UInt8(ascii: "&")) {
            let name: Substring, value: Substring
            if let eq = part.firstIndex(of: UInt8(ascii: "=")) {
                name = Substring(part[..<eq])
                value = Substring(part[part.index(after: eq)...])
            } else {
                name = Substring(part)
                value = ""
            }
            pairs.append((percentDecode(name, plusAsSpace: true) ?? String(name),
                          percentDecode(value, plusAsSpace: true) ?? String(value)))
        }
        return pairs
    }

    /// The first value of the query parameter `name`, decoded as in `query` (RFC 3986 §3.4).
    public func queryValue(_ name: String) -> String? {
        query.first { $0.name == name }?.value
    }

    /// The value of the first header field named `name`, compared case-insensitively (RFC 9110 §5.1).
    public func header(_ name: String) -> String? {
        headers.first { asciiCaseInsensitiveEquals($0.name, name) }?.value
    }

    /// The values of every header field named `name`, in order (RFC 9110 §5.3).
    public func headerValues(_ name: String) -> [String] {
        headers.filter { asciiCaseInsensitiveEquals($0.name, name) }.map(\.value)
    }

    /// The comma-separated list elements of every field named `name`, trimmed and lowercased, empty elements
    /// dropped (RFC 9110 §5.6.1): for token lists such as Connection, Upgrade and Transfer-Encoding.
    public func headerTokens(_ name: String) -> [String] {
        var tokens: [String] = []
        for value in headerValues(name) {
            for element in value.utf8.split(separator: UInt8(ascii: ",")) {
                let t = trimOWS(element)
                if !t.isEmpty { tokens.append(asciiLowercased(t)) }
            }
        }
        return tokens
    }

    /// Whether the connection stays open after this request (RFC 9112 §9.3): HTTP/1.1 unless Connection
    /// has "close", HTTP/1.0 only with "keep-alive".
    public var keepAlive: Bool {
        let connection = headerTokens("Connection")
        if connection.contains("close") { return false }
        return versionMinor >= 1 || connection.contains("keep-alive")
    }

    /// Whether the request asks to switch protocols (RFC 9110 §7.8): HTTP/1.1, an Upgrade field, and
    /// "upgrade" among the Connection options. (HTTP/1.0 upgrades are ignored, as §7.8 requires.)
    public var requestsUpgrade: Bool {
        versionMinor >= 1 && header("Upgrade") != nil && headerTokens("Connection").contains("upgrade")
    }

    /// Whether this is a WebSocket opening handshake (RFC 6455 §4.2.1): GET, HTTP/1.1, Upgrade has
    /// "websocket", Connection has "upgrade". `webSocketHandshakeResponse(to:)` checks the rest.
    public var isWebSocketUpgrade: Bool {
        method == "GET" && requestsUpgrade && headerTokens("Upgrade").contains("websocket")
    }

    /// Whether the client waits for a 100 (Continue) before sending the body (RFC 9110 §10.1.1).
    public var expectsContinue: Bool {
        versionMinor >= 1 && headerTokens("Expect").contains("100-continue")
    }

    /// For an absolute-form target ("http://host/p?q"), what follows the authority; nil otherwise.
    private func afterAbsoluteFormAuthority() -> Substring.UTF8View? {
        let u = target.utf8
        let start: Int
        if hasASCIIPrefixIgnoringCase(u, "http://") { start = 7 } else if hasASCIIPrefixIgnoringCase(u, "https://") { start = 8 } else { return nil }
        let rest = u.dropFirst(start)
        let end = rest.firstIndex { $0 == UInt8(ascii: "/") || $0 == UInt8(ascii: "?") } ?? rest.endIndex
        return Substring(target)[end...].utf8
    }
}

/// What the parser found in the bytes it was fed.
public enum HTTPRequestEvent {
    /// A request's line and header fields.
    case head(HTTPRequestHead)
    /// Some of its body's bytes, de-chunked; valid only during the handler call.
    case body(UnsafeRawBufferPointer)
    /// The end of the request (its body and any trailers).
    case end
}

/// Why a request was rejected: the status to answer with (400, 413, 414, 431, 501 or 505, RFC 9110 §15)
/// and a message for the response body or the log. The connection should be closed after the response.
public struct HTTPRequestError: Error, Sendable, Equatable, CustomStringConvertible {
    public var status: Int
    public var message: String

    public init(status: Int, message: String) {
        self.status = status
        self.message = message
    }

    public var description: String { "\(status) \(message)" }
}

/// The incremental request parser (RFC 9112): feed it with `feed(_:_:)`, it reports events per request.
public struct HTTPRequestParser {
    /// Why the parser stopped after the end of a request, leaving the bytes after it unconsumed.
    public enum Pause: Sendable, Equatable {
        /// The request ends the connection (RFC 9112 §9.6): no later request may be processed.
        case connectionClose
        /// The request asks to switch protocols (RFC 9110 §7.8): the bytes after it belong to the new
        /// protocol, or, when the server declines, `resume()` goes on with HTTP.
        case upgrade
        /// `pausesAfterEachRequest` is set: `resume()` once ready for the next request.
        case requestEnded
    }

    enum State: Equatable {
        case requestLine
        case fields
        case fixed(remaining: Int)
        case chunkSize
        case chunkData(remaining: Int)
        case chunkDataEnd(seenCR: Bool)
        case trailers
        case paused(Pause)
        case failed(HTTPRequestError)
    }

    /// The most bytes a request head (or trailer section) may take; more is 431 (RFC 6585 §5).
    public let maxHeadBytes: Int
    /// The most body bytes a request may have; more is 413 (RFC 9110 §15.5.14).
    public let maxBodyBytes: Int
    /// The longest request target; longer is 414 (RFC 9110 §15.5.15).
    public let maxTargetBytes: Int
    /// Pause after every request, not only at a close or upgrade, for a server that answers pipelined
    /// requests one at a time (RFC 9112 §9.3.2): it resumes when ready for the next.
    public var pausesAfterEachRequest: Bool

    var state: State = .requestLine
    /// The current line (request line, field line, chunk-size line), without its LF.
    var line: [UInt8] = []
    /// Bytes of this head (or trailer section) so far, for `maxHeadBytes`.
    var headBytes = 0
    /// Spaces and target bytes seen on the request line so far, to answer 414 before its end.
    var requestLineSpaces = 0
    var targetBytes = 0
    var method = ""
    var target = ""
    var versionMinor = 1
    var fields: [HTTPField] = []
    /// Body bytes announced by chunk sizes so far, for `maxBodyBytes`.
    var chunkedBytes = 0
    /// How the parser stops once the current request ends; nil to go on.
    var pauseAtEnd: Pause?

    public init(maxHeadBytes: Int = 16 * 1024, maxBodyBytes: Int = 1024 * 1024, maxTargetBytes: Int = 8 * 1024,
                pausesAfterEachRequest: Bool = false) {
        self.maxHeadBytes = maxHeadBytes
        self.maxBodyBytes = maxBodyBytes
        self.maxTargetBytes = maxTargetBytes
        self.pausesAfterEachRequest = pausesAfterEachRequest
    }

    /// Why the parser is paused after a request (RFC 9112 §9.6, RFC 9110 §7.8), or nil while it takes bytes.
    public var pause: Pause? {
        if case .paused(let p) = state { return p }
        return nil
    }

    /// Whether the parser is between requests with nothing half-read, so closing now loses nothing (RFC 9112 §9.5).
    public var isIdle: Bool { state == .requestLine && line.isEmpty }

    /// Leaves a pause: the next bytes fed start a new request (RFC 9112 §9.3).
    public mutating func resume() {
        if case .paused = state { state = .requestLine }
    }

    /// Parses `bytes` (RFC 9112 §2–§7), calling `handler` for each event; returns how many bytes it consumed:
    /// all unless it paused after a request. Once it has thrown, it throws the same error again.
    @discardableResult
    public mutating func feed(_ bytes: UnsafeRawBufferPointer, _ handler: (HTTPRequestEvent) -> Void) throws(HTTPRequestError) -> Int {
        if case .failed(let error) = state { throw error }
        do throws(HTTPRequestError) {
            return try parse(bytes, handler)
        } catch {
            state = .failed(error)
            throw error
        }
    }

    private mutating func parse(_ bytes: UnsafeRawBufferPointer, _ handler: (HTTPRequestEvent) -> Void) throws(HTTPRequestError) -> Int {
        var i = 0
        let n = bytes.count
        while i < n {
            switch state {
            case .requestLine, .fields, .trailers:
                let b = bytes[i]
                i += 1
                try headByte(b, handler)
            case .fixed(let remaining):
                let take = min(remaining, n - i)
                handler(.body(UnsafeRawBufferPointer(rebasing: bytes[i..<i + take])))
                i += take
                if take == remaining {
                    endRequest(handler)
                } else {
                    state = .fixed(remaining: remaining - take)
                }
            case .chunkSize:
                let b = bytes[i]
                i += 1
                if b == lf {
                    try endChunkSizeLine()
                    line.removeAll(keepingCapacity: true)
                } else {
                    line.append(b)
                    if line.count > 4096 { throw HTTPRequestError(status: 400, message: "chunk size line too long") }
                }
            case .chunkData(let remaining):
                let take = min(remaining, n - i)
                handler(.body(UnsafeRawBufferPointer(rebasing: bytes[i..<i + take])))
                i += take
                state = take == remaining ? .chunkDataEnd(seenCR: false) : .chunkData(remaining: remaining - take)
            case .chunkDataEnd(let seenCR):
                let b = bytes[i]
                i += 1
                if b == cr && !seenCR {
                    state = .chunkDataEnd(seenCR: true)
                } else if b == lf {
                    state = .chunkSize
                } else {
                    throw HTTPRequestError(status: 400, message: "chunk data not followed by CRLF")
                }
            case .paused:
                return i
            case .failed(let error):
                throw error
            }
        }
        return i
    }

    // MARK: The head and trailers, a line at a time

    private mutating func headByte(_ b: UInt8, _ handler: (HTTPRequestEvent) -> Void) throws(HTTPRequestError) {
        headBytes += 1
        if b != lf, state == .requestLine {
            if b == sp {
                requestLineSpaces += 1
            } else if requestLineSpaces == 1 {
                targetBytes += 1
                if targetBytes > maxTargetBytes {
                    throw HTTPRequestError(status: 414, message: "request target longer than \(maxTargetBytes) bytes")
                }
            }
        }
        if headBytes > maxHeadBytes {
            throw HTTPRequestError(status: 431, message: state == .trailers ? "request trailers too large" : "request head too large")
        }
        guard b == lf else {
            line.append(b)
            return
        }
        let end = try lineEnd()
        switch state {
        case .requestLine:
            if end > 0 { try parseRequestLine(end) }
            requestLineSpaces = 0
            targetBytes = 0
        case .fields:
            if end == 0 {
                try endHead(handler)
            } else {
                fields.append(try parseFieldLine(end))
            }
        default:  // .trailers: checked, then dropped
            if end == 0 {
                endRequest(handler)
            } else {
                _ = try parseFieldLine(end)
            }
        }
        line.removeAll(keepingCapacity: true)
    }

    /// Where the current line's content ends: before a final CR. A CR anywhere else is an error (RFC 9112 §2.2).
    private func lineEnd() throws(HTTPRequestError) -> Int {
        let end = line.last == cr ? line.count - 1 : line.count
        if line[0..<end].contains(cr) { throw HTTPRequestError(status: 400, message: "bare CR in the request head") }
        return end
    }

    /// method SP request-target SP HTTP-version (RFC 9112 §3).
    private mutating func parseRequestLine(_ end: Int) throws(HTTPRequestError) {
        let l = line[0..<end]
        guard let s1 = l.firstIndex(of: sp), let s2 = l[(s1 + 1)...].firstIndex(of: sp), s1 > 0, s2 > s1 + 1 else {
            throw HTTPRequestError(status: 400, message: "malformed request line")
        }
        let m = l[..<s1], t = l[(s1 + 1)..<s2], v = l[(s2 + 1)...]
        guard m.allSatisfy(isTokenChar) else { throw HTTPRequestError(status: 400, message: "invalid method") }
        guard t.count <= maxTargetBytes else {
            throw HTTPRequestError(status: 414, message: "request target longer than \(maxTargetBytes) bytes")
        }
        guard isValidTarget(t, method: m) else { throw HTTPRequestError(status: 400, message: "invalid request target") }
        // HTTP-version = "HTTP/" DIGIT "." DIGIT, case-sensitive (RFC 9112 §2.3).
        guard v.count == 8, v.starts(with: "HTTP/".utf8), isDigit(v[v.startIndex + 5]), v[v.startIndex + 6] == UInt8(ascii: "."),
              isDigit(v[v.startIndex + 7])
        else { throw HTTPRequestError(status: 400, message: "invalid HTTP version") }
        guard v[v.startIndex + 5] == UInt8(ascii: "1") else {
            throw HTTPRequestError(status: 505, message: "HTTP version not supported")
        }
        method = String(decoding: m, as: UTF8.self)
        target = String(decoding: t, as: UTF8.self)
        versionMinor = v[v.startIndex + 7] == UInt8(ascii: "0") ? 0 : 1
        fields = []
        state = .fields
    }

    /// field-name ":" OWS field-value OWS (RFC 9112 §5).
    private func parseFieldLine(_ end: Int) throws(HTTPRequestError) -> HTTPField {
        let l = line[0..<end]
        if l.first == sp || l.first == htab {
            throw HTTPRequestError(status: 400, message: "obsolete line folding")
        }
        guard let colon = l.firstIndex(of: UInt8(ascii: ":")) else {
            throw HTTPRequestError(status: 400, message: "header line without a colon")
        }
        let name = l[..<colon]
        guard !name.isEmpty else { throw HTTPRequestError(status: 400, message: "empty header name") }
        guard !name.contains(where: { $0 == sp || $0 == htab }) else {
            throw HTTPRequestError(status: 400, message: "whitespace in a header name")
        }
        guard name.allSatisfy(isTokenChar) else { throw HTTPRequestError(status: 400, message: "invalid header name") }
        let value = trimOWS(l[(colon + 1)...])
        // field-vchar = VCHAR / obs-text, with SP and HTAB inside (RFC 9110 §5.5).
        guard value.allSatisfy({ $0 == htab || $0 >= sp && $0 != 0x7F }) else {
            throw HTTPRequestError(status: 400, message: "invalid character in a header value")
        }
        return HTTPField(String(decoding: name, as: UTF8.self), String(decoding: value, as: UTF8.self))
    }

    /// The blank line: checks Host and the body's framing (RFC 9112 §3.2, §6), reports the head and starts
    /// the body.
    private mutating func endHead(_ handler: (HTTPRequestEvent) -> Void) throws(HTTPRequestError) {
        let head = HTTPRequestHead(method: method, target: target, versionMinor: versionMinor, headers: fields)
        fields = []

        let hosts = head.headerValues("Host")
        if hosts.count > 1 { throw HTTPRequestError(status: 400, message: "more than one Host header") }
        if hosts.isEmpty && versionMinor >= 1 { throw HTTPRequestError(status: 400, message: "missing Host header") }
        if let host = hosts.first, !host.utf8.allSatisfy(isHostChar) {
            throw HTTPRequestError(status: 400, message: "invalid Host header")
        }

        var chunked = false
        var length = 0
        let hasContentLength = head.header("Content-Length") != nil
        if head.header("Transfer-Encoding") != nil {
            if versionMinor == 0 { throw HTTPRequestError(status: 400, message: "Transfer-Encoding in an HTTP/1.0 request") }
            if hasContentLength { throw HTTPRequestError(status: 400, message: "both Transfer-Encoding and Content-Length") }
            let codings = head.headerTokens("Transfer-Encoding")
            guard codings.last == "chunked" else {
                throw HTTPRequestError(status: 400, message: "chunked is not the final transfer coding")
            }
            if codings.dropLast().contains("chunked") { throw HTTPRequestError(status: 400, message: "chunked applied twice") }
            if let other = codings.dropLast().first {
                throw HTTPRequestError(status: 501, message: "transfer coding '\(other)' not implemented")
            }
            chunked = true
        } else if hasContentLength {
            length = try contentLength(head)
        }

        pauseAtEnd = !head.keepAlive ? .connectionClose
            : head.requestsUpgrade ? .upgrade
            : pausesAfterEachRequest ? .requestEnded : nil
        headBytes = 0
        handler(.head(head))
        if chunked {
            chunkedBytes = 0
            state = .chunkSize
        } else if length > 0 {
            state = .fixed(remaining: length)
        } else {
            endRequest(handler)
        }
    }

    /// Content-Length = 1*DIGIT; repeated fields or list elements must agree (RFC 9110 §8.6, RFC 9112 §6.3).
    private func contentLength(_ head: HTTPRequestHead) throws(HTTPRequestError) -> Int {
        var length: Int?
        for value in head.headerValues("Content-Length") {
            for element in value.utf8.split(separator: UInt8(ascii: ","), omittingEmptySubsequences: false) {
                let digits = trimOWS(element)
                guard !digits.isEmpty, digits.allSatisfy(isDigit) else {
                    throw HTTPRequestError(status: 400, message: "invalid Content-Length")
                }
                var n = 0
                for d in digits {
                    n = n * 10 + Int(d - UInt8(ascii: "0"))
                    if n > Int.max / 10 - 9 { n = Int.max / 10 - 9; break }  // saturates: far over any limit
                }
                if let l = length, l != n { throw HTTPRequestError(status: 400, message: "conflicting Content-Length values") }
                length = n
            }
        }
        let n = length ?? 0
        if n > maxBodyBytes { throw HTTPRequestError(status: 413, message: "request body over \(maxBodyBytes) bytes") }
        return n
    }

    // MARK: Chunked bodies (RFC 9112 §7.1)

    /// chunk-size [ chunk-ext ] CRLF, where chunk-ext = *( BWS ";" BWS name [ BWS "=" BWS value ] ).
    private mutating func endChunkSizeLine() throws(HTTPRequestError) {
        let end = line.last == cr ? line.count - 1 : line.count
        if line[0..<end].contains(cr) { throw HTTPRequestError(status: 400, message: "bare CR in a chunk size line") }
        var i = 0
        var size = 0
        while i < end, let v = Hex.value(line[i]).map(Int.init) {
            size = size * 16 + v
            if size > maxBodyBytes - chunkedBytes {
                throw HTTPRequestError(status: 413, message: "request body over \(maxBodyBytes) bytes")
            }
            i += 1
        }
        guard i > 0 else { throw HTTPRequestError(status: 400, message: "invalid chunk size") }
        try checkChunkExtensions(from: i, to: end)
        if size == 0 {
            headBytes = 0
            state = .trailers
        } else {
            chunkedBytes += size
            state = .chunkData(remaining: size)
        }
    }

    /// Chunk extensions are checked against the grammar, then ignored.
    private func checkChunkExtensions(from start: Int, to end: Int) throws(HTTPRequestError) {
        let bad = HTTPRequestError(status: 400, message: "invalid chunk extension")
        var i = start
        func skipWhitespace() { while i < end, line[i] == sp || line[i] == htab { i += 1 } }
        func token() -> Bool {
            let s = i
            while i < end, isTokenChar(line[i]) { i += 1 }
            return i > s
        }
        while i < end {
            skipWhitespace()
            if i == end { break }
            guard line[i] == UInt8(ascii: ";") else { throw bad }
            i += 1
            skipWhitespace()
            guard token() else { throw bad }
            skipWhitespace()
            if i == end { break }
            guard line[i] == UInt8(ascii: "=") else { continue }  // the next extension's ";"
            i += 1
            skipWhitespace()
            if i < end, line[i] == UInt8(ascii: "\"") {
                // quoted-string = DQUOTE *( qdtext / quoted-pair ) DQUOTE (RFC 9110 §5.6.4)
                i += 1
                var closed = false
                while i < end {
                    let c = line[i]
                    i += 1
                    if c == UInt8(ascii: "\"") { closed = true; break }
                    if c == UInt8(ascii: "\\") {
                        guard i < end, line[i] == htab || line[i] >= sp && line[i] != 0x7F else { throw bad }
                        i += 1
                    } else if !(c == htab || c >= sp && c != 0x7F) {
                        throw bad
                    }
                }
                guard closed else { throw bad }
            } else {
                guard token() else { throw bad }
            }
        }
    }

    private mutating func endRequest(_ handler: (HTTPRequestEvent) -> Void) {
        handler(.end)
        headBytes = 0
        requestLineSpaces = 0
        targetBytes = 0
        line.removeAll(keepingCapacity: true)
        if let p = pauseAtEnd {
            state = .paused(p)
        } else {
            state = .requestLine
        }
        pauseAtEnd = nil
    }
}

/// `text` with %XX escapes decoded (RFC 3986 §2.1), and '+' as a space when `plusAsSpace` (the HTML form
/// encoding of queries); nil for a malformed escape or a result that is not UTF-8.
public func percentDecode(_ text: some StringProtocol, plusAsSpace: Bool = false) -> String? {
    let u = text.utf8
    if !u.contains(where: { $0 == UInt8(ascii: "%") || plusAsSpace && $0 == UInt8(ascii: "+") }) { return String(text) }
    guard let out = Percent.decode(text, plusAsSpace: plusAsSpace), UTF8Rules.isValid(out) else { return nil }
    return String(decoding: out, as: UTF8.self)
}

// MARK: Byte classes

private let sp: UInt8 = 0x20, htab: UInt8 = 0x09, cr: UInt8 = 0x0D, lf: UInt8 = 0x0A

private func isDigit(_ c: UInt8) -> Bool { c >= UInt8(ascii: "0") && c <= UInt8(ascii: "9") }

/// tchar (RFC 9110 §5.6.2): the characters of methods, field names, transfer codings.
func isTokenChar(_ c: UInt8) -> Bool {
    switch c {
    case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "0")...UInt8(ascii: "9"):
        return true
    case UInt8(ascii: "!"), UInt8(ascii: "#"), UInt8(ascii: "$"), UInt8(ascii: "%"), UInt8(ascii: "&"), UInt8(ascii: "'"),
         UInt8(ascii: "*"), UInt8(ascii: "+"), UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "^"), UInt8(ascii: "_"),
         UInt8(ascii: "`"), UInt8(ascii: "|"), UInt8(ascii: "~"):
        return true
    default:
        return false
    }
}

/// The Host field's characters: uri-host [ ":" port ] (RFC 3986 §3.2.2), IP literals included.
private func isHostChar(_ c: UInt8) -> Bool {
    switch c {
    case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "0")...UInt8(ascii: "9"):
        return true
    case UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "_"), UInt8(ascii: "~"), UInt8(ascii: "%"), UInt8(ascii: ":"),
         UInt8(ascii: "["), UInt8(ascii: "]"), UInt8(ascii: "!"), UInt8(ascii: "$"), UInt8(ascii: "&"), UInt8(ascii: "'"),
         UInt8(ascii: "("), UInt8(ascii: ")"), UInt8(ascii: "*"), UInt8(ascii: "+"), UInt8(ascii: ","), UInt8(ascii: ";"),
         UInt8(ascii: "="):
        return true
    default:
        return false
    }
}

/// A request target (RFC 9112 §3.2): origin-form ("/p?q"), absolute-form ("http://h/p"), or "*" for
/// OPTIONS. Visible ASCII only, no '#', and every '%' followed by two hex digits; the characters RFC 3986
/// leaves out but browsers send unescaped in queries (such as `|`, `{`, `}`) are let through.
private func isValidTarget(_ t: ArraySlice<UInt8>, method: ArraySlice<UInt8>) -> Bool {
    if t.count == 1 && t.first == UInt8(ascii: "*") { return method.elementsEqual("OPTIONS".utf8) }
    guard t.first == UInt8(ascii: "/") || hasASCIIPrefixIgnoringCase(t, "http://") || hasASCIIPrefixIgnoringCase(t, "https://") else {
        return false
    }
    var i = t.startIndex
    while i < t.endIndex {
        let c = t[i]
        if c <= sp || c >= 0x7F || c == UInt8(ascii: "#") { return false }
        if c == UInt8(ascii: "%") {
            guard i + 2 < t.endIndex, Hex.value(t[i + 1]) != nil, Hex.value(t[i + 2]) != nil else { return false }
            i += 2
        }
        i += 1
    }
    return true
}

/// Whether `bytes` start with the ASCII `prefix`, ignoring case.
private func hasASCIIPrefixIgnoringCase<C: Collection<UInt8>>(_ bytes: C, _ prefix: String) -> Bool {
    var it = bytes.makeIterator()
    for p in prefix.utf8 {
        guard let c = it.next(), c | 0x20 == p | 0x20 else { return false }
    }
    return true
}

/// Whether two strings are equal ignoring ASCII case (field names, RFC 9110 §5.1).
func asciiCaseInsensitiveEquals(_ a: String, _ b: String) -> Bool {
    a.utf8.elementsEqual(b.utf8) { x, y in
        x == y || (x | 0x20 == y | 0x20 && (x | 0x20) >= UInt8(ascii: "a") && (x | 0x20) <= UInt8(ascii: "z"))
    }
}

/// The bytes as a string with ASCII letters lowercased.
private func asciiLowercased<C: Collection<UInt8>>(_ bytes: C) -> String {
    String(decoding: bytes.map { $0 >= UInt8(ascii: "A") && $0 <= UInt8(ascii: "Z") ? $0 | 0x20 : $0 }, as: UTF8.self)
}

/// `bytes` without leading and trailing SP and HTAB (OWS, RFC 9110 §5.6.3).
private func trimOWS<C: BidirectionalCollection<UInt8>>(_ bytes: C) -> C.SubSequence {
    var s = bytes.startIndex, e = bytes.endIndex
    while s < e, bytes[s] == sp || bytes[s] == htab { bytes.formIndex(after: &s) }
    while e > s, bytes[bytes.index(before: e)] == sp || bytes[bytes.index(before: e)] == htab { bytes.formIndex(before: &e) }
    return bytes[s..<e]
}
