// Turns the body of `GET /containers/{id}/logs?follow=1&timestamps=1` into lines.
//
// A non-TTY container's stream is multiplexed: each frame is an 8-byte header
// [stream, 0, 0, 0, size (big-endian u32)] and `size` bytes of payload. With `timestamps=1` every
// payload is one log entry, "2026-11-24T20:42:17.123456789Z " + text. An entry whose text does not end
// in "\n" is a piece of a longer line (Docker cuts lines at 16 KiB); the next entry of the same stream
// continues it, with a timestamp of its own that is stripped before joining:
//
//   01 00 00 00 00 00 40 1f  "2026-…Z " + 16384 bytes          → stdout piece, held
//   01 00 00 00 00 00 00 2a  "2026-…Z " + "…rest\n"           → stdout line, time of the first piece
//
// The `local` log driver omits the "\n" of the last piece of a cut line; such a line ends when an entry
// with another timestamp arrives, or when the stream goes idle (the caller calls `finish`).
//
// A TTY container's stream is raw: entries follow each other with no header, so an entry starts after
// each "\n", and its lines end in "\r\n" (the "\r" is dropped).
//
// Lines longer than `maxLineSize` are emitted in pieces of at most that many bytes, cut on a UTF-8
// boundary; every piece but the last is marked partial.

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
import Time

/// Which of a container's streams a line came from.
public enum StreamKind: UInt8, Sendable {
    case stdout = 0
    case stderr = 1
}

/// One line (or piece of a line) found in a log stream. The buffers are valid only during the callback.
public struct LogLine {
    public var stream: StreamKind
    /// Docker's timestamp of the line's first entry, as it sent it (RFC 3339, nanoseconds, UTC).
    public var time: UnsafeRawBufferPointer
    /// The text, without its "\n" (and without the "\r" before it on a TTY).
    public var data: UnsafeRawBufferPointer
    /// True on a piece of a line that exceeded the maximum line size, except the last piece.
    public var partial: Bool
    /// `time` already parsed, when the caller gave it (`feedEntry`): the reader need not parse it again.
    public var parsedTime: Timestamp?

    public init(stream: StreamKind, time: UnsafeRawBufferPointer, data: UnsafeRawBufferPointer, partial: Bool,
                parsedTime: Timestamp? = nil) {
        self.stream = stream
        self.time = time
        self.data = data
        self.partial = partial
        self.parsedTime = parsedTime
    }
}

/// The incremental parser of a logs stream. Feed it the body as it arrives, then `finish` at end of file.
public struct LogStreamParser {
    public let multiplexed: Bool
    public let maxLineSize: Int

    // Frame header state (multiplexed only).
    private var header: (UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8) = (0, 0, 0, 0, 0, 0, 0, 0)
    private var headerCount = 0
    private var frameRemaining = 0
    private var current = StreamKind.stdout
    private var currentIsDaemonError = false
    /// True when the next bytes of the current entry are its timestamp prefix.
    private var atEntryStart = true
    private var timestamp: [UInt8] = []
    private var daemonError: [UInt8] = []
    @usableFromInline var pending: [Assembly] = [Assembly(), Assembly()]

    /// A line being put together from several entries.
    @usableFromInline struct Assembly {
        var data: [UInt8] = []
        var time: [UInt8] = []
        /// Whether `time` holds the line's time (set at its first entry).
        @usableFromInline var started = false
    }

    public init(multiplexed: Bool, maxLineSize: Int = 256 * 1024) {
        precondition(maxLineSize >= 4, "the maximum line size must hold one UTF-8 character")
        self.multiplexed = multiplexed
        self.maxLineSize = maxLineSize
        timestamp.reserveCapacity(40)
    }

    /// Parses `bytes`; `emit` is called for each complete line and each piece of an over-long line.
    /// `daemonError` receives the text Docker sends on its error stream (frame type 3).
    public mutating func feed(_ bytes: UnsafeRawBufferPointer, emit: (LogLine) -> Void,
                              daemonError report: (String) -> Void = { _ in }) {
        var i = 0
        let n = bytes.count
        while i < n {
            if multiplexed && frameRemaining == 0 {
                // Collect the 8-byte header.
                withUnsafeMutableBytes(of: &header) { h in
                    while headerCount < 8 && i < n {
                        h[headerCount] = bytes[i]
                        headerCount += 1
                        i += 1
                    }
                }
                guard headerCount == 8 else { return }
                headerCount = 0
                frameRemaining = Int(header.4) << 24 | Int(header.5) << 16 | Int(header.6) << 8 | Int(header.7)
                currentIsDaemonError = header.0 == 3
                current = header.0 == 2 ? .stderr : .stdout
                atEntryStart = true
                timestamp.removeAll(keepingCapacity: true)
                if frameRemaining == 0 { continue }
            }
            let end = multiplexed ? min(n, i + frameRemaining) : n
            let consumed = consume(UnsafeRawBufferPointer(rebasing: bytes[i..<end]), emit: emit)
            if multiplexed {
                frameRemaining -= consumed
                if frameRemaining == 0 && currentIsDaemonError {
                    report(String(decoding: daemonError, as: UTF8.self))
                    daemonError.removeAll()
                }
            }
            i += consumed
        }
    }

