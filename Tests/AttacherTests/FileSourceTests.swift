#if canImport(Glibc)
import Glibc
#endif
import Docker
import JSON
import Syscall
import Testing
import Time
@testable import Attacher

@Suite("Reading log files: the driver's pieces")
struct FileSourceUnitTests {
    /// A temporary file holding `text`, opened read-only; closed and removed by `body`'s end.
    func withFile<R>(_ text: String, _ body: (Int32) throws -> R) throws -> R {
        var template = Array("/tmp/logspout-unit-XXXXXX".utf8CString)
        let fd = template.withUnsafeMutableBufferPointer { mkstemp($0.baseAddress!) }
        let path = String(decoding: template.dropLast().map { UInt8(bitPattern: $0) }, as: UTF8.self)
        defer {
            close(fd)
            unlink(path)
        }
        let bytes = Array(text.utf8)
        #expect(bytes.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) } == bytes.count)
        return try body(fd)
    }

    @Test("only new lines: from the end when the file ends in \\n, else from the start of the line being written")
    func lineStart() throws {
        try withFile("one\ntwo\n") { fd in #expect(Attacher.lineStart(before: 8, in: fd) == 8) }
        try withFile("one\ntwo\nthr") { fd in #expect(Attacher.lineStart(before: 11, in: fd) == 8) }
        try withFile("no newline yet") { fd in #expect(Attacher.lineStart(before: 14, in: fd) == 0) }
        try withFile("") { fd in #expect(Attacher.lineStart(before: 0, in: fd) == 0) }
        // The line in progress longer than a read buffer: found further back.
        let long = "first\n" + String(repeating: "x", count: 200_000)
        try withFile(long) { fd in #expect(Attacher.lineStart(before: Int64(long.utf8.count), in: fd) == 6) }
    }

    @Test("a file's first entry time; none when the first line is incomplete or not an entry")
    func firstTime() throws {
        try withFile(#"{"log":"a\n","stream":"stdout","time":"2026-11-24T20:42:17.1Z"}"# + "\n") { fd in
            #expect(Attacher.firstTime(fd) == Timestamp(rfc3339: "2026-11-24T20:42:17.100000000Z"))
        }
        try withFile(#"{"log":"a\n","stream":"std"#) { fd in #expect(Attacher.firstTime(fd) == nil) }
        try withFile("garbage\n") { fd in #expect(Attacher.firstTime(fd) == nil) }
    }

    @Test("--log-source and LOG_SOURCE; a tcp:// engine is read through the endpoint unless files are asked for")
    func settings() throws {
        #expect(try AttachCommand.options(["attach"])?.logSource == .auto)
        #expect(try AttachCommand.options(["attach", "--log-source", "files"])?.logSource == .files)
        #expect(try AttachCommand.options(["attach", "--log-source", "api"])?.logSource == .api)
        #expect(throws: AttachCommand.OptionError.self) { try AttachCommand.options(["attach", "--log-source", "disk"]) }
        #expect(throws: AttachCommand.OptionError.self) { try AttachCommand.options(["attach", "--log-source"]) }
        #expect(throws: AttachCommand.OptionError.self) { try AttachCommand.options(["attach", "--log-source", ""]) }
        var o = AttachOptions(endpoint: .unix("/x"))
        #expect(o.readsFiles)
        o.logSource = .api
        #expect(!o.readsFiles)
        o = AttachOptions(endpoint: .tcp(host: "10.0.0.1", port: 2375))
        #expect(!o.readsFiles)
        o.logSource = .files
        #expect(o.readsFiles)
        #expect(AttachOptions(endpoint: .unix("/x")).containersDirectory == "/var/lib/docker/containers")
    }

    @Test("the log driver from the inspection")
    func logDriver() throws {
        let doc = try JSONValue.parse(Array(#"{"Id":"abc","HostConfig":{"LogConfig":{"Type":"json-file","Config":{}}}}"#.utf8))
        #expect(try ContainerInfo(inspect: doc).logDriver == "json-file")
        #expect(try ContainerInfo(inspect: try JSONValue.parse(Array(#"{"Id":"abc"}"#.utf8))).logDriver == "")
    }

    @Test("going on from the byte after the last line read: nothing is skipped, even at the cursor's time")
    func continued() {
        let t = Timestamp(seconds: 100, nanoseconds: 5)
        var c = ResumeCursor(time: t, countAtTime: 1)
        c.continued()
        let admitted = c.admit(t)
        #expect(admitted)
        #expect(c.countAtTime == 2)
    }
}

@Suite("Resuming a log file: by identity and offset, or by time")
struct FileResumeTests {
    static let id = "0123456789abcdef0123"

    /// A container's folder under a temporary containers directory, with its generations (name suffix:
    /// entries' seconds); `.gz` ones compressed by the system's gzip.
    final class Folder {
        let dir: String
        var fds: [Int32] = []
        init(_ generations: [(String, [Int])]) throws {
            var template = Array("/tmp/logspout-resume-XXXXXX".utf8CString)
            let p = template.withUnsafeMutableBufferPointer { mkdtemp($0.baseAddress!) }
            dir = String(cString: p!)
            try Sys.makeDirectories(dir + "/" + FileResumeTests.id)
            for (suffix, seconds) in generations {
                let plain = suffix.hasSuffix(".gz") ? String(suffix.dropLast(3)) : suffix
                let path = dir + "/" + FileResumeTests.id + "/" + FileResumeTests.id + "-json.log" + plain
                try Sys.writeFileAtomically(path, Array(FileResumeTests.entries(seconds).utf8))
                if suffix.hasSuffix(".gz") { #expect(system("gzip " + path) == 0) }
            }
        }
        deinit {
            for fd in fds { close(fd) }
            _ = system("rm -rf \(dir)")
        }
        func path(_ suffix: String) -> String { dir + "/" + FileResumeTests.id + "/" + FileResumeTests.id + "-json.log" + suffix }
        func identity(_ suffix: String) throws -> FileIdentity {
            let fd = open(path(suffix), O_RDONLY)
            defer { close(fd) }
            let s = try Sys.status(fd)
            return FileIdentity(device: s.device, inode: s.inode)
        }
        /// An attacher of this containers directory, writing its records to `output`.
        func attacher(output: Int32 = -1) throws -> Attacher {
            var options = AttachOptions(endpoint: .unix("/nonexistent"))
            options.containersDirectory = dir
            return try Attacher(options: options, output: output)
        }
        /// The current file, opened as `openFile` does, and the folder.
        func current() throws -> (folder: Int32, fd: Int32, status: FileStatus) {
            let folder = try LogFileOpener.openFolder(dir, id: FileResumeTests.id)
            let file = try LogFileOpener.open(folder: folder, id: FileResumeTests.id, LogFileGeneration(0))
            fds += [folder, file.fd]
            return (folder, file.fd, file.status)
        }
    }

    /// A container's stream reading `fd` (its current file) from its start, its files opened from `folder`.
    static func fileStream(fd: Int32, folder: Int32) throws -> Attacher.FileStream {
        let s = try Sys.status(fd)
        let info = ContainerInfo(id: id, name: "c", image: "i", hostname: "h", pid: 1, labels: [:], env: [], tty: false, running: true)
        return Attacher.FileStream(id: id, output: ContainerOutput(info: info, cursor: ResumeCursor(), labelsBytes: 0), folder: folder,
                                   fd: fd, identity: FileIdentity(device: s.device, inode: s.inode), offset: 0, tty: false, maxLineSize: 1 << 20)
    }

    static func time(_ s: Int) -> Timestamp { Timestamp(seconds: 1_764_000_000 + Int64(s), nanoseconds: 500_000_000) }
    static func entry(_ s: Int) -> String { #"{"log":"line \#(s)\n","stream":"stdout","time":"\#(time(s).description)"}"# + "\n" }
    static func entries(_ seconds: [Int]) -> String { seconds.map(entry).joined() }
    /// The byte after entry `s` in a file holding `seconds`.
    static func offset(after s: Int, in seconds: [Int]) -> Int64 {
        Int64(entries(Array(seconds.prefix { $0 <= s })).utf8.count)
    }

    @Test("the line ending at an offset; a compressed file's first entry")
    func lineTimes() throws {
        let folder = try Folder([("", [1, 2, 3]), (".1.gz", [7, 8])])
        let fd = open(folder.path(""), O_RDONLY)
        defer { close(fd) }
        #expect(Attacher.lineTime(endingAt: Self.offset(after: 2, in: [1, 2, 3]), in: fd) == Self.time(2))
        #expect(Attacher.lineTime(endingAt: Self.offset(after: 1, in: [1, 2, 3]), in: fd) == Self.time(1))
        #expect(Attacher.lineTime(endingAt: 0, in: fd) == nil)
        #expect(Attacher.lineTime(endingAt: 10, in: fd) == nil)  // not at a line's end
        let gz = open(folder.path(".1.gz"), O_RDONLY)
        defer { close(gz) }
        #expect(Attacher.firstTimeCompressed(gz) == Self.time(7))
        #expect(Attacher.firstTimeCompressed(fd) == nil)  // not gzip
    }

    @Test("found by identity after a rotation: on from its byte, then the newer generation; the saved time checked")
    func byIdentity() throws {
        // The cursor was in the file that is `….1` now.
        let folder = try Folder([(".2", [1, 2]), (".1", [3, 4, 5]), ("", [6, 7])])
        let attach = try folder.attacher()
        let current = try folder.current()
        let one = try folder.identity(".1")
        let at = Self.offset(after: 4, in: [3, 4, 5])
        let position = LogFileCursor(device: one.device, inode: one.inode, offset: at, time: Self.time(4))
        let found = try #require(attach.findPosition(position, folder: current.folder, id: Self.id, current: (current.fd, current.status)))
        #expect(found.files.map(\.identity) == [one, try folder.identity("")])
        #expect(found.files.last?.fd == current.fd)
        #expect(found.offset == at)
        #expect(found.exact)
        #expect(!found.truncated)
        for f in found.files where f.fd != current.fd { close(f.fd) }
        // The inode reused by another file (the line before the offset has another time): by time instead.
        var reused = position
        reused.time = Self.time(9)
        #expect(attach.findPosition(reused, folder: current.folder, id: Self.id, current: (current.fd, current.status)) == nil)
        // Not there any more (compressed, or deleted): by time.
        let gone = LogFileCursor(device: one.device, inode: one.inode &+ 1_000_000, offset: at, time: Self.time(4))
        #expect(attach.findPosition(gone, folder: current.folder, id: Self.id, current: (current.fd, current.status)) == nil)
        // At a file's start: found, not exact (read by time from 0).
        let start = try #require(attach.findPosition(LogFileCursor(device: one.device, inode: one.inode, offset: 0),
                                                     folder: current.folder, id: Self.id, current: (current.fd, current.status)))
        #expect(!start.exact && start.offset == 0 && start.files.count == 2)
        for f in start.files where f.fd != current.fd { close(f.fd) }
        // Shorter than the offset: truncated, from 0.
        let cur = try folder.identity("")
        let past = LogFileCursor(device: cur.device, inode: cur.inode, offset: 1 << 20, time: Self.time(7))
        let truncated = try #require(attach.findPosition(past, folder: current.folder, id: Self.id, current: (current.fd, current.status)))
        #expect(truncated.truncated && !truncated.exact && truncated.offset == 0 && truncated.files.map(\.fd) == [current.fd])
    }

    @Test("by time: from the newest generation that starts before the cursor, compressed ones included; the oldest's start for a gap")
    func byTime() throws {
        let folder = try Folder([(".3.gz", [1, 2]), (".2.gz", [3, 4]), (".1", [5, 6]), ("", [7, 8])])
        let attach = try folder.attacher()
        let current = try folder.current()
        let cur = (current.fd, try folder.identity(""))
        func names(_ since: Timestamp?) -> ([String], Timestamp?) {
            let r = attach.generationsByTime(folder: current.folder, id: Self.id, since: since, current: cur)
            defer { for f in r.files { close(f.fd) } }
            return (r.files.map { ".\($0.generation.number)" + ($0.generation.compressed ? ".gz" : "") }, r.oldest)
        }
        #expect(names(Self.time(8)).0 == [])
        #expect(names(Self.time(7)).0 == [".1"])  // the cursor's time may have more entries before
        #expect(names(Self.time(6)).0 == [".1"])
        #expect(names(Self.time(4)).0 == [".2.gz", ".1"])
        #expect(names(Self.time(1)) == ([".3.gz", ".2.gz", ".1"], Self.time(1)))
        #expect(names(nil) == ([".3.gz", ".2.gz", ".1"], Self.time(1)))
        // Older ones deleted: what is left starts after the cursor.
        _ = system("rm " + folder.path(".3.gz") + " " + folder.path(".2.gz"))
        #expect(names(Self.time(2)) == ([".1"], Self.time(5)))
    }

    @Test("a new file's scan down the generations: plain ones by identity, compressed ones by their first entry; down to the one held, or to the last there is")
    func generationsBetween() throws {
        // The file held has entries 1, 2; the engine rotated it away, then again and again while attach
        // was held back: its copy is `.3.gz` now, the next ones `.2.gz`, `.1` (not compressed yet), and the
        // new `<id>-json.log`.
        let folder = try Folder([(".3.gz", [1, 2]), (".2.gz", [3, 4]), (".1", [5, 6]), ("", [7, 8])])
        let attach = try folder.attacher()
        let dir = try LogFileOpener.openFolder(folder.dir, id: Self.id)
        folder.fds.append(dir)
        func stream(held: [Int]) throws -> Attacher.FileStream {
            let path = folder.dir + "/held-\(held.map(String.init).joined(separator: "-"))"
            try Sys.writeFileAtomically(path, Array(Self.entries(held).utf8))
            let fd = open(path, O_RDONLY)
            folder.fds.append(fd)
            return try Self.fileStream(fd: fd, folder: dir)
        }
        func scan(_ stream: Attacher.FileStream) throws -> ([String], Bool) {
            let new = try LogFileOpener.open(folder: dir, id: Self.id, LogFileGeneration(0))
            defer { close(new.fd) }
            let r = attach.generationsBetween(stream, held: stream.identities, new: (new.fd, try folder.identity("")))
            defer { for f in r.files { close(f.fd) } }
            return (r.files.map { ".\($0.generation.number)" + ($0.generation.compressed ? ".gz" : "") }, r.reached)
        }
        // Newest first, down to the copy of the one held (its first entry is the held file's).
        #expect(try scan(stream(held: [1, 2])) == ([".1", ".2.gz"], true))
        // The plain file held itself, by identity.
        let plain = try stream(held: [0])
        let one = open(folder.path(".1"), O_RDONLY)
        folder.fds.append(one)
        plain.pending = [Attacher.PendingFile(fd: one, identity: try folder.identity(".1"))]
        #expect(try scan(plain) == ([], true))
        // The held one compressed to `.2.gz`: the scan stops there, the older `.3.gz` is not looked at.
        #expect(try scan(stream(held: [3, 4])) == ([".1"], true))
        // The held one and the next deleted: the scan runs out.
        _ = system("rm " + folder.path(".3.gz"))
        #expect(try scan(stream(held: [0])) == ([".1", ".2.gz"], false))
        // Past a missing number (the engine between two renames), on to the next one there: a compressed
        // copy of the plain `.1` taken before (compressed and renamed up during the scan) and one of the
        // new file are not taken twice.
        #expect(system("gzip -c " + folder.path(".1") + " > " + folder.path(".4.gz")) == 0)
        #expect(system("gzip -c " + folder.path("") + " > " + folder.path(".5.gz")) == 0)
        #expect(try scan(stream(held: [0])) == ([".1", ".2.gz"], false))
        // What is past the missing number is taken too, and the held one found there.
        _ = system("rm " + folder.path(".4.gz") + " " + folder.path(".5.gz"))
        #expect(system("mv " + folder.path(".2.gz") + " " + folder.path(".4.gz")) == 0)
        #expect(try scan(stream(held: [3, 4])) == ([".1"], true))
        #expect(try scan(stream(held: [0])) == ([".1", ".4.gz"], false))
        #expect(system("mv " + folder.path(".4.gz") + " " + folder.path(".2.gz")) == 0)
        // A compressed generation without a first entry to compare: taken for one held.
        #expect(system("printf 'not gzip' > " + folder.path(".3.gz")) == 0)
        #expect(try scan(stream(held: [0])) == ([".1", ".2.gz"], true))
    }

    @Test("a compressed generation is read a few buffers a turn, every entry once; one cut short or corrupt: its entries up to the damage, which is counted")
    func compressedTurns() throws {
        let seconds = Array(1...30_000)
        let folder = try Folder([(".1.gz", seconds), ("", [30_001])])
        let null = open("/dev/null", O_WRONLY)
        folder.fds.append(null)
        let attach = try folder.attacher(output: null)
        let dir = try LogFileOpener.openFolder(folder.dir, id: Self.id)
        folder.fds.append(dir)
        let gz = try Sys.readFile(folder.path(".1.gz"), maxBytes: 16 << 20)
        #expect(gz.count > Attacher.compressedReadsPerTurn * 16 * 1024, "more than one turn's worth: \(gz.count) bytes")
        /// Reads `files` as the stream's compressed generations; returns the records and the turns taken.
        func read(_ files: [UInt8]...) throws -> (records: Int, turns: Int) {
            var queue: [Attacher.CompressedGeneration] = []
            for (k, bytes) in files.enumerated() {
                try Sys.writeFileAtomically(folder.path(".\(k + 2).gz"), bytes)
                let generation = LogFileGeneration(k + 2, compressed: true)
                queue.append((try LogFileOpener.open(folder: dir, id: Self.id, generation).fd, generation, nil))
            }
            let current = try LogFileOpener.open(folder: dir, id: Self.id, LogFileGeneration(0))
            folder.fds.append(current.fd)
            let stream = try Self.fileStream(fd: current.fd, folder: dir)
            stream.followed = true
            stream.compressedQueue = queue
            #expect(stream.savePosition == nil, "no position to save while a compressed generation is read")
            var turns = 1
            while !attach.readCompressedTurn(stream) && turns < 1000 { turns += 1 }
            #expect(stream.compressedQueue.isEmpty && stream.compressedRead == nil)
            #expect(stream.savePosition != nil)
            attach.flush()
            return (stream.output.records, turns)
        }
        let whole = try read(gz)
        #expect(whole.records == seconds.count)
        #expect(whole.turns > 1)
        #expect(attach.fileCorruptLines == 0)
        // Small ones, each read in one buffer: the turn's reads are counted over the queue.
        try Sys.writeFileAtomically(folder.path(".20"), Array(Self.entries([1, 2, 3]).utf8))
        #expect(system("gzip " + folder.path(".20")) == 0)
        let tiny = try Sys.readFile(folder.path(".20.gz"), maxBytes: 1 << 20)
        let many = try read(tiny, tiny, tiny, tiny, tiny, tiny, tiny, tiny, tiny, tiny, tiny, tiny)
        #expect(many.records == 36)
        #expect(many.turns == 3, "24 reads (each file's, and the one that finds its end), 8 a turn")
        // Cut short: the entries before the cut, and the damage counted once.
        let cut = try read(Array(gz.prefix(gz.count / 2)))
        #expect(cut.records > 0 && cut.records < seconds.count)
        #expect(attach.fileCorruptLines == 1)
        // Corrupt in the middle: the entries before it; what zlib makes of the rest is no entry (each such
        // line counted) until it finds the damage (at the latest by the checksum at the end), counted too.
        var corrupt = gz
        for i in stride(from: gz.count / 2, to: gz.count / 2 + 64, by: 1) { corrupt[i] ^= 0x5A }
        let broken = try read(corrupt)
        #expect(broken.records > 0 && broken.records < seconds.count)
        #expect(attach.fileCorruptLines > 2)
    }

    @Test("rotations counted against a scan's files: deleted generations told only beyond those found, never ahead of the count")
    func rotationCount() {
        // One rotation at a time, each scan coming down to the file held: nothing deleted.
        var count = RotationCount()
        for n in 1...3 {
            count.rotated()
            #expect(count.scanned(found: 1, reached: true) == 0)
            #expect(count.newest == n)
        }
        // Stale events of files already held: the count catches up, nothing told.
        count.rotated()
        count.newestHeld()
        #expect(count.newest == 4)
        #expect(count.scanned(found: 1, reached: true) == 0)
        #expect(count.newest == 5)

        // max-file=3, held back over three rotations: the one held is deleted, the three made after it
        // are all there.
        var held = RotationCount()
        for _ in 1...3 { held.rotated() }
        #expect(held.scanned(found: 3, reached: false) == 0)
        #expect(held.newest == 3)
        // Over six: the first three made after it deleted.
        var six = RotationCount()
        for _ in 1...6 { six.rotated() }
        #expect(six.scanned(found: 3, reached: false) == 3)
        #expect(six.newest == 6)
        // A rotation not read yet when the scan ran (it found one file more than counted): nothing told,
        // and the count does not run ahead.
        var early = RotationCount()
        for _ in 1...2 { early.rotated() }
        #expect(early.scanned(found: 3, reached: false) == 0)
        #expect(early.newest == 3)
        early.rotated()
        early.rotated()
        early.rotated()
        #expect(early.scanned(found: 2, reached: true) == 0)
        #expect(early.newest == 5)
        // Events lost (an overflow): fewer counted than made, so a deletion goes untold rather than told.
        var lost = RotationCount()
        lost.rotated()
        #expect(lost.scanned(found: 3, reached: false) == 0)
    }
}
