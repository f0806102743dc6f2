// attach's byte-exact cursors for log files in STATE_DIR, against the private engine: a kill -9 and a
// graceful restart while the file rotates, a restart whose cursor's file was compressed meanwhile, and
// generations the engine deleted while attach was away.

#if canImport(Glibc)
import Glibc
#endif
import Records
import Syscall
import Testing

/// The file position saved for container `id` in the newest whole slot of `state`: its inode and offset
/// (nil when the slot has none, as in format 1).
func savedFilePosition(_ state: String, id: String) -> (inode: UInt64, offset: Int64)? {
    var best: (sequence: UInt64, fields: [Substring])?
    for slot in 0..<2 {
        guard let bytes = try? Sys.readFile(state + "/cursors.\(slot)", maxBytes: 1 << 20) else { continue }
        let lines = String(decoding: bytes, as: UTF8.self).split(separator: "\n")
        let header = lines.first?.split(separator: " ") ?? []
        guard header.count == 5, let sequence = UInt64(header[2]), best.map({ sequence > $0.sequence }) ?? true,
              let line = lines.dropFirst().first(where: { $0.hasPrefix(id + " ") }) else { continue }
        best = (sequence, line.split(separator: " "))
    }
    guard let fields = best?.fields, fields.count == 7, let inode = UInt64(fields[4]), let offset = Int64(fields[5]) else { return nil }
    return (inode, offset)
}

/// The inode of a container's current log file.
func currentLogInode(_ id: String) throws -> UInt64 {
    let fd = open(try engineContainersDir() + "/\(id)/\(id)-json.log", O_RDONLY)
    defer { close(fd) }
    return try Sys.status(fd).inode
}

/// The size of a file; 0 when it cannot be looked at.
func fileSize(_ path: String) -> Int64 {
    let fd = open(path, O_RDONLY)
    defer { if fd >= 0 { close(fd) } }
    return fd < 0 ? 0 : (try? Sys.status(fd).size) ?? 0
}

/// Whether the last record a child wrote is `data` (read from the end of its output only).
func outputEnds(_ child: Child, with data: String) -> Bool {
    let fd = open(child.stdoutPath, O_RDONLY)
    defer { if fd >= 0 { close(fd) } }
    guard fd >= 0, let size = try? Sys.status(fd).size, size > 0 else { return false }
    var tail = [UInt8](repeating: 0, count: Int(min(size, 64 * 1024)))
    guard let n = try? Sys.read(fd, into: &tail, at: size - Int64(tail.count)), n == tail.count, tail.last == 10 else { return false }
    let last = tail.dropLast().split(separator: 10).last ?? []
    return String(decoding: last, as: UTF8.self).contains("\"data\":\"\(data)\"")
}

/// Whether `numbers` go up by one, from the first to the last.
func inOrder(_ numbers: [Int]) -> Bool {
    numbers.indices.dropFirst().allSatisfy { numbers[$0] == numbers[$0 - 1] + 1 }
}

/// Where `numbers` first do not go up by one (for a failure's message, instead of the whole list).
func firstBreak(_ numbers: [Int]) -> String {
    guard let i = numbers.indices.dropFirst().first(where: { numbers[$0] != numbers[$0 - 1] + 1 }) else {
        return "\(numbers.count) numbers, \(numbers.first ?? 0) to \(numbers.last ?? 0)"
    }
    return "\(numbers[i - 1]) then \(numbers[i]) at \(i) of \(numbers.count)"
}

/// Prints `seq 1` … `seq total` in batches of `batch` lines, `pauseMs` apart.
func pacedSeq(from: Int = 1, total: Int, batch: Int, pauseMs: Int) -> String {
    "i=\(from - 1); while [ $i -lt \(total) ]; do seq $((i+1)) $((i+\(batch))) | sed 's/^/seq /'; i=$((i+\(batch))); sleep \(Double(pauseMs) / 1000); done"
}

@Suite("attach's log file cursors across restarts (STATE_DIR)", .serialized)
struct FileCursorTests {
    /// What attach writes at once (docs/attach.md, "What a kill -9 repeats"): it writes as soon as it holds
    /// more than `flushBytes` after a read of `readBytes` of a log file, whose entries are `minEntryBytes`
    /// each at least. A batch is at most `flushBytes` plus the records of one read. The test allows four
    /// times attach's own sizes (64 KiB and 16 KiB) so a change of them does not break it at once.
    static let flushBytes = 256 * 1024
    static let readBytes = 64 * 1024
    static let minEntryBytes = 66

