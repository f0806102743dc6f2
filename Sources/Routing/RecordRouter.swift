#if canImport(Glibc)
import Glibc
#endif
import JSON
import Records

/// The record path: splits input into lines, checks each is a record, finds the routes that take it
/// and writes one routed record per route.
///
/// It never decodes and re-encodes a record. It scans the line with `JSONScanner` for what matching
/// needs (the stream, the container object), checking the rest (the `data` string is checked, not
/// decoded), then writes the line's own bytes up to its final `}`, and the route's precomputed
/// `,"route":{…}}` + `"\n"`.
///
/// Matching costs next to nothing per record: the routes that take a container are worked out once per
/// container object text (id, name, labels and the rest, byte for byte: a rename changes the text) and
/// cached, per stream. A record whose container object has the same bytes as the previous record's
/// skips even the scan of that object. The cache is emptied when the route table changes (a new
/// `RouteTable.generation`).
///
/// What it counts costs one increment per record: the cache entry's, per stream. The entries' counts are
/// turned into records per route (the entry's routes are known) only when they are asked for (`counts()`)
/// or before the entries are emptied.
public struct RecordRouter {
    public private(set) var splitter: LineSplitter
    var cache = MatchCache()
    /// Records written and lines refused so far.
    public private(set) var routedCount = 0
    public private(set) var malformedCount = 0
    /// Sees every valid record as it is routed (the bus's live subscriptions).
    public var tap: ((RecordTap) -> Void)?
    /// Records routed to each route of the tables used before the cache's, by route id.
    var routedBefore: [String: Int] = [:]

    /// A router for lines of at most `maxLineLength` bytes (longer ones are reported and skipped).
    public init(maxLineLength: Int = 1 << 20) {
        splitter = LineSplitter(maxLineLength: maxLineLength)
    }

    /// Routes every complete line of `chunk` through `table`, appending the routed records to `out`;
    /// calls `malformed` for each line that is not a record (with its line number), and goes on.
    public mutating func feed(_ chunk: UnsafeRawBufferPointer, table: RouteTable, into out: inout [UInt8],
                              malformed: (JSONError) -> Void) {
        var splitter = self.splitter
        self.splitter = LineSplitter(maxLineLength: 0)
        defer { self.splitter = splitter }
        splitter.feed(chunk) { piece in
            handle(piece, table, &out, malformed)
        }
    }

    /// Ends the input: routes a last line that had no `"\n"`.
    public mutating func finish(table: RouteTable, into out: inout [UInt8], malformed: (JSONError) -> Void) {
        var splitter = self.splitter
        self.splitter = LineSplitter(maxLineLength: 0)
        defer { self.splitter = splitter }
        splitter.finish { piece in
            handle(piece, table, &out, malformed)
        }
    }

    @inline(__always)
    mutating func handle(_ piece: LineSplitter.Piece, _ table: RouteTable, _ out: inout [UInt8],
                         _ malformed: (JSONError) -> Void) {
        switch piece {
        case .line(let number, let bytes):
            do {
                routedCount &+= try route(line: bytes, table: table, into: &out)
            } catch {
                var e = error
                e.line = number
                malformedCount &+= 1
                malformed(e)
            }
        case .tooLong(let error):
            malformedCount &+= 1
            malformed(error)
        }
    }

    /// Routes one line (without its `"\n"`): appends one routed record per route of `table` that takes
    /// it, and returns how many. Throws, appending nothing, when the line is not a record (the error's
    /// line is 1).
    public mutating func route(line: UnsafeRawBufferPointer, table: RouteTable, into out: inout [UInt8]) throws(JSONError) -> Int {
        if cache.generation != table.generation { adopt(table) }
        var s = JSONScanner(line)
        s.skipWhitespace()
        let start = s.offset
        var found: UInt8 = 0  // bits: time, source, data, container
        var source = Source.stdout
        var entry = 0
        if try s.beginObject() {
            var expected = RecordCodec.RecordField.time
            repeat {
                let field = s.consumeKey(expected.name) ? expected : RecordCodec.RecordField(try s.readKey())
                expected = field.next
                switch field {
                case .time:
                    guard s.peek() == 0x22 else { throw RecordCodec.mustBe("time", "a string", s) }
                    _ = try s.readRawString()
                    found |= 1
                case .source:
                    source = try RecordCodec.readSource(&s)
                    found |= 2
                case .data:
                    guard s.peek() == 0x22 else { throw RecordCodec.mustBe("data", "a string", s) }
                    _ = try s.readRawString()
                    found |= 4
                case .partial:
                    switch s.peek() {
                    case 0x74, 0x66: _ = try s.readBool()
                    case 0x6E where s.readNull(): break
                    default: throw RecordCodec.mustBe("partial", "true or false", s)
                    }
                case .container:
                    entry = try cache.lookup(&s, table)
                    found |= 8
                case .route:
                    try Self.checkRoute(&s)
                case .unknown:
                    try s.skipValue()
                }
            } while try s.nextMember()
        }
        let end = s.offset &- 1  // the record's final "}"
        try s.expectEnd()
        if found != 15 {
            if found & 1 == 0 { throw RecordCodec.missing("time", s, start) }
            if found & 2 == 0 { throw RecordCodec.missing("source", s, start) }
            if found & 4 == 0 { throw RecordCodec.missing("data", s, start) }
            throw RecordCodec.missing("container", s, start)
        }
        cache.tally.counts[entry &* 2 &+ (source == .stdout ? 0 : 1)] &+= 1
        let targets = source == .stdout ? cache.entries[entry].stdout : cache.entries[entry].stderr
        if let tap {
            let e = cache.entries[entry]
            tap(RecordTap(entry: entry, epoch: cache.epoch, id: e.id, name: e.name, source: source,
                          text: UnsafeRawBufferPointer(rebasing: line[start...end])))
        }
        if targets.isEmpty { return 0 }
        let base = line.baseAddress!.assumingMemoryBound(to: UInt8.self)
        let body = UnsafeBufferPointer(start: base + start, count: end &- start)
        for r in targets {
            out.append(contentsOf: body)
            table.routes[r].suffix.withUnsafeBufferPointer { out.append(contentsOf: $0) }
        }
        return targets.count
    }

