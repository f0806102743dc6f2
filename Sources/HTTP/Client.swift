import Syscall

/// Why an HTTP exchange failed.
public enum HTTPClientError: Error, Sendable, CustomStringConvertible {
    case syscall(SyscallError)
    case parse(HTTPParseError)
    case timedOut(String)
    case bodyTooLarge(Int)

    public var description: String {
        switch self {
        case .syscall(let e): return e.description
        case .parse(let e): return e.description
        case .timedOut(let what): return "\(what) timed out"
        case .bodyTooLarge(let limit): return "response body over \(limit) bytes"
        }
    }
}

/// A request's bytes: `METHOD target HTTP/1.1`, Host, the given fields, Content-Length when there is a body.
public func serializeRequest(method: String, target: String, host: String = "docker",
                             headers: [(String, String)] = [], body: [UInt8] = []) -> [UInt8] {
    var s = "\(method) \(target) HTTP/1.1\r\nHost: \(host)\r\nUser-Agent: logspout\r\n"
    for (name, value) in headers { s += "\(name): \(value)\r\n" }
    if !body.isEmpty || method == "POST" || method == "PUT" { s += "Content-Length: \(body.count)\r\n" }
    s += "\r\n"
    return Array(s.utf8) + body
}

/// A whole response: head and body.
public struct HTTPResponse: Sendable {
    public var head: HTTPHead
    public var body: [UInt8]
}

/// Blocking request/response exchanges on a connected socket.
public enum HTTPExchange {
    /// Sends `request` on `fd` and reads the response head, with a deadline of `timeoutMs`. Returns the head
    /// and the parser positioned after it, with any body bytes already read in `bodyPrefix` (so a caller
    /// can go on reading a streaming body itself).
    public static func sendAndReadHead(fd: Int32, request: [UInt8], timeoutMs: Int) throws(HTTPClientError)
        -> (head: HTTPHead, parser: HTTPResponseParser, bodyPrefix: [UInt8], ended: Bool)
    {
        Sys.setTimeouts(fd, milliseconds: timeoutMs)
        do { try Sys.writeAll(fd, request) } catch { throw .syscall(error) }
        var parser = HTTPResponseParser()
        var head: HTTPHead?
        var prefix: [UInt8] = []
        var ended = false
        var buffer = [UInt8](repeating: 0, count: 16 * 1024)
        while head == nil {
            let n: Int
            do {
                n = try Sys.read(fd, into: &buffer)
            } catch {
                if error.errno == .wouldBlock { throw .timedOut("waiting for the response") }
                throw .syscall(error)
            }
            if n == 0 {
                do { try parser.finish { _ in } } catch { throw .parse(error) }
                throw .parse(HTTPParseError("connection closed before a response"))
            }
            do {
                try withRawBytes(buffer, 0..<n) { raw throws(HTTPParseError) in
                    try parser.feed(raw) { event in
                        switch event {
                        case .head(let h): head = h
                        case .body(let b): prefix.append(contentsOf: b)
                        case .end: ended = true
                        }
                    }
                }
            } catch { throw .parse(error) }
        }
        Sys.setTimeouts(fd, milliseconds: 0)
        return (head!, parser, prefix, ended)
    }

    /// Sends `request` on `fd` and reads the whole response (up to `maxBody` bytes) within `timeoutMs`
    /// per read.
    public static func roundTrip(fd: Int32, request: [UInt8], timeoutMs: Int = 10_000,
                                 maxBody: Int = 64 * 1024 * 1024) throws(HTTPClientError) -> HTTPResponse {
        var (head, parser, body, ended) = try sendAndReadHead(fd: fd, request: request, timeoutMs: timeoutMs)
        Sys.setTimeouts(fd, milliseconds: timeoutMs)
        var buffer = [UInt8](repeating: 0, count: 64 * 1024)
        while !ended {
            let n: Int
            do {
                n = try Sys.read(fd, into: &buffer)
            } catch {
                if error.errno == .wouldBlock { throw .timedOut("reading the response body") }
                throw .syscall(error)
            }
            do {
                if n == 0 {
                    try parser.finish { if case .end = $0 { ended = true } }
                    break
                }
                try withRawBytes(buffer, 0..<n) { raw throws(HTTPParseError) in
                    try parser.feed(raw) { event in
                        switch event {
                        case .head: break
                        case .body(let b): body.append(contentsOf: b)
                        case .end: ended = true
                        }
                    }
                }
            } catch { throw .parse(error) }
            if body.count > maxBody { throw .bodyTooLarge(maxBody) }
        }
        return HTTPResponse(head: head, body: body)
    }
}
