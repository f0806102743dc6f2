#if canImport(Glibc)
import Glibc
#endif
import Syscall
import Testing
import Time
@testable import Docker

/// A simulated engine folder: files by identity with their bytes, and the follower driven the way the
/// driver will drive it (read from `readOffset` to the end in small pieces, act on every action).
struct Simulation {
    var files: [FileIdentity: [UInt8]] = [:]
    var current: FileIdentity
    var follower: LogFileFollower
    var lines: [String] = []
    var tooLong: [Int64] = []
    var actions: [LogFileFollower.Action] = []
    var piece = 5

    init(_ first: FileIdentity, _ bytes: String = "", maxLineBytes: Int = 1 << 20) {
        files[first] = Array(bytes.utf8)
        current = first
        follower = LogFileFollower(file: first, maxLineBytes: maxLineBytes)
    }

    mutating func perform(_ list: [LogFileFollower.Action]) {
        for action in list {
            actions.append(action)
            switch action {
            case .read:
                readToEnd()
            case .switchToNewFile(let id):
                current = id
            default:
                break
            }
        }
    }

    mutating func readToEnd() {
        while true {
            let data = files[current] ?? []
            let from = Int(follower.readOffset)
            guard from < data.count else { break }
            let chunk = Array(data[from..<min(data.count, from + piece)])
            chunk.withUnsafeBytes { raw in
                follower.bytesRead(raw) { line in
                    switch line {
                    case .line(let bytes, let at):
                        let text = String(decoding: bytes, as: UTF8.self)
                        lines.append("\(at):\(text)")
                        return Timestamp(seconds: Int64(lines.count), nanoseconds: 0)
                    case .tooLong(let at):
                        tooLong.append(at)
                        return nil
                    }
                }
            }
        }
        perform(follower.reachedEnd())
    }

    mutating func write(_ text: String, to id: FileIdentity? = nil) {
        files[id ?? current, default: []] += Array(text.utf8)
    }
}

let a = FileIdentity(device: 1, inode: 100)
let b = FileIdentity(device: 1, inode: 101)
let c = FileIdentity(device: 1, inode: 102)

@Suite struct LogFileFollowerTests {
    @Test("growth is read line by line in pieces; the cursor stays at a line's start; a line without \\n is held")
    func growth() {
        var s = Simulation(a, "one\ntwo\nthr")
        s.perform(s.follower.grew(size: 11))
        #expect(s.lines == ["0:one", "4:two"])
        #expect(s.follower.cursor == LogFileCursor(device: 1, inode: 100, offset: 8, time: Timestamp(seconds: 2, nanoseconds: 0)))
        #expect(s.follower.held == Array("thr".utf8))
        #expect(s.follower.readOffset == 11)
        s.write("ee\n")
        s.perform(s.follower.grew(size: 14))
        #expect(s.lines == ["0:one", "4:two", "8:three"])
        #expect(s.follower.cursor.offset == 14)
        #expect(s.follower.held.isEmpty)
        // The same size again, or an event while nothing grew: nothing to do.
        #expect(s.follower.grew(size: 14).isEmpty)
    }

    @Test("rotation: the old file is read to its end through its descriptor before the new one, from 0")
    func rotation() {
        var s = Simulation(a, "1\n2\n")
        s.perform(s.follower.grew(size: 4))
        // The engine writes more, renames the file away, and creates a new one, all before attach wakes.
        s.write("3\n4\n")
        s.files[b] = Array("5\n".utf8)
        s.perform(s.follower.newFile(b))
        #expect(s.lines == ["0:1", "2:2", "4:3", "6:4", "0:5"])
        #expect(s.actions.contains(.switchToNewFile(b)))
        #expect(s.follower.cursor.inode == 101 && s.follower.cursor.offset == 2)
        // The same file announced twice (create, then moved-to) changes nothing.
        #expect(s.follower.newFile(b).isEmpty)
        // Rotating again while the second file is being read.
        s.write("6\n")
        s.files[c] = Array("7\n".utf8)
        s.perform(s.follower.newFile(c))
        #expect(s.lines.suffix(2) == ["2:6", "0:7"])
    }

