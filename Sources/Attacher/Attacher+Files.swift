#if canImport(Glibc)
import Glibc
#endif
import Docker
import Syscall
import Time

/// Containers whose json-file log is read from disk instead of the engine's logs endpoint: opening the
/// file, watching its folder with inotify in the one event loop, reading what lands, and carrying out what
/// each container's `LogFileFollower` decides (rotation, truncation, its end, its removal). The entries go
/// through the same `LogStreamParser` and `deliver` as a logs stream's, so the records are the same bytes.
extension Attacher {
    /// One container's json-file log, followed.
    final class FileStream {
        let id: String
        /// In `files`: what its timers and reads do is still wanted (a flag, not a lookup of the id in
        /// `files`: a check made several times per file per read turn).
        var followed = false
        let output: ContainerOutput
        /// The container's folder, opened without following links: every file is opened from it.
        let folder: Int32
        /// The file being read (the follower's current file).
        var fd: Int32
        /// Files opened after it, oldest first, waiting for it to be read to its end (a rotation; older
        /// generations read before the newest).
        var pending: [PendingFile] = []
        /// The inotify watch of the folder.
        var watch: Int32 = -1
        /// The watch includes `IN_MODIFY` (the file is idle: a write wakes attach); false while the file is
        /// being written and read again after every linger instead (see `readEnded`).
        var modifyWatched = true
        /// When a read turn last found new bytes (monotonic nanoseconds).
        var lastDataNanos: UInt64 = 0
        var follower: LogFileFollower
        var entries = JSONFileEntryParser()
        var logs: LogStreamParser
        /// A held line's idle flush, timed as for a logs stream.
        var machine = LogsStreamStateMachine()
        var idleTimer: EventLoop.Timer?
        /// Armed when a read turn stopped before the end of the file, so other containers get their turn.
        var more: EventLoop.Timer?
        /// Entries older than this are not read (the `since` a logs stream would have been opened with).
        var since: Timestamp?
        /// The container stopped: once its file is read to the end, the stream ends.
        var stopped = false
        /// Seen by inotify, to be carried out by `service`: the folder was deleted.
        var folderGone = false
        var toldFolderGone = false
        /// Corrupt lines reported (the first few are; the rest are counted only).
        var reported = 0
        /// `<id>-json.log`, to tell its events from those of the folder's other files.
        let logName: [UInt8]
        /// The identity of the file being read (the follower's, kept apart to be read while it reads).
        var current: FileIdentity
        /// The position to save: after the last entry whose records are all delivered (a line still being
        /// joined from pieces is read again from its first piece), and that entry's time.
        var safe: LogFileCursor
        /// Compressed generations to read through zlib, oldest first, before the current file (its follower
        /// waits, reading): older ones found when the stream opened, or ones passed over while rotating.
        /// Their lines have no position to save: meanwhile a restart goes by the timestamp cursor.
        var compressedQueue: [CompressedGeneration] = []
        /// The first of `compressedQueue` being read.
        var compressedRead: CompressedRead?
        /// Rotations inotify reported, to tell generations deleted before they were opened.
        var rotations = RotationCount()

        init(id: String, output: ContainerOutput, folder: Int32, fd: Int32, identity: FileIdentity, offset: Int64,
             tty: Bool, maxLineSize: Int) {
            self.id = id
            self.output = output
            self.folder = folder
            self.fd = fd
            follower = LogFileFollower(file: identity, offset: offset, maxLineBytes: Attacher.fileLineBytes)
            logs = LogStreamParser(multiplexed: !tty, maxLineSize: maxLineSize)
            logName = Array(LogFileGeneration(0).name(id).utf8)
            current = identity
            safe = LogFileCursor(device: identity.device, inode: identity.inode, offset: offset)
        }

        /// The records of every entry read are delivered (a held line was emitted): the position to save
        /// is the follower's.
        func allDelivered() {
            guard !logs.hasPending else { return }
            safe = follower.cursor
        }

        var identities: [FileIdentity] { [FileIdentity(device: follower.cursor.device, inode: follower.cursor.inode)] + pending.map(\.identity) }

