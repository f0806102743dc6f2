import Contract
import Records
import Syscall

/// A record of the live stream, with its container's number (what clients' filters remember their
/// answer by).
struct StreamEntry {
    let record: Record
    let tag: Int
}

extension SubscriptionFilter {
    /// A filter that takes everything each of `filters` takes (more, perhaps): the fields they share, a
    /// common id prefix, the union of their streams. Each client's own filter picks its records out.
    static func cover(_ filters: [SubscriptionFilter]) -> SubscriptionFilter {
        guard var result = filters.first else { return SubscriptionFilter() }
        for f in filters.dropFirst() {
            if let id = result.id {
                if let other = f.id {
                    let common = zip(id.utf8, other.utf8).prefix { $0 == $1 }.count
                    result.id = common == 0 ? nil : String(decoding: id.utf8.prefix(common), as: UTF8.self)
                } else {
                    result.id = nil
                }
            }
            if result.name != f.name { result.name = nil }
            if result.substring != f.substring { result.substring = nil }
            if let types = result.types { result.types = f.types.map { types.union($0) } }
        }
        if result.types?.count == 2 { result.types = nil }
        return result
    }
}

/// httpd's one subscription on route's bus, shared by every live stream (docs/http.md#slow-clients): its
/// filter is the cover of the streams' filters, changed in place as streams come and go, and closed when
/// the last one goes. Each record is decoded once into the shared `StreamBuffer`, from which each client
/// takes what its filter wants, at its own pace: route's cost per record does not depend on the number
/// of clients, and a stalled client costs a cursor.
final class FanOut {
    unowned let server: HTTPDaemon
    var bus: Int32 = -1
    var registration: EventLoop.Registration?
    var busClient = BusClient()
    /// The subscription's filter; nil while there is none.
    var filter: SubscriptionFilter?
    var buffer: StreamBuffer<StreamEntry>
    /// The streaming clients, by id.
    var streams: [UInt64: Client] = [:]
    var decoder = RecordDecoder()
    /// Containers seen, numbered (renumbered from 0 when there are many and none is held).
    var tags: [ContainerKey: Int] = [:]
    var lastTag = (id: "", name: "", tag: -1)
    var reportedOverlong = false

    struct ContainerKey: Hashable {
        let id: String
        let name: String
    }

    /// What a record counts against the bound besides its line.
    static let entryOverhead = 64
    /// What one client takes from the buffer at a time (its next write).
    static let readBudget = 64 * 1024

    init(server: HTTPDaemon) {
        self.server = server
        buffer = StreamBuffer(limit: server.options.clientBufferBytes)
    }

    /// A client starts streaming what `filter` takes; false when route's bus cannot be reached.
    func join(_ client: Client, _ filter: SubscriptionFilter) -> Bool {
        if bus < 0 && !connect() { return false }
        streams[client.id] = client
        buffer.join(client.id) { [unowned client] entry in client.wants(entry) }
        resubscribe()
        return true
    }

    /// A client stops streaming; with the last one, the subscription ends and the buffer is emptied.
    func leave(_ client: Client) {
        guard streams.removeValue(forKey: client.id) != nil else { return }
        buffer.leave(client.id)
        if streams.isEmpty {
            closeBus()
            Sys.releaseFreeMemory()  // the clients' buffers, back to the system
        } else {
            resubscribe()
            buffer.release()
        }
    }

    /// Subscribes with the cover of the streams' filters when it changed (in place on the open
    /// subscription: no record is lost or doubled).
    func resubscribe() {
        let cover = SubscriptionFilter.cover(streams.values.map(\.streamFilter))
        guard cover != filter, bus >= 0 else { return }
        filter = cover
        // A short request on a Unix socket route reads all the time.
        _ = try? Sys.writeAll(bus, busClient.send(.subscribe(cover)))
    }

    func connect() -> Bool {
        do {
            let fd = try Sys.connectUnix(path: server.options.busPath)
            bus = fd
            try Sys.setNonBlocking(fd)
            registration = try server.loop.register(fd) { [unowned self] _ in busEvent() }
            return true
        } catch {
            closeBus()
            return false
        }
    }

    func closeBus() {
        busClient.cancel()
        filter = nil
        if let registration { server.loop.unregister(registration) }
        registration = nil
        if bus >= 0 { Sys.close(bus) }
        bus = -1
        decoder = RecordDecoder()
        tags = [:]
        lastTag = ("", "", -1)
        for client in streams.values { client.matchByTag = [] }
    }

    /// The container's number, for the clients' filters to remember their answer by.
    func tag(_ container: Container) -> Int {
        if container.id == lastTag.id && container.name == lastTag.name { return lastTag.tag }
        let key = ContainerKey(id: container.id, name: container.name)
        let tag: Int
        if let known = tags[key] {
            tag = known
        } else {
            if tags.count >= 16384 && buffer.count == 0 {
                tags.removeAll()
                for client in streams.values { client.matchByTag = [] }
            }
            tag = tags.count
            tags[key] = tag
        }
        lastTag = (container.id, container.name, tag)
        return tag
    }

    func busEvent() {
        guard bus >= 0 else { return }
        let ended = server.readAvailable(bus) { bytes in
            busClient.receive(bytes) { event in
                switch event {
                case .line(let line): take(line)
                case .overlong:
                    if !reportedOverlong {
                        reportedOverlong = true
                        HTTPDaemon.diagnostic("a line from route's bus over \(BusClient.maxStreamLine) bytes was skipped (said once)")
                    }
                case .reply: break
                }
            }
        }
        // Every client that waits for more takes it; stalled ones keep their cursor.
        for client in streams.values { client.pump() }
        buffer.release()
        if ended {
            let ending = Array(streams.values)
            streams.removeAll()
            for client in ending { buffer.leave(client.id) }
            closeBus()
            for client in ending { client.endStream() }
        }
    }

    /// A line of the subscription: a record, or route's missed notice (anything else is not for streams).
    func take(_ line: UnsafeRawBufferPointer) {
        do {
            let record = try decoder.decode(line: line)
            buffer.append(StreamEntry(record: record, tag: tag(record.container)), cost: line.count + Self.entryOverhead)
        } catch {
            if let n = BusStream.missed(line) {
                server.stats.busRecordsMissed &+= UInt64(n)
                buffer.missedUpstream(n)
            }
        }
    }

    /// Client `client` writes what it reads next into its stream; true when it added something.
    func read(into client: Client) -> Bool {
        guard client.stream != nil else { return false }
        _ = buffer.read(client.id, budget: Self.readBudget, missed: { n in
            server.stats.streamRecordsMissed &+= UInt64(n)
            client.stream?.missed(n)
        }) { entry in
            client.stream?.append(entry.record)
        }
        return client.stream?.finishBatch(into: &client.out) == true
    }
}