    @Test("a new file noticed while a read is under way waits for that read's end")
    func newFileDuringRead() {
        var s = Simulation(a, "1\n")
        #expect(s.follower.grew(size: 2) == [.read])
        s.files[b] = Array("2\n".utf8)
        #expect(s.follower.newFile(b).isEmpty)  // the read under way goes on
        s.readToEnd()
        #expect(s.lines == ["0:1", "0:2"])
        #expect(s.follower.cursor.isFile(b))
    }

    @Test("truncation in place: read again from 0, the possible loss reported once, every time counted")
    func truncation() {
        var s = Simulation(a, "one\ntwo\n")
        s.perform(s.follower.grew(size: 8))
        s.files[a] = Array("new\n".utf8)
        s.perform(s.follower.grew(size: 4))
        #expect(s.lines == ["0:one", "4:two", "0:new"])
        #expect(s.actions.contains(.truncated(lostAfter: 8, first: true)))
        s.files[a] = Array("x\n".utf8)
        s.perform(s.follower.grew(size: 2))
        #expect(s.actions.contains(.truncated(lostAfter: 4, first: false)))
        #expect(s.lines.last == "0:x")
    }

    @Test("a truncation that lands in a held line drops what was held")
    func truncationDropsHeld() {
        var s = Simulation(a, "one\ntw")
        s.perform(s.follower.grew(size: 6))
        s.files[a] = Array("z\n".utf8)
        s.perform(s.follower.grew(size: 2))
        #expect(s.lines == ["0:one", "0:z"])
        #expect(s.actions.contains(.truncated(lostAfter: 6, first: true)))
    }

    @Test("the container died: read to the end, then the held last line is emitted; the file is still followed")
    func died() {
        var s = Simulation(a, "one\n")
        s.perform(s.follower.grew(size: 4))
        s.write("two\n")
        s.perform(s.follower.containerDied())
        #expect(s.lines == ["0:one", "4:two"])
        #expect(s.actions.last == .emitHeldLine)
        s.write("restarted\n")
        s.perform(s.follower.grew(size: 18))
        #expect(s.lines.last == "8:restarted")
        #expect(s.actions.filter { $0 == .emitHeldLine }.count == 1)
    }

    @Test("the folder deleted: what the descriptor holds is read, an unfinished line skipped, then forget")
    func folderDeleted() {
        var s = Simulation(a, "one\n")
        s.perform(s.follower.grew(size: 4))
        s.write("two\nhal")
        s.perform(s.follower.folderDeleted())
        #expect(s.lines == ["0:one", "4:two"])
        #expect(s.actions.suffix(2) == [.incompleteLineSkipped(at: 8, bytes: 3), .forget])
    }

    @Test("a rotated file that ends mid-line: those bytes skipped and counted, the new file read")
    func rotatedMidLine() {
        var s = Simulation(a, "one\nbro")
        s.files[b] = Array("next\n".utf8)
        s.perform(s.follower.newFile(b))
        #expect(s.lines == ["0:one", "0:next"])
        #expect(s.actions.contains(.incompleteLineSkipped(at: 4, bytes: 3)))
    }

    @Test("a line over the limit is skipped up to its \\n, reported once at its offset; the next line is read")
    func tooLong() {
        var s = Simulation(a, "ok\n" + String(repeating: "x", count: 40) + "\nafter\n" + String(repeating: "y", count: 12) + "\n", maxLineBytes: 10)
        s.perform(s.follower.grew(size: 70))
        #expect(s.lines == ["0:ok", "44:after"])
        #expect(s.tooLong == [3, 50])
        #expect(s.follower.cursor.offset == 63)
        // Whole in one read, too.
        var t = Simulation(a, "ok\n" + String(repeating: "x", count: 40) + "\nafter\n", maxLineBytes: 10)
        t.piece = 1000
        t.perform(t.follower.grew(size: 50))
        #expect(t.lines == ["0:ok", "44:after"])
        #expect(t.tooLong == [3])
    }

    @Test("resuming at a saved offset reads on from there")
    func resumeAtOffset() {
        var s = Simulation(a, "one\ntwo\n")
        s.follower = LogFileFollower(file: a, offset: 4)
        s.perform(s.follower.grew(size: 8))
        #expect(s.lines == ["4:two"])
    }
}