        /// The position to save, if there is one (none while compressed generations are read).
        var savePosition: LogFileCursor? { compressedQueue.isEmpty && safe.isSaveable ? safe : nil }
    }

    /// A compressed generation opened, and its first entry's time.
    typealias CompressedGeneration = (fd: Int32, generation: LogFileGeneration, first: Timestamp?)
    /// A generation opened by a scan (`first`: a compressed one's first entry's time).
    typealias OpenedGeneration = (fd: Int32, identity: FileIdentity, generation: LogFileGeneration, first: Timestamp?)

    /// A plain generation opened after the file being read, waiting for the files before it to be read to
    /// their end; and the compressed generations between it and the file before it (passed over by attach
    /// while the engine rotated and compressed them), read through zlib just before it.
    struct PendingFile {
        var fd: Int32
        var identity: FileIdentity
        var compressedBefore: [CompressedGeneration] = []
        /// Generations before it (before `compressedBefore`) the engine deleted before attach opened them.
        var deletedBefore = 0

        init(fd: Int32, identity: FileIdentity) {
            self.fd = fd
            self.identity = identity
        }

        func close() {
            Sys.close(fd)
            for file in compressedBefore { Sys.close(file.fd) }
        }
    }

    /// Why a container's log file is not read.
    struct FileUnavailable: Error {
        var why: String
    }

    /// What a container's folder is watched for: writes to its files (while they are idle), a new file,
    /// the folder deleted or moved.
    static let watchedWhileIdle: InotifyMask = [.modify, .create, .movedTo, .deleteSelf, .moveSelf, .onlyDirectory]
    /// The same without writes, while the file is being written and read after every linger.
    static let watchedWhileWritten: InotifyMask = [.create, .movedTo, .deleteSelf, .moveSelf, .onlyDirectory]
    /// Two read turns that found new bytes this close together: the file is being written.
    var writtenWindowNanos: UInt64 { max(UInt64(options.lingerMs) * 2, 20) * 1_000_000 }

    /// A read of a file takes at most this many buffers (1 MiB) before the other containers get their turn.
    static let fileReadsPerTurn = 64
    /// A read of a compressed file takes at most this many buffers (128 KiB, about 1 MiB of text once
    /// decompressed) before the other containers get their turn.
    static let compressedReadsPerTurn = 8
    /// Corrupt lines reported per container; the further ones are counted only.
    static let corruptLinesReported = 10
    /// A line of a log file longer than this is corrupt (the engine's are 16 KiB of text, at most six bytes
    /// of JSON each, and the attributes).
    static let fileLineBytes = 1 << 20

    // MARK: - Opening

