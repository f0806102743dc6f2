import Docker
import HTTP
import JSON
import Syscall
import Time

/// The engine connection: negotiating, the events stream, its lines.
extension Attacher {
    /// The events connection.
    final class EventsStream {
        let fd: Int32
        var registration: EventLoop.Registration?
        var http: HTTPResponseParser
        /// The events read so far: the lines complete, and how far the next one is.
        var skimmer = EventSkimmer()
        init(fd: Int32, http: HTTPResponseParser) {
            self.fd = fd
            self.http = http
        }
    }

    /// Negotiates the API version and subscribes to events; the table then lists and reconciles.
    func connect(readEngineTime: Bool) -> [ContainerTable.Action] {
        do throws(DockerError) {
            try client.negotiate()
            var engineTime: Timestamp?
            if readEngineTime {
                engineTime = (try? client.systemTime()).flatMap { $0 } ?? Timestamp.now(Sys.realtime)
            }
            try openEvents()
            return table.engineConnected(engineTime: engineTime)
        } catch {
            return table.connectFailed(error.description)
        }
    }

    func openEvents() throws(DockerError) {
        let opened = try client.openStream(client.eventsRequest())
        guard opened.head.status == 200 else {
            Sys.close(opened.fd)
            throw DockerError("GET /events answered \(opened.head.status) \(opened.head.reason)")
        }
        let stream = EventsStream(fd: opened.fd, http: opened.parser)
        stream.skimmer.feed(opened.bodyPrefix)
        do {
            try Sys.setNonBlocking(opened.fd)
            stream.registration = try loop.register(opened.fd) { [unowned self] _ in readEvents() }
        } catch {
            Sys.close(opened.fd)
            throw DockerError("\(error)", cause: error)
        }
        events = stream
    }

    func closeEvents() {
        if let events {
            if let registration = events.registration { loop.unregister(registration) }
            Sys.close(events.fd)
        }
        events = nil
    }

    func readEvents() {
        guard let events else { return }
        var ended = false
        var failure: String?
        while true {
            let n: Int
            do {
                n = try Sys.read(events.fd, into: &readBuffer)
            } catch {
                if error.errno == .wouldBlock { break }
                failure = error.description
                break
            }
            if n == 0 {
                ended = true
                break
            }
            do {
                try withRawBytes(readBuffer, 0..<n) { raw throws(HTTPParseError) in
                    try events.http.feed(raw) { event in
                        switch event {
                        case .body(let b): events.skimmer.feed(b)
                        case .end: ended = true
                        case .head: break
                        }
                    }
                }
            } catch {
                failure = error.description
                break
            }
            if n < readBuffer.count { break }
        }
        processEventLines()
        if ended || failure != nil { perform(table.engineLost(failure)) }
    }

    /// Handles each complete line of the events stream.
    func processEventLines() {
        guard let events else { return }
        for line in events.skimmer.take() {
            switch line {
            case .event(let event):
                switch event {
                case .die(let id): fileContainerDied(id)
                case .destroy(let id):
                    fileFolderDeleted(id)
                    filePositions[id] = nil
                    skipped.remove(id)
                case .start, .rename: break
                }
                perform(table.engineEvent(event))
            case .other: break
            case .unreadable(let text): Self.diagnostic("unreadable event: \(text)")
            }
        }
    }
}
