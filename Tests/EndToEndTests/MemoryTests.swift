// What the stages' buffers cost in memory while lines flow at full speed: counted in the private,
// anonymous memory of the process (`Anonymous:` of /proc/PID/smaps_rollup), which a buffer keeps touched
// once it has grown (its capacity is kept for the next burst), so the figure once the lines are through is
// the run's peak. Bytes, not timings.

#if canImport(Glibc)
import Glibc
#endif
import Syscall
import Testing

/// The anonymous memory of a process in bytes (`Anonymous:` of smaps_rollup); nil when it is gone.
func anonymousBytes(_ pid: pid_t) -> Int? {
    let text = String(decoding: readFile("/proc/\(pid)/smaps_rollup"), as: UTF8.self)
    for line in text.split(separator: "\n") where line.hasPrefix("Anonymous:") {
        let kB = line.split(separator: " ", omittingEmptySubsequences: true).dropFirst().first.flatMap { Int($0) }
        return kB.map { $0 * 1024 }
    }
    return nil
}

/// Whether the last 64 KiB of a file hold `marker`.
func tailHolds(_ path: String, _ marker: String) -> Bool {
    let fd = open(path, O_RDONLY)
    guard fd >= 0 else { return false }
    defer { close(fd) }
    let size = lseek(fd, 0, SEEK_END)
    var buffer = [UInt8](repeating: 0, count: 64 * 1024)
    let n = pread(fd, &buffer, buffer.count, max(0, size - off_t(buffer.count)))
    guard n > 0 else { return false }
    let bytes = Array(marker.utf8)
    return buffer[0..<n].withUnsafeBytes { raw in
        raw.count >= bytes.count && (0...(raw.count - bytes.count)).contains { raw[$0..<$0 + bytes.count].elementsEqual(bytes) }
    }
}

@Suite("memory of the stages under load", .serialized)
struct MemoryTests {
    /// Every library a process loads is relocated and registered in it: the Swift concurrency runtime and
    /// libdispatch (with its blocks runtime) cost the appliance about 1.3 MB and no stage uses them.
    @Test("no stage loads the Swift concurrency runtime or libdispatch")
    func noUnusedLibraries() throws {
        for stage in ["attach", "route", "emit-syslog", "httpd"] {
            let ldd = try run(["/usr/bin/ldd", Env.binDir + "/" + stage])
            #expect(ldd.status == 0)
            #expect(ldd.stdout.contains("libswiftCore"), "\(stage): \(ldd.stdout)")
            for unused in ["libswift_Concurrency", "libdispatch", "libswiftDispatch", "libBlocksRuntime"] {
                #expect(!ldd.stdout.contains(unused), "\(stage) loads \(unused)")
            }
        }
    }

    /// attach's records wait in one buffer until 64 KiB are there; a read of a log file adds about five
    /// times its size in records before that is checked. With reads of 64 KiB and writes at 256 KiB the
    /// buffer grew past 512 KiB (about 536 KiB more memory); with reads of 16 KiB it stays near 150 KiB.
    @Test("attach reading 200,000 lines from a log file: its memory grows by less than 384 KiB")
    func attachReadingAFile() throws {
        let attach = try startFileAttach("files")
        defer { attach.stop() }
        let before = try #require(anonymousBytes(attach.pid))
        let c = TestContainer("memory-files")
        try c.run("seq 1 200000; sleep 60")
        #expect(eventually(timeoutMs: 120_000) { tailHolds(attach.stdoutPath, #""data":"200000""#) })
        let after = try #require(anonymousBytes(attach.pid))
        #expect(after - before < 384 * 1024, "attach's anonymous memory grew by \(after - before) bytes")
    }
}