    /// Opens the container's json-file log and follows it, from its cursor (`since`: entries older are
    /// skipped, and the cursor drops what it delivered before) or, with `onlyNew`, from its end.
    func openFile(_ id: String, since: Timestamp?, onlyNew: Bool) throws(FileUnavailable) {
        guard let entry = table.containers[id] else { return }
        guard entry.info.logDriver == "json-file" else {
            throw FileUnavailable(why: "its log driver is \(entry.info.logDriver.isEmpty ? "not said" : entry.info.logDriver), not json-file")
        }
        let folder: Int32
        do { folder = try LogFileOpener.openFolder(options.containersDirectory, id: id) } catch { throw FileUnavailable(why: error.message) }
        var opened: [(fd: Int32, identity: FileIdentity)] = []
        func fail(_ why: String) -> FileUnavailable {
            for f in opened { Sys.close(f.fd) }
            Sys.close(folder)
            return FileUnavailable(why: why)
        }
        let current: (fd: Int32, status: FileStatus)
        do { current = try LogFileOpener.open(folder: folder, id: id, LogFileGeneration(0)) } catch { throw fail(error.message) }
        opened.append((current.fd, FileIdentity(device: current.status.device, inode: current.status.inode)))
        let watcher: Inotify
        do { watcher = try fileWatcher() } catch { throw fail("inotify: \(error)") }
        let watch: Int32
        do {
            // The folder opened, whatever its path has become meanwhile.
            watch = try watcher.addWatch("/proc/self/fd/\(folder)", Self.watchedWhileIdle)
        } catch {
            throw fail("cannot watch \(options.containersDirectory)/\(id): \(error)")
        }
        // Where to start, and what to read first.
        var offset: Int64 = 0
        var exact = false
        var savedTime: Timestamp?
        var compressed: [(fd: Int32, generation: LogFileGeneration)] = []
        if onlyNew {
            offset = Self.lineStart(before: current.status.size, in: current.fd)
        } else {
            var found: FoundPosition?
            let position = filePositions[id].flatMap { $0.holds(entry.output.cursor) ? $0 : nil }
            if let position {
                // Read before (by this attach, or saved): on from the same byte, in the same file found by
                // identity among the generations, then the newer ones.
                found = findPosition(position.file, folder: folder, id: id, current: current)
            }
            var shorter = false
            if let f = found, f.truncated {
                // Shorter than the byte: truncated in place, or its inode reused by a newer file once the
                // engine deleted it. Either way by time, from the oldest generation there is.
                for file in f.files where file.fd != current.fd { Sys.close(file.fd) }
                found = nil
                shorter = true
            }
            if let found {
                opened = found.files
                offset = found.offset
                exact = found.exact
                if exact { savedTime = position?.file.time }
            } else {
                // By the timestamp cursor (or the backlog): the generations that may hold it first, the
                // compressed ones through zlib.
                let older = generationsByTime(folder: folder, id: id, since: since, current: opened[0])
                for file in older.files where file.generation.compressed { compressed.append((file.fd, file.generation)) }
                opened = older.files.filter { !$0.generation.compressed }.map { ($0.fd, $0.identity) } + opened
                if shorter && older.files.isEmpty {
                    fileTruncations &+= 1
                    Self.diagnostic("logs of \(name(of: id)): its log file is shorter than where reading stopped (truncated); "
                                    + "read again from its start; lines written just before may be lost")
                } else if position != nil, let since, let oldest = older.oldest, since < oldest {
                    reportGap(id, from: since, to: oldest)
                }
            }
        }
        filePositions[id] = nil
        let stream = FileStream(id: id, output: entry.output, folder: folder, fd: opened[0].fd, identity: opened[0].identity,
                                offset: offset, tty: entry.info.tty, maxLineSize: options.maxLineSize)
        stream.safe.time = savedTime
        stream.pending = opened.dropFirst().map { PendingFile(fd: $0.fd, identity: $0.identity) }
        stream.watch = watch
        stream.since = exact ? nil : since
        if exact { entry.output.cursor.continued() }
        stream.more = loop.makeTimer { [unowned self, unowned stream] in service(stream) }
        files[id]?.followed = false
        files[id] = stream
        stream.followed = true
        watches[watch] = stream
        entry.output.fromFile = true
        table.streamOpened(id, at: Sys.monotonicNanos())
        table.streamFollowing(id)
        var actions = stream.follower.grew(size: .max)  // read what is there
        if let next = stream.pending.first { actions += stream.follower.newFile(next.identity) }
        if !entry.info.running {
            stream.stopped = true
            actions += stream.follower.containerDied()
        }
        // Read first, a few buffers a turn (the follower's first read does it).
        stream.compressedQueue = compressed.map { ($0.fd, $0.generation, nil) }
        pump(stream, actions)
    }

    /// The inotify descriptor, made and registered on first use.
    func fileWatcher() throws(SyscallError) -> Inotify {
        if let inotify { return inotify }
        let made = try Inotify()
        inotifyRegistration = try loop.register(made.fd) { [unowned self] _ in readFileEvents() }
        inotify = made
        return made
    }

    /// The start of the line `size` ends or is in the middle of: `size` when the file ends in "\n", else
    /// after the last "\n" of the MiB before it (0 when there is none).
    static func lineStart(before size: Int64, in fd: Int32) -> Int64 {
        guard size > 0 else { return 0 }
        var buffer = [UInt8](repeating: 0, count: 64 * 1024)
        var end = size
        while end > 0 && size - end < 1 << 20 {
            let start = max(0, end - Int64(buffer.count))
            guard let n = try? Sys.read(fd, into: &buffer, at: start), n > 0 else { return size }
            let upTo = min(n, Int(end - start))
            if let nl = buffer[0..<upTo].lastIndex(of: 10) { return start + Int64(nl) + 1 }
            end = start
        }
        return end == 0 ? 0 : size
    }

