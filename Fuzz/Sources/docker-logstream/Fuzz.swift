import FuzzSupport
import Docker

/// What the log stream parser emitted, to compare the input fed whole with the same input fed in pieces.
struct Line: Equatable {
    var stream: StreamKind
    var time: [UInt8]
    var data: [UInt8]
    var partial: Bool
}

struct Seen: Equatable {
    var lines: [Line] = []
    var errors: [String] = []
}

func parse(_ input: UnsafeRawBufferPointer, piece: Int, multiplexed: Bool, maxLine: Int) -> Seen {
    var parser = LogStreamParser(multiplexed: multiplexed, maxLineSize: maxLine)
    var seen = Seen()
    func emit(_ line: LogLine) {
        precondition(line.data.count <= maxLine + 1, "a line of \(line.data.count) bytes over the limit \(maxLine)")
        seen.lines.append(Line(stream: line.stream, time: Array(line.time), data: Array(line.data), partial: line.partial))
    }
    inPieces(input, piece) { parser.feed($0, emit: emit, daemonError: { seen.errors.append($0) }) }
    parser.finish(emit: emit)
    precondition(!parser.hasPending, "a line held after finish")
    return seen
}

/// The first byte chooses the options (multiplexed or TTY, a small line limit); the rest is the stream.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    guard let (options, input) = optionsAndInput(data, size) else { return 0 }
    let multiplexed = options & 1 == 0
    let maxLine = options & 2 != 0 ? 4 + Int(options >> 2) : 256 * 1024
    checkSameInPieces(input) { parse(input, piece: $0, multiplexed: multiplexed, maxLine: maxLine) }
    return 0
}

@_cdecl("docker_logstream_main")
func main(_ argc: CInt, _ argv: Arguments) -> CInt { runFuzzer(argc, argv, fuzz) }
