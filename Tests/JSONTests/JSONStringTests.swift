import JSON
import Testing

/// `JSONString.append` of raw bytes, as text.
func literal(_ bytes: [UInt8]) -> String {
    var out: [UInt8] = []
    bytes.withUnsafeBytes { JSONString.append($0, to: &out) }
    return String(decoding: out, as: UTF8.self)
}

func literal(_ s: String) -> String {
    var out: [UInt8] = []
    JSONString.append(s, to: &out)
    return String(decoding: out, as: UTF8.self)
}

/// A small deterministic generator (xorshift64*).
struct TestRandom {
    var state: UInt64
    mutating func next() -> UInt64 {
        state ^= state >> 12
        state ^= state << 25
        state ^= state >> 27
        return state &* 0x2545_F491_4F6C_DD1D
    }
}

@Suite("Writing strings")
struct JSONStringTests {
    @Test("escapes quote, backslash and control characters")
    func escapes() {
        #expect(literal("hello") == #""hello""#)
        #expect(literal("") == #""""#)
        #expect(literal("a\"b\\c") == #""a\"b\\c""#)
        #expect(literal("\n\r\t\u{8}\u{C}") == #""\n\r\t\b\f""#)
        #expect(literal("\u{0}\u{1}\u{1B}\u{1F}") == #""\u0000\u0001\u001b\u001f""#)
        #expect(literal("/ \u{7F} ~") == "\"/ \u{7F} ~\"")
        #expect(literal("é€😀") == "\"é€😀\"")
    }

    @Test("appends to what is there")
    func appends() {
        var out = Array("[".utf8)
        JSONString.append("a", to: &out)
        out.append(0x2C)
        JSONString.append("b", to: &out)
        #expect(String(decoding: out, as: UTF8.self) == #"["a","b""#)
        #expect(JSONString.encode("x\ny") == Array(#""x\ny""#.utf8))
    }

    @Test("long runs with escapes at every offset")
    func longRuns() throws {
        let base = Array("abcdefghijklmnopqrstuvwxyz0123456789".utf8)
        for position in 0..<base.count {
            for special in [UInt8(0x22), 0x5C, 0x0A, 0x01, 0xC3] {
                var bytes = base
                bytes[position] = special
                let text = literal(bytes)
                let back = try JSONValue.parse(text)
                #expect(back == .string(String(decoding: bytes, as: UTF8.self)))
            }
        }
    }

    @Test("invalid UTF-8 becomes U+FFFD per maximal subpart", arguments: [
        ([0xC3, 0x28], "\u{FFFD}("),
        ([0xC0, 0xAF], "\u{FFFD}\u{FFFD}"),
        ([0xE0, 0x80, 0xAF], "\u{FFFD}\u{FFFD}\u{FFFD}"),
        ([0xF0, 0x80, 0x80, 0xAF], "\u{FFFD}\u{FFFD}\u{FFFD}\u{FFFD}"),
        ([0xE2, 0x82], "\u{FFFD}"),
        ([0xE2, 0x82, 0x41], "\u{FFFD}A"),
        ([0xF0, 0x9F, 0x98], "\u{FFFD}"),
        ([0xF0, 0x9F, 0x98, 0x22], "\u{FFFD}\\\""),
        ([0xED, 0xA0, 0x80], "\u{FFFD}\u{FFFD}\u{FFFD}"),
        ([0xED, 0x9F, 0xBF], "\u{D7FF}"),
        ([0xF4, 0x8F, 0xBF, 0xBF], "\u{10FFFF}"),
        ([0xF4, 0x90, 0x80, 0x80], "\u{FFFD}\u{FFFD}\u{FFFD}\u{FFFD}"),
        ([0xF5, 0x80, 0x80, 0x80], "\u{FFFD}\u{FFFD}\u{FFFD}\u{FFFD}"),
        ([0x80], "\u{FFFD}"),
        ([0xBF, 0xBF, 0x41], "\u{FFFD}\u{FFFD}A"),
        ([0xFE, 0xFF], "\u{FFFD}\u{FFFD}"),
        ([0xC2], "\u{FFFD}"),
        ([0xE1, 0x80, 0x0A], "\u{FFFD}\\n"),
    ] as [([UInt8], String)])
    func invalidUTF8(_ bytes: [UInt8], _ expected: String) {
        #expect(literal(bytes) == "\"\(expected)\"")
    }