    /// The time of a log file's first entry; nil when it has none yet (or it is not an entry).
    static func firstTime(_ fd: Int32) -> Timestamp? {
        var buffer = [UInt8](repeating: 0, count: 64 * 1024)
        guard let n = try? Sys.read(fd, into: &buffer, at: 0), let nl = buffer[0..<n].firstIndex(of: 10) else { return nil }
        var parser = JSONFileEntryParser()
        return try? withRawBytes(buffer, 0..<nl) { raw throws(JSONFileEntryError) in try parser.parse(raw).time }
    }

    // MARK: - Watching

    /// The inotify descriptor is readable: what happened in the folders watched.
    func readFileEvents() {
        guard let inotify else { return }
        fileEvents.removeAll(keepingCapacity: true)
        do {
            try inotify.readEvents { event in
                if event.mask.contains(.queueOverflow) {
                    fileEvents.append((-1, event.mask, false))
                } else if let stream = watches[event.watch] {
                    let isLog = Self.sameBytes(event.name, stream.logName)
                    // Counted as read, before any is acted on: a new file's scan knows of every rotation
                    // read so far.
                    if isLog && event.mask.contains(.create) { stream.rotations.rotated() }
                    fileEvents.append((event.watch, event.mask, isLog))
                }
            }
        } catch {
            Self.diagnostic("inotify: \(error)")
        }
        // Only what must happen at once happens here (a new file is opened before the engine can rename
        // it away); the rest is for each container's `service`, at the end of the loop's turn. So this can
        // also be called between two reads of a long file.
        for (watch, mask, isLog) in fileEvents {
            if watch == -1 {
                // Events were lost, a new file's among them perhaps (attach held back while the engine
                // rotated): every container's new `<id>-json.log` is looked for, and every file read on.
                fileEventOverflows &+= 1
                if fileEventOverflows == 1 {
                    Self.diagnostic("inotify: events lost (the queue of fs.inotify.max_queued_events overflowed): every log file looked at again; counted in logspout_attach_file_event_overflows_total")
                }
                for stream in Array(files.values) {
                    openNewFile(stream)
                    if !loop.isArmed(stream.more!) { loop.arm(stream.more!, at: 0) }
                }
                continue
            }
            guard let stream = watches[watch] else { continue }
            if !mask.isDisjoint(with: [.deleteSelf, .moveSelf, .ignored]) {
                if mask.contains(.ignored) { watches[watch] = nil }
                stream.folderGone = true
            } else if isLog {
                // Written to (or truncated), or a new file: `service` looks.
                if !mask.isDisjoint(with: [.create, .movedTo]) { openNewFile(stream) }
            } else {
                continue
            }
            // Once per container, however many lines its file was written (an event each).
            if !loop.isArmed(stream.more!) { loop.arm(stream.more!, at: 0) }
        }
    }

    /// Whether an event's name is a container's log file's name.
    @inline(__always)
    static func sameBytes(_ name: UnsafeRawBufferPointer, _ expected: [UInt8]) -> Bool {
        guard name.count == expected.count else { return false }
        return expected.withUnsafeBytes { memcmp($0.baseAddress!, name.baseAddress!, name.count) == 0 }
    }

    /// Tells a container's follower what inotify saw, and carries out what it decides: reading on, a new
    /// file, the folder gone. Also what a read turn that stopped before the end comes back to.
    func service(_ stream: FileStream) {
        guard stream.followed else { return }
        var actions: [LogFileFollower.Action] = []
        if stream.folderGone && !stream.toldFolderGone {
            stream.toldFolderGone = true
            actions += stream.follower.folderDeleted()
        }
        if stream.follower.next == nil, let next = stream.pending.first { actions += stream.follower.newFile(next.identity) }
        if stream.follower.reading {
            if !actions.contains(.read) { actions.append(.read) }
        } else {
            // Read at once, without asking the file's size first: a read that finds nothing asks it (a
            // file shorter than where reading stopped was truncated).
            actions += stream.follower.grew(size: .max)
        }
        pump(stream, actions)
    }

