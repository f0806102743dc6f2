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
    }

    let capacity: Int
    var entries: [Entry] = []
    /// The entry to replace next when full (round robin).
    var next = 0
    /// The entry that matched last: tried first.
    var last = 0

    init(capacity: Int) {
        self.capacity = capacity
    }

    /// The cached container whose text starts `bytes` at `offset`, and that text's length.
    mutating func lookup(_ bytes: UnsafeRawBufferPointer, at offset: Int) -> (container: Value, length: Int)? {
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
                return (entries[k].container, entries[k].text.count)
            }
            k = k + 1 == entries.count ? 0 : k + 1
        }
        return nil
    }

    /// Remembers `container`, decoded from `text`.
    mutating func store(_ container: Value, text: UnsafeRawBufferPointer) {
        if entries.count < capacity {
            last = entries.count
            entries.append(Entry(text: Array(text), container: container))
            return
        }
        entries[next].text.removeAll(keepingCapacity: true)
        entries[next].text.append(contentsOf: text)
        entries[next].container = container
        last = next
        next = next + 1 == capacity ? 0 : next + 1
    }
}
