import Text

/// A cursor over JSON text in memory, for readers that pull known fields out
/// of a document without building a `JSONValue` tree (the record codec does).
///
/// The scanner is strict RFC 8259: whitespace is space, tab, CR and LF only;
/// numbers follow the grammar; control bytes inside strings must be escaped.
/// Inside strings, ill-formed UTF-8 and lone `\u` surrogates become U+FFFD
/// rather than errors. Every error is a `JSONError` with the position where
/// reading stopped. Nesting deeper than `maxDepth` is an error, never a crash:
/// the value readers use an explicit stack, not recursion.
///
/// The scanner holds an unsafe view of `bytes`; it is only valid while that
/// memory is (typically: inside `withUnsafeBytes`). Values it returns as
/// `String` or `JSONValue` own their storage; `JSONRawString` and the buffer
/// returned by `readNumber()` point into `bytes`.
///
/// Typical use, reading an object's members in any order:
///
///     var s = JSONScanner(bytes)
///     try s.readObject { s, key throws(JSONError) in
///         if key.equals("name") { name = try s.readString() }
///         else { try s.skipValue() }
///     }
///     try s.expectEnd()
public struct JSONScanner {
    /// The whole input.
    public let bytes: UnsafeRawBufferPointer
    /// The index of the next byte to read.
    public var offset: Int
    /// The deepest nesting of arrays and objects accepted.
    public let maxDepth: Int
    /// Containers currently open through `readObject`/`readArray`.
    @usableFromInline var depth: Int

    @inlinable
    public init(_ bytes: UnsafeRawBufferPointer, maxDepth: Int = 512) {
        self.bytes = bytes
        self.offset = 0
        self.maxDepth = maxDepth
        self.depth = 0
    }

    // MARK: Whitespace and punctuation

    /// Skips JSON whitespace (space, tab, CR, LF).
    @inlinable @inline(__always)
    public mutating func skipWhitespace() {
        let n = bytes.count
        var i = offset
        while i < n {
            let c = bytes[i]
            if c > 0x20 || (c != 0x20 && c != 0x0A && c != 0x0D && c != 0x09) { break }
            i &+= 1
        }
        offset = i
    }

    /// The next byte after whitespace, not consumed; nil at the end of the input.
    @inlinable @inline(__always)
    public mutating func peek() -> UInt8? {
        skipWhitespace()
        return offset < bytes.count ? bytes[offset] : nil
    }

    /// Skips whitespace and consumes `byte` if it comes next.
    @inlinable @inline(__always)
    public mutating func consume(_ byte: UInt8) -> Bool {
        skipWhitespace()
        if offset < bytes.count && bytes[offset] == byte {
            offset &+= 1
            return true
        }
        return false
    }

    /// Skips whitespace and consumes `byte`, or throws `expected 'c'`.
    @inlinable @inline(__always)
    public mutating func expect(_ byte: UInt8) throws(JSONError) {
        if consume(byte) { return }
        throw expectedByte(byte)
    }

    @usableFromInline
    func expectedByte(_ byte: UInt8) -> JSONError {
        expected("'\(Character(Unicode.Scalar(byte)))'")
    }

    /// Skips trailing whitespace; throws if anything else is left.
    public mutating func expectEnd() throws(JSONError) {
        skipWhitespace()
        if offset < bytes.count {
            throw error("unexpected \(describe(bytes[offset])) after the JSON value")
        }
    }

    // MARK: Errors

    /// An error at the current offset.
    public func error(_ message: String) -> JSONError {
        JSONError(at: offset, in: bytes, message: message)
    }

    /// An error at byte `offset` of the input.
    public func error(_ message: String, at offset: Int) -> JSONError {
        JSONError(at: offset, in: bytes, message: message)
    }

    /// `expected <what>` at the current offset, or "unexpected end of input,
    /// expected <what>" when nothing is left.
    @usableFromInline
    func expected(_ what: String) -> JSONError {
        if offset >= bytes.count {
            return error("unexpected end of input, expected \(what)")
        }
        return error("expected \(what)")
    }