    /// A new `<id>-json.log` appeared: opened at once; read once the files before it are read to their end.
    func openNewFile(_ stream: FileStream) {
        guard stream.followed,
              let file = try? LogFileOpener.open(folder: stream.folder, id: stream.id, LogFileGeneration(0)) else { return }
        let identity = FileIdentity(device: file.status.device, inode: file.status.inode)
        let held = stream.identities
        guard !held.contains(identity) else {
            stream.rotations.newestHeld()
            Sys.close(file.fd)
            return
        }
        let (between, reached) = generationsBetween(stream, held: held, new: (file.fd, identity))
        // Those the engine deleted before (beyond `max-file`, attach held back for that many rotations).
        let deleted = stream.rotations.scanned(found: between.count + 1, reached: reached)
        // Oldest first; each compressed one goes with the plain one after it (the new file last).
        let firstAdded = stream.pending.count
        var compressed: [CompressedGeneration] = []
        for older in between.reversed() {
            if older.generation.compressed {
                compressed.append((older.fd, older.generation, older.first))
            } else {
                var next = PendingFile(fd: older.fd, identity: older.identity)
                next.compressedBefore = compressed
                compressed = []
                stream.pending.append(next)
            }
        }
        var next = PendingFile(fd: file.fd, identity: identity)
        next.compressedBefore = compressed
        stream.pending.append(next)
        stream.pending[firstAdded].deletedBefore = deleted
    }

    /// Several rotations before a new file's event was read (attach held back by a full output pipe, or off
    /// the CPU): the generations between the newest file held and the new one are `….1`, `….2`, … now,
    /// not read yet, and with `compress=true` `….N.gz` once the engine compressed them (the plain name
    /// deleted). Opened newest first, down to one held: a plain one by identity; a compressed one (a new
    /// identity) is a copy of one held, or older, when its first entry is not newer than the newest held
    /// file's first entry, and a copy of the new file when it is not older than the new file's. A rotation
    /// meanwhile renames them upwards: one may be seen twice (kept once), none is passed over. Those the
    /// engine deleted (beyond `max-file`) are gone. A number missing (the engine between two renames) is
    /// passed over to the next one the folder holds. `reached`: the scan came down to a file held (false: it
    /// ran out of generations first).
    func generationsBetween(_ stream: FileStream, held: [FileIdentity], new: (fd: Int32, identity: FileIdentity))
        -> (files: [OpenedGeneration], reached: Bool) {
        var between: [OpenedGeneration] = []
        // The first entries' times, read once and only when a compressed generation is met.
        var heldFirst: Timestamp??
        var newFirst: Timestamp??
        var number = 1
        while true {
            if let older = try? LogFileOpener.open(folder: stream.folder, id: stream.id, LogFileGeneration(number)) {
                let olderIdentity = FileIdentity(device: older.status.device, inode: older.status.inode)
                let reached = held.contains(olderIdentity)
                if reached || olderIdentity == new.identity || between.contains(where: { $0.identity == olderIdentity }) {
                    Sys.close(older.fd)
                } else {
                    between.append((older.fd, olderIdentity, LogFileGeneration(number), nil))
                }
                if reached { return (between, true) }
            } else if let older = try? LogFileOpener.open(folder: stream.folder, id: stream.id, LogFileGeneration(number, compressed: true)) {
                if heldFirst == nil { heldFirst = .some(Self.firstTime(stream.pending.last?.fd ?? stream.fd)) }
                if newFirst == nil { newFirst = .some(Self.firstTime(new.fd)) }
                let first = Self.firstTimeCompressed(older.fd)
                // Without a first time to compare (an empty or corrupt file), it is taken for one held.
                guard let first, let heldTime = heldFirst!, first > heldTime else {
                    Sys.close(older.fd)
                    return (between, true)
                }
                // The plain ones taken so far by their first entry too: one may have been compressed and
                // renamed upwards since (by a rotation during the scan).
                for k in between.indices where between[k].first == nil { between[k].first = Self.firstTime(between[k].fd) }
                if newFirst!.map({ first >= $0 }) == true || between.contains(where: { $0.first == first }) {
                    Sys.close(older.fd)
                } else {
                    let identity = FileIdentity(device: older.status.device, inode: older.status.inode)
                    between.append((older.fd, identity, LogFileGeneration(number, compressed: true), first))
                }
            } else {
                // Not there: the engine renames from the top down, so while it rotates one number is
                // missing for a moment. On from the next number there is, if any.
                let names = (try? Sys.listDirectory(options.containersDirectory + "/" + stream.id)) ?? []
                guard let next = LogFileGenerations.present(names, id: stream.id).map(\.number).filter({ $0 > number }).min() else { break }
                number = next
                continue
            }
            number += 1
        }
        return (between, false)
    }

