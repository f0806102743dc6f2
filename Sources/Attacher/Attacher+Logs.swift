import Docker
import HTTP
import Records
import Syscall
import Time

/// The logs streams: opening, reading, the idle flush, closing; and the line path, from a stream's parser
/// to the output buffer.
extension Attacher {
    /// One logs connection.
    final class LogsStream {
        let fd: Int32
        let id: String
        /// The container's JSON and cursor, written through directly for every line.
        let output: ContainerOutput
        var registration: EventLoop.Registration?
        var http = HTTPResponseParser()
        var logs: LogStreamParser?
        var machine = LogsStreamStateMachine()
        /// Armed while a line is held.
        var idleTimer: EventLoop.Timer?

        init(fd: Int32, id: String, output: ContainerOutput) {
            self.fd = fd
            self.id = id
            self.output = output
        }
    }

    /// The container's name, for diagnostics.
    func name(of id: String) -> String { table.containers[id]?.info.name ?? String(id.prefix(12)) }

    /// Opens the logs stream of a container (`since` its cursor, its baseline, or only new lines).
    func openStream(_ id: String, since: Timestamp?, onlyNew: Bool) -> [ContainerTable.Action] {
        guard let output = table.containers[id]?.output else { return [] }
        if options.readsFiles {
            do throws(FileUnavailable) {
                try openFile(id, since: since, onlyNew: onlyNew)
                return []
            } catch {
                if options.logSource == .files {
                    if skipped.insert(id).inserted {
                        skippedContainers &+= 1
                        Self.diagnostic("logs of \(name(of: id)): \(error.why); skipped (--log-source files)")
                    }
                    table.streamSkipped(id)
                    return []
                }
            }
        }
        output.fromFile = false
        let fd: Int32
        do { fd = try client.endpoint.connect() } catch { return table.streamOpenFailed(id, "\(error)") }
        do {
            try Sys.writeAll(fd, client.logsRequest(id: id, since: since, onlyNew: onlyNew))
            try Sys.setNonBlocking(fd)
        } catch {
            Sys.close(fd)  // connected, but the request could not be sent: the descriptor goes back
            return table.streamOpenFailed(id, "\(error)")
        }
        let stream = LogsStream(fd: fd, id: id, output: output)
        do { stream.registration = try loop.register(fd) { [unowned self] _ in readLogs(stream) } } catch {
            Sys.close(fd)
            return table.streamOpenFailed(id, "\(error)", registering: true)
        }
        table.streamOpened(id, at: Sys.monotonicNanos())
        return []
    }

    func readLogs(_ stream: LogsStream) {
        let recordsBefore = stream.output.records
        defer { counted(stream.output, since: recordsBefore) }
        // Read at most a few buffers per wake-up, so one busy container cannot starve the others.
        for _ in 0..<4 {
            let n: Int
            do {
                n = try Sys.read(stream.fd, into: &readBuffer)
            } catch {
                if error.errno == .wouldBlock { break }
                stream.machine.failed(error.description)
                break
            }
            readBytesThisRound += n
            if n == 0 {
                do {
                    try stream.http.finish { event in if case .end = event { stream.machine.responseEnded() } }
                } catch {
                    stream.machine.failed(error.description)
                }
                stream.machine.closedByPeer()
                break
            }
            do {
                try withRawBytes(readBuffer, 0..<n) { raw throws(HTTPParseError) in
                    try stream.http.feed(raw) { event in
                        switch event {
                        case .head(let head): self.started(stream, head)
                        case .body(let body): self.logBytes(stream, body)
                        case .end: stream.machine.responseEnded()
                        }
                    }
                }
            } catch {
                stream.machine.failed(error.description)
                break
            }
            if stream.machine.isOver { break }
            if n < readBuffer.count { break }
            if out.count >= Self.outputBatchBytes { flush() }
        }
        if stream.machine.isOver {
            close(stream)
        } else if case .arm(let deadline) = stream.machine.readDone(lineHeld: stream.logs?.hasPending == true) {
            scheduleIdleFlush(stream, at: deadline)
        }
    }

    /// A line held without its "\n": emitted once the stream stays idle for a while.
    func scheduleIdleFlush(_ stream: LogsStream, at deadline: UInt64) {
        stream.idleTimer = loop.schedule(at: deadline) { [unowned self] in
            stream.idleTimer = nil
            switch stream.machine.idleTimerFired(now: Sys.monotonicNanos(), lineHeld: stream.logs?.hasPending == true) {
            case .none:
                break
            case .arm(let deadline):
                scheduleIdleFlush(stream, at: deadline)
            case .emitHeldLineUnlessInputWaits:
                // When more bytes are already waiting, reading them schedules this again.
                if Sys.hasInput(stream.fd) { return }
                let output = stream.output
                let before = output.records
                stream.logs!.finish(emit: { line in self.deliver(line, output) })
                counted(output, since: before)
            }
        }
    }

