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