    /// The container stopped (a `die` event, or not in the engine's listing any more): its file is read to
    /// the end, its last line without "\n" emitted, then the stream ends.
    func fileContainerDied(_ id: String) {
        guard let stream = files[id], !stream.stopped else { return }
        stream.stopped = true
        pump(stream, stream.follower.containerDied())
    }

    /// `docker rm`: what the descriptors hold is read to the end, then the container is forgotten.
    func fileFolderDeleted(_ id: String) {
        guard let stream = files[id] else { return }
        pump(stream, stream.follower.folderDeleted())
    }

    // MARK: - Reading

    /// Carries out the follower's actions, and those that come of them, in order.
    func pump(_ stream: FileStream, _ first: [LogFileFollower.Action]) {
        var actions = first
        var k = 0
        while k < actions.count {
            guard stream.followed else { return }
            let action = actions[k]
            k += 1
            switch action {
            case .read:
                if !stream.compressedQueue.isEmpty && !readCompressedTurn(stream) {
                    // More of them: `service` reads on (the follower still reads).
                    if stream.followed {
                        loop.arm(stream.more!, at: 0)
                        fileReadPending = true
                    }
                    continue
                }
                guard stream.followed else { return }
                switch readTurn(stream) {
                case .end(let readNothing):
                    if readNothing, let status = try? Sys.status(stream.fd), status.size < stream.follower.readOffset {
                        actions += stream.follower.grew(size: status.size)  // truncated in place
                    } else {
                        actions += stream.follower.reachedEnd()
                    }
                    readEnded(stream, foundBytes: !readNothing)
                case .more:
                    readEnded(stream, foundBytes: true)
                    loop.arm(stream.more!, at: 0)  // `service` reads on
                    fileReadPending = true
                case .failed(let why): endFile(stream, failure: why)
                }
            case .switchToNewFile(let identity):
                guard let i = stream.pending.firstIndex(where: { $0.identity == identity }) else {
                    endFile(stream, failure: "its new log file is not open")
                    return
                }
                Sys.close(stream.fd)
                for skipped in stream.pending[..<i] { skipped.close() }
                let next = stream.pending[i]
                stream.pending.removeFirst(i + 1)
                stream.fd = next.fd
                stream.current = identity
                if next.deletedBefore > 0 {
                    reportGap(stream.id, from: stream.follower.cursor.time,
                              to: next.compressedBefore.first.map({ $0.first }) ?? Self.firstTime(next.fd), files: next.deletedBefore)
                }
                // The compressed generations between the old file and this one, in order, before it (the
                // follower's next read does them first).
                stream.compressedQueue += next.compressedBefore
                stream.allDelivered()
                if let after = stream.pending.first { actions += stream.follower.newFile(after.identity) }
            case .truncated(let lostAfter, let first):
                fileTruncations &+= 1
                stream.safe = LogFileCursor(device: stream.current.device, inode: stream.current.inode, offset: 0)
                if first {
                    Self.diagnostic("logs of \(name(of: stream.id)): its log file was truncated (it was \(lostAfter) bytes); "
                                    + "read again from its start; lines written just before may be lost")
                }
            case .incompleteLineSkipped(let at, let bytes):
                corruptLine(stream, at: at, "\(bytes) bytes without their \"\\n\" at the end of a file")
            case .emitHeldLine:
                let before = stream.output.records
                stream.logs.finish(emit: { line in self.deliver(line, stream.output) })
                counted(stream.output, since: before)
                stream.allDelivered()
                if stream.stopped { endFile(stream, failure: nil) }
            case .forget:
                endFile(stream, failure: nil)
            }
        }
        if stream.followed, case .arm(let deadline) = stream.machine.readDone(lineHeld: stream.logs.hasPending) {
            scheduleFileIdleFlush(stream, at: deadline)
        }
    }

