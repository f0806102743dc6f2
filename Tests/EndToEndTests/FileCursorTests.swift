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

/// Prints `seq 1` … `seq total` in batches of `batch` lines, `pauseMs` apart.
func pacedSeq(from: Int = 1, total: Int, batch: Int, pauseMs: Int) -> String {
    "i=\(from - 1); while [ $i -lt \(total) ]; do seq $((i+1)) $((i+\(batch))) | sed 's/^/seq /'; i=$((i+\(batch))); sleep \(Double(pauseMs) / 1000); done"
}

@Suite("attach's log file cursors across restarts (STATE_DIR)", .serialized)
struct FileCursorTests {
    @Test("kill -9 and restart while the file rotates: resumed at its byte in the renamed file, nothing lost, at most the last read repeated; a graceful restart repeats nothing")
    func killedWhileRotating() throws {
        let state = Env.tempDir()
        let c = TestContainer("cursor-kill")
        let total = 90_000
        // About 10,000 lines (0.8 MB) a second: a rotation every second or so.
        try c.run(TestContainer.waitForGo + "; " + pacedSeq(total: total, batch: 1000, pauseMs: 100) + "; sleep 2",
                  extra: ["--log-opt", "max-size=1m", "--log-opt", "max-file=3"])
        let first = try startFileAttach("files", env: ["STATE_DIR": state])
        #expect(eventually { ((try? docker("inspect", "-f", "{{.State.Running}}", c.name)) ?? "") == "true" })
        pace(ms: 500)
        try c.go()
        #expect(eventually(timeoutMs: 30_000) { sequence(first.records().of(c.name)).count >= 20_000 })
        first.signal(SIGKILL)
        first.wait()
        let one = sequence(first.records().of(c.name))
        #expect(one == Array(1...(one.last ?? 1)))
        // The saved position names the file being read; the engine rotates it away before attach comes back.
        let saved = savedFilePosition(state, id: c.id)
        #expect(saved != nil, "a file position is saved (format 2)")
        if let saved {
            #expect(eventually(timeoutMs: 10_000) { (try? currentLogInode(c.id)) != saved.inode }, "the file rotated while attach was away")
        }
        let second = try startFileAttach("files", env: ["STATE_DIR": state])
        #expect(eventually(timeoutMs: 30_000) { (sequence(second.records().of(c.name)).last ?? 0) >= (one.last ?? 0) + 20_000 })
        second.stop()
        #expect(second.status == 0)
        let two = sequence(second.records().of(c.name))
        let third = try startFileAttach("files", env: ["STATE_DIR": state])
        #expect(eventually(timeoutMs: 60_000) { sequence(third.records().of(c.name)).last == total })
        let three = sequence(third.records().of(c.name))
        // Nothing lost; what the kill repeats is at most one read turn (1 MiB of the file, about 13,000 lines).
        let last1 = one.last ?? 0
        let start2 = two.first ?? 0
        #expect(start2 <= last1 + 1, "nothing lost across the kill")
        #expect(last1 + 1 - start2 <= 13_000, "repeated after the kill: \(last1 + 1 - start2)")
        #expect(two == Array(start2...(two.last ?? start2)))
        #expect(three.first == (two.last ?? 0) + 1, "a graceful restart repeats nothing")
        #expect(three == Array((three.first ?? 1)...total))
        #expect(second.stderr == "")
        #expect(third.stderr == "")
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