    /// Whether a line is held, waiting for its "\n".
    /// (Inlinable: asked after every line of a log file, it then reads two flags instead of copying the parser.)
    @inlinable public var hasPending: Bool { pending[0].started || pending[1].started }

    /// The stream ended, or went idle with a line held: a line still waiting for its "\n" is emitted as
    /// it is (the `local` log driver never sends the "\n" of a line it cut into pieces).
    public mutating func finish(emit: (LogLine) -> Void) {
        for k in [StreamKind.stdout, .stderr] where pending[Int(k.rawValue)].started {
            emitPending(k, partial: false, emit: emit)
        }
    }

    /// One entry read from elsewhere than a logs stream (a line of a json-file log, decoded): its text, "\n"
    /// included when it has one, is joined and cut exactly as the same entry of a logs stream would be;
    /// `time` is its timestamp as the logs endpoint writes it, and `parsed` the same parsed, handed on with a
    /// line that is this entry alone.
    public mutating func feedEntry(stream: StreamKind, time: UnsafeRawBufferPointer, parsed: Timestamp? = nil,
                                   text entry: UnsafeRawBufferPointer, emit: (LogLine) -> Void) {
        current = stream
        currentIsDaemonError = false
        // The common case: nothing held for this stream and one whole line, its "\n" last: emitted as it is,
        // without copying its time or text (what `text` would do, with no assembly).
        let k = Int(stream.rawValue)
        if !pending[k].started, let base = entry.baseAddress, entry.count - 1 <= maxLineSize,
           let nl = memchr(base, 10, entry.count), base.distance(to: UnsafeRawPointer(nl)) == entry.count - 1 {
            emitWhole(UnsafeRawBufferPointer(rebasing: entry[0..<entry.count - 1]), stream, time: time, parsed: parsed, emit: emit)
            return
        }
        timestamp.removeAll(keepingCapacity: true)
        timestamp.append(contentsOf: time)
        text(entry, emit: emit)
    }

    /// Consumes bytes of the current entry (all of `chunk` or up to the end of a TTY line); returns how many.
    private mutating func consume(_ chunk: UnsafeRawBufferPointer, emit: (LogLine) -> Void) -> Int {
        var i = 0
        if atEntryStart && !currentIsDaemonError {
            // The timestamp prefix, up to its space (RFC 3339 nano is 30 bytes; allow offsets): found first,
            // then taken in one append. A "\n", or a 41st byte, before any space: not a timestamp after all.
            let room = 41 - timestamp.count
            let limit = min(chunk.count, room)
            var j = 0
            while j < limit, chunk[j] != 32, chunk[j] != 10 { j += 1 }
            let space = j < limit && chunk[j] == 32
            let taken = space ? j : min(j + 1, limit)
            timestamp.append(contentsOf: UnsafeRawBufferPointer(rebasing: chunk[0..<taken]))
            i = space ? j + 1 : taken
            if space {
                atEntryStart = false
            } else if timestamp.count > 40 || timestamp.last == 10 {
                // Not a timestamp after all: treat what was collected as text.
                atEntryStart = false
                let collected = timestamp
                timestamp.removeAll(keepingCapacity: true)
                collected.withUnsafeBytes { c in text(c, emit: emit) }
            }
            if atEntryStart { return i }
            // The `local` log driver drops the "\n" after the last piece of a cut line: its pieces share
            // one timestamp, so an entry with another timestamp means the held line was complete.
            let k = Int(current.rawValue)
            if multiplexed, pending[k].started, pending[k].time != timestamp {
                emitPending(current, partial: false, emit: emit)
            }
        }
        if currentIsDaemonError {
            daemonError.append(contentsOf: UnsafeRawBufferPointer(rebasing: chunk[i...]).prefix(4096 - daemonError.count))
            return chunk.count
        }
        let rest = UnsafeRawBufferPointer(rebasing: chunk[i...])
        if multiplexed {
            text(rest, emit: emit)
            return chunk.count
        }
        // TTY: the entry ends after its "\n"; the next one starts with a timestamp again.
        if let nl = rest.firstIndex(of: 10) {
            text(UnsafeRawBufferPointer(rebasing: rest[...nl]), emit: emit)
            atEntryStart = true
            timestamp.removeAll(keepingCapacity: true)
            return i + nl + 1
        }
        text(rest, emit: emit)
        return chunk.count
    }