    func describe(_ c: UInt8) -> String {
        if c >= 0x21 && c < 0x7F {
            return "'\(Character(Unicode.Scalar(c)))'"
        }
        let hex = Array("0123456789ABCDEF".utf8)
        return "byte 0x" + String(decoding: [hex[Int(c >> 4)], hex[Int(c & 0x0F)]], as: UTF8.self)
    }

    @usableFromInline
    mutating func enter() throws(JSONError) {
        if depth >= maxDepth { throw tooDeep() }
        depth &+= 1
    }

    func tooDeep() -> JSONError {
        error("nesting deeper than \(maxDepth) levels")
    }

    // MARK: Strings

    /// Reads a string value. Escapes are decoded; lone surrogates and
    /// ill-formed UTF-8 become U+FFFD.
    @inlinable @inline(__always)
    public mutating func readString() throws(JSONError) -> String {
        skipWhitespace()
        let n = bytes.count
        guard offset < n, bytes[offset] == 0x22 else { throw expected("a string") }
        let start = offset &+ 1
        let stop = ByteScan.stringStop(bytes, from: start)
        if stop < n && bytes[stop] == 0x22 {
            offset = stop &+ 1
            return ByteScan.string(bytes, start, stop)
        }
        let end = try stringEnd(from: stop)
        offset = end &+ 1
        return JSONScanner.unescape(bytes, start, end)
    }

    /// Reads a string without decoding it: for keys and for values that are
    /// compared, not kept. Escapes are validated.
    @inlinable @inline(__always)
    public mutating func readRawString() throws(JSONError) -> JSONRawString {
        skipWhitespace()
        let n = bytes.count
        guard offset < n, bytes[offset] == 0x22 else { throw expected("'\"'") }
        let start = offset &+ 1
        let stop = ByteScan.stringStop(bytes, from: start)
        if stop < n && bytes[stop] == 0x22 {
            offset = stop &+ 1
            return JSONRawString(raw: UnsafeRawBufferPointer(ByteScan.slice(bytes, start, stop)), hasEscapes: false)
        }
        let end = try stringEnd(from: stop)
        offset = end &+ 1
        return JSONRawString(raw: UnsafeRawBufferPointer(ByteScan.slice(bytes, start, end)), hasEscapes: true)
    }

    /// From the first `"`, `\` or control byte of a string body, the index of
    /// its closing quote; checks escapes on the way.
    @usableFromInline
    func stringEnd(from stop: Int) throws(JSONError) -> Int {
        let n = bytes.count
        var i = stop
        while true {
            guard i < n else { throw error("unterminated string", at: n) }
            let c = bytes[i]
            if c == 0x22 { return i }
            if c == 0x5C {
                // The common escapes inline; \u and errors in escapeEnd.
                if i &+ 1 < n, JSONScanner.isSimpleEscape(bytes[i &+ 1]) {
                    i &+= 2
                } else {
                    i = try escapeEnd(at: i)
                }
            } else {
                throw error("control character \(describe(c)) must be escaped in a string", at: i)
            }
            i = ByteScan.stringStop(bytes, from: i)
        }
    }

    /// Checks the escape at `bytes[i]` (a backslash); returns the index after it.
    func escapeEnd(at i: Int) throws(JSONError) -> Int {
        let n = bytes.count
        guard i &+ 1 < n else { throw error("unterminated string", at: n) }
        switch bytes[i &+ 1] {
        case 0x22, 0x5C, 0x2F, 0x62, 0x66, 0x6E, 0x72, 0x74:  // " \ / b f n r t
            return i &+ 2
        case 0x75:  // u
            var k = i &+ 2
            while k < i &+ 6 {
                guard k < n, Hex.value(bytes[k]) != nil else {
                    throw error("invalid \\u escape: expected 4 hex digits", at: k)
                }
                k &+= 1
            }
            return k
        default:
            let c = bytes[i &+ 1]
            let shown = c >= 0x21 && c < 0x7F ? "'\\\(Character(Unicode.Scalar(c)))'" : "(backslash then \(describe(c)))"
            throw error("invalid escape \(shown)", at: i)
        }
    }

