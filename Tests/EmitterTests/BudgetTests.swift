import Testing
@testable import Emitter

@Suite("emit-syslog: the buffers' total")
struct BufferBudgetTests {
    /// A budget of `total` with receivers holding `held`.
    static func budget(_ total: Int, _ held: [Int]) -> BufferBudget {
        var b = BufferBudget(total: total)
        for h in held { b.update(b.add(), holding: h) }
        return b
    }

    @Test("room in the total: taken; what each holds is summed")
    func take() {
        var b = Self.budget(1000, [100, 200])
        #expect(b.used == 300 && b.fairShare == 500)
        #expect(b.admit(700, for: 0) == .take)
        b.update(1, holding: 50)
        #expect(b.used == 150 && b.held == [100, 50])
    }

    @Test("full: the receiver holding the most gives way for one within its fair share, at least what is missing")
    func largestGivesWay() {
        let b = Self.budget(1000, [100, 600, 250])
        // 50 missing; the largest holds 267 above its share of 333: it gives what is missing and up to
        // 64 KiB more, within what it holds above its share.
        #expect(b.admit(100, for: 0) == .evict(slot: 1, bytes: 267))
        #expect(b.admit(83, for: 2) == .evict(slot: 1, bytes: 267))
        #expect(b.admit(84, for: 2) == .refuse, "beyond its share: refused, nobody gives way for it")
        let big = Self.budget(1 << 20, [0, 1 << 20])
        #expect(big.admit(10, for: 0) == .evict(slot: 1, bytes: 64 << 10), "not one message at a time")
    }

    @Test("full, and the message is for the one holding the most: refused, nobody else loses for it")
    func largestIsRefused() {
        let b = Self.budget(1000, [100, 600, 250])
        #expect(b.admit(100, for: 1) == .refuse)
        // Stalled receivers holding their shares refuse their own messages rather than drop each other's.
        let stalled = Self.budget(1000, [330, 340, 330])
        #expect(stalled.admit(10, for: 0) == .refuse && stalled.admit(10, for: 2) == .refuse)
    }

    @Test("nobody gives way below its fair share")
    func fairShare() {
        // Everyone at or under 333: full, and the message is refused rather than taken from anyone.
        let b = Self.budget(1000, [333, 333, 333])
        #expect(b.admit(10, for: 0) == .refuse)
        #expect(b.admit(10, for: 2) == .refuse)
        // One above its share gives way for one under it.
        let c = Self.budget(1000, [100, 400, 333, 160])
        #expect(c.fairShare == 250)
        #expect(c.admit(50, for: 0) == .evict(slot: 1, bytes: 150))
    }

    @Test("a receiver under its fair share always finds someone to give way")
    func guarantee() {
        // Whatever the others hold, when the total is full and a receiver holds less than its share less
        // the message, the largest holds more than its share and is another.
        let totals = [1000, 4096]
        for total in totals {
            for a in stride(from: 0, through: total, by: total / 8) {
                for c in stride(from: 0, through: total - a, by: total / 8) {
                    let held = [a, total - a - c, c]
                    let b = Self.budget(total, held)
                    for slot in 0..<3 where held[slot] + 10 <= b.fairShare {
                        guard case .evict(let victim, let bytes) = b.admit(10, for: slot) else {
                            Issue.record("\(held): \(slot) found no room")
                            continue
                        }
                        #expect(victim != slot && held[victim] > b.fairShare && bytes >= 10)
                    }
                }
            }
        }
    }
}

@Suite("emit-syslog: a full buffer, said once per change")
struct OverflowTests {
    @Test("full: said once with why; dropping until the next turn or write; room again said once with the count")
    func oncePerChange() {
        var o = Overflow()
        #expect(!o.dropping && o.finish(left: 0) == nil)
        #expect(o.refused(.buffer(bytes: 8388608), holding: 1000) == .full(.buffer(bytes: 8388608)))
        #expect(o.dropping)
        o.skipped()
        o.skipped()
        o.retry()
        #expect(!o.dropping, "the next turn tries again")
        #expect(o.refused(.buffer(bytes: 8388608), holding: 1000) == nil, "said once")
        #expect(o.dropped == 4)
        // A write that takes a little: dropping ends, the report stays until half of it has gone.
        #expect(o.wrote(holding: 900) == nil && !o.dropping)
        #expect(o.refused(.buffer(bytes: 8388608), holding: 1000) == nil)
        #expect(o.wrote(holding: 500) == .room(dropped: 5))
        #expect(o.wrote(holding: 0) == nil, "said once")
        #expect(o.finish(left: 3) == nil)
        // Full again: said again.
        #expect(o.refused(.total(bytes: 1 << 20), holding: 10) == .full(.total(bytes: 1 << 20)))
        #expect(o.finish(left: 3) == .stillFull(dropped: 1, left: 3))
    }

    @Test("giving way for others is said once too, with what went counted")
    func evicted() {
        var o = Overflow()
        #expect(o.evicted(30, .total(bytes: 1000), holding: 800) == .full(.total(bytes: 1000)))
        #expect(!o.dropping, "it may still take its own messages")
        #expect(o.evicted(10, .total(bytes: 1000), holding: 700) == nil)
        #expect(o.wrote(holding: 0) == .room(dropped: 40))
    }

    @Test("the reports read")
    func text() {
        typealias R = Overflow.Report
        #expect(R.full(.buffer(bytes: nil)).description == "buffer full; dropping messages")
        #expect(R.full(.buffer(bytes: 8388608)).description == "buffer of 8388608 bytes full; dropping messages")
        #expect(R.full(.total(bytes: 67108864)).description
                == "all receivers' buffers hold their total of 67108864 bytes and this one the most; dropping its messages")
        #expect(R.room(dropped: 12).description == "buffer has room again; 12 messages dropped")
        #expect(R.stillFull(dropped: 7, left: 2).description == "buffer full until the end; 7 messages dropped, 2 not delivered at exit")
    }
}
