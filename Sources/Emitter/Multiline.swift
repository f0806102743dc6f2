import Contract
import Records

/// Joins the lines of each (route, container, stream) into messages, per the route's `MultilineMatcher`.
/// Feed it the records of one route in order; it hands back the messages that are complete, and `expire`
/// hands back those that waited long enough. A joined message keeps the time of its first line.
struct MultilineJoiner {
    struct Key: Hashable {
        var route: String
        var container: String
        var source: Source
    }

    struct Pending {
        var record: Record
        var bytes: Int
        var deadline: UInt64
    }

    var pending: [Key: Pending] = [:]
    /// A message is sent once it holds this many bytes, whatever comes next.
    let maxBytes: Int

    init(maxBytes: Int = 1 << 20) {
        self.maxBytes = maxBytes
    }

    /// The earliest time a waiting message is due.
    var nextDeadline: UInt64? { pending.values.map(\.deadline).min() }

    /// Takes one record of route `route`; calls `emit` with each message that is complete.
    mutating func feed(_ record: Record, route: String, spec: MultilineMatcher, now: UInt64, emit: (Record) -> Void) {
        let key = Key(route: route, container: record.container.id, source: record.source)
        let matched = spec.matches(record.data)
        let deadline = now + UInt64(spec.flushAfterMs) * 1_000_000
        // Does this line continue the waiting message, and does it end it?
        let continues: Bool
        let ends: Bool
        switch spec.match {
        case .nonfirst: (continues, ends) = (matched, false)
        case .first: (continues, ends) = (!matched, false)
        case .last: (continues, ends) = (true, matched)
        case .nonlast: (continues, ends) = (true, !matched)
        }
        if var waiting = pending[key], continues, waiting.bytes + spec.separator.utf8.count + record.data.utf8.count <= maxBytes {
            waiting.record.data += spec.separator
            waiting.record.data += record.data
            waiting.bytes = waiting.record.data.utf8.count
            waiting.deadline = deadline
            if ends {
                pending[key] = nil
                emit(waiting.record)
            } else {
                pending[key] = waiting
            }
            return
        }
        if let waiting = pending.removeValue(forKey: key) { emit(waiting.record) }
        if ends {
            emit(record)
        } else {
            pending[key] = Pending(record: record, bytes: record.data.utf8.count, deadline: deadline)
        }
    }

    /// Hands back the messages due by `now` (all of them when `now` is nil: the input ended).
    mutating func expire(now: UInt64?, emit: (Record) -> Void) {
        let due = pending.filter { now == nil || $0.value.deadline <= now! }
        for (key, waiting) in due.sorted(by: { $0.value.deadline < $1.value.deadline }) {
            pending[key] = nil
            emit(waiting.record)
        }
    }
}
