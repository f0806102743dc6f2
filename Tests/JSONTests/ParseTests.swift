import JSON
import Testing

/// Runs `body` on the bytes of `array`, passing on its typed error.
func withBytes<R>(_ array: [UInt8], _ body: (UnsafeRawBufferPointer) throws(JSONError) -> R) throws(JSONError) -> R {
    try array.withUnsafeBufferPointer { (p) throws(JSONError) -> R in try body(UnsafeRawBufferPointer(p)) }
}

/// Parses `bytes`, returning the error instead of throwing it.
func parseResult(_ bytes: [UInt8]) -> Result<JSONValue, JSONError> {
    Result { () throws(JSONError) -> JSONValue in try JSONValue.parse(bytes) }
}

func parseResult(_ text: String) -> Result<JSONValue, JSONError> {
    parseResult(Array(text.utf8))
}

/// The error parsing `text` gives, as its description; nil when it parses.
func parseError(_ text: String) -> String? {
    parseError(Array(text.utf8))
}

func parseError(_ bytes: [UInt8]) -> String? {
    if case .failure(let e) = parseResult(bytes) { return e.description }
    return nil
}

/// The string value of the JSON string literal `bytes` (quotes included).
func stringValue(_ bytes: [UInt8]) throws -> String? {
    try JSONValue.parse(bytes).string
}

@Suite("Parsing values")
struct ValueTests {
    @Test("literals, numbers, strings, arrays and objects")
    func values() throws {
        #expect(try JSONValue.parse("null") == .null)
        #expect(try JSONValue.parse("true") == .bool(true))
        #expect(try JSONValue.parse(" false ") == .bool(false))
        #expect(try JSONValue.parse("\"hi\"") == .string("hi"))
        #expect(try JSONValue.parse("[]") == .array([]))
        #expect(try JSONValue.parse("{}") == .object([]))
        #expect(try JSONValue.parse("[1, \"a\", null, [true]]") == .array([.number("1"), .string("a"), .null, .array([.bool(true)])]))
        #expect(try JSONValue.parse("\t\r\n {\"a\" : { \"b\" : [ ] } }\n") == .object([("a", .object([("b", .array([]))]))]))
    }

