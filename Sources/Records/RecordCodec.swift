import JSON

/// Reads and writes records as NDJSON lines (the format is described in
/// docs/records.md). This is the hot path of every stage: decoding works on
/// the raw bytes of a line, allocating only the strings it keeps; encoding
/// copies runs of plain text in bulk.
public enum RecordCodec {
    // MARK: Decoding

    /// Decodes one line (without its `"\n"`; a trailing `"\r"` or other
    /// whitespace is allowed). Fields come in any order; unknown fields are
    /// skipped (checked, not kept); if a field appears twice the last one
    /// counts. Errors name the field: `missing field "container.id"`,
    /// `field "source" must be "stdout" or "stderr"`. The error's line is 1;
    /// use `decode(line:lineNumber:)` to carry the stream's line number.
    public static func decode(line: UnsafeRawBufferPointer) throws(JSONError) -> Record {
        var noCache: ContainerCache? = nil
        var noRoutes: TextCache<Route>? = nil
        return try decode(line: line, cache: &noCache, routes: &noRoutes)
    }

    /// The decoder, with an optional cache of decoded containers (see `RecordDecoder`).
    static func decode(line: UnsafeRawBufferPointer, cache: inout ContainerCache?,
                       routes: inout TextCache<Route>?) throws(JSONError) -> Record {
        var s = JSONScanner(line)
        var time = ""
        var source = Source.stdout
        var data = ""
        var partial = false
        var container = Container(id: "")
        var route: Route? = nil
        var found: UInt8 = 0  // bits: time, source, data, container
        s.skipWhitespace()
        let start = s.offset
        if try s.beginObject() {
            // Writers put the fields in one order: try the key that usually
            // comes next before reading a key in general.
            var expected = RecordField.time
            repeat {
                let field = s.consumeKey(expected.name) ? expected : RecordField(try s.readKey())
                expected = field.next
                switch field {
                case .time:
                    time = try readString(&s, "time")
                    found |= 1
                case .source:
                    source = try readSource(&s)
                    found |= 2
                case .data:
                    data = try readString(&s, "data")
                    found |= 4
                case .partial:
                    partial = try readOptionalBool(&s, "partial") ?? false
                case .container:
                    if cache != nil {
                        container = try readContainer(&s, cache: &cache)
                    } else {
                        container = try readContainer(&s)
                    }
                    found |= 8
                case .route:
                    route = try readRoute(&s, cache: &routes).route
                case .unknown:
                    try s.skipValue()
                }
            } while try s.nextMember()
        }
        try s.expectEnd()
        try requireFields(found, s, start)
        return Record(time: time, source: source, data: data, partial: partial, container: container, route: route)
    }

    /// The record's object ended: `found` (bits: time, source, data, container) must have all four.
    @inline(__always)
    static func requireFields(_ found: UInt8, _ s: JSONScanner, _ start: Int) throws(JSONError) {
        guard found != 15 else { return }
        if found & 1 == 0 { throw missing("time", s, start) }
        if found & 2 == 0 { throw missing("source", s, start) }
        if found & 4 == 0 { throw missing("data", s, start) }
        throw missing("container", s, start)
    }

    /// `decode(line:)`, with errors reporting `lineNumber` as their line.
    public static func decode(line: UnsafeRawBufferPointer, lineNumber: Int) throws(JSONError) -> Record {
        do {
            return try decode(line: line)
        } catch {
            var e = error
            e.line = lineNumber
            throw e
        }
    }

    /// Decodes one line held in an array (without its `"\n"`).
    public static func decode(line: [UInt8]) throws(JSONError) -> Record {
        try line.withUnsafeBufferPointer { (p) throws(JSONError) -> Record in
            try decode(line: UnsafeRawBufferPointer(p))
        }
    }

    /// The fields of a record object (public for readers that scan records themselves, like route's).
    public enum RecordField: Sendable {
        case time, source, data, partial, container, route, unknown

        /// The field usually written after this one.
        public var next: RecordField {
            switch self {
            case .time: .source
            case .source: .data
            case .data, .partial: .container
            case .container: .route
            case .route, .unknown: .unknown
            }
        }

        /// The field's key.
        public var name: StaticString {
            switch self {
            case .time: "time"
            case .source: "source"
            case .data: "data"
            case .partial: "partial"
            case .container: "container"
            case .route: "route"
            case .unknown: ""
            }
        }

        /// The field a key names (any JSON escapes allowed).
        @inline(__always)
        public init(_ key: JSONRawString) {
            if key.hasEscapes {
                self = RecordField(name: key.decoded)
                return
            }
            let raw = key.raw
            switch raw.count {
            case 4 where raw[0] == 0x74: self = key.equals("time") ? .time : .unknown
            case 4 where raw[0] == 0x64: self = key.equals("data") ? .data : .unknown
            case 6: self = key.equals("source") ? .source : .unknown
            case 7: self = key.equals("partial") ? .partial : .unknown
            case 9: self = key.equals("container") ? .container : .unknown
            case 5: self = key.equals("route") ? .route : .unknown
            default: self = .unknown
            }
        }

