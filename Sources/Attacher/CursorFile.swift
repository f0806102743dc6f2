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

    /// One container's cursor to save: its timestamp cursor and, when it is read from its log file, the
    /// file's position.
    struct Entry {
        var id: String
        var cursor: ResumeCursor
        var file: LogFileCursor?
    }

    static func entries(_ cursors: [(String, ResumeCursor)], files: [String: LogFileCursor]) -> [Entry] {
        cursors.map { Entry(id: $0.0, cursor: $0.1, file: files[$0.0]) }
    }

    /// Where slots are encoded (reused: a save makes no allocation once it has grown; about 250 bytes a
    /// container).
    private var buffer: [UInt8] = []

    /// Writes the cursors over the current slot. With `durable`, fdatasyncs it and moves on to the other
    /// slot (a killed process loses nothing unsynced; a power cut may, hence the two slots).
    /// `files`: the log file positions of the containers read from their files.
    func save(_ cursors: [(String, ResumeCursor)], files: [String: LogFileCursor] = [:], durable: Bool) throws(SyscallError) {
        var entries = Self.entries(cursors, files: files)
        try save(&entries, durable: durable)
    }

    /// `save` of `entries` (sorted here, in place: the caller may reuse the array).
    func save(_ entries: inout [Entry], durable: Bool) throws(SyscallError) {
        if fds[slot] < 0 { fds[slot] = try Sys.openForUpdate(path(slot)) }
        let range = Self.encode(&entries, sequence: sequence + 1, into: &buffer)
        let fd = fds[slot], context = path(slot), truncate = range.count < lengths[slot]
        try withRawBytes(buffer, range) { (bytes) throws(SyscallError) in try Sys.overwrite(fd, bytes, truncate: truncate, context) }
        lengths[slot] = range.count
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

    /// A slot: the header, then the content.
    static func encode(_ cursors: [(String, ResumeCursor)], files: [String: LogFileCursor] = [:], sequence: UInt64) -> [UInt8] {
        var entries = Self.entries(cursors, files: files)
        var buffer: [UInt8] = []
        let range = encode(&entries, sequence: sequence, into: &buffer)
        return Array(buffer[range])
    }

    /// The room left before the content for the header (the longest header is 78 bytes).
    static let headerRoom = 96

    /// Encodes a slot into `buffer` (grown when too small, never shrunk) and returns where it is. Sorts
    /// `entries` by id. Written through a pointer, the content first and then the header right before it:
    /// it is made after every batch of records, so at a trickle tens of times a second.
    static func encode(_ entries: inout [Entry], sequence: UInt64, into buffer: inout [UInt8]) -> Range<Int> {
        entries.sort { $0.id < $1.id }
        // An entry's line is its id and at most 6 fields, each at most 30 bytes (a time of Int64.min
        // seconds: 20, ".", 9), each after a space, and a newline.
        var needed = headerRoom
        for e in entries { needed += e.id.utf8.count + 6 * 31 + 1 }
        if buffer.count < needed { buffer = [UInt8](repeating: 0, count: needed) }
        return buffer.withUnsafeMutableBufferPointer { out in
            var w = Writer(base: out.baseAddress!, at: headerRoom)
            for e in entries {
                guard let t = e.cursor.time else { continue }
                w.put(e.id)
                w.put(32)
                w.putTime(t)
                w.put(32)
                w.putDecimal(Int64(e.cursor.countAtTime))
                if let f = e.file {
                    w.put(32)
                    w.putDigits(f.device, radix: 10)
                    w.put(32)
                    w.putDigits(f.inode, radix: 10)
                    w.put(32)
                    w.putDecimal(f.offset)
                    w.put(32)
                    if let time = f.time { w.putTime(time) } else { w.put(45) }
                }
                w.put(10)
            }
            let body = UnsafeBufferPointer(start: out.baseAddress! + headerRoom, count: w.at - headerRoom)
            let end = w.at
            // The header: its length is known before it is written, so it ends right where the content starts.
            let hash = FNV1a.hash64(body)
            let length = magic.utf8.count + 1 + Writer.width(UInt64(version), radix: 10) + 1 + Writer.width(sequence, radix: 10)
                + 1 + Writer.width(UInt64(body.count), radix: 10) + 1 + Writer.width(hash, radix: 16) + 1
            w.at = headerRoom - length
            w.put(magic)
            w.put(32)
            w.putDigits(UInt64(version), radix: 10)
            w.put(32)
            w.putDigits(sequence, radix: 10)
            w.put(32)
            w.putDigits(UInt64(body.count), radix: 10)
            w.put(32)
            w.putDigits(hash, radix: 16)
            w.put(10)
            return (headerRoom - length)..<end
        }
    }

    /// Writes bytes at a pointer, the room made sure of beforehand.
    struct Writer {
        let base: UnsafeMutablePointer<UInt8>
        var at: Int

        mutating func put(_ byte: UInt8) {
            base[at] = byte
            at += 1
        }

        mutating func put(_ text: String) {
            for b in text.utf8 { put(b) }
        }

        /// `Timestamp.sinceParameter`'s text: seconds, ".", nine digits of nanoseconds.
        mutating func putTime(_ t: Timestamp) {
            putDecimal(t.seconds)
            put(46)
            var n = UInt64(max(0, t.nanoseconds))
            for i in stride(from: 8, through: 0, by: -1) {
                base[at + i] = 48 + UInt8(truncatingIfNeeded: n % 10)
                n /= 10
            }
            at += 9
        }

        mutating func putDecimal(_ v: Int64) {
            if v < 0 { put(45) }
            putDigits(v.magnitude, radix: 10)
        }

        /// `v`'s digits in `radix` (lowercase), as `String(v, radix:)` writes them.
        mutating func putDigits(_ v: UInt64, radix: UInt64) {
            let count = Self.width(v, radix: radix)
            var rest = v
            for i in stride(from: count - 1, through: 0, by: -1) {
                let digit = UInt8(truncatingIfNeeded: rest % radix)
                base[at + i] = digit < 10 ? 48 + digit : 87 + digit
                rest /= radix
            }
            at += count
        }

        static func width(_ v: UInt64, radix: UInt64) -> Int {
            var count = 1
            var rest = v
            while rest >= radix {
                rest /= radix
                count += 1
            }
            return count
        }
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
