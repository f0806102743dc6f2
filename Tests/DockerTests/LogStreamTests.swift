import Testing
@testable import Docker

/// A line as the parser emitted it, copied out of the callback.
struct Line: Equatable, CustomStringConvertible {
    var stream: StreamKind
    var time: String
    var data: [UInt8]
    var partial: Bool
    var text: String { String(decoding: data, as: UTF8.self) }
    var description: String { "\(stream) \(time) \(partial ? "partial " : "")\(text.debugDescription)" }
}

/// A multiplexed frame: header [stream,0,0,0,size] and payload.
func frame(_ stream: UInt8, _ payload: [UInt8]) -> [UInt8] {
    let n = UInt32(payload.count)
    return [stream, 0, 0, 0, UInt8(n >> 24), UInt8(n >> 16 & 0xff), UInt8(n >> 8 & 0xff), UInt8(n & 0xff)] + payload
}

func entry(_ stream: UInt8, _ time: String, _ text: String) -> [UInt8] {
    frame(stream, Array((time + " " + text).utf8))
}

/// Runs the parser over `bytes` in pieces of `step` (whole when nil), then `finish` when `eof`.
func lines(_ bytes: [UInt8], multiplexed: Bool = true, step: Int? = nil, max: Int = 256 * 1024, eof: Bool = false) -> [Line] {
    var parser = LogStreamParser(multiplexed: multiplexed, maxLineSize: max)
    var result: [Line] = []
    let emit: (LogLine) -> Void = { l in
        result.append(Line(stream: l.stream, time: String(decoding: l.time, as: UTF8.self), data: Array(l.data), partial: l.partial))
    }
    let size = step ?? Swift.max(bytes.count, 1)
    var i = 0
    while i < bytes.count {
        let piece = Array(bytes[i..<min(bytes.count, i + size)])
        piece.withUnsafeBytes { parser.feed($0, emit: emit) }
        i += size
    }
    if eof { parser.finish(emit: emit) }
    return result
}

let t1 = "2026-11-24T20:42:17.123456789Z"
let t2 = "2026-11-24T20:42:17.223456789Z"
let t3 = "2026-11-24T20:42:18.000000001Z"

