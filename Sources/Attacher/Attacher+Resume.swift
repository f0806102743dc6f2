import Docker
import Gzip
import Syscall
import Time

/// Where a container's log file is taken up again: at the byte of its saved position (found by identity
/// among its generations, the line before it checked against the saved time), or by the timestamp
/// cursor from the generation that holds it — compressed ones read through zlib.
extension Attacher {
    /// A position in a container's log file, and the timestamp cursor it goes with: it holds while
    /// nothing was delivered since (by another way, or from another position).
    struct FilePosition {
        var file: LogFileCursor
        var time: Timestamp?
        var count: Int

        init(file: LogFileCursor, cursor: ResumeCursor) {
            self.file = file
            time = cursor.time
            count = cursor.countAtTime
        }

        func holds(_ cursor: ResumeCursor) -> Bool {
            time != nil && cursor.time == time && cursor.countAtTime == count && file.isSaveable
        }
    }

    /// The file position to save with a container's `cursor`: its open file's last line accounted for,
    /// else a position kept that still holds.
    func fileCursor(_ id: String, _ cursor: ResumeCursor) -> LogFileCursor? {
        if let stream = files[id] { return stream.savePosition }
        if let position = filePositions[id], position.holds(cursor) { return position.file }
        return nil
    }

    /// A file position found again.
    struct FoundPosition {
        /// The position's file, then the newer generations, oldest first (the current one last).
        var files: [(fd: Int32, identity: FileIdentity)]
        var offset: Int64
        /// The line before the offset is the one saved: reading goes on from there with nothing skipped.
        var exact: Bool
        /// The file is shorter than the offset: read from 0 (by time).
        var truncated: Bool
    }

    /// Finds a saved position's file by identity among the container's plain generations. nil when it is
    /// not there (compressed, deleted) or the line before the offset is not the one saved (the inode was
    /// reused): the caller goes by time.
    func findPosition(_ position: LogFileCursor, folder: Int32, id: String,
                      current: (fd: Int32, status: FileStatus)) -> FoundPosition? {
        guard let names = try? Sys.listDirectory(options.containersDirectory + "/" + id) else { return nil }
        var statuses: [(LogFileGeneration, FileStatus)] = [(LogFileGeneration(0), current.status)]
        var fds: [LogFileGeneration: Int32] = [LogFileGeneration(0): current.fd]
        for generation in LogFileGenerations.present(names, id: id) where generation.number > 0 {
            guard let file = try? LogFileOpener.open(folder: folder, id: id, generation) else { continue }
            statuses.append((generation, file.status))
            fds[generation] = file.fd
        }
        var kept: Set<Int32> = [current.fd]
        defer { for fd in fds.values where !kept.contains(fd) { Sys.close(fd) } }
        guard case .at(let generation, let offset, let truncated, let then) = LogFileGenerations.resume(position, files: statuses),
              !then.contains(where: \.compressed) else { return nil }
        func identity(_ g: LogFileGeneration) -> FileIdentity {
            let status = statuses.first { $0.0 == g }!.1
            return FileIdentity(device: status.device, inode: status.inode)
        }
        let fd = fds[generation]!
        var exact = false
        if !truncated && offset > 0 {
            // The inode may have been reused by another file since: the line before the offset must be the one saved.
            guard let saved = position.time, Self.lineTime(endingAt: offset, in: fd) == saved else { return nil }
            exact = true
        }
        var found = FoundPosition(files: [(fd, identity(generation))], offset: offset, exact: exact, truncated: truncated)
        for g in then where !found.files.contains(where: { $0.identity == identity(g) }) { found.files.append((fds[g]!, identity(g))) }
        // The current file last (a rotation while listing may have named it otherwise).
        let currentIdentity = FileIdentity(device: current.status.device, inode: current.status.inode)
        if !found.files.contains(where: { $0.identity == currentIdentity }) {
            found.files.append((current.fd, currentIdentity))
        }
        kept = Set(found.files.map(\.fd))
        return found
    }