    // MARK: Counts

    /// Takes `table` for the records to come (`route` does it when it sees a new table): the counts of
    /// the previous one are kept by route id, and the cache is emptied.
    public mutating func adopt(_ table: RouteTable) {
        guard cache.generation != table.generation else { return }
        cache.settle()
        for (i, id) in cache.routeIDs.enumerated() where cache.routed[i] != 0 {
            routedBefore[id, default: 0] &+= cache.routed[i]
        }
        cache.reset(table)
    }

    /// The records read, those no route took, and the records routed to each route (by id) so far.
    public mutating func counts() -> RouteCounts {
        cache.settle()
        var routed = routedBefore
        for (i, id) in cache.routeIDs.enumerated() { routed[id, default: 0] &+= cache.routed[i] }
        return RouteCounts(records: cache.records, unmatched: cache.unmatched, routed: routed)
    }

    /// Forgets what was routed to route `id` (a deleted route): a route of that id added later starts
    /// from 0. Call it after `adopt` of a table without that route.
    public mutating func forgetRoute(_ id: String) {
        routedBefore[id] = nil
    }

    // MARK: Checking fields (with RecordCodec's messages, see docs/records.md)

    /// A `route` already on the record (routing routed records again): it must be valid, since readers
    /// read every occurrence; the one this stage appends comes last and counts.
    static func checkRoute(_ s: inout JSONScanner) throws(JSONError) {
        if s.readNull() { return }
        guard s.peek() == 0x7B else { throw RecordCodec.mustBe("route", "an object", s) }
        let start = s.offset
        var id = false
        var target = false
        if try s.beginObject() {
            repeat {
                let key = try s.readKey()
                if key.equals("id") {
                    guard s.peek() == 0x22 else { throw RecordCodec.mustBe("route.id", "a string", s) }
                    _ = try s.readRawString()
                    id = true
                } else {
                    if key.equals("target") { target = true }
                    try s.skipValue()
                }
            } while try s.nextMember()
        }
        if !id { throw RecordCodec.missing("route.id", s, start) }
        if !target { throw RecordCodec.missing("route.target", s, start) }
    }
}

/// What a `RecordRouter` counted: valid records read, those no route took, and records routed per route id.
public struct RouteCounts: Sendable, Equatable {
    public var records: Int
    public var unmatched: Int
    public var routed: [String: Int]

    public init(records: Int, unmatched: Int, routed: [String: Int]) {
        self.records = records
        self.unmatched = unmatched
        self.routed = routed
    }
}

/// A record seen by `RecordRouter.tap`: its container (the cache entry, numbered anew when `epoch`
/// changes, with the id and name), its stream, and its text (the object, without a newline; valid only
/// during the call).
public struct RecordTap {
    public let entry: Int
    public let epoch: UInt64
    public let id: String
    public let name: String
    public let source: Source
    public let text: UnsafeRawBufferPointer
}

/// The routes that take each container seen, per stream, keyed by the container object's exact text.
struct MatchCache {
    struct Entry {
        var text: [UInt8]
        var stdout: [Int]
        var stderr: [Int]
        var id: String
        var name: String
    }

