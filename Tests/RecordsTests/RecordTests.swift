import JSON
import Records
import Testing

@Suite("Writing records")
struct EncodeTests {
    @Test("the documented example, byte for byte")
    func example() {
        #expect(String(decoding: exampleContainer.encodedJSON(), as: UTF8.self) == exampleContainerJSON)
        let r = Record(time: exampleTime, source: .stdout, data: "GET / 200", container: exampleContainer)
        #expect(encoded(r) == #"{"time":"\#(exampleTime)","source":"stdout","data":"GET / 200","container":\#(exampleContainerJSON)}"# + "\n")
    }

    @Test("partial is written only when true, right after data")
    func partial() {
        var r = Record(time: "t", source: .stderr, data: "d", partial: true, container: Container(id: "i"))
        let container = #"{"id":"i","name":"","image":"","hostname":"","pid":0,"labels":{}}"#
        #expect(encoded(r) == #"{"time":"t","source":"stderr","data":"d","partial":true,"container":\#(container)}"# + "\n")
        r.partial = false
        #expect(encoded(r) == #"{"time":"t","source":"stderr","data":"d","container":\#(container)}"# + "\n")
    }

    @Test("a routed record ends with its route")
    func routed() throws {
        let target: JSONValue = ["type": "http", "url": "http://es:9200/_bulk", "batch": ["max": 500, "wait": .number("1.50")]]
        let r = Record(time: "t", source: .stdout, data: "d", partial: true, container: Container(id: "i"),
                       route: Route(id: "errors", target: target))
        let line = encoded(r)
        #expect(line.hasSuffix(#","route":{"id":"errors","target":{"type":"http","url":"http://es:9200/_bulk","batch":{"max":500,"wait":1.50}}}}"# + "\n"))
        let back = try decode(String(line.dropLast()))
        #expect(back == r)
        #expect(back.route?.target["batch"]?["wait"] == .number("1.50"))
    }

    @Test("encode appends to what is in the buffer")
    func appends() {
        var out = Array("x".utf8)
        let r = Record(time: "t", source: .stdout, data: "d", container: Container(id: "i"))
        RecordCodec.encode(r, into: &out)
        RecordCodec.encode(r, into: &out)
        let line = encoded(r)
        #expect(String(decoding: out, as: UTF8.self) == "x" + line + line)
    }

    @Test("strings are escaped everywhere")
    func escaping() throws {
        let c = Container(id: "a\"b", name: "n\\", image: "i\n", hostname: "h\u{1}", pid: -3, labels: ["k\"": "v\t", "é": "😀"])
        let r = Record(time: "t\"", source: .stdout, data: "line with \"quotes\" and \u{1B}[31mcolour\u{1B}[0m", container: c)
        let back = try RecordCodec.decode(line: Array(RecordCodec.encode(r).dropLast()))
        #expect(back == r)
        #expect(String(decoding: c.encodedJSON(), as: UTF8.self) == #"{"id":"a\"b","name":"n\\","image":"i\n","hostname":"h\u0001","pid":-3,"labels":{"k\"":"v\t","é":"😀"}}"#)
    }

    @Test("pid extremes")
    func pids() throws {
        for pid in [0, 1, -1, Int.max, Int.min] {
            let r = Record(time: "t", source: .stdout, data: "d", container: Container(id: "i", pid: pid))
            #expect(try RecordCodec.decode(line: Array(RecordCodec.encode(r).dropLast())).container.pid == pid)
        }
    }

    @Test("the append fast path writes what encode writes")
    func appendFastPath() throws {
        let containerJSON = exampleContainer.encodedJSON()
        let cases: [([UInt8], Source, Bool)] = [
            (Array("GET / 200".utf8), .stdout, false),
            (Array("err".utf8), .stderr, true),
            ([], .stdout, false),
            (Array("tab\there \"q\" \\ é 😀".utf8), .stdout, false),
        ]
        for (data, source, partial) in cases {
            var fast: [UInt8] = []
            Array(exampleTime.utf8).withUnsafeBytes { time in
                data.withUnsafeBytes { data in
                    RecordCodec.append(time: time, source: source, data: data, partial: partial,
                                       containerJSON: containerJSON, into: &fast)
                }
            }
            let r = Record(time: exampleTime, source: source, data: String(decoding: data, as: UTF8.self),
                           partial: partial, container: exampleContainer)
            #expect(fast == RecordCodec.encode(r))
        }
    }

