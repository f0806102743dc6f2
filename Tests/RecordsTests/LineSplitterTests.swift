import JSON
import Records
import Testing

@Suite("LineSplitter")
struct LineSplitterTests {
    let text = Array("first\nsecond line\n\n{\"json\":true}\r\nlast without newline".utf8)

    var expected: [Piece] {
        [
            .line(1, Array("first".utf8)),
            .line(2, Array("second line".utf8)),
            .line(3, []),
            .line(4, Array("{\"json\":true}\r".utf8)),
            .line(5, Array("last without newline".utf8)),
        ]
    }

    @Test("whole, a byte at a time, and in chunks of every size: the same lines")
    func chunking() {
        var whole = LineSplitter()
        #expect(split([text], &whole) == expected)
        for size in 1...text.count {
            var splitter = LineSplitter()
            #expect(split(chunked(text, size), &splitter) == expected, "chunks of \(size)")
        }
        var empties = LineSplitter()
        #expect(split([[]] + chunked(text, 3).flatMap { [$0, []] }, &empties) == expected)
    }

    @Test("the last line comes out only when the stream ends")
    func finish() {
        var splitter = LineSplitter()
        var lines: [[UInt8]] = []
        splitter.feed(Array("a\nb".utf8)) { (piece: LineSplitter.Piece) in
            if case .line(_, let bytes) = piece { lines.append(Array(bytes)) }
        }
        #expect(lines == [Array("a".utf8)])
        #expect(splitter.hasPartialLine)
        splitter.finish { (piece: LineSplitter.Piece) in
            if case .line(_, let bytes) = piece { lines.append(Array(bytes)) }
        }
        #expect(lines == [Array("a".utf8), Array("b".utf8)])
        #expect(!splitter.hasPartialLine)
        #expect(splitter.lineNumber == 2)
        // A stream ending with "\n" has no extra empty line.
        var other = LineSplitter()
        #expect(split([Array("x\n".utf8)], &other) == [.line(1, Array("x".utf8))])
        var empty = LineSplitter()
        #expect(split([], &empty) == [])
    }

    @Test("a line at the cap passes; one byte more is reported, skipped, and nothing else is lost")
    func cap() {
        let input = Array("12345\n123456\nok\n1234567890123\nend".utf8)
        let tooLong = { (n: Int) in Piece.tooLong(JSONError(line: n, column: 6, message: "line longer than 5 bytes")) }
        let expected: [Piece] = [
            .line(1, Array("12345".utf8)),
            tooLong(2),
            .line(3, Array("ok".utf8)),
            tooLong(4),
            .line(5, Array("end".utf8)),
        ]
        for size in 1...input.count {
            var splitter = LineSplitter(maxLineLength: 5)
            #expect(split(chunked(input, size), &splitter) == expected, "chunks of \(size)")
        }
        #expect(tooLong(2).description == "too long: line 2, column 6: line longer than 5 bytes")
    }

    @Test("an over-long last line without a newline is reported once")
    func capAtEnd() {
        let input = Array("a\n0123456789".utf8)
        for size in [1, 3, input.count] {
            var splitter = LineSplitter(maxLineLength: 4)
            #expect(split(chunked(input, size), &splitter) == [
                .line(1, Array("a".utf8)),
                .tooLong(JSONError(line: 2, column: 5, message: "line longer than 4 bytes")),
            ])
        }
    }

    @Test("a cap of zero allows only empty lines")
    func zeroCap() {
        var splitter = LineSplitter(maxLineLength: 0)
        #expect(split([Array("\nx\n\n".utf8)], &splitter) == [
            .line(1, []),
            .tooLong(JSONError(line: 2, column: 1, message: "line longer than 0 bytes")),
            .line(3, []),
        ])
    }

    @Test("an error thrown by the callback is passed on")
    func throwing() {
        struct Stop: Error, Equatable {}
        var splitter = LineSplitter()
        var seen: [Int] = []
        #expect(throws: Stop()) {
            try splitter.feed(Array("a\nb\nc\n".utf8)) { (piece: LineSplitter.Piece) throws(Stop) in
                if case .line(let n, _) = piece {
                    seen.append(n)
                    if n == 2 { throw Stop() }
                }
            }
        }
        #expect(seen == [1, 2])
        // The splitter is still usable; a held partial line is not handed out twice.
        var pieces: [Piece] = []
        splitter.feed(Array("p".utf8)) { (_: LineSplitter.Piece) in }
        #expect(throws: Stop()) {
            try splitter.feed(Array("q\n".utf8)) { (_: LineSplitter.Piece) throws(Stop) in throw Stop() }
        }
        splitter.finish { (piece: LineSplitter.Piece) in
            if case .line(let n, let b) = piece { pieces.append(.line(n, Array(b))) }
        }
        #expect(pieces == [])
        #expect(splitter.lineNumber == 3)
    }

    @Test("the usage shown in docs/records.md")
    func documentedUsage() {
        let good = RecordCodec.encode(Record(time: "t", source: .stdout, data: "d", container: exampleContainer))
        let cap = good.count - 1
        let chunk = good + Array("{\"time\":1}\n".utf8) + good + [UInt8](repeating: 0x61, count: cap + 1) + [0x0A] + good.dropLast()
        var handled: [Record] = []
        var reports: [String] = []
        func handle(_ r: Record) { handled.append(r) }
        func report(_ e: JSONError) { reports.append(e.description) }

        var splitter = LineSplitter(maxLineLength: cap)
        var decoder = RecordDecoder()
        splitter.feed(chunk) { piece in
            switch piece {
            case .line(let number, let bytes):
                do throws(JSONError) {
                    let record = try decoder.decode(line: bytes, lineNumber: number)
                    handle(record)
                } catch {
                    report(error)
                }
            case .tooLong(let error):
                report(error)
            }
        }
        #expect(handled.count == 2)  // the last line waits for finish
        #expect(reports == [
            "line 2, column 9: field \"time\" must be a string",
            "line 4, column \(cap + 1): line longer than \(cap) bytes",
        ])
        splitter.finish { piece in
            if case .line(let number, let bytes) = piece, let r = try? decoder.decode(line: bytes, lineNumber: number) {
                handle(r)
            }
        }
        #expect(handled.count == 3)
    }

    @Test("records read through the splitter")
    func records() throws {
        var stream: [UInt8] = []
        for i in 0..<50 {
            let r = Record(time: "t\(i)", source: i % 3 == 0 ? .stderr : .stdout, data: String(repeating: "x", count: i * 7),
                           container: exampleContainer)
            RecordCodec.encode(r, into: &stream)
        }
        for size in [1, 7, 64, 4096] {
            var splitter = LineSplitter()
            var decoder = RecordDecoder()
            var times: [String] = []
            for chunk in chunked(stream, size) {
                try splitter.feed(chunk) { (piece: LineSplitter.Piece) throws(JSONError) in
                    guard case .line(let number, let bytes) = piece else { return }
                    let r = try decoder.decode(line: bytes, lineNumber: number)
                    #expect(r.data.count == (number - 1) * 7)
                    times.append(r.time)
                }
            }
            #expect(times == (0..<50).map { "t\($0)" })
        }
    }
}