    /// Random bytes, weighted towards UTF-8 lead and continuation bytes: the
    /// writer must agree with the standard library's repair and the result
    /// must parse back to the same string.
    @Test("agrees with String(decoding:) on random bytes, and parses back")
    func randomBytes() throws {
        var random = TestRandom(state: 0x1234_5678_9ABC_DEF1)
        let interesting: [UInt8] = [0x00, 0x0A, 0x22, 0x5C, 0x41, 0x7F, 0x80, 0xBF, 0xC0, 0xC2, 0xDF, 0xE0, 0xED,
                                    0xEF, 0xF0, 0xF4, 0xF5, 0xFF, 0xA0, 0x9F, 0x90, 0x8F]
        for _ in 0..<3000 {
            let count = Int(random.next() % 40)
            var bytes: [UInt8] = []
            for _ in 0..<count {
                let r = random.next()
                bytes.append(r % 3 == 0 ? UInt8(truncatingIfNeeded: r >> 8) : interesting[Int((r >> 8) % UInt64(interesting.count))])
            }
            let repaired = String(decoding: bytes, as: UTF8.self)
            #expect(literal(bytes) == literal(repaired), "bytes: \(bytes)")
            #expect(try JSONValue.parse(literal(bytes)) == .string(repaired), "bytes: \(bytes)")
        }
    }

    @Test("never traps on empty input")
    func empty() {
        #expect(literal([UInt8]()) == #""""#)
        var out: [UInt8] = []
        JSONString.append(UnsafeRawBufferPointer(start: nil, count: 0), to: &out)
        #expect(out == [0x22, 0x22])
    }
}

@Suite("Scanner")
struct ScannerTests {
    @Test("reads members in any order and skips the rest without building them")
    func members() throws {
        let text = Array(#" {"skip":{"x":[1,{"y":"\u00e9\n"},[[]],-2.5e3,true,null]},"name":"n","n":7,"t":[]} "#.utf8)
        var name = ""
        var number = 0
        try withBytes(text) { p throws(JSONError) in
            var s = JSONScanner(p)
            try s.readObject { s, key throws(JSONError) in
                if key.equals("name") {
                    name = try s.readString()
                } else if key.equals("n") {
                    number = JSONScanner.integer(try s.readNumber()) ?? -1
                } else {
                    try s.skipValue()
                }
            }
            try s.expectEnd()
        }
        #expect(name == "n")
        #expect(number == 7)
    }

    @Test("skipValue is as strict as readValue", arguments: [
        #"{"a":[1,2,]}"#, #"{"a" 1}"#, #"[01]"#, #"["\x"]"#, "[tru]", #"{"a":1"#, #"{"a":1]"#, "[1}",
    ])
    func skipStrict(_ text: String) {
        let bytes = Array(text.utf8)
        let viaRead = parseError(bytes)
        let viaSkip = bytes.withUnsafeBytes { p -> String? in
            var s = JSONScanner(p)
            do throws(JSONError) {
                try s.skipValue()
                try s.expectEnd()
                return nil
            } catch {
                return error.description
            }
        }
        #expect(viaRead != nil)
        #expect(viaSkip == viaRead)
    }

    @Test("skipValue handles deep nesting with a limit")
    func skipDeep() {
        for depth in [63, 64, 65, 200, 512, 513] {
            let text = Array((String(repeating: "[", count: depth) + String(repeating: "]", count: depth)).utf8)
            let error = text.withUnsafeBytes { p -> JSONError? in
                var s = JSONScanner(p)
                do throws(JSONError) { try s.skipValue() } catch { return error }
                return nil
            }
            #expect((error == nil) == (depth <= 512), "depth \(depth)")
        }
    }

    @Test("consumeKey matches whole keys only")
    func consumeKey() {
        let source = #"{"hostname":1,"host":2,"hostnames":3,"id" :4,"i\u0064":5}"#
        let text = Array(source.utf8)
        func at(_ needle: String) -> Int {
            let n = Array(needle.utf8)
            for i in 0...(text.count - n.count) where Array(text[i..<(i + n.count)]) == n { return i }
            return -1
        }
        func consume(_ s: inout JSONScanner, _ key: StaticString) -> Bool { s.consumeKey(key) }
        text.withUnsafeBytes { p in
            var s = JSONScanner(p)
            s.offset = 1
            #expect(consume(&s, "host") == false)
            #expect(s.offset == 1)
            #expect(consume(&s, "hostname") == true)
            #expect(s.offset == at(":1") + 1)
            s.offset = at(#""host""#)
            #expect(consume(&s, "hostname") == false)
            #expect(consume(&s, "host") == true)
            s.offset = at(#""hostnames""#)
            #expect(consume(&s, "hostname") == false)
            #expect(consume(&s, "hostnames") == true)
            s.offset = at(#""id""#)
            #expect(consume(&s, "id") == false)  // space before the colon
            s.offset = at(#""i\u"#)
            #expect(consume(&s, "id") == false)  // escaped
        }
    }

    @Test("raw strings compare without decoding, escaped ones decode")
    func rawStrings() throws {
        let text = Array(#"["stdout","std\u006fut","stdout2"]"#.utf8)
        var matches: [Bool] = []
        try withBytes(text) { p throws(JSONError) in
            var s = JSONScanner(p)
            try s.readArray { s throws(JSONError) in
                let raw = try s.readRawString()
                matches.append(raw.equals("stdout"))
            }
        }
        #expect(matches == [true, true, false])
    }
}