    @Test("objects keep member order and duplicate keys; subscript finds the first")
    func objectOrder() throws {
        let v = try JSONValue.parse(#"{"b":1,"a":2,"b":3}"#)
        #expect(v.object?.map(\.0) == ["b", "a", "b"])
        #expect(v["b"] == .number("1"))
        #expect(v["a"]?.int == 2)
        #expect(v["c"] == nil)
        #expect(JSONValue.array([])["a"] == nil)
        // Order matters for equality.
        #expect(JSONValue.object([("a", 1), ("b", 2)]) != JSONValue.object([("b", 2), ("a", 1)]))
        #expect(JSONValue.object([("a", 1), ("b", 2)]) == ["a": 1, "b": 2])
    }

    @Test("accessors return nil for other kinds")
    func accessors() throws {
        let v = try JSONValue.parse(#"{"s":"x","n":12,"f":1.5,"t":true,"a":[1],"o":{}}"#)
        #expect(v["s"]?.string == "x")
        #expect(v["s"]?.int == nil)
        #expect(v["n"]?.int == 12)
        #expect(v["n"]?.string == nil)
        #expect(v["f"]?.int == nil)
        #expect(v["t"]?.bool == true)
        #expect(v["a"]?.array == [.number("1")])
        #expect(v["o"]?.object?.isEmpty == true)
        #expect(v.bool == nil)
        #expect(v.array == nil)
        #expect(v.string == nil)
    }

    @Test("the three parse entry points agree")
    func entryPoints() throws {
        let text = #"{"k":[1,"é"]}"#
        let bytes = Array(text.utf8)
        let fromString = try JSONValue.parse(text)
        let fromArray = try JSONValue.parse(bytes)
        let fromBuffer = try withBytes(bytes) { p throws(JSONError) in try JSONValue.parse(p) }
        #expect(fromString == fromArray)
        #expect(fromArray == fromBuffer)
    }
}

@Suite("Numbers")
struct NumberTests {
    @Test("valid numbers keep their text", arguments: [
        "0", "-0", "1", "-1", "10", "1.5", "-1.5e10", "1E+2", "1e-2", "0.0", "0e0", "-0.000001",
        "123456789012345678901234567890", "1.7976931348623157e308",
    ])
    func valid(_ text: String) throws {
        #expect(try JSONValue.parse(text) == .number(text))
        #expect(try JSONValue.parse("[\(text)]") == .array([.number(text)]))
    }

    @Test("invalid numbers are errors", arguments: [
        ("01", "line 1, column 2: unexpected '1' after the JSON value"),
        ("-", "line 1, column 2: unexpected end of input, expected a digit"),
        ("-a", "line 1, column 2: expected a digit"),
        ("1.", "line 1, column 3: unexpected end of input, expected a digit after '.'"),
        ("1.e5", "line 1, column 3: expected a digit after '.'"),
        (".5", "line 1, column 1: expected a value"),
        ("1e", "line 1, column 3: unexpected end of input, expected a digit in the exponent"),
        ("1e+", "line 1, column 4: unexpected end of input, expected a digit in the exponent"),
        ("+1", "line 1, column 1: expected a value"),
        ("0x10", "line 1, column 2: unexpected 'x' after the JSON value"),
        ("-01", "line 1, column 3: unexpected '1' after the JSON value"),
        ("1.5.", "line 1, column 4: unexpected '.' after the JSON value"),
        ("--1", "line 1, column 2: expected a digit"),
        ("NaN", "line 1, column 1: expected a value"),
        ("Infinity", "line 1, column 1: expected a value"),
        ("[1 2]", "line 1, column 4: expected ',' or ']'"),
    ])
    func invalid(_ text: String, _ expected: String) {
        #expect(parseError(text) == expected)
    }

    @Test("int reads integers that fit, nothing else")
    func int() {
        #expect(JSONValue.number("42").int == 42)
        #expect(JSONValue.number("-0").int == 0)
        #expect(JSONValue.number("-17").int == -17)
        #expect(JSONValue.number("9223372036854775807").int == Int.max)
        #expect(JSONValue.number("-9223372036854775808").int == Int.min)
        #expect(JSONValue.number("9223372036854775808").int == nil)
        #expect(JSONValue.number("-9223372036854775809").int == nil)
        #expect(JSONValue.number("1.0").int == nil)
        #expect(JSONValue.number("1e3").int == nil)
        #expect(JSONValue.string("1").int == nil)
    }
}

@Suite("Strings")
struct StringTests {
    @Test("every escape decodes")
    func escapes() throws {
        #expect(try JSONValue.parse(#""\" \\ \/ \b \f \n \r \t""#) == .string("\" \\ / \u{8} \u{C} \n \r \t"))
        #expect(try JSONValue.parse(#""\u0041\u00e9\u00E9\u20AC\u0000""#) == .string("Aéé€\u{0}"))
        #expect(try JSONValue.parse(#""a\nb""#) == .string("a\nb"))
        // Escapes next to long plain runs (the word-at-a-time paths).
        let long = String(repeating: "abcdefgh", count: 9)
        #expect(try JSONValue.parse("\"\(long)\\n\(long)\\\"\"") == .string(long + "\n" + long + "\""))
    }

    @Test("surrogate pairs combine; lone surrogates become U+FFFD")
    func surrogates() throws {
        #expect(try JSONValue.parse(#""\uD83D\uDE00""#) == .string("😀"))
        #expect(try JSONValue.parse(#""\ud83d\ude00""#) == .string("😀"))
        #expect(try JSONValue.parse(#""\uDBFF\uDFFF""#) == .string("\u{10FFFF}"))
        #expect(try JSONValue.parse(#""\uD83D""#) == .string("\u{FFFD}"))
        #expect(try JSONValue.parse(#""\uDE00""#) == .string("\u{FFFD}"))
        #expect(try JSONValue.parse(#""\uD83Dx""#) == .string("\u{FFFD}x"))
        #expect(try JSONValue.parse(#""\uD83D\n""#) == .string("\u{FFFD}\n"))
        #expect(try JSONValue.parse(#""\uD83D\u0041""#) == .string("\u{FFFD}A"))
        #expect(try JSONValue.parse(#""\uD83D\uD83D\uDE00""#) == .string("\u{FFFD}😀"))
        #expect(try JSONValue.parse(#""\uDE00\uD83D""#) == .string("\u{FFFD}\u{FFFD}"))
        #expect(try JSONValue.parse(#"{"\uD800":1}"#)["\u{FFFD}"] == .number("1"))
    }

    @Test("raw UTF-8 passes through")
    func utf8() throws {
        #expect(try JSONValue.parse("\"é€😀 日本語\"") == .string("é€😀 日本語"))
    }

    @Test("unescaped control characters are errors", arguments: [UInt8(0x00), 0x01, 0x09, 0x0A, 0x0D, 0x1F])
    func controls(_ c: UInt8) {
        let hex = String(c, radix: 16, uppercase: true)
        let shown = "byte 0x" + (hex.count == 1 ? "0" + hex : hex)
        #expect(parseError([0x22, 0x61, c, 0x62, 0x22]) == "line 1, column 3: control character \(shown) must be escaped in a string")
    }

    @Test("DEL and other bytes from 0x20 up need no escape")
    func del() throws {
        #expect(try stringValue([0x22, 0x7F, 0x20, 0x7E, 0x22]) == "\u{7F} ~")
    }

    @Test("bad escapes are errors", arguments: [
        (#""\x""#, "line 1, column 2: invalid escape '\\x'"),
        (#""\U0041""#, "line 1, column 2: invalid escape '\\U'"),
        (#""\u12G4""#, "line 1, column 6: invalid \\u escape: expected 4 hex digits"),
        (#""\u12""#, "line 1, column 6: invalid \\u escape: expected 4 hex digits"),
        (#""\u12"#, "line 1, column 6: invalid \\u escape: expected 4 hex digits"),
        ("\"\\", "line 1, column 3: unterminated string"),
        ("\"abc", "line 1, column 5: unterminated string"),
        ("\"", "line 1, column 2: unterminated string"),
        (#"{"a\q":1}"#, "line 1, column 4: invalid escape '\\q'"),
    ])
    func badEscapes(_ text: String, _ expected: String) {
        #expect(parseError(text) == expected)
    }

    /// Ill-formed UTF-8 inside strings becomes U+FFFD, one per maximal subpart.
    @Test("invalid UTF-8 is replaced, not an error", arguments: [
        ([0xC3, 0x28], "\u{FFFD}("),  // lead byte without its continuation
        ([0xC0, 0xAF], "\u{FFFD}\u{FFFD}"),  // overlong '/'
        ([0xE0, 0x80, 0xAF], "\u{FFFD}\u{FFFD}\u{FFFD}"),  // overlong, 3 bytes
        ([0xF0, 0x80, 0x80, 0xAF], "\u{FFFD}\u{FFFD}\u{FFFD}\u{FFFD}"),  // overlong, 4 bytes
        ([0xE2, 0x82], "\u{FFFD}"),  // truncated €
        ([0xE2, 0x82, 0x41], "\u{FFFD}A"),
        ([0xF0, 0x9F, 0x98], "\u{FFFD}"),  // truncated 😀
        ([0xED, 0xA0, 0x80], "\u{FFFD}\u{FFFD}\u{FFFD}"),  // UTF-16 surrogate D800 in UTF-8
        ([0xED, 0xBF, 0xBF], "\u{FFFD}\u{FFFD}\u{FFFD}"),  // surrogate DFFF
        ([0xF4, 0x90, 0x80, 0x80], "\u{FFFD}\u{FFFD}\u{FFFD}\u{FFFD}"),  // U+110000
        ([0xF5, 0x80, 0x80, 0x80], "\u{FFFD}\u{FFFD}\u{FFFD}\u{FFFD}"),  // past U+10FFFF
        ([0x80], "\u{FFFD}"),  // stray continuation
        ([0xBF, 0xBF, 0x41], "\u{FFFD}\u{FFFD}A"),
        ([0xFE, 0xFF], "\u{FFFD}\u{FFFD}"),
        ([0x61, 0xF0, 0x9F, 0x98, 0x80, 0x62], "a😀b"),  // valid, for contrast
    ] as [([UInt8], String)])
    func invalidUTF8(_ inner: [UInt8], _ expected: String) throws {
        #expect(try stringValue([0x22] + inner + [0x22]) == expected)
        // The same with an escape in the string (the decoding path).
        #expect(try stringValue([0x22, 0x5C, 0x6E] + inner + [0x22]) == "\n" + expected)
        // As a key, too.
        let object = try JSONValue.parse([0x7B, 0x22] + inner + [0x22, 0x3A, 0x30, 0x7D])
        #expect(object.object?.first?.0 == expected)
    }
}

@Suite("Errors")
struct ErrorTests {
    @Test("malformed documents report line, column (in bytes) and what was expected", arguments: [
        ("", "line 1, column 1: unexpected end of input, expected a value"),
        ("  \n ", "line 2, column 2: unexpected end of input, expected a value"),
        (#"{"a":1,}"#, "line 1, column 8: expected '\"'"),
        (#"{"a" 1}"#, "line 1, column 6: expected ':'"),
        (#"{"a":1"#, "line 1, column 7: unexpected end of input, expected ',' or '}'"),
        (#"{"a":1]"#, "line 1, column 7: expected ',' or '}'"),
        ("[1,2", "line 1, column 5: unexpected end of input, expected ',' or ']'"),
        ("[1,]", "line 1, column 4: expected a value"),
        ("[,1]", "line 1, column 2: expected a value"),
        ("{1:2}", "line 1, column 2: expected '\"'"),
        ("tru", "line 1, column 1: expected true or false"),
        ("nul", "line 1, column 1: expected a value"),
        ("truex", "line 1, column 5: unexpected 'x' after the JSON value"),
        ("{} {}", "line 1, column 4: unexpected '{' after the JSON value"),
        ("1 2", "line 1, column 3: unexpected '2' after the JSON value"),
        ("{\n  \"a\": 1,\n  \"b\": ?\n}", "line 3, column 8: expected a value"),
        ("[\"é\", x]", "line 1, column 8: expected a value"),  // column counts bytes: é is 2
        ("\u{FEFF}{}", "line 1, column 1: expected a value"),
    ])
    func malformed(_ text: String, _ expected: String) {
        #expect(parseError(text) == expected)
    }

    @Test("a byte that is not text is shown in hex")
    func hexBytes() {
        #expect(parseError([0x5B, 0x00, 0x5D]) == "line 1, column 2: expected a value")
        #expect(parseError([0x31, 0xFF]) == "line 1, column 2: unexpected byte 0xFF after the JSON value")
    }

    @Test("the description has the documented shape")
    func description() {
        let e = JSONError(line: 1, column: 40, message: "expected '\"'")
        #expect(e.description == "line 1, column 40: expected '\"'")
    }
}

@Suite("Nesting")
struct NestingTests {
    @Test("512 levels parse; 513 are an error, not a crash")
    func depthLimit() throws {
        let ok = String(repeating: "[", count: 512) + String(repeating: "]", count: 512)
        #expect(parseError(ok) == nil)
        let tooDeep = String(repeating: "[", count: 513) + String(repeating: "]", count: 513)
        #expect(parseError(tooDeep) == "line 1, column 513: nesting deeper than 512 levels")
        let objects = String(repeating: #"{"a":"#, count: 513) + "1" + String(repeating: "}", count: 513)
        #expect(parseError(objects) == "line 1, column 2561: nesting deeper than 512 levels")
    }

    @Test("very deep input fails cleanly")
    func veryDeep() {
        let deep = [UInt8](repeating: 0x5B, count: 200_000)
        #expect(parseError(deep) == "line 1, column 513: nesting deeper than 512 levels")
    }

    @Test("a custom depth limit")
    func customLimit() throws {
        let text = Array("[[[1]]]".utf8)
        let result = text.withUnsafeBytes { p in
            Result { () throws(JSONError) -> JSONValue in
                var s = JSONScanner(p, maxDepth: 2)
                return try s.readValue()
            }
        }
        #expect(throws: JSONError(line: 1, column: 3, message: "nesting deeper than 2 levels")) { try result.get() }
    }

    @Test("deep values round-trip")
    func deepRoundTrip() throws {
        let text = String(repeating: #"{"k":["#, count: 200) + "null" + String(repeating: "]}", count: 200)
        let v = try JSONValue.parse(text)
        #expect(String(decoding: v.encoded(), as: UTF8.self) == text)
    }
}

@Suite("Encoding")
struct EncodingTests {
    @Test("compact text, order kept, byte-identical for compact input")
    func compact() throws {
        let text = #"{"a":[1,2.50,-3e10,true,false,null,"x\"y\\z\n\u0001"],"b":{},"c":[],"":"é😀","a":0}"#
        let v = try JSONValue.parse(text)
        #expect(String(decoding: v.encoded(), as: UTF8.self) == text)
        #expect(v.description == text)
    }

    @Test("whitespace is dropped")
    func whitespace() throws {
        let v = try JSONValue.parse(" { \"a\" : [ 1 , 2 ] ,\n \"b\" : null } ")
        #expect(String(decoding: v.encoded(), as: UTF8.self) == #"{"a":[1,2],"b":null}"#)
    }

    @Test("parse then encode then parse is the identity")
    func roundTrip() throws {
        let values: [JSONValue] = [
            .null, true, 0, "", "\u{0}\u{1F}\"\\/\u{7F}é😀\u{FFFD}",
            ["a": ["b": [1, 2, ["c": nil]]], "d": .number("-1.5e-7")],
            .array((0..<100).map { .number(String($0)) }),
        ]
        for v in values {
            #expect(try JSONValue.parse(v.encoded()) == v)
        }
    }

    @Test("literals build values")
    func literals() {
        let v: JSONValue = ["n": 1, "s": "x", "b": false, "z": nil, "a": [1, "2"]]
        #expect(v == .object([
            ("n", .number("1")), ("s", .string("x")), ("b", .bool(false)), ("z", .null),
            ("a", .array([.number("1"), .string("2")])),
        ]))
    }
}
