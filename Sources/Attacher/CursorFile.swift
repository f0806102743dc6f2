import Docker
import Records
import Syscall
import Time

/// The cursors of every container, kept in `STATE_DIR` so a restarted attach resumes each container
/// exactly where it stopped.
///
/// Two slot files, `cursors.0` and `cursors.1`, each overwritten in place (`pwrite`, no temporary file and
/// rename: a save costs about a microsecond instead of over a hundred, so attach can save after every
/// write of its output). Each slot starts with a header line,
///
///     logspout-cursors 2 <sequence> <length> <FNV-1a 64 of the content, hex>
///
/// then the content: one line per container, sorted by id, `<id> <seconds>.<nanoseconds> <count>` (the
/// timestamp cursor), followed for a container read from its log file by ` <device> <inode> <offset> <time>`:
/// the file's identity, the byte after the last line it accounts for, and that line's time
/// (`<seconds>.<nanoseconds>`, or `-` at offset 0). Slots of version 1 (the timestamp cursor only) are still read.
///
/// Saves go to one slot until a durable save (at most once a second, and at exit) fdatasyncs it; the
/// next saves go to the other slot. So one slot is always whole and on disk while the other is being
/// rewritten: a slot torn by a crash, a power cut or a kill in the middle of a write fails its check and
/// the other one — at most a second or two older — is used. Lines may then come twice; none is lost.
/// The saved cursors only ever account for records already written to standard output.
final class CursorFile {
    let directory: String
    private var fds: [Int32] = [-1, -1]
    private var lengths = [0, 0]
    /// The slot the next saves go to.
    private(set) var slot = 0
    /// The sequence of the last save that was written whole.
    private(set) var sequence: UInt64 = 0
    private var directorySynced = false
    var dirty = false
    /// A save since the last durable one is not on disk yet (only in the page cache).
    private(set) var unsynced = false
    var lastDurableWrite: UInt64 = 0

    static let magic = "logspout-cursors"
    static let version = 2
    /// The versions `parse` reads.
    static let versionsRead: Set<String> = ["1", "2"]
    /// The file positions of the last `load`, by container id.
    private(set) var files: [String: LogFileCursor] = [:]

    init(directory: String) {
        self.directory = directory
    }

    deinit {
        for fd in fds where fd >= 0 { Sys.close(fd) }
    }

    func path(_ slot: Int) -> String { directory + "/cursors.\(slot)" }

    /// The newest whole slot's cursors (empty when there is none). Saves continue after its sequence, in
    /// the other slot, so the one just read stays whole until a newer one is on disk.
    func load() -> [String: ResumeCursor] {
        var best: (slot: Int, sequence: UInt64, cursors: [String: ResumeCursor], files: [String: LogFileCursor])?
        for s in 0..<2 {
            guard let bytes = try? Sys.readFile(path(s), maxBytes: 64 << 20),
                  let parsed = Self.parse(bytes) else { continue }
            if best.map({ parsed.sequence > $0.sequence }) ?? true { best = (s, parsed.sequence, parsed.cursors, parsed.files) }
        }
        files = best?.files ?? [:]
        sequence = best?.sequence ?? 0
        slot = best.map { 1 - $0.slot } ?? 0
        return best?.cursors ?? [:]
    }

    /// Writes the cursors over the current slot. With `durable`, fdatasyncs it and moves on to the other
    /// slot (a killed process loses nothing unsynced; a power cut may, hence the two slots).
    /// `files`: the log file positions of the containers read from their files.
    func save(_ cursors: [(String, ResumeCursor)], files: [String: LogFileCursor] = [:], durable: Bool) throws(SyscallError) {
        if fds[slot] < 0 { fds[slot] = try Sys.openForUpdate(path(slot)) }
        let bytes = Self.encode(cursors, files: files, sequence: sequence + 1)
        try Sys.overwrite(fds[slot], bytes, truncate: bytes.count < lengths[slot], path(slot))
        lengths[slot] = bytes.count
        sequence += 1
        unsynced = true
        guard durable else { return }
        try Sys.fdatasync(fds[slot], path(slot))
        unsynced = false
        if !directorySynced {
            try Sys.syncDirectory(directory)
            directorySynced = true
        }
        slot = 1 - slot
    }

    /// A slot: the header, then the content. Built byte by byte: it is written after every batch of
    /// records, so at a trickle it is made tens of times a second.
    static func encode(_ cursors: [(String, ResumeCursor)], files: [String: LogFileCursor] = [:], sequence: UInt64) -> [UInt8] {
        var body: [UInt8] = []
        body.reserveCapacity(cursors.count * 140)
        for (id, c) in cursors.sorted(by: { $0.0 < $1.0 }) {
            guard let t = c.time else { continue }
            body.append(contentsOf: id.utf8)
            body.append(32)
            appendTime(t, to: &body)
            body.append(32)
            appendDecimal(Int64(c.countAtTime), to: &body)
            if let f = files[id] {
                body.append(32)
                appendDecimal(f.device, to: &body)
                body.append(32)
                appendDecimal(f.inode, to: &body)
                body.append(32)
                appendDecimal(f.offset, to: &body)
                body.append(32)
                if let time = f.time { appendTime(time, to: &body) } else { body.append(45) }
            }
            body.append(10)
        }
        var bytes: [UInt8] = []
        bytes.reserveCapacity(body.count + 64)
        bytes.append(contentsOf: magic.utf8)
        bytes.append(32)
        appendDecimal(UInt64(version), to: &bytes)
        bytes.append(32)
        appendDecimal(sequence, to: &bytes)
        bytes.append(32)
        appendDecimal(UInt64(body.count), to: &bytes)
        bytes.append(32)
        appendDigits(FNV1a.hash64(body), radix: 16, to: &bytes)
        bytes.append(10)
        bytes.append(contentsOf: body)
        return bytes
    }

