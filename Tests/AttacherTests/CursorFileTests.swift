#if canImport(Glibc)
import Glibc
#endif
import Docker
import Records
import Syscall
import Time
import Testing
@testable import Attacher

@Suite("attach's cursor file (STATE_DIR)")
struct CursorFileTests {
    static func folder() -> String {
        var template = Array("/tmp/logspout-cursors-XXXXXX".utf8CString)
        let p = template.withUnsafeMutableBufferPointer { mkdtemp($0.baseAddress!) }
        return String(cString: p!)
    }

    static let a = ("aaaa", ResumeCursor(time: Timestamp(seconds: 1_764_000_000, nanoseconds: 123_456_789), countAtTime: 2))
    static let b = ("bbbb", ResumeCursor(time: Timestamp(seconds: 1_764_000_001, nanoseconds: 5), countAtTime: 1))

    @Test("saved cursors load back; slots alternate; the newest whole slot wins")
    func roundTrip() throws {
        let dir = Self.folder()
        let file = CursorFile(directory: dir)
        #expect(file.load().isEmpty)
        try file.save([Self.a], durable: true)
        try file.save([Self.a, Self.b], durable: false)
        #expect(try Sys.readFile(dir + "/cursors.0").count > 0)
        #expect(try Sys.readFile(dir + "/cursors.1").count > 0)
        let again = CursorFile(directory: dir)
        #expect(again.load() == [Self.a.0: Self.a.1, Self.b.0: Self.b.1])
        #expect(again.sequence == 2)
        // Fewer containers after more: the slot is cut to its new length and still reads back.
        try again.save([Self.b], durable: true)
        try again.save([Self.b], durable: true)
        #expect(CursorFile(directory: dir).load() == [Self.b.0: Self.b.1])
    }

    @Test("a save not synced yet is known, so that attach syncs it at exit even with nothing new to save")
    func unsynced() throws {
        let file = CursorFile(directory: Self.folder())
        #expect(!file.unsynced)
        try file.save([Self.a], durable: false)
        #expect(file.unsynced)
        try file.save([Self.a], durable: true)
        #expect(!file.unsynced)
    }

    @Test("a torn or cut slot is not used: the other, synced before, is")
    func tornSlot() throws {
        let dir = Self.folder()
        let file = CursorFile(directory: dir)
        try file.save([Self.a], durable: true)                   // sequence 1 in cursors.0, synced; on to cursors.1
        let newer = ("aaaa", ResumeCursor(time: Timestamp(seconds: 1_764_000_009, nanoseconds: 0), countAtTime: 1))
        try file.save([newer], durable: false)                   // sequence 2 in cursors.1
        #expect(CursorFile(directory: dir).load() == [newer.0: newer.1])
        var bytes = try Sys.readFile(dir + "/cursors.1")
        bytes[bytes.count - 5] ^= 0x01                           // a digit of the newer time changed
        try Sys.writeFileAtomically(dir + "/cursors.1", bytes)
        #expect(CursorFile(directory: dir).load() == [Self.a.0: Self.a.1])
        try Sys.writeFileAtomically(dir + "/cursors.1", Array(bytes.prefix(bytes.count - 3)))  // cut short
        #expect(CursorFile(directory: dir).load() == [Self.a.0: Self.a.1])
        try Sys.writeFileAtomically(dir + "/cursors.0", Array("not a cursor file\n".utf8))
        #expect(CursorFile(directory: dir).load().isEmpty)
    }

    @Test("saves stay in one slot until it is synced; a restarted attach writes the other slot first")
    func slots() throws {
        let dir = Self.folder()
        let file = CursorFile(directory: dir)
        try file.save([Self.a], durable: false)
        try file.save([Self.a, Self.b], durable: false)
        #expect(file.slot == 0 && file.sequence == 2)
        #expect(!Sys.isDirectory(dir + "/cursors.1") && (try? Sys.readFile(dir + "/cursors.1")) == nil)
        try file.save([Self.b], durable: true)
        #expect(file.slot == 1 && file.sequence == 3)
        let again = CursorFile(directory: dir)
        #expect(again.load() == [Self.b.0: Self.b.1])
        #expect(again.slot == 1 && again.sequence == 3)            // cursors.0 holds the newest: keep it whole
    }