        public init(name: String) {
            switch name {
            case "time": self = .time
            case "source": self = .source
            case "data": self = .data
            case "partial": self = .partial
            case "container": self = .container
            case "route": self = .route
            default: self = .unknown
            }
        }
    }

    /// The fields of a container object.
    enum ContainerField {
        case id, name, image, hostname, pid, labels, unknown

        /// The field usually written after this one.
        var next: ContainerField {
            switch self {
            case .id: .name
            case .name: .image
            case .image: .hostname
            case .hostname: .pid
            case .pid: .labels
            case .labels, .unknown: .unknown
            }
        }

        var key: StaticString {
            switch self {
            case .id: "id"
            case .name: "name"
            case .image: "image"
            case .hostname: "hostname"
            case .pid: "pid"
            case .labels: "labels"
            case .unknown: ""
            }
        }

        /// The field a key names (any JSON escapes allowed).
        @inline(__always)
        public init(_ key: JSONRawString) {
            if key.hasEscapes {
                switch key.decoded {
                case "id": self = .id
                case "name": self = .name
                case "image": self = .image
                case "hostname": self = .hostname
                case "pid": self = .pid
                case "labels": self = .labels
                default: self = .unknown
                }
                return
            }
            switch key.raw.count {
            case 2: self = key.equals("id") ? .id : .unknown
            case 4: self = key.equals("name") ? .name : .unknown
            case 5: self = key.equals("image") ? .image : .unknown
            case 8: self = key.equals("hostname") ? .hostname : .unknown
            case 3: self = key.equals("pid") ? .pid : .unknown
            case 6: self = key.equals("labels") ? .labels : .unknown
            default: self = .unknown
            }
        }
    }

    @inline(__always)
    static func readString(_ s: inout JSONScanner, _ field: StaticString) throws(JSONError) -> String {
        guard s.peek() == 0x22 else { throw mustBe(field, "a string", s) }
        return try s.readString()
    }

    /// A string, or nil for `null`.
    @inline(__always)
    static func readOptionalString(_ s: inout JSONScanner, _ field: StaticString) throws(JSONError) -> String? {
        if s.peek() == 0x22 { return try s.readString() }
        if s.readNull() { return nil }
        throw mustBe(field, "a string", s)
    }

    static func readOptionalBool(_ s: inout JSONScanner, _ field: StaticString) throws(JSONError) -> Bool? {
        switch s.peek() {
        case 0x74, 0x66: return try s.readBool()
        case 0x6E where s.readNull(): return nil
        default: throw mustBe(field, "true or false", s)
        }
    }