    /// After a read turn: how the next one comes. A file read twice with new bytes within
    /// `writtenWindowNanos` is being written: its folder's watch drops `IN_MODIFY` and the file is read
    /// again after every linger (the loop's pause after a turn that read). The engine then writes without
    /// inotify's work on each write (an event queued or merged per line, about 1 µs of dockerd's CPU a line
    /// at full speed), and attach reads no events. The first turn that finds nothing puts `IN_MODIFY`
    /// back and reads once more, for what was written between the two; then a write wakes attach again, and
    /// an idle file costs nothing.
    func readEnded(_ stream: FileStream, foundBytes: Bool) {
        guard stream.followed, let inotify else { return }
        if foundBytes {
            let now = Sys.monotonicNanos()
            let written = stream.lastDataNanos != 0 && now &- stream.lastDataNanos <= writtenWindowNanos
            stream.lastDataNanos = now
            if stream.modifyWatched && written && setWatch(stream, Self.watchedWhileWritten, on: inotify) {
                stream.modifyWatched = false
            }
            if !stream.modifyWatched && !loop.isArmed(stream.more!) { loop.arm(stream.more!, at: 0) }
        } else if !stream.modifyWatched {
            guard !loop.isArmed(stream.more!) else { return }
            if setWatch(stream, Self.watchedWhileIdle, on: inotify) {
                stream.modifyWatched = true
                // What was written after the read that found nothing and before the watch: read once more.
                loop.arm(stream.more!, at: 0)
            } else {
                // The watch could not be set back: the file is read again after a while, not at once (a
                // turn that reads nothing does not linger).
                loop.arm(stream.more!, at: Sys.monotonicNanos() &+ writtenWindowNanos)
            }
        }
    }

    /// Sets the folder's watch to `mask` (the same watch: the same folder in the same inotify instance).
    func setWatch(_ stream: FileStream, _ mask: InotifyMask, on inotify: Inotify) -> Bool {
        guard stream.watch >= 0, watches[stream.watch] === stream,
              let watch = try? inotify.addWatch("/proc/self/fd/\(stream.folder)", mask) else { return false }
        if watch != stream.watch {
            watches[stream.watch] = nil
            stream.watch = watch
            watches[watch] = stream
        }
        return true
    }

    /// `end`: the file has nothing more for now (`readNothing`: not a byte this turn).
    enum ReadTurn { case end(readNothing: Bool), more, failed(String) }

    /// Reads the current file from the follower's offset: to its end (a read that returns 0), or a few
    /// buffers.
    func readTurn(_ stream: FileStream) -> ReadTurn {
        let recordsBefore = stream.output.records
        defer { counted(stream.output, since: recordsBefore) }
        for turn in 0..<Self.fileReadsPerTurn {
            let n: Int
            do { n = try Sys.read(stream.fd, into: &readBuffer, at: stream.follower.readOffset) } catch {
                return .failed("reading its log file: \(error)")
            }
            if n == 0 { return .end(readNothing: turn == 0) }
            readBytesThisRound += n
            stream.machine.dataArrived(at: Sys.monotonicNanos())
            withRawBytes(readBuffer, 0..<n) { raw in
                stream.follower.bytesRead(raw) { line in self.fileLine(stream, line) }
            }
            if out.count >= Self.outputBatchBytes { flush() }
            // A read of a regular file that fills less than the buffer stopped at its end: no second read
            // to see 0 (what is written after it comes with an inotify event). A new file is told to the
            // follower before a turn, so a rotation is not taken for the end.
            if n < readBuffer.count { return .end(readNothing: false) }
            // A new file may have appeared meanwhile: opened now, before the engine renames it away.
            if inotify != nil { readFileEvents() }
        }
        return .more
    }

