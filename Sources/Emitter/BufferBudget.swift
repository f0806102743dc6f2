/// The bytes the TCP and TLS receivers' buffers hold together, against one total (`SYSLOG_BUFFER_TOTAL`),
/// and who gives way when it is full.
///
/// Each receiver has a slot; what it holds is its queue's bytes, message overhead included
/// (`StreamQueue.heldBytes`). The fair share is the total over the number of receivers. When a message
/// does not fit in the total:
/// - for a receiver that would still be within its fair share, the receiver holding the most gives way:
///   its oldest messages are dropped. It holds more than its fair share (the others hold more than theirs
///   together), so nobody under its fair share ever loses messages for another's sake;
/// - for a receiver that would go beyond its fair share, the message is refused: receivers that hold
///   their share and stall (a receiver that never reads) do not take turns dropping each other's messages.
/// A pure type: no queue, no I/O; the driver carries out what it decides.
struct BufferBudget {
    /// The most bytes all receivers hold together.
    let total: Int
    /// What each receiver holds, by slot.
    private(set) var held: [Int] = []
    /// The sum of `held`.
    private(set) var used = 0

    init(total: Int) {
        self.total = total
    }

    /// A new receiver's slot.
    mutating func add() -> Int {
        held.append(0)
        return held.count - 1
    }

    /// The total over the number of receivers: what no receiver loses for others' sake.
    var fairShare: Int { total / max(1, held.count) }

    enum Decision: Equatable {
        /// There is room.
        case take
        /// The message does not fit, and nobody gives way for it.
        case refuse
        /// This receiver gives way: drop at least `bytes` of its oldest messages, then ask again.
        case evict(slot: Int, bytes: Int)
    }

    /// Whether `bytes` more for the receiver in `slot` fit, and who gives way if not.
    func admit(_ bytes: Int, for slot: Int) -> Decision {
        let over = used + bytes - total
        if over <= 0 { return .take }
        guard held[slot] + bytes <= fairShare else { return .refuse }
        var largest = slot
        for (i, h) in held.enumerated() where h > held[largest] { largest = i }
        guard largest != slot, held[largest] > fairShare else { return .refuse }
        // Free what is needed, and a little more when the receiver holds that much above its share, so
        // that a stalled receiver is not asked for one message at a time.
        let extra = min(held[largest] - fairShare, max(over, 64 << 10))
        return .evict(slot: largest, bytes: max(over, extra))
    }

    /// What the total has left.
    var room: Int { total - used }

    /// The receiver in `slot` holds `bytes` more.
    @inline(__always)
    mutating func charge(_ slot: Int, _ bytes: Int) {
        held[slot] += bytes
        used += bytes
    }

    /// The receiver in `slot` holds `bytes` now.
    mutating func update(_ slot: Int, holding bytes: Int) {
        used += bytes - held[slot]
        held[slot] = bytes
    }
}
