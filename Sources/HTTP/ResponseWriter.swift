// Writing responses (RFC 9112 §4, §5, §7.1): the head, and the chunked transfer coding for bodies whose
// length is not known in advance (live streams). Everything appends to a caller's output buffer.

/// The bytes of a response head (RFC 9112 §4, §5): status line, header fields, the blank line. `reason`
/// defaults to the registered phrase (RFC 9110 §15).
public func serializeResponseHead(status: Int, reason: String? = nil, headers: [(String, String)] = []) -> [UInt8] {
    var out: [UInt8] = []
    appendResponseHead(status: status, reason: reason, headers: headers, to: &out)
    return out
}

/// Appends a response head (RFC 9112 §4, §5) to `out`. Names must be tokens; CR, LF and other control
/// characters in values and the reason are written as spaces, so no value can split the response.
public func appendResponseHead(status: Int, reason: String? = nil, headers: [(String, String)] = [], to out: inout [UInt8]) {
    precondition((100...999).contains(status), "status \(status) is not three digits")
    out.append(contentsOf: "HTTP/1.1 ".utf8)
    appendDecimal(status, to: &out)
    out.append(0x20)
    appendFieldText(reason ?? reasonPhrase(status), to: &out)
    out.append(contentsOf: [0x0D, 0x0A])
    for (name, value) in headers {
        precondition(!name.isEmpty && name.utf8.allSatisfy(isTokenChar), "invalid header name '\(name)'")
        out.append(contentsOf: name.utf8)
        out.append(contentsOf: ": ".utf8)
        appendFieldText(value, to: &out)
        out.append(contentsOf: [0x0D, 0x0A])
    }
    out.append(contentsOf: [0x0D, 0x0A])
}

/// The reason phrase registered for `status` (RFC 9110 §15, RFC 6585 §3–5), or "" for other codes.
public func reasonPhrase(_ status: Int) -> String {
    switch status {
    case 100: return "Continue"
    case 101: return "Switching Protocols"
    case 200: return "OK"
    case 201: return "Created"
    case 202: return "Accepted"
    case 203: return "Non-Authoritative Information"
    case 204: return "No Content"
    case 205: return "Reset Content"
    case 206: return "Partial Content"
    case 300: return "Multiple Choices"
    case 301: return "Moved Permanently"
    case 302: return "Found"
    case 303: return "See Other"
    case 304: return "Not Modified"
    case 307: return "Temporary Redirect"
    case 308: return "Permanent Redirect"
    case 400: return "Bad Request"
    case 401: return "Unauthorized"
    case 403: return "Forbidden"
    case 404: return "Not Found"
    case 405: return "Method Not Allowed"
    case 406: return "Not Acceptable"
    case 408: return "Request Timeout"
    case 409: return "Conflict"
    case 410: return "Gone"
    case 411: return "Length Required"
    case 412: return "Precondition Failed"
    case 413: return "Content Too Large"
    case 414: return "URI Too Long"
    case 415: return "Unsupported Media Type"
    case 416: return "Range Not Satisfiable"
    case 417: return "Expectation Failed"
    case 421: return "Misdirected Request"
    case 422: return "Unprocessable Content"
    case 426: return "Upgrade Required"
    case 428: return "Precondition Required"
    case 429: return "Too Many Requests"
    case 431: return "Request Header Fields Too Large"
    case 500: return "Internal Server Error"
    case 501: return "Not Implemented"
    case 502: return "Bad Gateway"
    case 503: return "Service Unavailable"
    case 504: return "Gateway Timeout"
    case 505: return "HTTP Version Not Supported"
    default: return ""
    }
}

/// Appends `bytes` as one chunk (RFC 9112 §7.1): hex size, CRLF, data, CRLF. Nothing for no bytes, since
/// an empty chunk would end the body.
public func appendChunk(_ bytes: some Collection<UInt8>, to out: inout [UInt8]) {
    let n = bytes.count
    guard n > 0 else { return }
    let digits = Array("0123456789abcdef".utf8)
    var shift = (Int.bitWidth - n.leadingZeroBitCount - 1) / 4 * 4
    while shift >= 0 {
        out.append(digits[(n >> shift) & 15])
        shift -= 4
    }
    out.append(contentsOf: [0x0D, 0x0A])
    out.append(contentsOf: bytes)
    out.append(contentsOf: [0x0D, 0x0A])
}

/// The last chunk and the empty trailer section that end a chunked body: "0\r\n\r\n" (RFC 9112 §7.1).
public let lastChunk: [UInt8] = Array("0\r\n\r\n".utf8)

/// Appends the last chunk, ending a chunked body (RFC 9112 §7.1).
public func appendLastChunk(to out: inout [UInt8]) {
    out.append(contentsOf: lastChunk)
}

/// Appends `n` (non-negative) in decimal.
func appendDecimal(_ n: Int, to out: inout [UInt8]) {
    if n >= 10 { appendDecimal(n / 10, to: &out) }
    out.append(UInt8(ascii: "0") + UInt8(n % 10))
}

/// Appends a field value or reason phrase, control characters other than HTAB written as spaces
/// (RFC 9110 §5.5).
private func appendFieldText(_ text: String, to out: inout [UInt8]) {
    for c in text.utf8 {
        out.append(c < 0x20 && c != 0x09 || c == 0x7F ? 0x20 : c)
    }
}

/// One header field of a parsed head, name and value as sent (RFC 9112 §5).
public struct HTTPField: Sendable, Equatable {
    public var name: String
    public var value: String

    public init(_ name: String, _ value: String) {
        self.name = name
        self.value = value
    }
}
