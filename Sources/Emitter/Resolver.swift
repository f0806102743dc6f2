import Contract
import Synchronization
import Syscall

/// Picks the SRV record to use, as RFC 2782 says: the lowest priority first; among records of that
/// priority, at random in proportion to their weights (records of weight 0 get a small chance).
/// `random(n)` returns a number in 0...n.
public func selectSRV(_ records: [Sys.SRVRecord], random: (Int) -> Int = { Int.random(in: 0...$0) }) -> Sys.SRVRecord? {
    guard let best = records.map(\.priority).min() else { return nil }
    // RFC 2782: zero-weight records first, then the others; pick the first whose running sum reaches r.
    let group = records.filter { $0.priority == best }.sorted { ($0.weight == 0 ? 0 : 1) < ($1.weight == 0 ? 0 : 1) }
    let total = group.reduce(0) { $0 + Int($1.weight) }
    let r = random(total)
    var sum = 0
    for record in group {
        sum += Int(record.weight)
        if sum >= r { return record }
    }
    return group.last
}

/// What a lookup found: the addresses to send to (best first), or why there are none.
public struct Resolution: Sendable {
    public var key: String
    public var addresses: [SocketAddress]
    /// Why there are none, one sentence: `cannot resolve logs.example.com: no such host`.
    public var error: String?
    /// A readable account of the answer, e.g. "logs.example.com (SRV) → 10.0.0.5:5514"; the error when
    /// there is none.
    public var summary: String
}

/// Resolves receiver addresses on a background thread, so the message path never waits on DNS, and
/// wakes the event loop through an eventfd when answers arrive.
public final class Resolver: Sendable {
    let queue = SerialWorker()
    let results = Mutex<[Resolution]>([])
    /// Readable when results are waiting.
    public let eventFD: Int32

    public init() throws(SyscallError) {
        eventFD = try Sys.eventfd()
    }

    deinit { Sys.close(eventFD) }

    /// Starts a lookup of `address` for `kind` sockets; its result comes back through `take()`.
    public func resolve(key: String, address: Address, kind: SocketKind) {
        queue.run { [self] in
            let result = Self.lookup(key: key, address: address, kind: kind)
            results.withLock { $0.append(result) }
            Sys.signalEvent(eventFD)
        }
    }

    /// The answers that arrived since the last call.
    public func take() -> [Resolution] {
        Sys.drainEvent(eventFD)
        return results.withLock { r in
            let out = r
            r.removeAll()
            return out
        }
    }

    /// A blocking lookup: A/AAAA for `host:port`; SRV first for a bare name (falling back to the default
    /// port, 514 or 6514 for TLS, when the name has no SRV records).
    public static func lookup(key: String, address: Address, kind: SocketKind) -> Resolution {
        var host = address.host
        var port = address.port ?? address.defaultPort
        var via = ""
        if address.port == nil {
            do {
                let records = try Sys.srvLookup(address.host)
                if let chosen = selectSRV(records) {
                    host = chosen.target
                    port = chosen.port
                    via = " (SRV \(chosen.target):\(chosen.port), priority \(chosen.priority), weight \(chosen.weight))"
                }
            } catch {
                via = " (no SRV records; port \(address.defaultPort))"
            }
        }
        do throws(ResolveError) {
            let addresses = try Sys.lookup(host: host, port: port, kind: kind)
            let shown = addresses.first.map(\.description) ?? "nothing"
            let error = addresses.isEmpty ? "\(ResolveError(host: address.host, reason: "no address"))" : nil
            return Resolution(key: key, addresses: addresses, error: error, summary: error ?? "\(address)\(via) → \(shown)")
        } catch {
            // One sentence, naming the name as it was given (and the SRV target it led to, if any).
            var failed = error
            if host != address.host { failed.host = "\(host) (the SRV target of \(address.host))" }
            let text = failed.description
            return Resolution(key: key, addresses: [], error: text, summary: text)
        }
    }
}