    /// Entries beyond this empty the cache (a host with that many distinct containers at once is rare;
    /// working the matches out again is cheap).
    static let capacity = 4096
    var entries: [Entry] = []
    /// Records of each entry's container not yet added to the counts below (`settle`).
    let tally = RecordTally()
    var byHash: [UInt64: Int] = [:]
    /// The entry that matched last: tried first, without scanning the object.
    var last = -1
    var generation: UInt64 = .max
    /// Counts the times entries were emptied (and so renumbered).
    var epoch: UInt64 = 0
    /// The ids of the table's routes, and the records routed to each (by its place), settled.
    var routeIDs: [String] = []
    var routed: [Int] = []
    /// Valid records read, and those no route took, settled (across tables).
    var records = 0
    var unmatched = 0

    mutating func reset(_ table: RouteTable) {
        epoch &+= 1
        entries.removeAll(keepingCapacity: true)
        byHash.removeAll(keepingCapacity: true)
        last = -1
        generation = table.generation
        routeIDs = table.routes.map(\.spec.id)
        routed = Array(repeating: 0, count: routeIDs.count)
    }

    /// Adds the entries' record counts to the counts per route (and to `records`, `unmatched`).
    mutating func settle() {
        for k in entries.indices {
            let o = tally.counts[2 * k]
            let e = tally.counts[2 * k + 1]
            if o == 0 && e == 0 { continue }
            records &+= o &+ e
            if entries[k].stdout.isEmpty { unmatched &+= o }
            for r in entries[k].stdout { routed[r] &+= o }
            if entries[k].stderr.isEmpty { unmatched &+= e }
            for r in entries[k].stderr { routed[r] &+= e }
            tally.counts[2 * k] = 0
            tally.counts[2 * k + 1] = 0
        }
    }

    /// Reads the container object at the scanner and returns the index of its entry.
    @inline(__always)
    mutating func lookup(_ s: inout JSONScanner, _ table: RouteTable) throws(JSONError) -> Int {
        s.skipWhitespace()
        let at = s.offset
        let bytes = s.bytes
        // The last container seen, then (with few containers) each of the others: a different
        // container's text differs within its id, so a miss costs a few bytes of memcmp.
        let count = entries.count
        if count > 0 {
            var k = last
            for _ in 0..<min(count, Self.probes) {
                if matches(k, bytes, at) {
                    s.offset = at &+ entries[k].text.count
                    last = k
                    return k
                }
                k = k &+ 1 == count ? 0 : k &+ 1
            }
        }
        return try lookupSlow(&s, at, table)
    }

    /// How many entries are compared byte for byte before scanning the object.
    static let probes = 8

    @inline(__always)
    func matches(_ k: Int, _ bytes: UnsafeRawBufferPointer, _ at: Int) -> Bool {
        entries[k].text.withUnsafeBytes { text -> Bool in
            text.count <= bytes.count &- at && memcmp(text.baseAddress!, bytes.baseAddress! + at, text.count) == 0
        }
    }

    mutating func lookupSlow(_ s: inout JSONScanner, _ at: Int, _ table: RouteTable) throws(JSONError) -> Int {
        let fields = try ContainerScan.scan(&s)
        let text = UnsafeRawBufferPointer(rebasing: s.bytes[at..<s.offset])
        let h = Self.hash(text)
        if let i = byHash[h], entries[i].text.elementsEqual(text) {
            last = i
            return i
        }
        // A container not seen with this table: work its routes out.
        let (id, name, labels) = fields.decode(s.bytes)
        var stdout: [Int] = []
        var stderr: [Int] = []
        for (i, route) in table.routes.enumerated() where route.spec.source.matches(id: id, name: name, labels: labels) {
            if route.spec.source.accepts(.stdout) { stdout.append(i) }
            if route.spec.source.accepts(.stderr) { stderr.append(i) }
        }
        if entries.count >= Self.capacity {
            settle()
            epoch &+= 1
            entries.removeAll(keepingCapacity: true)
            byHash.removeAll(keepingCapacity: true)
        }
        entries.append(Entry(text: Array(text), stdout: stdout, stderr: stderr, id: id, name: name))
        byHash[h] = entries.count - 1
        last = entries.count - 1
        return last
    }

    /// A 64-bit hash of `bytes`, a word at a time.
    static func hash(_ bytes: UnsafeRawBufferPointer) -> UInt64 {
        var h: UInt64 = 0x9E37_79B9_7F4A_7C15 ^ UInt64(bytes.count)
        var i = 0
        let n = bytes.count
        while i &+ 8 <= n {
            h = (h ^ bytes.loadUnaligned(fromByteOffset: i, as: UInt64.self)) &* 0xFF51_AFD7_ED55_8CCD
            h ^= h >> 32
            i &+= 8
        }
        var tail: UInt64 = 0
        var shift: UInt64 = 0
        while i < n {
            tail |= UInt64(bytes[i]) << shift
            shift &+= 8
            i &+= 1
        }
        h = (h ^ tail) &* 0xC4CE_B9FE_1A85_EC53
        return h ^ (h >> 29)
    }
}