    /// One line of the file: an entry (its time returned), or a corrupt line (skipped, counted, reported).
    @inline(__always)
    func fileLine(_ stream: FileStream, _ line: LogFileFollower.Line) -> Timestamp? {
        switch line {
        case .tooLong(let at):
            corruptLine(stream, at: at, "a line over \(Self.fileLineBytes) bytes")
            return nil
        case .line(let bytes, let at):
            let entry: JSONFileEntry
            do { entry = try stream.entries.parse(bytes) } catch {
                corruptLine(stream, at: at, error.message)
                return nil
            }
            if stream.since.map({ entry.time < $0 }) != true {
                let output = stream.output
                stream.entries.time.withUnsafeBytes { time in
                    stream.entries.log.withUnsafeBytes { text in
                        stream.logs.feedEntry(stream: entry.stream, time: time, parsed: entry.time, text: text,
                                             emit: { line in self.deliver(line, output) })
                    }
                }
            }
            if !stream.logs.hasPending && stream.compressedQueue.isEmpty {
                stream.safe = LogFileCursor(device: stream.current.device, inode: stream.current.inode,
                                            offset: at + Int64(bytes.count) + 1, time: entry.time)
            }
            return entry.time
        }
    }

    func corruptLine(_ stream: FileStream, at offset: Int64, _ why: String) {
        fileCorruptLines &+= 1
        stream.reported += 1
        if stream.reported <= Self.corruptLinesReported {
            Self.diagnostic("logs of \(name(of: stream.id)): a corrupt line at byte \(offset) of its log file skipped: \(why)"
                            + (stream.reported == Self.corruptLinesReported ? " (further ones are counted, not reported)" : ""))
        }
    }

    /// A line held without its "\n": emitted once the file stays idle for a while, as from a logs stream.
    func scheduleFileIdleFlush(_ stream: FileStream, at deadline: UInt64) {
        if let timer = stream.idleTimer { loop.cancel(timer) }
        stream.idleTimer = loop.schedule(at: deadline) { [unowned self] in
            stream.idleTimer = nil
            guard stream.followed else { return }
            switch stream.machine.idleTimerFired(now: Sys.monotonicNanos(), lineHeld: stream.logs.hasPending) {
            case .none:
                break
            case .arm(let deadline):
                scheduleFileIdleFlush(stream, at: deadline)
            case .emitHeldLineUnlessInputWaits:
                // More bytes already written: reading them schedules this again.
                if let status = try? Sys.status(stream.fd), status.size > stream.follower.readOffset { return }
                if stream.follower.reading || !stream.pending.isEmpty { return }
                let before = stream.output.records
                stream.logs.finish(emit: { line in self.deliver(line, stream.output) })
                counted(stream.output, since: before)
                stream.allDelivered()
            }
        }
    }

    // MARK: - Ending

    /// Closes a container's files; the table hears that its stream ended (cleanly, or with `failure`).
    func endFile(_ stream: FileStream, failure: String?) {
        guard stream.followed else { return }
        files[stream.id] = nil
        stream.followed = false
        if stream.watch >= 0, watches[stream.watch] === stream {
            watches[stream.watch] = nil
            try? inotify?.removeWatch(stream.watch)
        }
        if let timer = stream.more { loop.cancel(timer) }
        if let timer = stream.idleTimer { loop.cancel(timer) }
        stream.idleTimer = nil
        // Where this attach stopped reading, to go on from the same byte should the container's file be
        // read again (it starts again, its stream is reopened, or as saved for a restarted attach): none
        // while compressed generations were still to be read.
        if stream.output.cursor.time != nil, let position = stream.savePosition {
            filePositions[stream.id] = FilePosition(file: position, cursor: stream.output.cursor)
        }
        Sys.close(stream.fd)
        for file in stream.pending { file.close() }
        stream.pending = []
        for file in stream.compressedQueue { Sys.close(file.fd) }
        stream.compressedQueue = []
        stream.compressedRead = nil
        Sys.close(stream.folder)
        perform(table.streamEnded(stream.id, failure: failure, at: Sys.monotonicNanos()))
        metrics?.changed()
    }
}
