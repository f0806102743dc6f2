import Contract
import Testing
@testable import HTTPServer

@Suite("the shared stream buffer: one copy, a cursor per client, bounded in bytes, the furthest behind drop first")
struct StreamBufferTests {
    /// What client `id` reads now: its missed count (0 when none) and the elements.
    func read(_ b: inout StreamBuffer<String>, _ id: UInt64, budget: Int = .max) -> (missed: Int, read: [String]) {
        var missed = 0
        var read: [String] = []
        _ = b.read(id, budget: budget, missed: { missed = $0 }) { read.append($0) }
        return (missed, read)
    }

    @Test("every client reads every element from where it joined, at its own pace; what all have read is released")
    func cursors() {
        var b = StreamBuffer<String>(limit: 1000)
        b.append("before", cost: 10)
        #expect(b.count == 0)  // nobody reads: nothing is held
        b.join(1) { _ in true }
        b.append("a", cost: 10)
        b.join(2) { _ in true }
        b.append("b", cost: 10)
        b.append("c", cost: 10)
        #expect(b.count == 3 && b.bytes == 30)
        #expect(read(&b, 1, budget: 15) == (0, ["a", "b"]))
        #expect(b.hasNews(1) && b.hasNews(2))
        b.release()
        #expect(b.count == 2 && b.first == 1)  // "a": read by 1, never wanted by 2
        #expect(read(&b, 2) == (0, ["b", "c"]))
        b.release()
        #expect(b.count == 1)
        #expect(read(&b, 1) == (0, ["c"]))
        b.release()
        #expect(b.count == 0 && b.bytes == 0 && !b.hasNews(1))
    }

    @Test("each client's filter picks its elements; what it does not want is passed over")
    func filters() {
        var b = StreamBuffer<String>(limit: 1000)
        b.join(1) { $0.hasPrefix("web") }
        b.join(2) { $0.hasPrefix("db") }
        for s in ["web1", "db1", "web2", "db2"] { b.append(s, cost: 10) }
        #expect(read(&b, 1) == (0, ["web1", "web2"]))
        #expect(read(&b, 2) == (0, ["db1", "db2"]))
    }

    @Test("at the bound the oldest go, down to three quarters of it; clients on them move forward and are told what they missed of what they wanted")
    func furthestBehindDropsFirst() {
        var b = StreamBuffer<String>(limit: 100)
        b.join(1) { _ in true }  // stalled
        b.join(2) { $0.hasSuffix("even") }  // stalled, wants half
        b.join(3) { _ in true }  // keeps up
        for i in 0..<10 {
            b.append("\(i) \(i % 2 == 0 ? "even" : "odd")", cost: 10)
            _ = read(&b, 3)
        }
        #expect(b.bytes == 100 && b.count == 10)
        b.append("10 even", cost: 10)
        _ = read(&b, 3)
        // 110 > 100: down to 75: the 4 oldest (0…3) go.
        #expect(b.bytes == 70 && b.count == 7 && b.first == 4)
        #expect(b.bytes <= b.limit)
        let stalled = read(&b, 1)
        #expect(stalled.missed == 4 && stalled.read.first == "4 even" && stalled.read.count == 7)
        let half = read(&b, 2)
        #expect(half.missed == 2 && half.read == ["4 even", "6 even", "8 even", "10 even"])
        #expect(read(&b, 3) == (0, []))
        // Told once.
        b.append("11 odd", cost: 10)
        #expect(read(&b, 1) == (0, ["11 odd"]))
    }

    @Test("memory stays within the bound however many clients stall, and is given back when they go")
    func bounded() {
        var b = StreamBuffer<String>(limit: 4096)
        for id in 1...300 { b.join(UInt64(id)) { _ in true } }
        for i in 0..<100_000 {
            b.append(String(i), cost: 100)
            #expect(b.bytes <= 4096)
        }
        let r = read(&b, 7)
        #expect(r.missed + r.read.count == 100_000)
        #expect(r.read.last == "99999")
        for id in 1...300 { b.leave(UInt64(id)) }
        #expect(b.count == 0 && b.bytes == 0 && b.entries.capacity == 0)
    }

    @Test("one element larger than the bound is held alone; route's own drops reach every client")
    func largeAndUpstream() {
        var b = StreamBuffer<String>(limit: 100)
        b.join(1) { _ in true }
        b.append("small", cost: 10)
        b.append("huge", cost: 500)
        #expect(b.count == 1 && b.bytes == 500)
        b.missedUpstream(3)
        #expect(read(&b, 1) == (4, ["huge"]))
    }

    @Test("the subscription's filter covers every client's: shared fields, a common id prefix, the union of streams")
    func cover() {
        typealias F = SubscriptionFilter
        #expect(F.cover([]) == F())
        #expect(F.cover([F(name: "web")]) == F(name: "web"))
        #expect(F.cover([F(name: "web", types: [.stderr]), F(name: "web", types: [.stdout])]) == F(name: "web"))
        #expect(F.cover([F(name: "web", types: [.stderr]), F(name: "web", types: [.stderr])]) == F(name: "web", types: [.stderr]))
        #expect(F.cover([F(name: "web"), F(name: "db")]) == F())
        #expect(F.cover([F(id: "abc1"), F(id: "abd")]) == F(id: "ab"))
        #expect(F.cover([F(id: "abc1"), F(id: "x")]) == F())
        #expect(F.cover([F(substring: "we", types: [.stdout]), F(substring: "we")]) == F(substring: "we"))
        #expect(F.cover([F(name: "web"), F()]) == F())
    }
}
