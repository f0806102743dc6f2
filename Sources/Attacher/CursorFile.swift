import Syscall
import Time

/// The cursors of every container, kept in `STATE_DIR/cursors` so a restarted attach resumes each
/// container exactly where it stopped. One line per container: `<id> <seconds>.<nanoseconds> <count>`.
/// The file is replaced atomically, and only after the records it accounts for were written to stdout:
/// it may lag behind what was delivered (a crash then repeats a little), never run ahead (which would lose).
struct CursorFile {
    let path: String
    var dirty = false
    var lastWrite: UInt64 = 0
    var lastDurableWrite: UInt64 = 0

    init(directory: String) {
        path = directory + "/cursors"
    }

    /// Reads the saved cursors; a missing file is an empty table, an unreadable line is skipped.
    func load() -> [String: ResumeCursor] {
        guard let bytes = try? Sys.readFile(path) else { return [:] }
        var result: [String: ResumeCursor] = [:]
        for line in bytes.split(separator: 10) {
            let fields = line.split(separator: 32)
            guard fields.count == 3 else { continue }
            let id = String(decoding: fields[0], as: UTF8.self)
            let time = fields[1].split(separator: UInt8(ascii: "."))
            guard time.count == 2, let s = Int64(String(decoding: time[0], as: UTF8.self)),
                  let n = Int32(String(decoding: time[1], as: UTF8.self)),
                  let count = Int(String(decoding: fields[2], as: UTF8.self)) else { continue }
            result[id] = ResumeCursor(time: Timestamp(seconds: s, nanoseconds: n), countAtTime: count)
        }
        return result
    }

    /// The file's content for these cursors, sorted by id.
    static func encode(_ cursors: [(String, ResumeCursor)]) -> [UInt8] {
        var out = ""
        for (id, c) in cursors.sorted(by: { $0.0 < $1.0 }) {
            guard let t = c.time else { continue }
            out += "\(id) \(t.sinceParameter) \(c.countAtTime)\n"
        }
        return Array(out.utf8)
    }

    func save(_ cursors: [(String, ResumeCursor)], durable: Bool) throws(SyscallError) {
        try Sys.writeFileAtomically(path, Self.encode(cursors), durable: durable)
    }
}
