#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif
import JSON

/// A record decoder for a stream of lines: `RecordCodec.decode(line:)` plus a
/// small cache of the containers (and routes) it has decoded.
///
/// Every record repeats its container's object, byte for byte while the
/// container's metadata does not change, and a stream interleaves records of
/// a few containers. When a record's `container` object has exactly the text
/// of one seen recently, the decoder reuses that `Container` (sharing its
/// strings) instead of parsing and allocating it again. A JSON object's
/// extent and meaning follow from its bytes alone, so the result is the
/// same as decoding it afresh. Anything else is decoded as usual.
///
///     var decoder = RecordDecoder()
///     let record = try decoder.decode(line: bytes)
public struct RecordDecoder: Sendable {
    private var cache: ContainerCache?
    private var routes: TextCache<Route>?

    /// A decoder remembering up to `containers` distinct container objects
    /// (0 turns the cache off).
    public init(containers: Int = 8) {
        cache = containers > 0 ? ContainerCache(capacity: containers) : nil
        routes = containers > 0 ? TextCache<Route>(capacity: containers) : nil
    }

    /// Decodes one line (without its `"\n"`); see `RecordCodec.decode(line:)`.
    public mutating func decode(line: UnsafeRawBufferPointer) throws(JSONError) -> Record {
        try RecordCodec.decode(line: line, cache: &cache, routes: &routes)
    }

    /// `decode(line:)`, with errors reporting `lineNumber` as their line.
    public mutating func decode(line: UnsafeRawBufferPointer, lineNumber: Int) throws(JSONError) -> Record {
        do {
            return try RecordCodec.decode(line: line, cache: &cache, routes: &routes)
        } catch {
            var e = error
            e.line = lineNumber
            throw e
        }
    }
}

/// Recently decoded container objects, keyed by their exact JSON text.
typealias ContainerCache = TextCache<Container>

/// Recently decoded values (containers, routes), keyed by the exact JSON text they were decoded from.
struct TextCache<Value: Sendable>: Sendable {
    struct Entry: Sendable {
        var text: [UInt8]
        var container: Value
        /// Which value this is: a number no other entry of this cache has had.
        var stamp: UInt64
    }

    let capacity: Int
    var entries: [Entry] = []
    /// The entry to replace next when full (round robin).
    var next = 0
    /// The entry that matched last: tried first.
    var last = 0
    /// The last stamp given (an entry's stamp is never 0).
    var stamps: UInt64 = 0

    init(capacity: Int) {
        self.capacity = capacity
    }

    /// The cached container whose text starts `bytes` at `offset`, and that text's length.
    mutating func lookup(_ bytes: UnsafeRawBufferPointer, at offset: Int) -> (container: Value, length: Int, stamp: UInt64)? {
        guard !entries.isEmpty, let base = bytes.baseAddress else { return nil }
        let available = bytes.count - offset
        var k = last
        for _ in 0..<entries.count {
            let matched = entries[k].text.withUnsafeBytes { text -> Bool in
                guard let t = text.baseAddress, text.count <= available else { return false }
                return memcmp(t, base + offset, text.count) == 0
            }
            if matched {
                last = k
                return (entries[k].container, entries[k].text.count, entries[k].stamp)
            }
            k = k + 1 == entries.count ? 0 : k + 1
        }
        return nil
    }

    /// Remembers `container`, decoded from `text`; returns its stamp.
    @discardableResult
    mutating func store(_ container: Value, text: UnsafeRawBufferPointer) -> UInt64 {
        stamps &+= 1
        if entries.count < capacity {
            last = entries.count
            entries.append(Entry(text: Array(text), container: container, stamp: stamps))
            return stamps
        }
        entries[next].text.removeAll(keepingCapacity: true)
        entries[next].text.append(contentsOf: text)
        entries[next].container = container
        entries[next].stamp = stamps
        last = next
        next = next + 1 == capacity ? 0 : next + 1
        return stamps
    }
}