    /// Whether `\c` is a one-character escape: `" \ / b f n r t`.
    @inline(__always)
    static func isSimpleEscape(_ c: UInt8) -> Bool {
        switch c {
        case 0x22, 0x5C, 0x2F, 0x62, 0x66, 0x6E, 0x72, 0x74: return true
        default: return false
        }
    }

    /// The 4 hex digits at `p[i..<i+4]`, or nil.
    static func hex4(_ p: UnsafeRawBufferPointer, _ i: Int) -> UInt32? {
        guard i >= 0, i &+ 4 <= p.count else { return nil }
        var v: UInt32 = 0
        for k in i..<(i &+ 4) {
            guard let d = Hex.value(p[k]) else { return nil }
            v = v << 4 | UInt32(d)
        }
        return v
    }

    /// Decodes the body `p[start..<end]` of a string already checked by
    /// `stringEnd`. Lone surrogates become U+FFFD; the String initializer
    /// repairs ill-formed UTF-8 the same way.
    @usableFromInline
    static func unescape(_ p: UnsafeRawBufferPointer, _ start: Int, _ end: Int) -> String {
        guard end > start else { return "" }
        // Every escape is at least as long as the UTF-8 it stands for.
        return String(unsafeUninitializedCapacity: end &- start) { out in
            guard let dst = out.baseAddress else { return 0 }
            var o = 0
            var i = start
            while i < end {
                // Copy a word at a time up to the next backslash (the only
                // byte needing work in a checked body). Storing a whole word
                // past it is safe: the output never runs ahead of the input,
                // so o + 8 <= i - start + 8 <= end - start, the capacity.
                while i &+ 8 <= end {
                    let w = ByteScan.word(p, i)
                    UnsafeMutableRawPointer(dst + o).storeBytes(of: w.littleEndian, as: UInt64.self)
                    let m = ByteScan.lanesEqual(w, 0x5C)
                    if m != 0 {
                        let k = m.trailingZeroBitCount &>> 3
                        o &+= k
                        i &+= k
                        break
                    }
                    o &+= 8
                    i &+= 8
                }
                while i < end && p[i] != 0x5C {
                    out[o] = p[i]
                    o &+= 1
                    i &+= 1
                }
                if i >= end { break }
                // p[i] is a backslash (the body was checked).
                guard i &+ 1 < end else { break }
                let e = p[i &+ 1]
                i &+= 2
                var scalar: UInt32
                switch e {
                case 0x6E: out[o] = 0x0A; o &+= 1; continue
                case 0x74: out[o] = 0x09; o &+= 1; continue
                case 0x72: out[o] = 0x0D; o &+= 1; continue
                case 0x62: out[o] = 0x08; o &+= 1; continue
                case 0x66: out[o] = 0x0C; o &+= 1; continue
                case 0x75:
                    guard let u = hex4(p, i), i &+ 4 <= end else { scalar = 0xFFFD; i = end; break }
                    i &+= 4
                    if u >= 0xD800 && u <= 0xDBFF {
                        scalar = 0xFFFD
                        if i &+ 6 <= end, p[i] == 0x5C, p[i &+ 1] == 0x75,
                           let low = hex4(p, i &+ 2), low >= 0xDC00 && low <= 0xDFFF {
                            scalar = 0x10000 &+ ((u &- 0xD800) << 10) &+ (low &- 0xDC00)
                            i &+= 6
                        }
                    } else if u >= 0xDC00 && u <= 0xDFFF {
                        scalar = 0xFFFD
                    } else {
                        scalar = u
                    }
                default:  // " \ /
                    out[o] = e
                    o &+= 1
                    continue
                }
                o &+= writeUTF8(scalar, to: out, at: o)
            }
            return o
        }
    }