    @Test("a save that fails leaves the saved cursors as they were")
    func failedSave() throws {
        let dir = Self.folder()
        let file = CursorFile(directory: dir)
        try file.save([Self.a], durable: true)                   // cursors.0; next: cursors.1
        try Sys.makeDirectories(dir + "/cursors.1")               // cursors.1 cannot be opened for writing
        #expect(throws: SyscallError.self) { try file.save([Self.b], durable: true) }
        #expect(file.sequence == 1 && file.slot == 1)
        #expect(CursorFile(directory: dir).load() == [Self.a.0: Self.a.1])
    }

    @Test("the slot format: a header with sequence, length and FNV-1a, then one line per container")
    func format() {
        let bytes = CursorFile.encode([Self.b, Self.a], sequence: 7)
        let text = String(decoding: bytes, as: UTF8.self)
        let body = "aaaa 1764000000.123456789 2\nbbbb 1764000001.000000005 1\n"
        #expect(text.hasPrefix("logspout-cursors 2 7 \(body.utf8.count) "))
        #expect(text.hasSuffix("\n" + body))
        #expect(CursorFile.parse(bytes)?.sequence == 7)
        #expect(CursorFile.parse(Array("logspout-cursors 2 7 0 cbf29ce484222325\n".utf8))?.cursors.isEmpty == true)
    }

    /// What `write` puts through a `CursorFile.Writer`.
    static func written(_ write: (inout CursorFile.Writer) -> Void) -> String {
        var bytes = [UInt8](repeating: 0, count: 64)
        return bytes.withUnsafeMutableBufferPointer { p in
            var w = CursorFile.Writer(base: p.baseAddress!, at: 0)
            write(&w)
            return String(decoding: UnsafeBufferPointer(start: p.baseAddress!, count: w.at), as: UTF8.self)
        }
    }

    @Test("numbers and times are written as their text forms are")
    func numbers() {
        for t in [Timestamp(seconds: 0, nanoseconds: 0), Timestamp(seconds: 9, nanoseconds: 999_999_999),
                  Timestamp(seconds: -62_135_596_800, nanoseconds: 1), Timestamp(seconds: 1_764_000_000, nanoseconds: 100_000_000),
                  Timestamp(seconds: Int64.max, nanoseconds: 10), Timestamp(seconds: Int64.min, nanoseconds: 0)] {
            #expect(Self.written { $0.putTime(t) } == t.sinceParameter)
        }
        for v: UInt64 in [0, 1, 9, 10, 15, 16, 255, 4096, 1 << 32, UInt64.max, 0xcbf2_9ce4_8422_2325] {
            for radix: UInt64 in [10, 16] {
                #expect(Self.written { $0.putDigits(v, radix: radix) } == String(v, radix: Int(radix)))
                #expect(CursorFile.Writer.width(v, radix: radix) == String(v, radix: Int(radix)).utf8.count)
            }
        }
        for v: Int64 in [0, -1, 42, Int64.min, Int64.max] {
            #expect(Self.written { $0.putDecimal(v) } == String(v))
        }
    }

    @Test("a slot of the widest values fits the room encode makes for it, and reads back")
    func widest() throws {
        let wide = Timestamp(seconds: Int64.min, nanoseconds: 999_999_999)
        var entries = (0..<3).map { i in
            CursorFile.Entry(id: String(repeating: "f", count: 64) + "\(i)", cursor: ResumeCursor(time: wide, countAtTime: Int.max),
                             file: LogFileCursor(device: .max, inode: .max, offset: .min, time: wide))
        }
        var buffer: [UInt8] = []
        let range = CursorFile.encode(&entries, sequence: .max, into: &buffer)
        #expect(range.lowerBound >= 0 && range.upperBound <= buffer.count)
        let parsed = try #require(CursorFile.parse(Array(buffer[range])))
        #expect(parsed.sequence == .max)
        // Such times are not ones attach could have saved: the lines are there, and read as nothing.
        #expect(parsed.cursors.isEmpty)
        // Reused, the buffer holds a smaller slot the same way.
        var one = [CursorFile.Entry(id: "aaaa", cursor: Self.a.1, file: nil)]
        let again = CursorFile.encode(&one, sequence: 1, into: &buffer)
        #expect(Array(buffer[again]) == CursorFile.encode([Self.a], sequence: 1))
    }