    @Test("the append fast path replaces invalid UTF-8 with U+FFFD")
    func appendInvalidUTF8() throws {
        let data: [UInt8] = [0x61, 0xFF, 0x62, 0xE2, 0x82, 0x63, 0xED, 0xA0, 0x80]
        var out: [UInt8] = []
        [UInt8]("t".utf8).withUnsafeBytes { time in
            data.withUnsafeBytes { d in
                RecordCodec.append(time: time, source: .stdout, data: d, partial: false,
                                   containerJSON: Container(id: "i").encodedJSON(), into: &out)
            }
        }
        #expect(out.last == 0x0A)
        let r = try RecordCodec.decode(line: Array(out.dropLast()))
        #expect(r.data == "a\u{FFFD}b\u{FFFD}c\u{FFFD}\u{FFFD}\u{FFFD}")
        #expect(r.data == String(decoding: data, as: UTF8.self))
    }

    @Test("source names")
    func sources() {
        #expect(Source.stdout.name == "stdout")
        #expect(Source.stderr.name == "stderr")
        #expect(Source(name: "stderr") == .stderr)
        #expect(Source(name: "stdin") == nil)
    }
}

@Suite("Reading records")
struct DecodeTests {
    let plain = #"{"time":"\#(exampleTime)","source":"stdout","data":"GET / 200","container":\#(exampleContainerJSON)}"#

    @Test("the documented example")
    func example() throws {
        let r = try decode(plain)
        #expect(r == Record(time: exampleTime, source: .stdout, data: "GET / 200", container: exampleContainer))
        #expect(r.partial == false)
        #expect(r.route == nil)
        #expect(r.container.label("team") == "db")
    }

