#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif
import JSON

/// Splits a byte stream into lines, incrementally: feed it chunks as they are
/// read (of any size, cut anywhere), and it hands back each complete line,
/// without its `"\n"`, numbered from 1.
///
/// A line that lies whole inside a chunk is handed out in place, without
/// copying; only a line cut across chunks is gathered in an internal buffer.
///
/// Lines are capped at `maxLineLength` bytes (not counting the `"\n"`), so a
/// stream without newlines cannot exhaust memory. A longer line is reported
/// once, as `.tooLong`, as soon as it passes the cap; its bytes are dropped up
/// to the next `"\n"`, and the following lines come out as usual, with their
/// right numbers: nothing else is lost.
///
///     var splitter = LineSplitter()
///     while let chunk = read() {
///         try splitter.feed(chunk) { piece throws(JSONError) in
///             switch piece {
///             case .line(let number, let bytes):
///                 let record = try RecordCodec.decode(line: bytes, lineNumber: number)
///             case .tooLong(let error):
///                 report(error)      // "line 7, column 1048577: line longer than 1048576 bytes"
///             }
///         }
///     }
///     try splitter.finish { piece throws(JSONError) in ... }   // a last line without "\n"
///
/// Empty lines are handed out like any other (as empty buffers). A `"\r"`
/// before the `"\n"` is kept: JSON readers treat it as trailing whitespace.
public struct LineSplitter: Sendable {
    /// What `feed` and `finish` hand to their callback, in stream order.
    public enum Piece {
        /// A complete line, without its `"\n"`. `bytes` is only valid during
        /// the callback.
        case line(number: Int, bytes: UnsafeRawBufferPointer)
        /// A line longer than the cap, numbered `error.line`; the error's
        /// column is the first byte past the cap.
        case tooLong(JSONError)
    }

    /// The longest line handed out, in bytes, not counting the `"\n"`.
    public let maxLineLength: Int
    /// The number of lines handed out or reported so far (the number of the
    /// last one).
    public private(set) var lineNumber = 0
    /// The start of a line cut across chunks.
    private var pending: [UInt8] = []
    /// Dropping the rest of an over-long line, up to its `"\n"`.
    private var skipping = false

    /// A splitter for lines of at most `maxLineLength` bytes (1 MiB by default).
    public init(maxLineLength: Int = 1 << 20) {
        self.maxLineLength = max(0, maxLineLength)
    }

    /// Whether the bytes of an unfinished line are held (a line without its
    /// `"\n"` yet).
    public var hasPartialLine: Bool { !pending.isEmpty }

    /// Splits `chunk`, calling `body` for each line it completes (and for each
    /// line found too long), in order. If `body` throws, the error is passed
    /// on and the rest of the chunk is dropped.
    public mutating func feed<E: Error>(
        _ chunk: UnsafeRawBufferPointer, _ body: (Piece) throws(E) -> Void
    ) throws(E) {
        guard let base = chunk.baseAddress else { return }
        let n = chunk.count
        var i = 0
        while i < n {
            let newline = LineSplitter.find(0x0A, base + i, n - i).map { i + $0 }
            let end = newline ?? n
            if skipping {
                guard let newline else { return }
                skipping = false
                i = newline + 1
                continue
            }
            let length = pending.count + (end - i)
            if length > maxLineLength {
                // Over the cap: report the line now, drop its bytes up to its "\n".
                pending.removeAll(keepingCapacity: pending.capacity <= 1 << 16)
                skipping = newline == nil
                lineNumber += 1
                try body(.tooLong(tooLong(lineNumber)))
                guard let newline else { return }
                i = newline + 1
                continue
            }
            guard let newline else {
                pending.append(contentsOf: UnsafeRawBufferPointer(start: base + i, count: n - i))
                return
            }
            lineNumber += 1
            if pending.isEmpty {
                try body(.line(number: lineNumber, bytes: UnsafeRawBufferPointer(start: base + i, count: newline - i)))
            } else {
                pending.append(contentsOf: UnsafeRawBufferPointer(start: base + i, count: newline - i))
                try handOutPending(body)
            }
            i = newline + 1
        }
    }

    /// Splits the bytes of `chunk`.
    public mutating func feed<E: Error>(_ chunk: [UInt8], _ body: (Piece) throws(E) -> Void) throws(E) {
        let result = chunk.withUnsafeBytes { p in
            Result { () throws(E) in try feed(p, body) }
        }
        try result.get()
    }

    /// Ends the stream: hands out a last line that had no `"\n"`, if any, and
    /// resets the splitter for a new stream (line numbers go on).
    public mutating func finish<E: Error>(_ body: (Piece) throws(E) -> Void) throws(E) {
        if skipping {
            skipping = false
            return
        }
        guard !pending.isEmpty else { return }
        lineNumber += 1
        try handOutPending(body)
    }

    /// Hands out `pending` as line `lineNumber` and empties it, even if `body` throws.
    private mutating func handOutPending<E: Error>(_ body: (Piece) throws(E) -> Void) throws(E) {
        let number = lineNumber
        let result = pending.withUnsafeBytes { p in
            Result { () throws(E) in try body(.line(number: number, bytes: p)) }
        }
        pending.removeAll(keepingCapacity: pending.capacity <= 1 << 16)
        try result.get()
    }

    private func tooLong(_ number: Int) -> JSONError {
        JSONError(line: number, column: maxLineLength + 1, message: "line longer than \(maxLineLength) bytes")
    }

    /// The offset of the first `byte` in `p[0..<count]`.
    private static func find(_ byte: UInt8, _ p: UnsafeRawPointer, _ count: Int) -> Int? {
        guard let hit = memchr(p, Int32(byte), count) else { return nil }
        return UnsafeRawPointer(hit) - p
    }
}