@Suite struct LogFileGenerationTests {
    let id = String(repeating: "ab", count: 32)

    @Test("generation names: the current file, numbered and compressed ones; anything else is no generation")
    func names() {
        #expect(LogFileGeneration(name: "\(id)-json.log", id: id) == LogFileGeneration(0))
        #expect(LogFileGeneration(name: "\(id)-json.log.1", id: id) == LogFileGeneration(1))
        #expect(LogFileGeneration(name: "\(id)-json.log.12.gz", id: id) == LogFileGeneration(12, compressed: true))
        for bad in ["\(id)-json.log.", "\(id)-json.log.0", "\(id)-json.log.01", "\(id)-json.log.-1", "\(id)-json.log.1.gzip",
                    "\(id)-json.log.gz", "\(id)-json.log1", "\(id)-json.logx", "x\(id)-json.log", "\(id).log", "config.v2.json",
                    "\(id)-json.log.1a", "\(id)-json.log.9999999"] {
            #expect(LogFileGeneration(name: bad, id: id) == nil, "\(bad)")
        }
        #expect(LogFileGeneration(3, compressed: true).name(id) == "\(id)-json.log.3.gz")
        #expect(LogFileGeneration(0).name(id) == "\(id)-json.log")
        let listing = ["\(id)-json.log", "hostname", "\(id)-json.log.2.gz", "\(id)-json.log.1", "hosts", "\(id)-json.log.10.gz"]
        #expect(LogFileGenerations.present(listing, id: id) == [LogFileGeneration(10, compressed: true), LogFileGeneration(2, compressed: true),
                                                                 LogFileGeneration(1), LogFileGeneration(0)])
    }

    func file(_ inode: UInt64, _ size: Int64, device: UInt64 = 1) -> FileStatus {
        FileStatus(device: device, inode: inode, size: size, isRegular: true)
    }

    @Test("the cursor's file found by identity: read from the offset, then the newer generations")
    func foundByIdentity() {
        let cursor = LogFileCursor(device: 1, inode: 100, offset: 500)
        // Not rotated meanwhile.
        #expect(LogFileGenerations.resume(cursor, files: [(LogFileGeneration(0), file(100, 800))])
            == .at(LogFileGeneration(0), offset: 500, truncated: false, then: []))
        // Rotated twice: it is ….2 now.
        let files = [(LogFileGeneration(0), file(102, 10)), (LogFileGeneration(2), file(100, 900)), (LogFileGeneration(1), file(101, 1000)),
                     (LogFileGeneration(3), file(99, 1000))]
        #expect(LogFileGenerations.resume(cursor, files: files)
            == .at(LogFileGeneration(2), offset: 500, truncated: false, then: [LogFileGeneration(1), LogFileGeneration(0)]))
        // Newer generations compressed meanwhile.
        let compressed = [(LogFileGeneration(0), file(102, 10)), (LogFileGeneration(1, compressed: true), file(201, 300)), (LogFileGeneration(2), file(100, 900))]
        #expect(LogFileGenerations.resume(cursor, files: compressed)
            == .at(LogFileGeneration(2), offset: 500, truncated: false, then: [LogFileGeneration(1, compressed: true), LogFileGeneration(0)]))
        // Truncated in place (max-file=1) below the offset.
        #expect(LogFileGenerations.resume(cursor, files: [(LogFileGeneration(0), file(100, 20))])
            == .at(LogFileGeneration(0), offset: 0, truncated: true, then: []))
    }

    @Test("the cursor's file compressed or deleted: generations by time, a gap possible when none is compressed")
    func byTime() {
        let cursor = LogFileCursor(device: 1, inode: 100, offset: 500)
        let compressed = [(LogFileGeneration(0), file(102, 10)), (LogFileGeneration(1, compressed: true), file(201, 300)),
                          (LogFileGeneration(2, compressed: true), file(202, 300))]
        #expect(LogFileGenerations.resume(cursor, files: compressed)
            == .byTime([LogFileGeneration(2, compressed: true), LogFileGeneration(1, compressed: true), LogFileGeneration(0)], mayHaveLost: false))
        #expect(LogFileGenerations.resume(cursor, files: [(LogFileGeneration(1), file(101, 9)), (LogFileGeneration(0), file(102, 10))])
            == .byTime([LogFileGeneration(1), LogFileGeneration(0)], mayHaveLost: true))
        // Another device: not the same file even with the same inode.
        #expect(LogFileGenerations.resume(cursor, files: [(LogFileGeneration(0), file(100, 900, device: 2))])
            == .byTime([LogFileGeneration(0)], mayHaveLost: true))
        // Being compressed: the plain one is read, its .gz twin left out.
        let both = [(LogFileGeneration(1), file(100, 900)), (LogFileGeneration(1, compressed: true), file(300, 5)), (LogFileGeneration(0), file(102, 10))]
        #expect(LogFileGenerations.resume(cursor, files: both) == .at(LogFileGeneration(1), offset: 500, truncated: false, then: [LogFileGeneration(0)]))
    }
}