    /// Writes `scalar` as UTF-8 at `out[o...]`; returns the byte count.
    static func writeUTF8(_ scalar: UInt32, to out: UnsafeMutableBufferPointer<UInt8>, at o: Int) -> Int {
        switch scalar {
        case 0..<0x80:
            out[o] = UInt8(truncatingIfNeeded: scalar)
            return 1
        case 0x80..<0x800:
            out[o] = UInt8(truncatingIfNeeded: 0xC0 | scalar >> 6)
            out[o &+ 1] = UInt8(truncatingIfNeeded: 0x80 | scalar & 0x3F)
            return 2
        case 0x800..<0x10000:
            out[o] = UInt8(truncatingIfNeeded: 0xE0 | scalar >> 12)
            out[o &+ 1] = UInt8(truncatingIfNeeded: 0x80 | scalar >> 6 & 0x3F)
            out[o &+ 2] = UInt8(truncatingIfNeeded: 0x80 | scalar & 0x3F)
            return 3
        default:
            out[o] = UInt8(truncatingIfNeeded: 0xF0 | scalar >> 18)
            out[o &+ 1] = UInt8(truncatingIfNeeded: 0x80 | scalar >> 12 & 0x3F)
            out[o &+ 2] = UInt8(truncatingIfNeeded: 0x80 | scalar >> 6 & 0x3F)
            out[o &+ 3] = UInt8(truncatingIfNeeded: 0x80 | scalar & 0x3F)
            return 4
        }
    }

    /// Skips a string starting at the current offset (a quote).
    mutating func skipString() throws(JSONError) {
        let start = offset &+ 1
        let stop = ByteScan.stringStop(bytes, from: start)
        offset = try stringEnd(from: stop) &+ 1
    }

    // MARK: Scalars

    /// Reads a number checked against the RFC 8259 grammar and returns its
    /// text, which points into the input.
    public mutating func readNumber() throws(JSONError) -> UnsafeRawBufferPointer {
        skipWhitespace()
        let n = bytes.count
        let start = offset
        var i = offset
        func digit(_ i: Int) -> Bool { i < n && bytes[i] >= 0x30 && bytes[i] <= 0x39 }
        if i < n && bytes[i] == 0x2D { i &+= 1 }  // -
        if i < n && bytes[i] == 0x30 {
            i &+= 1
        } else if digit(i) {
            while digit(i) { i &+= 1 }
        } else {
            offset = i
            throw i == start ? expected("a number") : expected("a digit")
        }
        if i < n && bytes[i] == 0x2E {  // .
            i &+= 1
            guard digit(i) else { offset = i; throw expected("a digit after '.'") }
            while digit(i) { i &+= 1 }
        }
        if i < n && (bytes[i] == 0x65 || bytes[i] == 0x45) {  // e E
            i &+= 1
            if i < n && (bytes[i] == 0x2B || bytes[i] == 0x2D) { i &+= 1 }
            guard digit(i) else { offset = i; throw expected("a digit in the exponent") }
            while digit(i) { i &+= 1 }
        }
        offset = i
        return UnsafeRawBufferPointer(ByteScan.slice(bytes, start, i))
    }

    /// The value of JSON number text if it is an integer that fits in `Int`
    /// (no fraction, no exponent), else nil.
    public static func integer(_ text: UnsafeRawBufferPointer) -> Int? {
        let n = text.count
        guard n > 0 else { return nil }
        var i = 0
        let negative = text[0] == 0x2D
        if negative { i = 1 }
        guard i < n else { return nil }
        var magnitude: UInt = 0
        while i < n {
            let c = text[i]
            guard c >= 0x30 && c <= 0x39 else { return nil }
            let (m, o1) = magnitude.multipliedReportingOverflow(by: 10)
            let (a, o2) = m.addingReportingOverflow(UInt(c &- 0x30))
            if o1 || o2 { return nil }
            magnitude = a
            i &+= 1
        }
        if negative {
            if magnitude == UInt(Int.max) + 1 { return Int.min }
            guard magnitude <= UInt(Int.max) else { return nil }
            return -Int(magnitude)
        }
        guard magnitude <= UInt(Int.max) else { return nil }
        return Int(magnitude)
    }