    /// `Timestamp.sinceParameter`'s text: seconds, ".", nine digits of nanoseconds.
    static func appendTime(_ t: Timestamp, to out: inout [UInt8]) {
        appendDecimal(t.seconds, to: &out)
        out.append(46)
        let start = out.count
        appendDecimal(UInt64(max(0, t.nanoseconds)), to: &out)
        let width = out.count - start
        if width < 9 { out.insert(contentsOf: repeatElement(48, count: 9 - width), at: start) }
    }

    static func appendDecimal(_ v: Int64, to out: inout [UInt8]) {
        if v < 0 { out.append(45) }
        appendDigits(v.magnitude, radix: 10, to: &out)
    }

    static func appendDecimal(_ v: UInt64, to out: inout [UInt8]) { appendDigits(v, radix: 10, to: &out) }

    /// `v`'s digits in `radix` (lowercase), as `String(v, radix:)` writes them.
    static func appendDigits(_ v: UInt64, radix: UInt64, to out: inout [UInt8]) {
        var count = 1
        var rest = v
        while rest >= radix {
            rest /= radix
            count += 1
        }
        let start = out.count
        out.append(contentsOf: repeatElement(48, count: count))
        rest = v
        var i = start + count - 1
        repeat {
            let digit = UInt8(truncatingIfNeeded: rest % radix)
            out[i] = digit < 10 ? 48 + digit : 87 + digit
            rest /= radix
            i -= 1
        } while rest > 0
    }

    /// A slot's sequence and cursors, or nil when it is not whole (torn, cut, or not a cursor file). A
    /// line of the content that does not read is skipped.
    static func parse(_ bytes: [UInt8]) -> (sequence: UInt64, cursors: [String: ResumeCursor], files: [String: LogFileCursor])? {
        guard let newline = bytes.firstIndex(of: 10) else { return nil }
        let header = bytes[..<newline].split(separator: 32).map { String(decoding: $0, as: UTF8.self) }
        guard header.count == 5, header[0] == magic, versionsRead.contains(header[1]),
              let sequence = UInt64(header[2]), let length = Int(header[3]), length >= 0,
              let hash = UInt64(header[4], radix: 16), bytes.count - (newline + 1) >= length else { return nil }
        let body = bytes[(newline + 1)..<(newline + 1 + length)]
        guard FNV1a.hash64(body) == hash else { return nil }
        var result: [String: ResumeCursor] = [:]
        var files: [String: LogFileCursor] = [:]
        let withFiles = header[1] != "1"
        func text(_ field: ArraySlice<UInt8>) -> String { String(decoding: field, as: UTF8.self) }
        for line in body.split(separator: 10) {
            let fields = line.split(separator: 32)
            guard fields.count == 3 || (withFiles && fields.count == 7) else { continue }
            let id = text(fields[0])
            guard let t = time(fields[1]), let count = Int(text(fields[2])) else { continue }
            result[id] = ResumeCursor(time: t, countAtTime: count)
            guard fields.count == 7, let device = UInt64(text(fields[3])), let inode = UInt64(text(fields[4])),
                  let offset = Int64(text(fields[5])), offset >= 0 else { continue }
            let lineTime = time(fields[6])
            guard lineTime != nil || (offset == 0 && fields[6].elementsEqual("-".utf8)) else { continue }
            files[id] = LogFileCursor(device: device, inode: inode, offset: offset, time: lineTime)
        }
        return (sequence, result, files)
    }

    /// `<seconds>.<nanoseconds>`.
    /// The seconds a saved time may have: those of RFC 3339's years 0001 to 9999 (what the engine stamps;
    /// a time beyond them, from a damaged or hand-edited file, is not one attach could have saved).
    static let seconds: ClosedRange<Int64> = -62_135_596_800...253_402_300_799

    static func time(_ field: ArraySlice<UInt8>) -> Timestamp? {
        let parts = field.split(separator: UInt8(ascii: "."))
        guard parts.count == 2, let s = Int64(String(decoding: parts[0], as: UTF8.self)), Self.seconds.contains(s),
              let n = Int32(String(decoding: parts[1], as: UTF8.self)), (0..<1_000_000_000).contains(n) else { return nil }
        return Timestamp(seconds: s, nanoseconds: n)
    }
}
