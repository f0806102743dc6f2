// Server-Sent Events (the HTML Living Standard, §9.2 "Server-sent events"; the stream format of §9.2.5
// and how a client reads it, §9.2.6): text/event-stream, written into a caller's output buffer. Each event
// is its fields, one per line, then a blank line; a client joins an event's data lines with "\n".

/// Appends one event (HTML §9.2.5): optional `event:` and `id:` fields, the data as `data:` lines (split
/// where it has CRLF, LF or CR, which a client reads back as "\n"), then the blank line that dispatches it.
/// Line breaks in `event` and `id`, and NUL in `id`, are written as spaces: they would change the stream.
public func appendSSEEvent(data: some Collection<UInt8>, event: String? = nil, id: String? = nil, to out: inout [UInt8]) {
    if let event { appendSSEField("event", event.utf8, to: &out) }
    if let id { appendSSEField("id", id.utf8, to: &out, nulToSpace: true) }
    out.append(contentsOf: "data: ".utf8)
    var afterCR = false
    for b in data {
        switch b {
        case 0x0D:
            out.append(contentsOf: "\ndata: ".utf8)
            afterCR = true
            continue
        case 0x0A:
            if !afterCR { out.append(contentsOf: "\ndata: ".utf8) }  // the LF of a CRLF: already a new line
        default:
            out.append(b)
        }
        afterCR = false
    }
    out.append(contentsOf: "\n\n".utf8)
}

/// Appends a comment line, ": text" (HTML §9.2.5), which clients ignore: a keep-alive that keeps proxies
/// and idle timers from closing a quiet stream. A text with line breaks becomes several comment lines.
public func appendSSEComment(_ text: String, to out: inout [UInt8]) {
    for line in text.utf8.split(omittingEmptySubsequences: false, whereSeparator: { $0 == 0x0A || $0 == 0x0D }) {
        out.append(UInt8(ascii: ":"))
        if !line.isEmpty {
            out.append(0x20)
            out.append(contentsOf: line)
        }
        out.append(0x0A)
    }
}

/// Appends a `retry:` field, the reconnection delay a client should use (HTML §9.2.6), in its own event.
public func appendSSERetry(milliseconds: Int, to out: inout [UInt8]) {
    precondition(milliseconds >= 0, "negative retry delay")
    out.append(contentsOf: "retry: ".utf8)
    appendDecimal(milliseconds, to: &out)
    out.append(contentsOf: "\n\n".utf8)
}

/// Appends "name: value\n", line breaks (and NUL when asked) in the value written as spaces.
private func appendSSEField(_ name: String, _ value: some Sequence<UInt8>, to out: inout [UInt8], nulToSpace: Bool = false) {
    out.append(contentsOf: name.utf8)
    out.append(contentsOf: ": ".utf8)
    for b in value {
        out.append(b == 0x0A || b == 0x0D || (nulToSpace && b == 0) ? 0x20 : b)
    }
    out.append(0x0A)
}