    /// Text of the current entry (it may hold several "\n", though Docker sends at most one, at the end).
    private mutating func text(_ bytes: UnsafeRawBufferPointer, emit: (LogLine) -> Void) {
        let k = Int(current.rawValue)
        var start = 0
        while start < bytes.count {
            if !pending[k].started {
                pending[k].started = true
                pending[k].time.removeAll(keepingCapacity: true)
                pending[k].time.append(contentsOf: timestamp)
            }
            let rest = UnsafeRawBufferPointer(rebasing: bytes[start...])
            let nl = memchr(rest.baseAddress!, 10, rest.count).map { rest.baseAddress!.distance(to: UnsafeRawPointer($0)) }
            let segmentEnd = nl ?? rest.count
            var segment = UnsafeRawBufferPointer(rebasing: rest[0..<segmentEnd])
            // Fill pieces while the line would exceed the maximum.
            while pending[k].data.count + segment.count > maxLineSize {
                let room = maxLineSize - pending[k].data.count
                let (cut, carry) = utf8Boundary(pending[k].data, segment, room)
                pending[k].data.append(contentsOf: segment[0..<cut])
                segment = UnsafeRawBufferPointer(rebasing: segment[cut...])
                // A character begun in what is held and ended in `segment` starts the next piece.
                var carried: [UInt8] = []
                if carry > 0 {
                    carried.append(contentsOf: pending[k].data.suffix(carry))
                    pending[k].data.removeLast(carry)
                }
                emitPending(current, partial: true, emit: emit)
                pending[k].data.append(contentsOf: carried)
                pending[k].started = true
                pending[k].time.removeAll(keepingCapacity: true)
                pending[k].time.append(contentsOf: timestamp)
            }
            if let nl {
                if pending[k].data.isEmpty {
                    // The common case: a whole line in one entry, emitted without copying.
                    pending[k].time.withUnsafeBytes { t in emitWhole(segment, current, time: t, parsed: nil, emit: emit) }
                    pending[k].started = false
                } else {
                    pending[k].data.append(contentsOf: segment)
                    if !multiplexed, pending[k].data.last == 13 { pending[k].data.removeLast() }
                    emitPending(current, partial: false, emit: emit)
                }
                start += nl + 1
            } else {
                pending[k].data.append(contentsOf: segment)
                start = bytes.count
            }
        }
    }

    /// Emits a whole line that is one entry's text (without its "\n"; a TTY's "\r" before it dropped).
    private func emitWhole(_ text: UnsafeRawBufferPointer, _ stream: StreamKind, time: UnsafeRawBufferPointer, parsed: Timestamp?,
                           emit: (LogLine) -> Void) {
        var line = text
        if !multiplexed, line.last == 13 { line = UnsafeRawBufferPointer(rebasing: line.dropLast()) }
        emit(LogLine(stream: stream, time: time, data: line, partial: false, parsedTime: parsed))
    }

    private mutating func emitPending(_ stream: StreamKind, partial: Bool, emit: (LogLine) -> Void) {
        let k = Int(stream.rawValue)
        pending[k].time.withUnsafeBytes { t in
            pending[k].data.withUnsafeBytes { d in
                emit(LogLine(stream: stream, time: t, data: d, partial: partial))
            }
        }
        pending[k].data.removeAll(keepingCapacity: pending[k].data.capacity <= 64 * 1024)
        pending[k].started = false
    }

    /// Where to end a piece of `maxLineSize` bytes of `held` followed by `next` without cutting a UTF-8
    /// sequence: how many bytes of `next` go into it, and how many of the last bytes of `held` (a character
    /// that `next` ends) move to the next piece instead. The same cut whatever the chunks the bytes came in.
    /// Falls back to `room` when no boundary is near (invalid UTF-8 is replaced downstream anyway).
    private func utf8Boundary(_ held: [UInt8], _ next: UnsafeRawBufferPointer, _ room: Int) -> (cut: Int, carry: Int) {
        guard room < next.count else { return (room, 0) }
        // Walk back from the cut over continuation bytes (10xxxxxx), at most 3, into `held` if need be.
        var at = held.count + room
        var steps = 0
        func byte(_ i: Int) -> UInt8 { i < held.count ? held[i] : next[i - held.count] }
        while at > 0, steps < 3, byte(at) & 0xC0 == 0x80 {
            at -= 1
            steps += 1
        }
        if at == 0 { return (room, 0) }  // never emit an empty piece
        return at >= held.count ? (at - held.count, 0) : (0, held.count - at)
    }
}
