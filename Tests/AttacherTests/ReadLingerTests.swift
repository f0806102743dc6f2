import Testing
@testable import Attacher

@Suite("attach's linger: how long lines gather after a read")
struct ReadLingerTests {
    static let ms: UInt64 = 1_000_000

    @Test("small reads double the linger from 1 ms up to the maximum, and it stays there")
    func growsAsTheRateFalls() {
        var linger = ReadLinger(maximumMs: 50)
        var waits: [UInt64] = []
        for _ in 0..<9 { waits.append(linger.turnRead(bytes: 500)) }
        #expect(waits == [2, 4, 8, 16, 32, 50, 50, 50, 50].map { $0 * Self.ms })
    }

    @Test("full batches halve it down to 1 ms; batches between a quarter and a full one keep it")
    func shrinksAsTheRateRises() {
        var linger = ReadLinger(maximumMs: 50)
        for _ in 0..<10 { _ = linger.turnRead(bytes: 100) }
        #expect(linger.nanos == 50 * Self.ms)
        #expect(linger.turnRead(bytes: ReadLinger.batchBytes) == 25 * Self.ms)
        #expect(linger.turnRead(bytes: ReadLinger.batchBytes / 2) == 25 * Self.ms)
        #expect(linger.turnRead(bytes: ReadLinger.batchBytes / 4) == 25 * Self.ms)
        var waits: [UInt64] = []
        for _ in 0..<7 { waits.append(linger.turnRead(bytes: 1 << 20)) }
        #expect(waits == [12_500_000, 6_250_000, 3_125_000, 1_562_500, 1_000_000, 1_000_000, 1_000_000])
    }

    @Test("64 records or more from one container are a full batch, however few bytes (a socket's buffer holds a few hundred writes)")
    func streamBatches() {
        var linger = ReadLinger(maximumMs: 40)
        for _ in 0..<10 { _ = linger.turnRead(bytes: 3000, streamRecords: 60) }
        #expect(linger.nanos == 40 * Self.ms)
        #expect(linger.turnRead(bytes: 3000, streamRecords: 64) == 20 * Self.ms)
        #expect(linger.turnRead(bytes: 3000, streamRecords: 200) == 10 * Self.ms)
        // Many containers with a few lines each: the total is no batch of one stream.
        #expect(linger.turnRead(bytes: 9000, streamRecords: 5) == 20 * Self.ms)
    }

    @Test("a turn that read nothing waits for nothing and leaves the linger as it was")
    func nothingRead() {
        var linger = ReadLinger(maximumMs: 50)
        for _ in 0..<3 { _ = linger.turnRead(bytes: 10) }
        #expect(linger.turnRead(bytes: 0) == 0)
        #expect(linger.nanos == 8 * Self.ms)
        // The next line after a quiet spell waits the linger the trickle had reached, not more.
        #expect(linger.turnRead(bytes: 10) == 16 * Self.ms)
    }

    @Test("LOG_LINGER_MS=0: never a wait; 1: always 1 ms; 100 at most")
    func bounds() {
        var off = ReadLinger(maximumMs: 0)
        #expect([100, 1 << 20, 0].map { off.turnRead(bytes: $0) } == [0, 0, 0])
        var one = ReadLinger(maximumMs: 1)
        #expect([100, 100, 1 << 20].map { one.turnRead(bytes: $0) } == [Self.ms, Self.ms, Self.ms])
        var most = ReadLinger(maximumMs: 100)
        for _ in 0..<20 { _ = most.turnRead(bytes: 1) }
        #expect(most.nanos == 100 * Self.ms)
    }
}
