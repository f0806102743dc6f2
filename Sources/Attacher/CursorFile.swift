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
///     logspout-cursors 1 <sequence> <length> <FNV-1a 64 of the content, hex>
///
/// then the content: one line per container, `<id> <seconds>.<nanoseconds> <count>`, sorted by id.
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
    var lastWrite: UInt64 = 0
    var lastDurableWrite: UInt64 = 0

    static let magic = "logspout-cursors"
    static let version = 1

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
        var best: (slot: Int, sequence: UInt64, cursors: [String: ResumeCursor])?
        for s in 0..<2 {
            guard let bytes = try? Sys.readFile(path(s), maxBytes: 64 << 20),
                  let parsed = Self.parse(bytes) else { continue }
            if best.map({ parsed.sequence > $0.sequence }) ?? true { best = (s, parsed.sequence, parsed.cursors) }
        }
        sequence = best?.sequence ?? 0
        slot = best.map { 1 - $0.slot } ?? 0
        return best?.cursors ?? [:]
    }

    /// Writes the cursors over the current slot. With `durable`, fdatasyncs it and moves on to the other
    /// slot (a killed process loses nothing unsynced; a power cut may, hence the two slots).
    func save(_ cursors: [(String, ResumeCursor)], durable: Bool) throws(SyscallError) {
        if fds[slot] < 0 { fds[slot] = try Sys.openForUpdate(path(slot)) }
        let bytes = Self.encode(cursors, sequence: sequence + 1)
        try Sys.overwrite(fds[slot], bytes, truncate: bytes.count < lengths[slot], path(slot))
        lengths[slot] = bytes.count
        sequence += 1
        guard durable else { return }
        try Sys.fdatasync(fds[slot], path(slot))
        if !directorySynced {
            try Sys.syncDirectory(directory)
            directorySynced = true
        }
        slot = 1 - slot
    }

    /// A slot: the header, then the content.
    static func encode(_ cursors: [(String, ResumeCursor)], sequence: UInt64) -> [UInt8] {
        var content = ""
        for (id, c) in cursors.sorted(by: { $0.0 < $1.0 }) {
            guard let t = c.time else { continue }
            content += "\(id) \(t.sinceParameter) \(c.countAtTime)\n"
        }
        let body = Array(content.utf8)
        let header = "\(magic) \(version) \(sequence) \(body.count) \(String(FNV1a.hash64(body), radix: 16))\n"
        return Array(header.utf8) + body
    }

    /// A slot's sequence and cursors, or nil when it is not whole (torn, cut, or not a cursor file). A
    /// line of the content that does not read is skipped.
    static func parse(_ bytes: [UInt8]) -> (sequence: UInt64, cursors: [String: ResumeCursor])? {
        guard let newline = bytes.firstIndex(of: 10) else { return nil }
        let header = bytes[..<newline].split(separator: 32).map { String(decoding: $0, as: UTF8.self) }
        guard header.count == 5, header[0] == magic, header[1] == String(version),
              let sequence = UInt64(header[2]), let length = Int(header[3]), length >= 0,
              let hash = UInt64(header[4], radix: 16), bytes.count - (newline + 1) >= length else { return nil }
        let body = bytes[(newline + 1)..<(newline + 1 + length)]
        guard FNV1a.hash64(body) == hash else { return nil }
        var result: [String: ResumeCursor] = [:]
        for line in body.split(separator: 10) {
            let fields = line.split(separator: 32)
            guard fields.count == 3 else { continue }
            let id = String(decoding: fields[0], as: UTF8.self)
            let time = fields[1].split(separator: UInt8(ascii: "."))
            guard time.count == 2, let s = Int64(String(decoding: time[0], as: UTF8.self)),
                  let n = Int32(String(decoding: time[1], as: UTF8.self)),
                  let count = Int(String(decoding: fields[2], as: UTF8.self)) else { continue }
            result[id] = ResumeCursor(time: Timestamp(seconds: s, nanoseconds: n), countAtTime: count)
        }
        return (sequence, result)
    }
}
