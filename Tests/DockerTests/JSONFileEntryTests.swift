import Testing
import Time
@testable import Docker

/// An entry parsed from `line`, with its decoded bytes and nine-digit time copied out.
struct Parsed: Equatable {
    var entry: JSONFileEntry
    var log: [UInt8]
    var time: String
}

func parseEntry(_ line: [UInt8]) throws -> Parsed {
    var parser = JSONFileEntryParser()
    let entry = try line.withUnsafeBytes { try parser.parse($0) }
    return Parsed(entry: entry, log: parser.log, time: String(decoding: parser.time, as: UTF8.self))
}

func parseEntry(_ line: String) throws -> Parsed { try parseEntry(Array(line.utf8)) }

@Suite struct JSONFileEntryTests {
    @Test("the engine's form: the log decoded with its \\n, the stream, the time with nine digits")
    func engineForm() throws {
        let p = try parseEntry(#"{"log":"hello world\n","stream":"stdout","time":"2026-11-27T21:57:46.65591699Z"}"#)
        #expect(p.log == Array("hello world\n".utf8))
        #expect(p.entry.stream == .stdout)
        #expect(!p.entry.partial)
        #expect(p.time == "2026-11-27T21:57:46.655916990Z")
        #expect(p.entry.time == Timestamp(rfc3339: "2026-11-27T21:57:46.655916990Z"))
    }

    @Test("fractions of every length, none at all, and an offset: rendered as the logs endpoint does")
    func times() throws {
        func time(_ t: String) throws -> String {
            try parseEntry(#"{"log":"x\n","stream":"stderr","time":"\#(t)"}"#).time
        }
        #expect(try time("2026-01-02T03:04:05Z") == "2026-01-02T03:04:05.000000000Z")
        #expect(try time("2026-01-02T03:04:05.1Z") == "2026-01-02T03:04:05.100000000Z")
        #expect(try time("2026-01-02T03:04:05.123456789Z") == "2026-01-02T03:04:05.123456789Z")
        #expect(try time("2026-01-02T03:04:05.000000001Z") == "2026-01-02T03:04:05.000000001Z")
        #expect(try time("2026-01-02T03:04:05.5+01:00") == "2026-01-02T02:04:05.500000000Z")
        #expect(try time("2026-01-02T03:04:05.1234567891Z") == "2026-01-02T03:04:05.123456789Z")
        // One parser through all of them, each written over the last (the time kept in a buffer reused).
        var parser = JSONFileEntryParser()
        for (given, written) in [("2026-01-02T03:04:05.123456789Z", "2026-01-02T03:04:05.123456789Z"),
                                 ("2026-01-02T03:04:05Z", "2026-01-02T03:04:05.000000000Z"),
                                 ("2026-01-02T03:04:05.5+01:00", "2026-01-02T02:04:05.500000000Z"),
                                 ("12026-01-02T03:04:05.5Z", nil),
                                 ("2026-01-02T03:04:06.25Z", "2026-01-02T03:04:06.250000000Z")] {
            var line = #"{"log":"x\n","stream":"stdout","time":"\#(given)"}"#
            let entry = try? line.withUTF8 { (b) throws(JSONFileEntryError) in try parser.parse(UnsafeRawBufferPointer(b)) }
            if let written {
                #expect(String(decoding: parser.time, as: UTF8.self) == written)
                #expect(entry?.time == Timestamp(rfc3339: written))
            }
        }
    }

    @Test("members in any order, whitespace, attrs and unknown members skipped")
    func anyOrder() throws {
        let p = try parseEntry(#" { "time" : "2026-01-02T03:04:05.5Z", "attrs":{"a":"b","c":["d",1,null]}, "x":1.5e3, "stream":"stderr" , "log":"piece" } "#)
        #expect(p.log == Array("piece".utf8))
        #expect(p.entry.stream == .stderr)
        #expect(p.entry.partial)
        #expect(p.time == "2026-01-02T03:04:05.500000000Z")
        let q = try parseEntry(#"{"log":"a\n","attrs":{"tag":"web"},"stream":"stdout","time":"2026-01-02T03:04:05Z"}"#)
        #expect(q.log == Array("a\n".utf8))
    }

    @Test("Go's escapes decoded byte for byte, invalid UTF-8 as the engine writes it and as Go reads it back")
    func escapes() throws {
        func log(_ body: String) throws -> [UInt8] {
            try parseEntry(#"{"log":"\#(body)","stream":"stdout","time":"2026-01-02T03:04:05Z"}"#).log
        }
        #expect(try log(#"tab\u0009here\n"#) == Array("tab\there\n".utf8))
        #expect(try log(#"quote \" and backslash \\ end \/"#) == Array(#"quote " and backslash \ end /"#.utf8))
        #expect(try log(#"\u003c\u0026\u003e \u2028 \u0001 \b\f\r"#) == Array("<&> \u{2028} \u{01} \u{08}\u{0C}\r".utf8))
        #expect(try log(#"\ufffd\ufffd bad"#) == [0xEF, 0xBF, 0xBD, 0xEF, 0xBF, 0xBD] + Array(" bad".utf8))
        #expect(try log(#"h\u00e9 \ud83c\udf89"#) == Array("hé 🎉".utf8))
        // A lone surrogate is U+FFFD; the escape after it is read on its own.
        #expect(try log(#"\ud800\u0041 \udc00"#) == Array("\u{FFFD}A \u{FFFD}".utf8))
        // Raw UTF-8 is copied; each raw invalid byte becomes one U+FFFD, as Go's decoder does.
        #expect(try log("héllo ✓ 🎉") == Array("héllo ✓ 🎉".utf8))
        let raw: [UInt8] = Array(#"{"log":"a"#.utf8) + [0xFF, 0xE2, 0x82, 0x41, 0xED, 0xA0, 0x80, 0x5C, 0x6E]
            + Array(#"","stream":"stdout","time":"2026-01-02T03:04:05Z"}"#.utf8)
        let fffd: [UInt8] = [0xEF, 0xBF, 0xBD]
        #expect(try parseEntry(raw).log == [0x61] + fffd + fffd + fffd + [0x41] + fffd + fffd + fffd + [0x0A])
    }

    @Test("a log without \\n is partial; an empty one too; a lone \\n is an empty line")
    func partial() throws {
        #expect(try parseEntry(#"{"log":"cut at 16 KiB","stream":"stdout","time":"2026-01-02T03:04:05Z"}"#).entry.partial)
        #expect(try parseEntry(#"{"stream":"stdout","time":"2026-01-02T03:04:05Z"}"#).entry.partial)
        let empty = try parseEntry(#"{"log":"\n","stream":"stdout","time":"2026-01-02T03:04:05Z"}"#)
        #expect(!empty.entry.partial)
        #expect(empty.log == [0x0A])
    }

    @Test("corrupt, truncated and non-JSON lines are typed errors", arguments: [
        (#"{"log":"abc\n","stream":"stdout","time":"2026-01-02T0"#, JSONFileEntryError.Kind.syntax),
        (#"{"log":"abc\n","stream":"std"#, .syntax),
        ("", .syntax),
        ("\0\0\0\0", .syntax),
        ("plain text", .syntax),
        (#"["log"]"#, .syntax),
        (#"{"log":"a\n","stream":"stdout","time":"2026-01-02T03:04:05Z"} trailing"#, .syntax),
        (#"{"log":"a\n","stream":"stdout","time":"2026-01-02T03:04:05Z"}{"log":"b"}"#, .syntax),
        (#"{"log":"a"b","stream":"stdout","time":"2026-01-02T03:04:05Z"}"#, .syntax),
        (#"{"log":"bad \x","stream":"stdout","time":"2026-01-02T03:04:05Z"}"#, .syntax),
        (#"{"log":null,"stream":"stdout","time":"2026-01-02T03:04:05Z"}"#, .syntax),
        (#"{"log":"a\n","stream":"stdout"}"#, .time),
        (#"{"log":"a\n","stream":"stdout","time":"yesterday"}"#, .time),
        (#"{"log":"a\n","stream":"stdout","time":"2026-13-02T03:04:05Z"}"#, .time),
        (#"{"log":"a\n","stream":"stdout","time":"2026-01-02T03:04:05\u005a"}"#, .time),
        (#"{}"#, .time),
        (#"{"log":"a\n","time":"2026-01-02T03:04:05Z"}"#, .stream),
        (#"{"log":"a\n","stream":"stdin","time":"2026-01-02T03:04:05Z"}"#, .stream),
    ])
    func errors(line: String, kind: JSONFileEntryError.Kind) {
        #expect { try parseEntry(line) } throws: { ($0 as? JSONFileEntryError)?.kind == kind }
    }

    @Test("a control byte inside the log, as a disk error could leave it, is an error naming the byte")
    func controlByte() {
        let line = Array(#"{"log":"a"#.utf8) + [0x00] + Array(#"\n","stream":"stdout","time":"2026-01-02T03:04:05Z"}"#.utf8)
        #expect { try parseEntry(line) } throws: { error in
            guard let e = error as? JSONFileEntryError else { return false }
            return e.kind == .syntax && e.description.contains("at byte 9")
        }
    }

    @Test("the parser's buffers are reused: a short entry after a long one holds only its own bytes")
    func reuse() throws {
        var parser = JSONFileEntryParser()
        let long = #"{"log":"\#(String(repeating: "x", count: 5000))\n","stream":"stdout","time":"2026-01-02T03:04:05.123Z"}"#
        let short = #"{"log":"y\n","stream":"stderr","time":"2026-01-02T03:04:06Z"}"#
        var a = long
        _ = try a.withUTF8 { try parser.parse(UnsafeRawBufferPointer($0)) }
        #expect(parser.log.count == 5001)
        var b = short
        let e = try b.withUTF8 { try parser.parse(UnsafeRawBufferPointer($0)) }
        #expect(parser.log == Array("y\n".utf8))
        #expect(String(decoding: parser.time, as: UTF8.self) == "2026-01-02T03:04:06.000000000Z")
        #expect(e.stream == .stderr)
    }
}

@Suite struct FeedEntryTests {
    /// Lines assembled from json-file lines through `LogStreamParser.feedEntry`.
    func assemble(_ lines: [String], tty: Bool = false, max: Int = 256 * 1024, finish: Bool = false) throws -> [Line] {
        return try assembleTimes(lines, tty: tty, max: max, finish: finish).map(\.line)
    }

    /// `assemble`, each line with the parsed time handed on with it (nil when there was none).
    func assembleTimes(_ lines: [String], tty: Bool = false, max: Int = 256 * 1024, finish: Bool = false) throws
        -> [(line: Line, parsed: Timestamp?)] {
        var parser = LogStreamParser(multiplexed: !tty, maxLineSize: max)
        var entries = JSONFileEntryParser()
        var result: [(line: Line, parsed: Timestamp?)] = []
        let emit: (LogLine) -> Void = { l in
            result.append((Line(stream: l.stream, time: String(decoding: l.time, as: UTF8.self), data: Array(l.data), partial: l.partial),
                           l.parsedTime))
        }
        for var line in lines {
            let entry = try line.withUTF8 { try entries.parse(UnsafeRawBufferPointer($0)) }
            entries.time.withUnsafeBytes { t in
                entries.log.withUnsafeBytes { text in
                    parser.feedEntry(stream: entry.stream, time: t, parsed: entry.time, text: text, emit: emit)
                }
            }
        }
        if finish { parser.finish(emit: emit) }
        return result
    }

    @Test("a line that is one entry alone comes with its parsed time; lines assembled, cut or split come without")
    func parsedTime() throws {
        func entry(_ log: String, _ time: String = "2026-01-02T03:04:05.25Z") -> String {
            #"{"log":"\#(log)","stream":"stdout","time":"\#(time)"}"#
        }
        let t = Timestamp(rfc3339: "2026-01-02T03:04:05.25Z")!
        // Up to the maximum: one line, its time parsed; one byte over: cut into pieces, as before.
        let fits = try assembleTimes([entry("12345678\\n")], max: 8)
        #expect(fits.map(\.line.data) == [Array("12345678".utf8)] && fits.map(\.parsed) == [t])
        let over = try assembleTimes([entry("123456789\\n")], max: 8)
        #expect(over.map(\.line.data) == [Array("12345678".utf8), Array("9".utf8)])
        #expect(over.map(\.line.partial) == [true, false] && over.allSatisfy { $0.parsed == nil })
        // An entry holding two lines (never written by the engine): both, without a parsed time.
        let two = try assembleTimes([entry("a\\nb\\n")])
        #expect(two.map(\.line.data) == [Array("a".utf8), Array("b".utf8)] && two.allSatisfy { $0.parsed == nil })
        // A line joined from pieces has its first piece's time, not parsed; the next whole line has its own.
        let joined = try assembleTimes([entry("ab", "2026-01-02T03:04:05.1Z"), entry("c\\n"), entry("d\\n")])
        #expect(joined.map(\.line.data) == [Array("abc".utf8), Array("d".utf8)])
        #expect(joined.map(\.line.time) == ["2026-01-02T03:04:05.100000000Z", "2026-01-02T03:04:05.250000000Z"])
        #expect(joined.map(\.parsed) == [nil, t])
        // A TTY's "\r\n": the "\r" dropped on the way that hands the time on too.
        let tty = try assembleTimes([entry("one\\r\\n")], tty: true)
        #expect(tty.map(\.line.data) == [Array("one".utf8)] && tty.map(\.parsed) == [t])
        // An empty line.
        #expect(try assembleTimes([entry("\\n")]).map(\.line.data) == [[]])
    }

    @Test("pieces of a cut line join into one line with the first piece's time, streams apart")
    func join() throws {
        let lines = try assemble([
            #"{"log":"aaa","stream":"stdout","time":"2026-01-02T03:04:05.1Z"}"#,
            #"{"log":"err\n","stream":"stderr","time":"2026-01-02T03:04:05.15Z"}"#,
            #"{"log":"bbb\n","stream":"stdout","time":"2026-01-02T03:04:05.2Z"}"#,
            #"{"log":"\n","stream":"stdout","time":"2026-01-02T03:04:05.3Z"}"#,
        ])
        #expect(lines == [
            Line(stream: .stderr, time: "2026-01-02T03:04:05.150000000Z", data: Array("err".utf8), partial: false),
            Line(stream: .stdout, time: "2026-01-02T03:04:05.100000000Z", data: Array("aaabbb".utf8), partial: false),
            Line(stream: .stdout, time: "2026-01-02T03:04:05.300000000Z", data: [], partial: false),
        ])
    }

    @Test("a last piece without \\n is held until finish; a TTY's \\r\\n loses its \\r; long lines are cut")
    func heldTTYAndCut() throws {
        let held = #"{"log":"no newline","stream":"stdout","time":"2026-01-02T03:04:05Z"}"#
        #expect(try assemble([held]).isEmpty)
        #expect(try assemble([held], finish: true).map(\.data) == [Array("no newline".utf8)])
        #expect(try assemble([#"{"log":"one\r\n","stream":"stdout","time":"2026-01-02T03:04:05Z"}"#], tty: true).map(\.data) == [Array("one".utf8)])
        let cut = try assemble([#"{"log":"0123456789","stream":"stdout","time":"2026-01-02T03:04:05Z"}"#,
                                #"{"log":"abc\n","stream":"stdout","time":"2026-01-02T03:04:05Z"}"#], max: 8)
        #expect(cut.map(\.data) == [Array("01234567".utf8), Array("89abc".utf8)])
        #expect(cut.map(\.partial) == [true, false])
    }
}
