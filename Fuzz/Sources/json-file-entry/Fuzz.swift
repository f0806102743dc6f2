import FuzzSupport
import Docker
import JSON
import Time

/// What a parser gave for a line: the entry or the error, with the bytes it holds.
struct Parsed: Equatable {
    var entry: JSONFileEntry?
    var error: JSONFileEntryError?
    var log: [UInt8]
    var time: [UInt8]
}

func parse(_ parser: inout JSONFileEntryParser, _ line: UnsafeRawBufferPointer) -> Parsed {
    do {
        let entry = try parser.parse(line)
        return Parsed(entry: entry, error: nil, log: parser.log, time: parser.time)
    } catch {
        return Parsed(entry: nil, error: error, log: [], time: [])
    }
}

/// A line as a log stream parser emitted it.
struct Line: Equatable {
    var stream: StreamKind
    var time: [UInt8]
    var data: [UInt8]
    var partial: Bool
}

/// Any bytes as one line of a json-file log: an entry or a typed error, never a crash. An entry's log is
/// valid UTF-8 (invalid bytes and lone surrogates become U+FFFD), its partial flag says whether it ends in
/// "\n", its time is the 30 bytes the logs endpoint writes and reads back as the entry's time, and the line
/// is JSON the generic parser accepts too. A parser that read another line first gives the same (its
/// buffers are reused), and the entry's lines are those of the same entry in a logs stream.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let input = UnsafeRawBufferPointer(start: data, count: size)
    // Bytes up to a first "\n" are a line read before, by the same parser.
    if let nl = input.firstIndex(of: 10) {
        var reused = JSONFileEntryParser(), fresh = JSONFileEntryParser()
        _ = parse(&reused, UnsafeRawBufferPointer(rebasing: input[..<nl]))
        let rest = UnsafeRawBufferPointer(rebasing: input[(nl + 1)...])
        precondition(parse(&reused, rest) == parse(&fresh, rest), "a parser that read a line before parses the next differently")
    }
    var parser = JSONFileEntryParser()
    guard let entry = try? parser.parse(input) else { return 0 }
    // Through the line assembler: as the entry (time parsed, handed on), and as a frame of a logs stream.
    var fromEntry: [Line] = [], fromStream: [Line] = []
    var entries = LogStreamParser(multiplexed: true, maxLineSize: 64), stream = LogStreamParser(multiplexed: true, maxLineSize: 64)
    parser.time.withUnsafeBytes { t in
        parser.log.withUnsafeBytes { text in
            entries.feedEntry(stream: entry.stream, time: t, parsed: entry.time, text: text) { l in
                precondition(l.parsedTime == nil || l.parsedTime == entry.time, "a line handed on with another time")
                fromEntry.append(Line(stream: l.stream, time: Array(l.time), data: Array(l.data), partial: l.partial))
            }
        }
    }
    entries.finish { l in fromEntry.append(Line(stream: l.stream, time: Array(l.time), data: Array(l.data), partial: l.partial)) }
    let payload = parser.time + [32] + parser.log
    let n = payload.count
    let frame = [entry.stream == .stderr ? 2 : 1, 0, 0, 0, UInt8(n >> 24 & 0xFF), UInt8(n >> 16 & 0xFF), UInt8(n >> 8 & 0xFF), UInt8(n & 0xFF)] + payload
    let collect: (LogLine) -> Void = { l in fromStream.append(Line(stream: l.stream, time: Array(l.time), data: Array(l.data), partial: l.partial)) }
    frame.withUnsafeBytes { stream.feed($0, emit: collect) }
    stream.finish(emit: collect)
    precondition(fromEntry == fromStream, "the entry's lines differ from the same entry's in a logs stream")
    precondition(String(validating: parser.log, as: UTF8.self) != nil, "the log is not valid UTF-8: \(parser.log)")
    precondition(entry.partial == (parser.log.last != 0x0A), "partial \(entry.partial) for \(parser.log)")
    precondition(parser.time.count == 30 && parser.time[19] == UInt8(ascii: ".") && parser.time[29] == UInt8(ascii: "Z"),
                 "the time is not nine digits in UTC: \(String(decoding: parser.time, as: UTF8.self))")
    let back = parser.time.withUnsafeBytes { Timestamp(rfc3339Bytes: $0) }
    precondition(back == entry.time, "the time reads back as \(String(describing: back)), not \(entry.time)")
    do { _ = try JSONValue.parse(input) } catch {
        preconditionFailure("an entry the generic parser refuses: \(error)")
    }
    return 0
}

@_cdecl("json_file_entry_main")
func main(_ argc: CInt, _ argv: Arguments) -> CInt { runFuzzer(argc, argv, fuzz) }