    @Test("kill -9 while reading a rotating file at full speed, twice: resumed at its byte in the renamed file, nothing lost, at most one batch repeated; a graceful restart repeats nothing")
    func killedWhileRotating() throws {
        let state = Env.tempDir()
        let c = TestContainer("cursor-kill")
        // Phases, each let go by a file: /go, 20,000 lines; /go1 and /go2, 100,000 lines each (about 7 MB of
        // log, seven rotations), written while attach is held back, so the backlog it is killed in does not
        // depend on how fast this machine runs the test; /go3, the last 20,000. About 80,000 lines a second.
        let phases = [20_000, 100_000, 100_000, 20_000]
        let total = phases.reduce(0, +)
        var script = TestContainer.waitForGo
        var written = 0
        for (n, lines) in phases.enumerated() {
            if n > 0 { script += "; until [ -e /go\(n) ]; do sleep 0.05; done" }
            script += "; " + pacedSeq(from: written + 1, total: written + lines, batch: 4000, pauseMs: 50) + "; touch /done\(n)"
            written += lines
        }
        try c.run(script + "; sleep 600", extra: ["--log-opt", "max-size=1m", "--log-opt", "max-file=60"])
        /// Holds attach back while the container writes a phase (its file rotating), lets it go, and kills
        /// it once it has written 4 MiB more: it is then reading the renamed files it fell behind on, whole
        /// read turns at a time.
        func killBehind(_ child: Child, phase: Int) throws {
            #expect(eventually(timeoutMs: 60_000) { fileSize(child.stdoutPath) >= 1 << 20 })
            child.signal(SIGSTOP)
            try docker("exec", c.name, "touch", "/go\(phase)")
            #expect(eventually(timeoutMs: 60_000) { (try? docker("exec", c.name, "test", "-e", "/done\(phase)")) != nil })
            child.signal(SIGCONT)
            let resumed = fileSize(child.stdoutPath)
            #expect(eventually(timeoutMs: 60_000) { fileSize(child.stdoutPath) >= resumed + (4 << 20) })
            child.signal(SIGKILL)
            child.wait()
        }
        /// What attach repeated after it was killed: the records of `killed` from `next`'s first on, which
        /// must be one batch at most (in bytes, with the largest record of the run for each entry of a read).
        func expectOneBatchRepeated(_ killed: Child, _ next: [Int], sourceLocation: SourceLocation = #_sourceLocation) {
            let raw = rawRecords(killed, id: c.id)
            let numbers = sequence(killed.records().of(c.name))
            #expect(inOrder(numbers), "in order, none missing or repeated: \(firstBreak(numbers))", sourceLocation: sourceLocation)
            guard let last = numbers.last, let start = next.first, raw.count == numbers.count else {
                Issue.record("no records to compare", sourceLocation: sourceLocation)
                return
            }
            #expect(start <= last + 1, "nothing lost across the kill: \(last) then \(start)", sourceLocation: sourceLocation)
            let repeated = max(0, last + 1 - start)
            let repeatedBytes = raw.suffix(repeated).reduce(0) { $0 + $1.count + 1 }
            let largest = (raw.map(\.count).max() ?? 0) + 1
            let batch = Self.flushBytes + (Self.readBytes / Self.minEntryBytes + 1) * largest
            print("repeated after the kill: \(repeated) records, \(repeatedBytes) bytes (a batch: at most \(batch))")
            #expect(repeatedBytes <= batch, "repeated after the kill: \(repeated) records, \(repeatedBytes) bytes; a batch is at most \(batch)",
                    sourceLocation: sourceLocation)
        }
        let first = try startFileAttach("files", env: ["STATE_DIR": state])
        #expect(eventually { ((try? docker("inspect", "-f", "{{.State.Running}}", c.name)) ?? "") == "true" })
        pace(ms: 500)
        try c.go()
        try killBehind(first, phase: 1)
        // The saved position names the file being read, a renamed one.
        let saved = savedFilePosition(state, id: c.id)
        #expect(saved != nil, "a file position is saved (format 2)")
        if let saved {
            #expect(eventually(timeoutMs: 10_000) { (try? currentLogInode(c.id)) != saved.inode }, "the file rotated while attach was away")
        }
        let second = try startFileAttach("files", env: ["STATE_DIR": state])
        try killBehind(second, phase: 2)
        let two = sequence(second.records().of(c.name))
        expectOneBatchRepeated(first, two)
        let third = try startFileAttach("files", env: ["STATE_DIR": state])
        #expect(eventually(timeoutMs: 30_000) { fileSize(third.stdoutPath) >= 4 << 20 })
        third.stop()
        #expect(third.status == 0)
        let three = sequence(third.records().of(c.name))
        expectOneBatchRepeated(second, three)
        let fourth = try startFileAttach("files", env: ["STATE_DIR": state])
        _ = try docker("exec", c.name, "touch", "/go3")
        #expect(eventually(timeoutMs: 60_000) { outputEnds(fourth, with: "seq \(total)") })
        fourth.stop()
        let four = sequence(fourth.records().of(c.name))
        #expect(inOrder(three), "\(firstBreak(three))")
        #expect(four.first == (three.last ?? 0) + 1, "a graceful restart repeats nothing")
        #expect(inOrder(four) && four.last == total, "\(firstBreak(four)), last \(four.last ?? 0)")
        for child in [first, second, third, fourth] { #expect(child.stderr == "") }
        let names = try Sys.listDirectory(try engineContainersDir() + "/" + c.id)
        #expect(names.contains("\(c.id)-json.log.1"))
    }

