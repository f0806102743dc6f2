import Text

// An incremental HTTP/1.1 response parser (RFC 9112): fed bytes as they arrive, in pieces of any size,
// it reports the head, the body's bytes (de-chunked) and the end of the message.
//
// States, in order:   head ──▶ fixed(remaining)                       ──▶ done
//                          ├─▶ chunkSize ──▶ chunkData ──▶ chunkDataEnd ─┐
//                          │      ▲─────────────────────────────────────┘ (size 0) ──▶ trailers ──▶ done
//                          └─▶ untilClose (no length: the body ends when the connection does)

/// A parsed response head: status line and header fields, names as sent.
public struct HTTPHead: Sendable, Equatable {
    public var status: Int
    public var reason: String
    public var headers: [HTTPField]

    public init(status: Int, reason: String, headers: [HTTPField]) {
        self.status = status
        self.reason = reason
        self.headers = headers
    }

    /// The first header field named `name` (case-insensitive), if any.
    public func header(_ name: String) -> String? {
        let lower = name.lowercased()
        return headers.first { $0.name.lowercased() == lower }?.value
    }

}

/// Why a response could not be parsed.
public struct HTTPParseError: Error, Sendable, Equatable, CustomStringConvertible {
    public var message: String
    public init(_ message: String) { self.message = message }
    public var description: String { "malformed HTTP response: \(message)" }
}

/// What the parser found in the bytes it was fed.
public enum HTTPResponseEvent {
    /// The status line and headers.
    case head(HTTPHead)
    /// Some body bytes; valid only during the handler call.
    case body(UnsafeRawBufferPointer)
    /// The end of the message.
    case end
}

/// The incremental response parser. Feed it with `feed(_:_:)`; call `finish(_:)` at end of file.
public struct HTTPResponseParser {
    enum State: Equatable {
        case head
        case fixed(remaining: Int)
        case chunkSize
        case chunkData(remaining: Int)
        case chunkDataEnd(seen: Int)
        case trailers
        case untilClose
        case done
    }

    var state: State = .head
    var line: [UInt8] = []
    /// Responses with no body at all (the answer to HEAD): set before feeding.
    public var expectsNoBody = false
    public let maxHeadSize: Int

    public init(maxHeadSize: Int = 64 * 1024) {
        self.maxHeadSize = maxHeadSize
    }

    /// Whether the whole message has been seen.
    public var isDone: Bool { state == .done }

    /// Parses `bytes`, calling `handler` for each event. Bytes after the end of the message are ignored.
    public mutating func feed(_ bytes: UnsafeRawBufferPointer, _ handler: (HTTPResponseEvent) -> Void) throws(HTTPParseError) {
        var i = 0
        let n = bytes.count
        while i < n {
            switch state {
            case .head:
                // Collect up to the blank line that ends the head.
                while i < n {
                    let b = bytes[i]
                    i += 1
                    line.append(b)
                    if b == 10, line.count >= 2 {
                        let c = line.count
                        if line[c - 2] == 10 || (c >= 4 && line[c - 2] == 13 && line[c - 3] == 10 && line[c - 4] == 13) {
                            let head = try parseHead(line)
                            line.removeAll(keepingCapacity: true)
                            handler(.head(head))
                            try startBody(head, handler)
                            break
                        }
                    }
                    if line.count > maxHeadSize { throw HTTPParseError("response head over \(maxHeadSize) bytes") }
                }
            case .fixed(let remaining):
                let take = min(remaining, n - i)
                handler(.body(UnsafeRawBufferPointer(rebasing: bytes[i..<i + take])))
                i += take
                if take == remaining {
                    state = .done
                    handler(.end)
                } else {
                    state = .fixed(remaining: remaining - take)
                }
            case .chunkSize, .trailers:
                let b = bytes[i]
                i += 1
                if b != 10 {
                    line.append(b)
                    if line.count > 4096 { throw HTTPParseError("chunk-size or trailer line over 4096 bytes") }
                    continue
                }
                if line.last == 13 { line.removeLast() }
                if state == .trailers {
                    if line.isEmpty {
                        state = .done
                        handler(.end)
                    }
                    line.removeAll(keepingCapacity: true)
                    continue
                }
                let size = try Self.parseChunkSize(line)
                line.removeAll(keepingCapacity: true)
                state = size == 0 ? .trailers : .chunkData(remaining: size)
            case .chunkData(let remaining):
                let take = min(remaining, n - i)
                handler(.body(UnsafeRawBufferPointer(rebasing: bytes[i..<i + take])))
                i += take
                state = take == remaining ? .chunkDataEnd(seen: 0) : .chunkData(remaining: remaining - take)
            case .chunkDataEnd(let seen):
                let b = bytes[i]
                i += 1
                if seen == 0 && b == 13 {
                    state = .chunkDataEnd(seen: 1)
                } else if b == 10 {
                    state = .chunkSize
                } else {
                    throw HTTPParseError("expected CRLF after chunk data")
                }
            case .untilClose:
                handler(.body(UnsafeRawBufferPointer(rebasing: bytes[i..<n])))
                i = n
            case .done:
                return
            }
        }
    }