    /// Reads the `source` value at the scanner ("stdout" or "stderr"), with the codec's error message.
    public static func readSource(_ s: inout JSONScanner) throws(JSONError) -> Source {
        guard s.peek() == 0x22 else { throw mustBe("source", #""stdout" or "stderr""#, s) }
        let at = s.offset
        let value = try s.readRawString()
        if value.equals("stdout") { return .stdout }
        if value.equals("stderr") { return .stderr }
        s.offset = at
        throw mustBe("source", #""stdout" or "stderr""#, s)
    }

    static func readContainer(_ s: inout JSONScanner) throws(JSONError) -> Container {
        guard s.peek() == 0x7B else { throw mustBe("container", "an object", s) }
        let start = s.offset
        var id: String?
        var name = ""
        var image = ""
        var hostname = ""
        var pid = 0
        var labels: Labels = [:]
        if try s.beginObject() {
            var expected = ContainerField.id
            repeat {
                let field = s.consumeKey(expected.key) ? expected : ContainerField(try s.readKey())
                expected = field.next
                switch field {
                case .id: id = try readString(&s, "container.id")
                case .name: name = try readOptionalString(&s, "container.name") ?? ""
                case .image: image = try readOptionalString(&s, "container.image") ?? ""
                case .hostname: hostname = try readOptionalString(&s, "container.hostname") ?? ""
                case .pid: pid = try readPid(&s)
                case .labels: labels = try readLabels(&s)
                case .unknown: try s.skipValue()
                }
            } while try s.nextMember()
        }
        guard let id else { throw missing("container.id", s, start) }
        return Container(id: id, name: name, image: image, hostname: hostname, pid: pid, labels: labels)
    }

    /// `readContainer`, reusing the container decoded from identical text.
    static func readContainer(_ s: inout JSONScanner, cache: inout ContainerCache?) throws(JSONError) -> Container {
        s.skipWhitespace()
        let start = s.offset
        if let hit = cache?.lookup(s.bytes, at: start) {
            s.offset = start + hit.length
            return hit.container
        }
        let container = try readContainer(&s)
        cache?.store(container, text: UnsafeRawBufferPointer(rebasing: s.bytes[start..<s.offset]))
        return container
    }

    static func readPid(_ s: inout JSONScanner) throws(JSONError) -> Int {
        if s.readNull() { return 0 }
        guard let c = s.peek(), c == 0x2D || (c >= 0x30 && c <= 0x39) else {
            throw mustBe("container.pid", "an integer", s)
        }
        let at = s.offset
        let text = try s.readNumber()
        guard let pid = JSONScanner.integer(text) else {
            s.offset = at
            throw mustBe("container.pid", "an integer", s)
        }
        return pid
    }

    static func readLabels(_ s: inout JSONScanner) throws(JSONError) -> Labels {
        if s.readNull() { return [:] }
        guard s.peek() == 0x7B else { throw mustBe("container.labels", "an object", s) }
        var labels: Labels = [:]
        if try s.beginObject() {
            repeat {
                let name = try s.readKey().decoded
                guard s.peek() == 0x22 else {
                    throw s.error("field \"container.labels.\(name)\" must be a string")
                }
                labels.append(name, try s.readString())
            } while try s.nextMember()
        }
        return labels
    }

    static func readRoute(_ s: inout JSONScanner) throws(JSONError) -> Route? {
        if s.readNull() { return nil }
        guard s.peek() == 0x7B else { throw mustBe("route", "an object", s) }
        let start = s.offset
        var id: String?
        var target: JSONValue?
        if try s.beginObject() {
            repeat {
                let key = try s.readKey()
                if key.equals("id") {
                    id = try readString(&s, "route.id")
                } else if key.equals("target") {
                    target = try s.readValue()
                } else {
                    try s.skipValue()
                }
            } while try s.nextMember()
        }
        guard let id else { throw missing("route.id", s, start) }
        guard let target else { throw missing("route.target", s, start) }
        return Route(id: id, target: target)
    }

    /// `readRoute`, reusing the route decoded from identical text (routed records repeat a few routes), and
    /// the stamp of that text in the cache (0: no route, or no cache).
    static func readRoute(_ s: inout JSONScanner, cache: inout TextCache<Route>?) throws(JSONError) -> (route: Route?, stamp: UInt64) {
        s.skipWhitespace()
        let start = s.offset
        if let hit = cache?.lookup(s.bytes, at: start) {
            s.offset = start + hit.length
            return (hit.container, hit.stamp)
        }
        guard let route = try readRoute(&s) else { return (nil, 0) }
        let stamp = cache?.store(route, text: UnsafeRawBufferPointer(rebasing: s.bytes[start..<s.offset])) ?? 0
        return (route, stamp)
    }

    /// The error for a field of the wrong type: `field "source" must be "stdout" or "stderr"`.
    public static func mustBe(_ field: StaticString, _ what: StaticString, _ s: JSONScanner) -> JSONError {
        s.error("field \"\(field)\" must be \(what)")
    }

    /// The error for a missing field, at the object that lacks it: `missing field "container.id"`.
    public static func missing(_ field: StaticString, _ s: JSONScanner, _ at: Int) -> JSONError {
        s.error("missing field \"\(field)\"", at: at)
    }

    // MARK: Encoding

    /// Appends `r` as one line and its trailing `"\n"`. Fields in the order
    /// time, source, data, partial (only when true), container, route (only
    /// when set).
    public static func encode(_ r: Record, into out: inout [UInt8]) {
        let c = r.container
        Bytes.reserve(
            r.time.utf8.count + r.data.utf8.count + c.name.utf8.count + c.image.utf8.count
                + c.hostname.utf8.count + 256, in: &out)
        Bytes.append(#"{"time":"#, to: &out)
        JSONString.append(r.time, to: &out)
        Bytes.append(r.source == .stdout ? #","source":"stdout","data":"# : #","source":"stderr","data":"#, to: &out)
        JSONString.append(r.data, to: &out)
        Bytes.append(r.partial ? #","partial":true,"container":"# : #","container":"#, to: &out)
        c.appendJSON(to: &out)
        if let route = r.route {
            Bytes.append(#","route":{"id":"#, to: &out)
            JSONString.append(route.id, to: &out)
            Bytes.append(#","target":"#, to: &out)
            route.target.append(to: &out)
            out.append(0x7D)
        }
        Bytes.append("}\n", to: &out)
    }

    /// `r` as one line with its trailing `"\n"`.
    public static func encode(_ r: Record) -> [UInt8] {
        var out: [UInt8] = []
        encode(r, into: &out)
        return out
    }

    /// The fast path for producers: appends one complete record line and its
    /// `"\n"` from parts, without building a `Record`. `time` and `data` are
    /// raw bytes (ill-formed UTF-8 becomes U+FFFD); `containerJSON` is
    /// `Container.encodedJSON()`, copied as is.
    public static func append(
        time: UnsafeRawBufferPointer, source: Source, data: UnsafeRawBufferPointer, partial: Bool,
        containerJSON: [UInt8], into out: inout [UInt8]
    ) {
        Bytes.reserve(time.count + data.count + containerJSON.count + 64, in: &out)
        Bytes.append(#"{"time":"#, to: &out)
        JSONString.append(time, to: &out)
        Bytes.append(source == .stdout ? #","source":"stdout","data":"# : #","source":"stderr","data":"#, to: &out)
        JSONString.append(data, to: &out)
        Bytes.append(partial ? #","partial":true,"container":"# : #","container":"#, to: &out)
        out.append(contentsOf: containerJSON)
        Bytes.append("}\n", to: &out)
    }
}