    /// The generations to read to resume by time from `since` (nil: all of them), oldest first, the current
    /// one not included: those from the newest whose first entry is older than `since`. `oldest`: the first
    /// entry's time of the oldest one read when that is the oldest there is (to tell a gap).
    func generationsByTime(folder: Int32, id: String, since: Timestamp?, current: (fd: Int32, identity: FileIdentity))
        -> (files: [(fd: Int32, generation: LogFileGeneration, identity: FileIdentity)], oldest: Timestamp?) {
        guard let names = try? Sys.listDirectory(options.containersDirectory + "/" + id) else { return ([], nil) }
        var all: [(fd: Int32, generation: LogFileGeneration, identity: FileIdentity)] = []
        for generation in LogFileGenerations.dedupe(LogFileGenerations.present(names, id: id)) where generation.number > 0 {
            guard let file = try? LogFileOpener.open(folder: folder, id: id, generation) else { continue }
            let identity = FileIdentity(device: file.status.device, inode: file.status.inode)
            // (A rotation between opening the current file and listing made it `….1`: read once.)
            if identity == current.identity {
                Sys.close(file.fd)
                continue
            }
            all.append((file.fd, generation, identity))
        }
        func first(_ fd: Int32, _ g: LogFileGeneration) -> Timestamp? {
            g.compressed ? Self.firstTimeCompressed(fd) : Self.firstTime(fd)
        }
        var start = 0
        if let since {
            // From the newest back: the first file that starts before the cursor holds it.
            start = -1
            if let t = Self.firstTime(current.fd), t < since { start = all.count }
            var k = all.count - 1
            while start < 0 && k >= 0 {
                if let t = first(all[k].fd, all[k].generation), t < since { start = k }
                k -= 1
            }
            if start < 0 { start = 0 }
        }
        for file in all[..<start] { Sys.close(file.fd) }
        let files = Array(all[start...])
        var oldest: Timestamp?
        if start == 0 { oldest = files.first.map { first($0.fd, $0.generation) } ?? Self.firstTime(current.fd) }
        return (files, oldest)
    }

    /// A compressed generation being read, a few buffers a turn.
    struct CompressedRead {
        let decoder: GzipDecoder
        /// Splits the decompressed bytes into lines (its offsets are of the decompressed bytes).
        var follower = LogFileFollower(file: FileIdentity(device: 0, inode: 0), maxLineBytes: Attacher.fileLineBytes)
        /// Where the next read of the compressed file starts.
        var at: Int64 = 0
    }

    /// Reads the first of the stream's compressed generations through zlib, a few buffers, its entries
    /// through the container's parser (those older than the stream's `since` skipped). Returns true once
    /// the queue is read to its end (or the stream ended).
    func readCompressedTurn(_ stream: FileStream) -> Bool {
        let recordsBefore = stream.output.records
        defer { counted(stream.output, since: recordsBefore) }
        // The turn's reads, over however many of the queue it comes to.
        var reads = 0
        while let file = stream.compressedQueue.first {
            guard stream.followed else { return true }
            let name = file.generation.name(stream.id)
            var reading: CompressedRead
            if let started = stream.compressedRead {
                reading = started
            } else {
                do { reading = CompressedRead(decoder: try GzipDecoder()) } catch {
                    Self.diagnostic("logs of \(self.name(of: stream.id)): \(name) not read: \(error)")
                    nextCompressed(stream)
                    continue
                }
            }
            var ended = false
            while reads < Self.compressedReadsPerTurn {
                reads += 1
                let n: Int
                do { n = try Sys.read(file.fd, into: &readBuffer, at: reading.at) } catch {
                    Self.diagnostic("logs of \(self.name(of: stream.id)): reading \(name): \(error)")
                    ended = true
                    break
                }
                if n == 0 {
                    let held = reading.follower.held.count
                    if (try? reading.decoder.finish()) == nil {
                        corruptLine(stream, at: reading.follower.cursor.offset, "\(name): gzip data cut short"
                                    + (held > 0 ? " (\(held) bytes of a line without its \"\\n\")" : ""))
                    } else if held > 0 {
                        corruptLine(stream, at: reading.follower.cursor.offset, "\(held) bytes without their \"\\n\" at the end of \(name)")
                    }
                    ended = true
                    break
                }
                reading.at += Int64(n)
                do {
                    try withRawBytes(readBuffer, 0..<n) { raw throws(GzipError) in
                        try reading.decoder.feed(raw) { piece in
                            reading.follower.bytesRead(piece) { line in self.fileLine(stream, line) }
                        }
                    }
                } catch {
                    corruptLine(stream, at: reading.follower.readOffset, "\(name): \(error); the rest of it skipped")
                    ended = true
                    break
                }
                if out.count >= Self.outputBatchBytes { flush() }
                guard stream.followed else { return true }
            }
            guard ended else {
                stream.compressedRead = reading
                return false
            }
            if reads >= Self.compressedReadsPerTurn && stream.compressedQueue.count > 1 {
                // This one read to its end with the turn's reads spent: the next one in a later turn.
                nextCompressed(stream)
                return false
            }
            nextCompressed(stream)
        }
        return true
    }

