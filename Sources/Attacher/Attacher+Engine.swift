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
        var pending: [UInt8] = []
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
        stream.pending = opened.bodyPrefix
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
                        case .body(let b): events.pending.append(contentsOf: b)
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
        var start = 0
        let bytes = events.pending
        while let nl = bytes[start...].firstIndex(of: 10) {
            let line = bytes[start..<nl]
            start = nl + 1
            if line.allSatisfy({ $0 == 32 || $0 == 13 }) { continue }
            guard let doc = try? JSONValue.parse(Array(line)) else {
                Self.diagnostic("unreadable event: \(String(decoding: line.prefix(200), as: UTF8.self))")
                continue
            }
            if let event = EngineEvent(doc) { perform(table.engineEvent(event)) }
        }
        if start > 0 { events.pending.removeFirst(start) }
        if events.pending.count > 1 << 20 {
            Self.diagnostic("event over 1 MiB without a newline; dropped")
            events.pending.removeAll()
        }
    }
}