@Suite("Docker logs stream: framing and lines")
struct LogStreamTests {
    @Test("multiplexed frames give one line each, stdout and stderr apart", arguments: [nil, 1, 3, 9])
    func multiplexed(step: Int?) {
        let bytes = entry(1, t1, "hello\tworld\n") + entry(2, t2, "oops \"quoted\" \\\n") + entry(1, t3, "\n")
        let got = lines(bytes, step: step)
        #expect(got == [
            Line(stream: .stdout, time: t1, data: Array("hello\tworld".utf8), partial: false),
            Line(stream: .stderr, time: t2, data: Array("oops \"quoted\" \\".utf8), partial: false),
            Line(stream: .stdout, time: t3, data: [], partial: false),
        ])
    }

    @Test("a line cut into 16 KiB frames is joined, with each frame's timestamp stripped", arguments: [nil, 1, 1000])
    func joined(step: Int?) throws {
        let a = String(repeating: "a", count: 16384), b = String(repeating: "b", count: 3616)
        // Docker stamps every piece of a cut line with the same time.
        let bytes = entry(1, t1, a) + entry(2, t2, "interleaved\n") + entry(1, t1, b + "\n")
        let got = lines(bytes, step: step)
        try #require(got.count == 2)
        #expect(got[0] == Line(stream: .stderr, time: t2, data: Array("interleaved".utf8), partial: false))
        #expect(got[1].time == t1)
        #expect(got[1].data.count == a.utf8.count + b.utf8.count)
        #expect(got[1].data == Array((a + b).utf8), "joined in order")
        #expect(!got[1].partial)
    }

    @Test("lines over the maximum come in pieces; all but the last are partial")
    func pieces() {
        let big = String(repeating: "x", count: 2500)
        let got = lines(entry(1, t1, big + "\n"), max: 1024)
        #expect(got.map(\.data.count) == [1024, 1024, 452])
        #expect(got.map(\.partial) == [true, true, false])
        #expect(got.allSatisfy { $0.time == t1 })
    }

    @Test("pieces are cut on UTF-8 boundaries")
    func utf8Cut() {
        let text = String(repeating: "é", count: 1000)  // 2000 bytes
        let got = lines(entry(1, t1, "a" + text + "\n"), max: 1024)
        #expect(got.map(\.data.count) == [1023, 978])
        #expect(String(decoding: got.flatMap(\.data), as: UTF8.self) == "a" + text)
        #expect(got.allSatisfy { String(validating: $0.data, as: UTF8.self) != nil })
    }

    /// Found by fuzzing (Fuzz/Sources/docker-logstream): fed a byte at a time, a piece ended in the middle
    /// of a character begun in what was held; the cut is the same however the bytes come.
    @Test("a character begun in a held piece is not cut, whatever the chunks", arguments: [nil, 1, 3, 7])
    func utf8CutAcrossChunks(step: Int?) {
        let got = lines(entry(1, t1, "ééééé😀😀\n"), step: step, max: 8)
        #expect(got.map(\.text) == ["éééé", "é😀", "😀"])
        #expect(got.map(\.partial) == [true, true, false])
        // Across frames too: a character whose bytes span two frames of one line.
        let emoji = Array("😀".utf8)
        let split = frame(1, Array("\(t1) aaaaaa".utf8) + emoji[0..<2]) + frame(1, Array("\(t1) ".utf8) + emoji[2...] + [0x0a])
        let joined = lines(split, step: step, max: 8)
        #expect(joined.map(\.text) == ["aaaaaa", "😀"])
    }

    @Test("a TTY stream is raw: lines split on \\r\\n, each with its timestamp", arguments: [nil, 1, 5])
    func tty(step: Int?) {
        let bytes = Array("\(t1) one\r\n\(t2) two\r\n\(t3) \r\n".utf8)
        let got = lines(bytes, multiplexed: false, step: step)
        #expect(got == [
            Line(stream: .stdout, time: t1, data: Array("one".utf8), partial: false),
            Line(stream: .stdout, time: t2, data: Array("two".utf8), partial: false),
            Line(stream: .stdout, time: t3, data: [], partial: false),
        ])
    }

    @Test("an entry without a timestamp prefix (a \\n, or 41 bytes, before any space) is text, whatever the chunks",
          arguments: [nil, 1, 2, 7, 40, 41])
    func noTimestamp(step: Int?) {
        let long = String(repeating: "x", count: 45)
        // TTY: entries follow each other; one without a space before its "\n", one with none in 41 bytes.
        let tty = Array("\(t1) one\r\nbare\r\n\(long) tail\r\n\(t2) two\r\n".utf8)
        let got = lines(tty, multiplexed: false, step: step)
        #expect(got.map(\.text) == ["one", "bare", long + " tail", "two"])
        #expect(got.map(\.time) == [t1, "", "", t2])
        // A timestamp of exactly 40 bytes before its space is still one.
        let forty = String(repeating: "9", count: 40)
        #expect(lines(Array("\(forty) x\r\n".utf8), multiplexed: false, step: step) == [Line(stream: .stdout, time: forty, data: Array("x".utf8), partial: false)])
        // Multiplexed: a frame whose text has no space at all.
        #expect(lines(frame(1, Array("nospace\n".utf8)), step: step).map(\.text) == ["nospace"])
    }

    @Test("an unterminated last line is held, and emitted when the stream ends")
    func finish() {
        let bytes = entry(1, t1, "no newline")
        #expect(lines(bytes).isEmpty)
        #expect(lines(bytes, eof: true) == [Line(stream: .stdout, time: t1, data: Array("no newline".utf8), partial: false)])
    }

    @Test("invalid UTF-8 passes through as bytes (replaced when encoded)")
    func invalidUTF8() {
        let got = lines(frame(1, Array((t1 + " ").utf8) + [0xff, 0xfe, 0x20, 0x6f, 0x6b, 0x0a]))
        #expect(got.first?.data == [0xff, 0xfe, 0x20, 0x6f, 0x6b])
    }

    @Test("the daemon's error stream is reported, not emitted")
    func daemonError() {
        var parser = LogStreamParser(multiplexed: true)
        var errors: [String] = []
        var emitted = 0
        frame(3, Array("boom".utf8)).withUnsafeBytes { parser.feed($0, emit: { _ in emitted += 1 }, daemonError: { errors.append($0) }) }
        #expect(errors == ["boom"])
        #expect(emitted == 0)
    }

    @Test("the local driver's cut line without its final \\n ends at the next timestamp or at finish")
    func localDriverPieces() {
        let a = String(repeating: "a", count: 16384), b = String(repeating: "b", count: 7232)
        let bytes = entry(1, t1, a) + entry(1, t1, b) + entry(1, t2, "next\n")
        let got = lines(bytes, step: 1000)
        #expect(got.map(\.data.count) == [16384 + 7232, 4])
        #expect(got.map(\.time) == [t1, t2])
        #expect(lines(entry(1, t1, a) + entry(1, t1, b), eof: true).map(\.data.count) == [16384 + 7232])
    }

    @Test("empty frames are skipped")
    func emptyFrame() {
        #expect(lines(frame(1, []) + entry(1, t1, "x\n")).map(\.text) == ["x"])
    }
}