/// The records of each `MatchCache` entry's container, not yet settled: at 2 × the entry's index its
/// stdout's, after it its stderr's. Memory of its own, never reallocated (the cache never holds more than
/// `MatchCache.capacity` entries), so that counting a record is one increment, without the checks of an
/// array. A settled count is back at 0, and so is every count past the entries.
final class RecordTally {
    let counts: UnsafeMutablePointer<Int>

    init() {
        counts = .allocate(capacity: 2 * MatchCache.capacity)
        counts.initialize(repeating: 0, count: 2 * MatchCache.capacity)
    }

    deinit { counts.deallocate() }
}

/// The fields matching needs from a container object, found while checking it (as RecordCodec would),
/// without decoding anything.
struct ContainerScan {
    var id: Range<Int>
    var idEscaped: Bool
    var name: Range<Int>?
    var nameEscaped = false
    /// The extent of the labels object, when there is one.
    var labels: Range<Int>?

    /// Checks the container object at the scanner, leaving it after the object.
    static func scan(_ s: inout JSONScanner) throws(JSONError) -> ContainerScan {
        guard s.peek() == 0x7B else { throw RecordCodec.mustBe("container", "an object", s) }
        let start = s.offset
        var id: (Range<Int>, Bool)?
        var name: (Range<Int>, Bool)?
        var labels: Range<Int>?
        if try s.beginObject() {
            repeat {
                let key = try s.readKey()
                if key.equals("id") {
                    guard s.peek() == 0x22 else { throw RecordCodec.mustBe("container.id", "a string", s) }
                    id = raw(try s.readRawString(), s)
                } else if key.equals("name") {
                    if s.readNull() { name = nil; continue }
                    guard s.peek() == 0x22 else { throw RecordCodec.mustBe("container.name", "a string", s) }
                    name = raw(try s.readRawString(), s)
                } else if key.equals("image") || key.equals("hostname") {
                    if s.readNull() { continue }
                    guard s.peek() == 0x22 else {
                        throw key.equals("image") ? RecordCodec.mustBe("container.image", "a string", s)
                            : RecordCodec.mustBe("container.hostname", "a string", s)
                    }
                    _ = try s.readRawString()
                } else if key.equals("pid") {
                    if s.readNull() { continue }
                    guard let c = s.peek(), c == 0x2D || (c >= 0x30 && c <= 0x39) else {
                        throw RecordCodec.mustBe("container.pid", "an integer", s)
                    }
                    let at = s.offset
                    guard JSONScanner.integer(try s.readNumber()) != nil else {
                        s.offset = at
                        throw RecordCodec.mustBe("container.pid", "an integer", s)
                    }
                } else if key.equals("labels") {
                    if s.readNull() { labels = nil; continue }
                    guard s.peek() == 0x7B else { throw RecordCodec.mustBe("container.labels", "an object", s) }
                    let from = s.offset
                    if try s.beginObject() {
                        repeat {
                            let label = try s.readKey()
                            guard s.peek() == 0x22 else {
                                throw s.error("field \"container.labels.\(label.decoded)\" must be a string")
                            }
                            _ = try s.readRawString()
                        } while try s.nextMember()
                    }
                    labels = from..<s.offset
                } else {
                    try s.skipValue()
                }
            } while try s.nextMember()
        }
        guard let id else { throw RecordCodec.missing("container.id", s, start) }
        return ContainerScan(id: id.0, idEscaped: id.1, name: name?.0, nameEscaped: name?.1 ?? false, labels: labels)
    }

    /// The range of a raw string's body in the scanner's input.
    static func raw(_ r: JSONRawString, _ s: JSONScanner) -> (Range<Int>, Bool) {
        let from = r.raw.baseAddress.map { UnsafeRawPointer($0) - s.bytes.baseAddress! } ?? s.offset - 1
        return (from..<from + r.raw.count, r.hasEscapes)
    }

    /// The decoded id, name and labels.
    func decode(_ bytes: UnsafeRawBufferPointer) -> (String, String, Labels) {
        func string(_ r: Range<Int>, _ escaped: Bool) -> String {
            JSONRawString(raw: UnsafeRawBufferPointer(rebasing: bytes[r]), hasEscapes: escaped).decoded
        }
        let idText = string(id, idEscaped)
        let nameText = name.map { string($0, nameEscaped) } ?? ""
        var pairs: Labels = [:]
        if let labels {
            var s = JSONScanner(UnsafeRawBufferPointer(rebasing: bytes[labels]))
            // Checked already: this cannot fail.
            try? s.readObject { s, key throws(JSONError) in
                pairs.append(key.decoded, try s.readString())
            }
        }
        return (idText, nameText, pairs)
    }
}