    /// Reads `true` or `false`.
    public mutating func readBool() throws(JSONError) -> Bool {
        skipWhitespace()
        if literal("true") { return true }
        if literal("false") { return false }
        throw expected("true or false")
    }

    /// Consumes `null` if it comes next (after whitespace).
    public mutating func readNull() -> Bool {
        skipWhitespace()
        return literal("null")
    }

    /// Consumes `word` if the input continues with it.
    mutating func literal(_ word: StaticString) -> Bool {
        let k = word.utf8CodeUnitCount
        guard offset &+ k <= bytes.count else { return false }
        let w = word.utf8Start
        for j in 0..<k where bytes[offset &+ j] != w[j] { return false }
        offset &+= k
        return true
    }

    // MARK: Containers

    /// Starts reading an object: consumes `{`. Returns false, having also
    /// consumed the `}`, for an empty object. Otherwise read each member with
    /// `readKey()` then its value, and call `nextMember()` after each:
    ///
    ///     if try s.beginObject() {
    ///         repeat {
    ///             let key = try s.readKey()
    ///             try s.skipValue()          // or read it
    ///         } while try s.nextMember()
    ///     }
    @inlinable @inline(__always)
    public mutating func beginObject() throws(JSONError) -> Bool {
        skipWhitespace()
        guard offset < bytes.count, bytes[offset] == 0x7B else { throw expected("'{'") }
        try enter()
        offset &+= 1
        skipWhitespace()
        if offset < bytes.count && bytes[offset] == 0x7D {
            offset &+= 1
            depth &-= 1
            return false
        }
        return true
    }

    /// Reads a member's key and the `:` after it, leaving the scanner at the value.
    @inlinable @inline(__always)
    public mutating func readKey() throws(JSONError) -> JSONRawString {
        let key = try readRawString()
        skipWhitespace()
        guard offset < bytes.count, bytes[offset] == 0x3A else { throw expectedByte(0x3A) }
        offset &+= 1
        return key
    }

    /// Consumes the member key `name` and its `:` if they come next (no
    /// escapes, no whitespace before the colon), else consumes nothing. A
    /// cheap check for readers that expect members in a usual order; fall
    /// back to `readKey()` when it returns false.
    @inlinable @inline(__always)
    public mutating func consumeKey(_ name: StaticString) -> Bool {
        skipWhitespace()
        let k = name.utf8CodeUnitCount
        let n = bytes.count
        guard offset &+ k &+ 3 <= n, bytes[offset] == 0x22, bytes[offset &+ k &+ 1] == 0x22,
              bytes[offset &+ k &+ 2] == 0x3A
        else { return false }
        let p = UnsafeRawPointer(name.utf8Start)
        let at = offset &+ 1
        if k >= 8 && k <= 16 {
            // Two overlapping 8-byte words cover the name.
            guard bytes.loadUnaligned(fromByteOffset: at, as: UInt64.self) == p.loadUnaligned(as: UInt64.self),
                  bytes.loadUnaligned(fromByteOffset: at &+ k &- 8, as: UInt64.self)
                    == p.loadUnaligned(fromByteOffset: k &- 8, as: UInt64.self)
            else { return false }
        } else if k >= 4 && k < 8 {
            guard bytes.loadUnaligned(fromByteOffset: at, as: UInt32.self) == p.loadUnaligned(as: UInt32.self),
                  bytes.loadUnaligned(fromByteOffset: at &+ k &- 4, as: UInt32.self)
                    == p.loadUnaligned(fromByteOffset: k &- 4, as: UInt32.self)
            else { return false }
        } else {
            var j = 0
            while j < k {
                if bytes[at &+ j] != p.load(fromByteOffset: j, as: UInt8.self) { return false }
                j &+= 1
            }
        }
        offset &+= k &+ 3
        return true
    }