    @Test("compress=true under load: every line once, in order, also across a restart that resumes inside a .gz")
    func compressed() throws {
        let state = Env.tempDir()
        let c = TestContainer("cursor-gz")
        let part = 40_000
        // Three parts at full speed, each about 3 MB (three rotations): the first read by one attach, the
        // second written while none runs, the third read by the restarted one.
        try c.run(TestContainer.waitForGo + "; seq 1 \(part) | sed 's/^/seq /'; until [ -e /go2 ]; do sleep 0.05; done; "
                  + "seq \(part + 1) \(2 * part) | sed 's/^/seq /'; until [ -e /go3 ]; do sleep 0.05; done; "
                  + "seq \(2 * part + 1) \(3 * part) | sed 's/^/seq /'; sleep 2",
                  extra: ["--log-opt", "max-size=1m", "--log-opt", "max-file=6", "--log-opt", "compress=true"])
        let first = try startFileAttach("files", env: ["STATE_DIR": state])
        pace(ms: 500)
        try c.go()
        #expect(eventually(timeoutMs: 30_000) { sequence(first.records().of(c.name)).last == part })
        first.stop()
        #expect(first.status == 0)
        #expect(sequence(first.records().of(c.name)) == Array(1...part), "every line once, in order, with compression")
        let saved = savedFilePosition(state, id: c.id)
        #expect(saved != nil)
        _ = try docker("exec", c.name, "touch", "/go2")
        // The second part written, and the file of the saved position compressed (no plain name has its inode).
        let folder = try engineContainersDir() + "/" + c.id
        func plainInodes() -> [UInt64] {
            ((try? Sys.listDirectory(folder)) ?? []).filter { !$0.hasSuffix(".gz") }.compactMap { name in
                let fd = open(folder + "/" + name, O_RDONLY)
                defer { if fd >= 0 { close(fd) } }
                return fd < 0 ? nil : try? Sys.status(fd).inode
            }
        }
        #expect(eventually(timeoutMs: 30_000) {
            let log = (try? Sys.readFile(folder + "/\(c.id)-json.log", maxBytes: 4 << 20)) ?? []
            return String(decoding: log.suffix(200), as: UTF8.self).contains("seq \(2 * part)\\n")
        })
        if let saved { #expect(eventually(timeoutMs: 10_000) { !plainInodes().contains(saved.inode) }, "the cursor's file is compressed now") }
        #expect(((try? Sys.listDirectory(folder)) ?? []).contains { $0.hasSuffix(".gz") })
        let second = try startFileAttach("files", env: ["STATE_DIR": state])
        #expect(eventually(timeoutMs: 30_000) { sequence(second.records().of(c.name)).last == 2 * part })
        _ = try docker("exec", c.name, "touch", "/go3")
        #expect(eventually(timeoutMs: 30_000) { sequence(second.records().of(c.name)).last == 3 * part })
        #expect(sequence(second.records().of(c.name)) == Array((part + 1)...(3 * part)), "resumed inside the .gz: nothing lost or repeated")
        second.stop()
        #expect(second.stderr == "")
    }

    @Test("generations deleted while attach was away: how far it skipped said once, counted; then on in order")
    func deletedGenerations() throws {
        let state = Env.tempDir()
        let metricsDir = Env.tempDir()
        let c = TestContainer("cursor-gap")
        let part = 10_000
        try c.run(TestContainer.waitForGo + "; seq 1 \(part) | sed 's/^/seq /'; until [ -e /go2 ]; do sleep 0.05; done; "
                  + "seq \(part + 1) \(8 * part) | sed 's/^/seq /'; sleep 2",
                  extra: ["--log-opt", "max-size=1m", "--log-opt", "max-file=2"])
        let first = try startFileAttach("files", env: ["STATE_DIR": state])
        pace(ms: 500)
        try c.go()
        #expect(eventually(timeoutMs: 30_000) { sequence(first.records().of(c.name)).last == part })
        first.stop()
        _ = try docker("exec", c.name, "touch", "/go2")
        // 70,000 lines, over 5 MB: the file of the cursor and those after it are deleted.
        let folder = try engineContainersDir() + "/" + c.id
        #expect(eventually(timeoutMs: 30_000) {
            let log = (try? Sys.readFile(folder + "/\(c.id)-json.log", maxBytes: 4 << 20)) ?? []
            return String(decoding: log.suffix(200), as: UTF8.self).contains("seq \(8 * part)\\n")
        })
        let second = try startFileAttach("files", env: ["STATE_DIR": state, "LOGSPOUT_METRICS_DIR": metricsDir])
        #expect(eventually(timeoutMs: 30_000) { sequence(second.records().of(c.name)).last == 8 * part })
        let two = sequence(second.records().of(c.name))
        #expect((two.first ?? 0) > part + 1, "lines were deleted")
        #expect(two == Array((two.first ?? 1)...(8 * part)))
        #expect(eventually { metricSamples(metricsDir + "/attach.prom")["logspout_attach_file_gaps_total"] == 1 })
        second.stop()
        let lines = second.stderr.split(separator: "\n")
        #expect(lines.count == 1)
        #expect(lines.first?.contains("were deleted by the engine (max-file) before they were read") == true, "\(lines)")
    }
}