@Suite struct LogFileOpenerTests {
    let id = String(repeating: "0f", count: 32)

    func folder() -> String {
        var template = Array("/tmp/logspout-logs-XXXXXX".utf8CString)
        return template.withUnsafeMutableBufferPointer { String(cString: mkdtemp($0.baseAddress!)!) }
    }

    @Test("a regular file named for the container, directly under its folder, is opened read-only")
    func opens() throws {
        let dir = folder()
        defer { _ = system("rm -rf \(dir)") }
        try Sys.makeDirectories(dir + "/" + id)
        try Sys.writeFileAtomically(dir + "/\(id)/\(id)-json.log", Array("{}\n".utf8), durable: false)
        let f = try LogFileOpener.openFolder(dir, id: id)
        defer { Sys.close(f) }
        let (fd, status) = try LogFileOpener.open(folder: f, id: id, LogFileGeneration(0))
        defer { Sys.close(fd) }
        #expect(status.isRegular && status.size == 3)
        #expect(write(fd, "x", 1) == -1)  // read-only
    }

    @Test("refused: a symbolic link (file or folder), a folder or FIFO in the file's place, a name that is no id")
    func refuses() throws {
        let dir = folder()
        defer { _ = system("rm -rf \(dir)") }
        try Sys.makeDirectories(dir + "/" + id)
        try Sys.writeFileAtomically(dir + "/elsewhere", Array("{}\n".utf8), durable: false)
        #expect(symlink(dir + "/elsewhere", dir + "/\(id)/\(id)-json.log") == 0)
        try Sys.makeDirectories(dir + "/\(id)/\(id)-json.log.1")
        #expect(mkfifo(dir + "/\(id)/\(id)-json.log.2", 0o600) == 0)
        let f = try LogFileOpener.openFolder(dir, id: id)
        defer { Sys.close(f) }
        #expect { try LogFileOpener.open(folder: f, id: id, LogFileGeneration(0)) } throws: {
            ($0 as? LogFileOpenError)?.description.contains("a symbolic link, not followed") == true
        }
        #expect { try LogFileOpener.open(folder: f, id: id, LogFileGeneration(1)) } throws: {
            ($0 as? LogFileOpenError)?.description.contains("not a regular file") == true
        }
        #expect { try LogFileOpener.open(folder: f, id: id, LogFileGeneration(2)) } throws: {
            ($0 as? LogFileOpenError)?.description.contains("not a regular file") == true
        }
        #expect { try LogFileOpener.open(folder: f, id: id, LogFileGeneration(3)) } throws: {
            ($0 as? LogFileOpenError)?.errno == .noEntry
        }
        let other = String(repeating: "1e", count: 32)
        #expect(symlink(dir + "/" + id, dir + "/" + other) == 0)
        #expect { try LogFileOpener.openFolder(dir, id: other) } throws: {
            ($0 as? LogFileOpenError)?.description.contains("a symbolic link is not followed") == true
        }
        for bad in ["..", "../x", "ABCDEF012345", "abc", id + "/x"] {
            #expect(throws: LogFileOpenError.self) { try LogFileOpener.openFolder(dir, id: bad) }
        }
    }
}