    /// Tells the parser the connection ended. A body delimited by the close ends here; anything else
    /// unfinished is an error.
    public mutating func finish(_ handler: (HTTPResponseEvent) -> Void) throws(HTTPParseError) {
        switch state {
        case .done: return
        case .untilClose:
            state = .done
            handler(.end)
        case .head:
            throw HTTPParseError(line.isEmpty ? "connection closed before a response" : "connection closed inside the response head")
        default:
            throw HTTPParseError("connection closed before the end of the body")
        }
    }

    private mutating func startBody(_ head: HTTPHead, _ handler: (HTTPResponseEvent) -> Void) throws(HTTPParseError) {
        if expectsNoBody || head.status == 204 || head.status == 304 || (100..<200).contains(head.status) {
            state = .done
            handler(.end)
            return
        }
        if let te = head.header("Transfer-Encoding") {
            guard te.lowercased().split(separator: ",").last.map({ $0.trimmingSpaces() == "chunked" }) == true else {
                throw HTTPParseError("unsupported Transfer-Encoding '\(te)'")
            }
            state = .chunkSize
            return
        }
        if let cl = head.header("Content-Length") {
            guard let length = Int(cl.trimmingSpaces()), length >= 0 else {
                throw HTTPParseError("invalid Content-Length '\(cl)'")
            }
            if length == 0 {
                state = .done
                handler(.end)
            } else {
                state = .fixed(remaining: length)
            }
            return
        }
        state = .untilClose
    }

    static func parseChunkSize(_ line: [UInt8]) throws(HTTPParseError) -> Int {
        var size = 0
        var digits = 0
        for b in line {
            guard let v = Hex.value(b) else {
                guard b == UInt8(ascii: ";") || b == UInt8(ascii: " ") || b == UInt8(ascii: "\t") else {
                    throw HTTPParseError("invalid chunk size")
                }
                guard digits > 0 else { throw HTTPParseError("empty chunk size") }
                return size  // chunk extensions are ignored
            }
            digits += 1
            guard digits <= 15 else { throw HTTPParseError("chunk size too large") }
            size = size * 16 + Int(v)
        }
        guard digits > 0 else { throw HTTPParseError("empty chunk size") }
        return size
    }

    func parseHead(_ bytes: [UInt8]) throws(HTTPParseError) -> HTTPHead {
        var lines = bytes.split(separator: 10, omittingEmptySubsequences: false).map { l -> ArraySlice<UInt8> in
            l.last == 13 ? l.dropLast() : l
        }
        while lines.last?.isEmpty == true { lines.removeLast() }
        guard let statusLine = lines.first else { throw HTTPParseError("empty status line") }
        // HTTP/1.x SP 3DIGIT SP reason
        let parts = statusLine.split(separator: 32, maxSplits: 2, omittingEmptySubsequences: false)
        guard parts.count >= 2, parts[0].starts(with: Array("HTTP/1.".utf8)) else {
            throw HTTPParseError("bad status line '\(String(decoding: statusLine.prefix(80), as: UTF8.self))'")
        }
        guard parts[1].count == 3, let status = Int(String(decoding: parts[1], as: UTF8.self)), status >= 100 else {
            throw HTTPParseError("bad status code '\(String(decoding: parts[1].prefix(20), as: UTF8.self))'")
        }
        let reason = parts.count > 2 ? String(decoding: parts[2], as: UTF8.self) : ""
        var headers: [HTTPField] = []
        for l in lines.dropFirst() {
            guard let colon = l.firstIndex(of: UInt8(ascii: ":")), colon > l.startIndex else {
                throw HTTPParseError("bad header line '\(String(decoding: l.prefix(80), as: UTF8.self))'")
            }
            let name = String(decoding: l[l.startIndex..<colon], as: UTF8.self)
            guard !name.contains(" "), !name.contains("\t") else { throw HTTPParseError("bad header name '\(name)'") }
            let value = String(decoding: l[(colon + 1)...], as: UTF8.self).trimmingSpaces()
            headers.append(HTTPField(name, value))
        }
        return HTTPHead(status: status, reason: reason, headers: headers)
    }
}

extension StringProtocol {
    /// The string without leading and trailing spaces and tabs.
    func trimmingSpaces() -> String {
        let u = Array(utf8)
        var s = 0, e = u.count
        while s < e, u[s] == 32 || u[s] == 9 { s += 1 }
        while e > s, u[e - 1] == 32 || u[e - 1] == 9 { e -= 1 }
        return String(decoding: u[s..<e], as: UTF8.self)
    }
}