    static let position = LogFileCursor(device: 2049, inode: 393_222, offset: 10_485_700,
                                        time: Timestamp(seconds: 1_764_000_000, nanoseconds: 100_000_000))

    @Test("format 2: a container read from its log file has its file's identity, offset and that line's time")
    func formatWithFiles() throws {
        let atStart = LogFileCursor(device: 2049, inode: 7, offset: 0)
        let bytes = CursorFile.encode([Self.a, Self.b], files: ["aaaa": Self.position, "bbbb": atStart], sequence: 3)
        let text = String(decoding: bytes, as: UTF8.self)
        #expect(text.hasSuffix("\naaaa 1764000000.123456789 2 2049 393222 10485700 1764000000.100000000\n"
                               + "bbbb 1764000001.000000005 1 2049 7 0 -\n"))
        let parsed = try #require(CursorFile.parse(bytes))
        #expect(parsed.cursors == [Self.a.0: Self.a.1, Self.b.0: Self.b.1])
        #expect(parsed.files == ["aaaa": Self.position, "bbbb": atStart])
        // Saved and loaded.
        let dir = Self.folder()
        defer { _ = system("rm -rf \(dir)") }
        let file = CursorFile(directory: dir)
        try file.save([Self.a, Self.b], files: ["aaaa": Self.position], durable: true)
        let again = CursorFile(directory: dir)
        #expect(again.load() == [Self.a.0: Self.a.1, Self.b.0: Self.b.1])
        #expect(again.files == ["aaaa": Self.position])
    }

    @Test("format 1 (the timestamp cursor only) is still read; its lines never carry a file position")
    func versionOne() throws {
        let body = Array("aaaa 1764000000.123456789 2\nbbbb 1764000001.000000005 1 2049 7 0 -\n".utf8)
        let header = "logspout-cursors 1 9 \(body.count) \(String(FNV1a.hash64(body), radix: 16))\n"
        let parsed = try #require(CursorFile.parse(Array(header.utf8) + body))
        #expect(parsed.sequence == 9)
        #expect(parsed.cursors == [Self.a.0: Self.a.1])  // the line with seven fields is not a version 1 line
        #expect(parsed.files.isEmpty)
        let dir = Self.folder()
        defer { _ = system("rm -rf \(dir)") }
        try Sys.writeFileAtomically(dir + "/cursors.1", Array(header.utf8) + body)
        let file = CursorFile(directory: dir)
        #expect(file.load() == [Self.a.0: Self.a.1])
        #expect(file.files.isEmpty)
        // The next save goes to the other slot, in format 2; both are read, the newer wins.
        try file.save([Self.b], files: ["bbbb": Self.position], durable: true)
        let again = CursorFile(directory: dir)
        #expect(again.load() == [Self.b.0: Self.b.1])
        #expect(again.files == ["bbbb": Self.position])
        // A version not known, a bad time, a time past the year 9999 or before 0001, a position with no
        // time past byte 0: not read.
        #expect(CursorFile.parse(Array("logspout-cursors 3 7 0 cbf29ce484222325\n".utf8)) == nil)
        let odd = Array(("aaaa 1764000000.123456789 2 1 2 300 -\nbbbb 17.5000000000 1\n"
                         + "cccc 9223372036854775807.000000000 1\ndddd -9223372036854775808.000000000 1\n").utf8)
        let oddHeader = "logspout-cursors 2 1 \(odd.count) \(String(FNV1a.hash64(odd), radix: 16))\n"
        let parsedOdd = try #require(CursorFile.parse(Array(oddHeader.utf8) + odd))
        #expect(parsedOdd.cursors == [Self.a.0: Self.a.1])
        #expect(parsedOdd.files.isEmpty)
    }
}