    /// After a member's value: consumes `,` and returns true when another
    /// member follows, or consumes `}` and returns false at the end.
    @inlinable @inline(__always)
    public mutating func nextMember() throws(JSONError) -> Bool {
        skipWhitespace()
        if offset < bytes.count {
            let c = bytes[offset]
            if c == 0x2C { offset &+= 1; return true }
            if c == 0x7D { offset &+= 1; depth &-= 1; return false }
        }
        throw expected("',' or '}'")
    }

    /// Starts reading an array: consumes `[`. Returns false, having also
    /// consumed the `]`, for an empty array. Otherwise read each element and
    /// call `nextElement()` after each.
    @inlinable
    public mutating func beginArray() throws(JSONError) -> Bool {
        skipWhitespace()
        guard offset < bytes.count, bytes[offset] == 0x5B else { throw expected("'['") }
        try enter()
        offset &+= 1
        skipWhitespace()
        if offset < bytes.count && bytes[offset] == 0x5D {
            offset &+= 1
            depth &-= 1
            return false
        }
        return true
    }

    /// After an element: consumes `,` and returns true when another element
    /// follows, or consumes `]` and returns false at the end.
    @inlinable
    public mutating func nextElement() throws(JSONError) -> Bool {
        skipWhitespace()
        if offset < bytes.count {
            let c = bytes[offset]
            if c == 0x2C { offset &+= 1; return true }
            if c == 0x5D { offset &+= 1; depth &-= 1; return false }
        }
        throw expected("',' or ']'")
    }

    /// Reads an object: for each member, calls `body` with the key, positioned
    /// at the value, which `body` must consume (read it or `skipValue()`).
    @inlinable
    public mutating func readObject(
        _ body: (inout JSONScanner, JSONRawString) throws(JSONError) -> Void
    ) throws(JSONError) {
        if try beginObject() {
            repeat {
                let key = try readKey()
                try body(&self, key)
            } while try nextMember()
        }
    }

    /// Reads an array: calls `body` positioned at each element, which `body`
    /// must consume.
    @inlinable
    public mutating func readArray(_ body: (inout JSONScanner) throws(JSONError) -> Void) throws(JSONError) {
        if try beginArray() {
            repeat {
                try body(&self)
            } while try nextElement()
        }
    }

    /// Reads one scalar value (string, number, literal) into a `JSONValue`,
    /// or returns nil, consuming nothing, at `{` or `[`.
    mutating func readScalar() throws(JSONError) -> JSONValue? {
        skipWhitespace()
        guard offset < bytes.count else { throw expected("a value") }
        switch bytes[offset] {
        case 0x7B, 0x5B: return nil
        case 0x22: return .string(try readString())
        case 0x74, 0x66: return .bool(try readBool())
        case 0x6E:
            if readNull() { return .null }
            throw expected("a value")
        case 0x2D, 0x30...0x39:
            let text = try readNumber()
            return .number(String(decoding: text, as: UTF8.self))
        default:
            throw expected("a value")
        }
    }

    /// Reads any value into a `JSONValue` tree. Object member order is kept.
    public mutating func readValue() throws(JSONError) -> JSONValue {
        enum Frame {
            case array([JSONValue])
            case object([(String, JSONValue)], key: String)
        }
        var stack: [Frame] = []
        var value: JSONValue
        parsing: while true {
            // At the start of a value.
            if let scalar = try readScalar() {
                value = scalar
            } else if bytes[offset] == 0x7B {
                if depth &+ stack.count >= maxDepth { throw tooDeep() }
                offset &+= 1
                if consume(0x7D) {
                    value = .object([])
                } else {
                    let key = try readRawString().decoded
                    try expect(0x3A)
                    stack.append(.object([], key: key))
                    continue parsing
                }
            } else {
                if depth &+ stack.count >= maxDepth { throw tooDeep() }
                offset &+= 1
                if consume(0x5D) {
                    value = .array([])
                } else {
                    stack.append(.array([]))
                    continue parsing
                }
            }
            // A value is complete: add it to the open containers, closing
            // those that end.
            while let top = stack.popLast() {
                switch top {
                case .array(var elements):
                    elements.append(value)
                    if consume(0x2C) {
                        stack.append(.array(elements))
                        continue parsing
                    }
                    if consume(0x5D) {
                        value = .array(elements)
                        continue
                    }
                    throw expected("',' or ']'")
                case .object(var members, let key):
                    members.append((key, value))
                    if consume(0x2C) {
                        let next = try readRawString().decoded
                        try expect(0x3A)
                        stack.append(.object(members, key: next))
                        continue parsing
                    }
                    if consume(0x7D) {
                        value = .object(members)
                        continue
                    }
                    throw expected("',' or '}'")
                }
            }
            return value
        }
    }