/// A record's fields decoded into buffers kept from one record to the next: what a reader that formats
/// records needs, without what a `Record` allocates for each (its `time` and `data` strings, its route).
public struct RecordParts: Sendable {
    /// The value of `time`: the bytes of `Record.time`.
    public var time: [UInt8] = []
    public var source = Source.stdout
    /// The value of `data`: the bytes of `Record.data`.
    public var data: [UInt8] = []
    public var partial = false
    public var container = Container(id: "")
    public var route: Route?
    /// Which route text `route` was decoded from: two records of one decoder with the same stamp, not 0,
    /// carry the same route (0: no route, or one not kept in the decoder's cache).
    public internal(set) var routeStamp: UInt64 = 0

    public init() {
        time.reserveCapacity(40)
        data.reserveCapacity(1024)
    }

    /// The record these parts are of, as `RecordDecoder.decode(line:)` gives it.
    public var record: Record {
        Record(time: String(decoding: time, as: UTF8.self), source: source, data: String(decoding: data, as: UTF8.self),
               partial: partial, container: container, route: route)
    }
}

extension RecordDecoder {
    /// `decode(line:lineNumber:)` into `parts`: the same fields, the same errors.
    public mutating func decode(line: UnsafeRawBufferPointer, lineNumber: Int, into parts: inout RecordParts) throws(JSONError) {
        do {
            try RecordCodec.decode(line: line, cache: &cache, routes: &routes, into: &parts)
        } catch {
            var e = error
            e.line = lineNumber
            throw e
        }
    }
}

extension RecordCodec {
    static func decode(line: UnsafeRawBufferPointer, cache: inout ContainerCache?, routes: inout TextCache<Route>?,
                       into parts: inout RecordParts) throws(JSONError) {
        var s = JSONScanner(line)
        parts.partial = false
        parts.route = nil
        parts.routeStamp = 0
        var found: UInt8 = 0  // bits: time, source, data, container
        s.skipWhitespace()
        let start = s.offset
        if try s.beginObject() {
            var expected = RecordField.time
            repeat {
                let field = s.consumeKey(expected.name) ? expected : RecordField(try s.readKey())
                expected = field.next
                switch field {
                case .time:
                    try readString(&s, "time", into: &parts.time)
                    found |= 1
                case .source:
                    parts.source = try readSource(&s)
                    found |= 2
                case .data:
                    try readString(&s, "data", into: &parts.data)
                    found |= 4
                case .partial:
                    parts.partial = try readOptionalBool(&s, "partial") ?? false
                case .container:
                    parts.container = try readContainer(&s, cache: &cache)
                    found |= 8
                case .route:
                    (parts.route, parts.routeStamp) = try readRoute(&s, cache: &routes)
                case .unknown:
                    try s.skipValue()
                }
            } while try s.nextMember()
        }
        try s.expectEnd()
        try requireFields(found, s, start)
    }

    /// A string's value into `out` (emptied first): the bytes `readString` would give as a `String`. ASCII
    /// without escapes is copied as it is; anything else is decoded as `readString` decodes it.
    @inline(__always)
    static func readString(_ s: inout JSONScanner, _ field: StaticString, into out: inout [UInt8]) throws(JSONError) {
        guard s.peek() == 0x22 else { throw mustBe(field, "a string", s) }
        let value = try s.readRawString()
        out.removeAll(keepingCapacity: out.capacity <= 64 * 1024)
        if !value.hasEscapes && isASCII(value.raw) {
            out.append(contentsOf: value.raw)
        } else {
            out.append(contentsOf: value.decoded.utf8)
        }
    }

    /// Whether every byte is below 0x80 (eight at a time).
    @inline(__always)
    static func isASCII(_ p: UnsafeRawBufferPointer) -> Bool {
        let n = p.count
        var i = 0
        var high: UInt64 = 0
        while i &+ 8 <= n {
            high |= p.loadUnaligned(fromByteOffset: i, as: UInt64.self)
            i &+= 8
        }
        while i < n {
            high |= UInt64(p[i])
            i &+= 1
        }
        return high & 0x8080_8080_8080_8080 == 0
    }
}