    @Test("field order does not matter")
    func order() throws {
        let fields = [#""time":"t""#, #""source":"stderr""#, #""data":"d""#, #""partial":true"#,
                      #""container":{"pid":5,"labels":{"a":"b"},"id":"i","hostname":"h","image":"m","name":"n"}"#,
                      #""route":{"target":[1],"id":"r"}"#]
        let expected = Record(time: "t", source: .stderr, data: "d", partial: true,
                              container: Container(id: "i", name: "n", image: "m", hostname: "h", pid: 5, labels: ["a": "b"]),
                              route: Route(id: "r", target: [1]))
        var count = 0
        for permutation in permutations(fields) {
            #expect(try decode("{" + permutation.joined(separator: ",") + "}") == expected)
            count += 1
        }
        #expect(count == 720)
    }

    @Test("unknown fields are skipped, whatever they hold")
    func unknown() throws {
        let junk = #"{"a":[1,2,{"b":null}],"c":"\"}\"","d":-1.5e3,"e":true,"f":{}}"#
        let line = #"{"x":\#(junk),"time":"t","source":"stdout","y":\#(junk),"data":"d","container":{"id":"i","z":\#(junk),"labels":{"k":"v"}},"route":{"id":"r","w":\#(junk),"target":{}},"v":2}"#
        let r = try decode(line)
        #expect(r == Record(time: "t", source: .stdout, data: "d", container: Container(id: "i", labels: ["k": "v"]),
                            route: Route(id: "r", target: [:])))
    }

    @Test("optional fields default; null counts as absent for them")
    func defaults() throws {
        let r = try decode(#"{"time":"t","source":"stdout","data":"d","container":{"id":"i"}}"#)
        #expect(r.container == Container(id: "i", name: "", image: "", hostname: "", pid: 0, labels: [:]))
        #expect(r.partial == false)
        #expect(r.route == nil)
        let n = try decode(#"{"time":"t","source":"stdout","data":"d","partial":null,"container":{"id":"i","name":null,"image":null,"hostname":null,"pid":null,"labels":null},"route":null}"#)
        #expect(n == r)
    }

    @Test("a field given twice: the last one counts")
    func duplicates() throws {
        let r = try decode(#"{"time":"a","time":"b","source":"stdout","data":"d","container":{"id":"i","id":"j"}}"#)
        #expect(r.time == "b")
        #expect(r.container.id == "j")
    }

    @Test("escaped keys and values are decoded")
    func escapedKeys() throws {
        let r = try decode(#"{"\u0074ime":"t","sourc\u0065":"std\u006Fut","data":"\ud83d\ude00\n","container":{"i\u0064":"i"}}"#)
        #expect(r == Record(time: "t", source: .stdout, data: "😀\n", container: Container(id: "i")))
    }

    @Test("errors carry the stream's line number")
    func lineNumbers() {
        let line = Array(#"{"time":"t"}"#.utf8)
        guard case .failure(let e) = decodeResult(line, lineNumber: 42) else {
            Issue.record("decoded")
            return
        }
        #expect(e.description == #"line 42, column 1: missing field "source""#)
    }

    @Test("whitespace around the record, and a CR before the newline, are fine")
    func whitespace() throws {
        #expect(try decode(" \t" + plain + " \r") == decode(plain))
    }

    @Test("labels keep their order; equality compares it")
    func labels() throws {
        let r = try decode(#"{"time":"t","source":"stdout","data":"d","container":{"id":"i","labels":{"b":"1","a":"2"}}}"#)
        #expect(r.container.labels.map(\.key) == ["b", "a"])
        #expect(r.container != Container(id: "i", labels: ["a": "2", "b": "1"]))
        #expect(r.container == Container(id: "i", labels: ["b": "1", "a": "2"]))
    }
}

@Suite("RecordDecoder")
struct RecordDecoderTests {
    func line(_ container: String, data: String = "d") -> [UInt8] {
        Array(#"{"time":"t","source":"stdout","data":"\#(data)","container":\#(container)}"#.utf8)
    }

    @Test("decodes like RecordCodec while containers repeat, change and interleave")
    func sameAsCodec() throws {
        let a = #"{"id":"a","name":"web","labels":{"team":"db"}}"#
        let b = #"{"id":"b","name":"db"}"#
        let a2 = #"{"id":"a","name":"web","labels":{"team":"ops"}}"#
        let aPrefix = #"{"id":"a"}"#
        let sequence = [a, a, b, a, a2, a2, a, aPrefix, a, b, #" {"id":"b","name":"db"}"#, a]
        for capacity in [0, 1, 2, 8] {
            var decoder = RecordDecoder(containers: capacity)
            for (i, container) in sequence.enumerated() {
                let bytes = line(container, data: "\(i)")
                let expected = try RecordCodec.decode(line: bytes)
                let got = try bytes.withUnsafeBufferPointer { (p) throws(JSONError) -> Record in
                    try decoder.decode(line: UnsafeRawBufferPointer(p))
                }
                #expect(got == expected, "capacity \(capacity), record \(i)")
            }
        }
    }

    @Test("a route's stamp: the same for the same route text while it is cached, new for any other, 0 without a route or a cache")
    func routeStamps() throws {
        func stamps(_ routes: [String?], capacity: Int = 8) throws -> [UInt64] {
            var decoder = RecordDecoder(containers: capacity)
            var parts = RecordParts()
            var result: [UInt64] = []
            for (i, route) in routes.enumerated() {
                let text = Array((#"{"time":"t","source":"stdout","data":"d","container":{"id":"a"}"#
                    + (route.map { #","route":"# + $0 } ?? "") + "}").utf8)
                let failed = text.withUnsafeBytes { b -> JSONError? in
                    do throws(JSONError) { try decoder.decode(line: b, lineNumber: i + 1, into: &parts) } catch { return error }
                    return nil
                }
                if let failed { throw failed }
                #expect(parts.route == (try RecordCodec.decode(line: text)).route)
                result.append(parts.routeStamp)
            }
            return result
        }
        let r1 = #"{"id":"r1","target":{"addr":"a:514"}}"#, r2 = #"{"id":"r2","target":{"addr":"b:514"}}"#
        let r1b = #"{"id":"r1","target":{"addr":"c:514"}}"#
        let s = try stamps([r1, r2, r1, r1, nil, r1b, r2, r1])
        #expect(s[0] != 0 && s[1] != 0 && s[5] != 0 && s[4] == 0)
        #expect(s[0] == s[2] && s[2] == s[3] && s[3] == s[7] && s[1] == s[6])
        #expect(Set([s[0], s[1], s[5]]).count == 3, "\(s)")
        #expect(try stamps([r1, r1], capacity: 0) == [0, 0])
        // A text pushed out of a full cache and read again is a new entry: a new stamp.
        let many = (0..<3).map { #"{"id":"r\#($0)","target":{}}"# }
        let t = try stamps([many[0], many[1], many[2], many[0]], capacity: 2)
        #expect(Set(t).count == 4, "\(t)")
    }

    @Test("a cached container is checked like any other text after it")
    func errorsAfterCachedContainer() throws {
        var decoder = RecordDecoder()
        let good = line(#"{"id":"a"}"#)
        _ = try good.withUnsafeBufferPointer { (p) throws(JSONError) -> Record in
            try decoder.decode(line: UnsafeRawBufferPointer(p))
        }
        let bad = Array(#"{"time":"t","source":"stdout","data":"d","container":{"id":"a"}x}"#.utf8)
        let result = bad.withUnsafeBufferPointer { p in
            Result { () throws(JSONError) -> Record in try decoder.decode(line: UnsafeRawBufferPointer(p)) }
        }
        guard case .failure(let e) = result else {
            Issue.record("decoded")
            return
        }
        #expect(e.description == "line 1, column 64: expected ',' or '}'")
    }
}

/// All orderings of `items`.
func permutations<T>(_ items: [T]) -> [[T]] {
    if items.count <= 1 { return [items] }
    var result: [[T]] = []
    for i in items.indices {
        var rest = items
        let first = rest.remove(at: i)
        for p in permutations(rest) { result.append([first] + p) }
    }
    return result
}