    func started(_ stream: LogsStream, _ head: HTTPHead) {
        let tty = table.containers[stream.id]?.info.tty ?? false
        switch stream.machine.headReceived(status: head.status, reason: head.reason,
                                           contentType: head.header("Content-Type"), tty: tty) {
        case .follow(let multiplexed):
            stream.logs = LogStreamParser(multiplexed: multiplexed, maxLineSize: options.maxLineSize)
            table.streamFollowing(stream.id)
        case .end:
            break
        }
    }

    func logBytes(_ stream: LogsStream, _ body: UnsafeRawBufferPointer) {
        guard stream.logs != nil else { return }
        stream.machine.dataArrived(at: Sys.monotonicNanos())
        let output = stream.output
        stream.logs!.feed(body, emit: { line in self.deliver(line, output) },
                          daemonError: { text in Self.diagnostic("logs of \(self.name(of: stream.id)): engine says: \(text)") })
    }

    /// Writes one record, unless the cursor says it was delivered before.
    func deliver(_ line: LogLine, _ container: ContainerOutput) {
        guard let t = line.parsedTime ?? streamTimes.parse(line.time) else {
            // No usable timestamp (never seen from Docker): stamp it now, outside the cursor.
            let now = Timestamp.now(Sys.realtime).description
            var n = now
            n.withUTF8 { time in append(time: UnsafeRawBufferPointer(time), line, container) }
            return
        }
        guard container.cursor.admit(t) else { return }
        cursorFile?.dirty = true
        append(time: line.time, line, container)
    }

    @inline(__always)
    func append(time: UnsafeRawBufferPointer, _ line: LogLine, _ container: ContainerOutput) {
        let start = out.count
        RecordCodec.append(time: time, source: line.stream == .stderr ? .stderr : .stdout, data: line.data,
                           partial: line.partial, containerJSON: container.containerJSON, into: &out)
        if out.count - start > RecordBounds.maxRecordBytes + 1 {
            recut(time: time, line, container, from: start)
            return
        }
        count(line.stream, partial: line.partial, container)
    }

    /// Counts one record written (attach's metrics).
    @inline(__always)
    func count(_ stream: StreamKind, partial: Bool, _ container: ContainerOutput) {
        if stream == .stderr { container.stderrRecords &+= 1 } else { container.stdoutRecords &+= 1 }
        if partial { partialRecords &+= 1 }
    }

    /// After a read of a container's stream: if it brought records, its lag (time now minus the latest
    /// record's timestamp, clock read once per read), and the metrics are told.
    func counted(_ output: ContainerOutput, since before: Int) {
        guard output.records != before else { return }
        streamRecordsThisRound = max(streamRecordsThisRound, output.records &- before)
        if let t = output.cursor.time {
            let now = Sys.realtime()
            let lag = Double(now.seconds - t.seconds) + Double(now.nanoseconds - t.nanoseconds) / 1e9
            output.lagSeconds = max(0, lag)
        }
        metrics?.changed()
    }

    /// A piece whose escapes (`\u00XX` for a control character, U+FFFD for an invalid byte) made its record
    /// longer than `RecordBounds.maxRecordBytes`: written again in smaller pieces, each short enough to fit
    /// even if every byte of it is written as six. All of them come from one piece of the stream, which
    /// the cursor counts once, and are cut the same way when it is read again.
    func recut(time: UnsafeRawBufferPointer, _ line: LogLine, _ container: ContainerOutput, from start: Int) {
        out.removeSubrange(start...)
        let data = line.data
        let room = max(4, (RecordBounds.maxRecordBytes - RecordBounds.fixedBytes - container.containerJSON.count) / 6)
        var i = 0
        while i < data.count {
            var end = min(data.count, i + room)
            // On a character boundary: not before a continuation byte (unless the piece would be empty).
            var back = 0
            while end < data.count, back < 3, end - 1 > i, data[end] & 0xC0 == 0x80 {
                end -= 1
                back += 1
            }
            RecordCodec.append(time: time, source: line.stream == .stderr ? .stderr : .stdout,
                               data: UnsafeRawBufferPointer(rebasing: data[i..<end]),
                               partial: end < data.count || line.partial, containerJSON: container.containerJSON, into: &out)
            count(line.stream, partial: end < data.count || line.partial, container)
            i = end
        }
    }

    func close(_ stream: LogsStream) {
        let closing = stream.machine.closing()
        if closing.emitHeldLine {
            // A clean end: the container stopped. Its last unterminated line is complete now.
            let output = stream.output
            let before = output.records
            stream.logs?.finish(emit: { line in self.deliver(line, output) })
            counted(output, since: before)
        }
        if let registration = stream.registration { loop.unregister(registration) }
        if let timer = stream.idleTimer { loop.cancel(timer) }
        stream.idleTimer = nil
        Sys.close(stream.fd)
        perform(table.streamEnded(stream.id, failure: closing.failure, at: Sys.monotonicNanos()))
        metrics?.changed()  // one stream fewer
    }
}