    /// The first compressed generation is read: closed, the next one's turn.
    func nextCompressed(_ stream: FileStream) {
        Sys.close(stream.compressedQueue.removeFirst().fd)
        stream.compressedRead = nil
    }

    /// Generations of a container's log were deleted by the engine before they were read (after its cursor,
    /// while attach was away; or `files` of them while it was held back): said once, counted. Without an
    /// entry's time on both sides, said without the span.
    func reportGap(_ id: String, from: Timestamp?, to: Timestamp?, files: Int = 0) {
        fileGaps &+= 1
        guard let from, let to else {
            Self.diagnostic("logs of \(name(of: id)): \(files) of its log files were deleted by the engine (max-file) "
                            + "before they were read: their lines skipped")
            return
        }
        let seconds = Double(to.seconds - from.seconds) + Double(to.nanoseconds - from.nanoseconds) / 1e9
        let span = seconds < 10 ? String(Int(seconds * 1000)) + " ms" : String(Int(seconds)) + " s"
        Self.diagnostic("logs of \(name(of: id)): its log files from \(from) on were deleted by the engine (max-file) "
                        + "before they were read: lines up to \(to) skipped (\(span))")
    }

    /// The time of the entry that ends at `offset` (the byte after its "\n"); nil when there is none.
    static func lineTime(endingAt offset: Int64, in fd: Int32) -> Timestamp? {
        guard offset > 0 else { return nil }
        var window: Int64 = 64 * 1024
        while true {
            let start = max(0, offset - window)
            var buffer = [UInt8](repeating: 0, count: Int(offset - start))
            guard let n = try? Sys.read(fd, into: &buffer, at: start), n == buffer.count, buffer.last == 10 else { return nil }
            let lineStart: Int
            if let nl = buffer[..<(n - 1)].lastIndex(of: 10) {
                lineStart = nl + 1
            } else if start == 0 {
                lineStart = 0
            } else if window < Int64(fileLineBytes) {
                window = Int64(fileLineBytes) + 1
                continue
            } else {
                return nil
            }
            var parser = JSONFileEntryParser()
            return try? withRawBytes(buffer, lineStart..<(n - 1)) { raw throws(JSONFileEntryError) in try parser.parse(raw).time }
        }
    }

    /// The time of a compressed generation's first entry; nil when it has none (or it does not decompress).
    static func firstTimeCompressed(_ fd: Int32) -> Timestamp? {
        guard let decoder = try? GzipDecoder() else { return nil }
        var line: [UInt8] = []
        var complete = false
        var input = [UInt8](repeating: 0, count: 64 * 1024)
        var at: Int64 = 0
        while !complete && line.count <= fileLineBytes {
            guard let n = try? Sys.read(fd, into: &input, at: at), n > 0 else { return nil }
            at += Int64(n)
            do {
                try withRawBytes(input, 0..<n) { raw throws(GzipError) in
                    try decoder.feed(raw) { piece in
                        guard !complete else { return }
                        if let nl = piece.firstIndex(of: 10) {
                            line.append(contentsOf: piece[..<nl])
                            complete = true
                        } else {
                            line.append(contentsOf: piece)
                        }
                    }
                }
            } catch { return nil }
        }
        guard complete else { return nil }
        var parser = JSONFileEntryParser()
        return try? withRawBytes(line, 0..<line.count) { raw throws(JSONFileEntryError) in try parser.parse(raw).time }
    }
}

extension LogFileCursor {
    /// Whether it can be saved and checked again: at a line whose time is known, or at the file's start.
    var isSaveable: Bool { offset == 0 || time != nil }
}
