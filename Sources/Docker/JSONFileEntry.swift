// One line of the json-file log driver's `<id>-json.log`:
//
//   {"log":"text\n","stream":"stdout","time":"2026-11-24T20:42:17.12345678Z"}
//
// plus `"attrs":{…}` when `--log-opt labels/env` are set; members in any order, unknown ones skipped. The
// engine writes `log` with Go's escaping: `\u0009` for a tab, `\u003c` for `<`, `\ufffd` for every byte of
// invalid UTF-8 the container wrote (the file never holds the bytes themselves). An entry whose `log` does
// not end in "\n" is a piece of a line the engine cut at 16 KiB, or the last bytes a container wrote
// without one. `time` is Go's RFC 3339 with the trailing zeros of the fraction trimmed; the logs endpoint
// (`timestamps=1`) writes nine digits, and so does `JSONFileEntryParser.time`.

import JSON
import Time

/// What one entry says, besides its bytes (which the parser holds).
public struct JSONFileEntry: Equatable, Sendable {
    public var stream: StreamKind
    public var time: Timestamp
    /// The text does not end in "\n": a piece of a longer line, continued by the next entry of its stream.
    public var partial: Bool

    public init(stream: StreamKind, time: Timestamp, partial: Bool) {
        self.stream = stream
        self.time = time
        self.partial = partial
    }
}

/// Why a line of a log file is not an entry (the caller skips it, counts it and names its offset).
public struct JSONFileEntryError: Error, Equatable, Sendable, CustomStringConvertible {
    public enum Kind: Equatable, Sendable {
        /// Not a JSON object, or one cut short (a disk that filled up, a file truncated mid-line).
        case syntax
        /// No `time`, or one that is not RFC 3339.
        case time
        /// No `stream`, or one other than `stdout` and `stderr`.
        case stream
    }

    public var kind: Kind
    public var message: String

    public init(_ kind: Kind, _ message: String) {
        self.kind = kind
        self.message = message
    }

    public var description: String { message }
}

/// Parses entries one line at a time, reusing its buffers: no allocation per entry once they have grown.
public struct JSONFileEntryParser {
    /// The decoded `log` of the last entry parsed, with its "\n" when it has one.
    public private(set) var log: [UInt8] = []
    /// The time of the last entry parsed as the logs endpoint writes it: RFC 3339, UTC, nine fraction digits
    /// (`2026-11-24T20:42:17.123456780Z`, 30 bytes).
    public private(set) var time: [UInt8] = []
    /// Entries come many to a second: for those, only the fraction of `time` is read.
    private var times = TimeParser()

    public init() {
        log.reserveCapacity(1024)
        time.reserveCapacity(32)
    }

    /// Parses one line (without its "\n"; a final "\r" or other trailing whitespace is allowed).
    public mutating func parse(_ line: UnsafeRawBufferPointer) throws(JSONFileEntryError) -> JSONFileEntry {
        if !log.isEmpty { log.removeAll(keepingCapacity: true) }
        var s = JSONScanner(line, maxDepth: 64)
        var stream: StreamKind?
        var timestamp: Timestamp?
        do {
            if try s.beginObject() {
                repeat {
                    // The engine's order is tried first, then any key through readKey.
                    let field: Field
                    if s.consumeKey("log") {
                        field = .log
                    } else if s.consumeKey("stream") {
                        field = .stream
                    } else if s.consumeKey("time") {
                        field = .time
                    } else {
                        let key = try s.readKey()
                        field = key.equals("log") ? .log : key.equals("stream") ? .stream : key.equals("time") ? .time : .other
                    }
                    switch field {
                    case .log: try readLog(&s)
                    case .stream: stream = try Self.readStream(&s)
                    case .time: timestamp = try readTime(&s)
                    case .other: try s.skipValue()
                    }
                } while try s.nextMember()
            }
            try s.expectEnd()
        } catch {
            throw JSONFileEntryError(.syntax, "not a json-file entry: \(error.message) at byte \(error.column - 1)")
        }
        guard let timestamp else { throw JSONFileEntryError(.time, "an entry without an RFC 3339 time") }
        guard let stream else { throw JSONFileEntryError(.stream, "an entry whose stream is not stdout or stderr") }
        return JSONFileEntry(stream: stream, time: timestamp, partial: log.last != 0x0A)
    }

    private enum Field { case log, stream, time, other }

    private mutating func readLog(_ s: inout JSONScanner) throws(JSONError) {
        if !log.isEmpty { log.removeAll(keepingCapacity: true) }  // a second "log" member: the last one counts
        try s.readRawString().appendDecoded(to: &log)
    }

    private static func readStream(_ s: inout JSONScanner) throws(JSONError) -> StreamKind? {
        let value = try s.readRawString()
        if value.equals("stdout") { return .stdout }
        if value.equals("stderr") { return .stderr }
        return nil
    }

    /// Reads `time` into `self.time` (nine digits) and returns it; nil when it is not RFC 3339.
    private mutating func readTime(_ s: inout JSONScanner) throws(JSONError) -> Timestamp? {
        let value = try s.readRawString()
        guard !value.hasEscapes, let t = times.parse(value.raw) else { return nil }
        let raw = value.raw
        let n = raw.count
        // The engine's form, `YYYY-MM-DDTHH:MM:SS[.fraction]Z`: the fraction padded to nine digits, written
        // over the 30 bytes in place.
        if n >= 20, raw[10] == UInt8(ascii: "T"), raw[n - 1] == UInt8(ascii: "Z"),
           raw[19] == UInt8(ascii: ".") || n == 20 {
            if time.count != 30 {
                time.removeAll(keepingCapacity: true)
                time.append(contentsOf: repeatElement(UInt8(ascii: "0"), count: 30))
            }
            let digits = n == 20 ? 0 : min(9, n - 21)
            time.withUnsafeMutableBytes { out in
                out.copyMemory(from: UnsafeRawBufferPointer(rebasing: raw[0..<19]))
                out[19] = UInt8(ascii: ".")
                if digits > 0 { UnsafeMutableRawBufferPointer(rebasing: out[20..<20 + digits]).copyMemory(from: UnsafeRawBufferPointer(rebasing: raw[20..<20 + digits])) }
                for i in (20 + digits)..<29 { out[i] = UInt8(ascii: "0") }
                out[29] = UInt8(ascii: "Z")
            }
        } else {
            time.removeAll(keepingCapacity: true)
            time.append(contentsOf: t.description.utf8)
        }
        return t
    }
}