    /// Skips any value, checking it as strictly as `readValue()` does but
    /// without allocating (except for nesting deeper than 64 levels).
    public mutating func skipValue() throws(JSONError) {
        var kinds = KindStack()  // true: object, false: array
        parsing: while true {
            skipWhitespace()
            guard offset < bytes.count else { throw expected("a value") }
            switch bytes[offset] {
            case 0x7B, 0x5B:
                let isObject = bytes[offset] == 0x7B
                if depth &+ kinds.count >= maxDepth { throw tooDeep() }
                offset &+= 1
                if consume(isObject ? 0x7D : 0x5D) { break }
                kinds.push(isObject)
                if isObject {
                    _ = try readRawString()
                    try expect(0x3A)
                }
                continue parsing
            case 0x22:
                try skipString()
            case 0x74, 0x66:
                _ = try readBool()
            case 0x6E:
                if !readNull() { throw expected("a value") }
            case 0x2D, 0x30...0x39:
                _ = try readNumber()
            default:
                throw expected("a value")
            }
            // A value is complete.
            while let isObject = kinds.top {
                if consume(0x2C) {
                    if isObject {
                        _ = try readRawString()
                        try expect(0x3A)
                    }
                    continue parsing
                }
                if consume(isObject ? 0x7D : 0x5D) {
                    kinds.pop()
                    continue
                }
                throw expected(isObject ? "',' or '}'" : "',' or ']'")
            }
            return
        }
    }
}

/// A stack of booleans that lives in one word up to 64 entries.
struct KindStack {
    private var bits: UInt64 = 0
    private var overflow: [Bool] = []
    private(set) var count = 0

    var top: Bool? {
        if count == 0 { return nil }
        if count > 64 { return overflow[overflow.count - 1] }
        return bits & (1 << UInt64(count - 1)) != 0
    }

    mutating func push(_ v: Bool) {
        if count >= 64 {
            overflow.append(v)
        } else if v {
            bits |= 1 << UInt64(count)
        } else {
            bits &= ~(1 << UInt64(count))
        }
        count += 1
    }

    mutating func pop() {
        guard count > 0 else { return }
        if count > 64 { overflow.removeLast() }
        count -= 1
    }
}

/// A string as it appears in the input, between its quotes, escapes not yet
/// decoded. Points into the scanner's input.
public struct JSONRawString {
    /// The bytes between the quotes.
    public let raw: UnsafeRawBufferPointer
    /// Whether `raw` contains backslash escapes (then it differs from the value).
    public let hasEscapes: Bool

    @inlinable
    public init(raw: UnsafeRawBufferPointer, hasEscapes: Bool) {
        self.raw = raw
        self.hasEscapes = hasEscapes
    }

    /// The decoded value.
    public var decoded: String {
        hasEscapes ? JSONScanner.unescape(raw, 0, raw.count) : ByteScan.string(raw, 0, raw.count)
    }

    /// Whether the decoded value equals `name`, without allocating when the
    /// string has no escapes.
    @inlinable @inline(__always)
    public func equals(_ name: StaticString) -> Bool {
        let k = name.utf8CodeUnitCount
        if hasEscapes {
            return decoded.utf8.elementsEqual(UnsafeBufferPointer(start: name.utf8Start, count: k))
        }
        guard raw.count == k else { return false }
        let p = name.utf8Start
        var i = 0
        while i < k {
            if raw[i] != p[i] { return false }
            i &+= 1
        }
        return true
    }
}
