import Syscall
import Testing
@testable import Emitter

extension DatagramBatch {
    /// Queues each of `messages`; whether each was taken.
    mutating func put(_ messages: [String]) -> [Bool] { messages.map { append(Array($0.utf8)) } }
}

extension StreamQueue {
    mutating func put(_ messages: [String]) -> [Bool] { messages.map { append(Array($0.utf8)) } }
}

@Suite("emit-syslog: the UDP batch")
struct DatagramBatchTests {
    static func batch(_ messages: [String], capacity: Int = 1 << 20) -> DatagramBatch {
        var b = DatagramBatch(capacity: capacity)
        let taken = b.put(messages)
        #expect(!taken.contains(false))
        return b
    }

    /// The datagrams `send` was handed, as text.
    static func texts(_ raw: UnsafeRawBufferPointer, _ ranges: ArraySlice<Range<Int>>) -> [String] {
        ranges.map { String(decoding: raw[$0], as: UTF8.self) }
    }

    @Test("datagrams are queued back to back, delimited; one that would overflow the buffer is refused")
    func append() {
        var b = DatagramBatch(capacity: 10)
        #expect(b.isEmpty)
        let taken = b.put(["abcd", "efgh", "ijk", "ij"])
        #expect(taken == [true, true, false, true], "11 bytes > 10")
        #expect(b.count == 3 && b.ranges == [0..<4, 4..<8, 8..<10] && b.bytes == Array("abcdefghij".utf8))
    }

    @Test("a flush hands all datagrams to sendmmsg, as many calls as it takes, and empties the batch")
    func flush() {
        var b = Self.batch(["one", "two", "three", "four", "five"])
        var calls: [[String]] = []
        let outcome = b.flush(send: { raw, ranges in
            calls.append(Self.texts(raw, ranges))
            return min(2, ranges.count)
        }, waitWritable: { true }, failed: { _ in Issue.record("no failure expected") })
        #expect(outcome == .init(sent: 5, bytes: 19, dropped: 0), "the bytes of the five")
        #expect(calls == [["one", "two", "three", "four", "five"], ["three", "four", "five"], ["five"]])
        #expect(b.isEmpty && b.bytes.isEmpty)
        let again = b.put(["again"])
        #expect(again == [true] && b.ranges == [0..<5])
    }

    @Test("a full socket buffer: waits for room three times, then drops what is left")
    func wouldBlock() {
        var b = Self.batch(["a", "b", "c", "d"])
        var waits = 0
        var first = true
        let outcome = b.flush(send: { _, ranges throws(SyscallError) in
            if first {
                first = false
                return 1
            }
            throw SyscallError("sendmmsg", "", .wouldBlock)
        }, waitWritable: {
            waits += 1
            return true
        }, failed: { _ in Issue.record("EAGAIN is no failure") })
        #expect(outcome == .init(sent: 1, bytes: 1, dropped: 3, droppedReason: .bufferFull) && waits == 3 && b.isEmpty)

        var c = Self.batch(["a", "b"])
        let noRoom = c.flush(send: { _, _ throws(SyscallError) in throw SyscallError("sendmmsg", "", .wouldBlock) },
                             waitWritable: { false }, failed: { _ in })
        #expect(noRoom == .init(sent: 0, dropped: 2), "no room within the wait: dropped at once")
    }

    @Test("an ICMP refusal is counted and the datagrams tried again; another error skips one; eight errors end the flush")
    func errors() {
        var b = Self.batch(["a", "b", "c"])
        var failures: [Errno] = []
        var refusals = 1
        let outcome = b.flush(send: { raw, ranges throws(SyscallError) in
            if refusals > 0 {
                refusals -= 1
                throw SyscallError("sendmmsg", "", .connectionRefused)
            }
            if Self.texts(raw, ranges).first == "a" { throw SyscallError("sendmmsg", "", Errno(90)) }  // EMSGSIZE
            return ranges.count
        }, waitWritable: { true }, failed: { failures.append($0.errno) })
        #expect(failures == [.connectionRefused, Errno(90)])
        #expect(outcome == .init(sent: 2, bytes: 2, dropped: 0, skipped: 1), "the refused batch went again; the one too big was skipped")

        var c = Self.batch(["a", "b"])
        var count = 0
        let given = c.flush(send: { _, _ throws(SyscallError) in throw SyscallError("sendmmsg", "", .connectionRefused) },
                            waitWritable: { true }, failed: { _ in count += 1 })
        #expect(count == 9 && given == .init(sent: 0, dropped: 2, droppedReason: .refused))

        var d = Self.batch(["a", "b"])
        let failed = d.flush(send: { _, _ throws(SyscallError) in throw SyscallError("sendmmsg", "", Errno(90)) },
                             waitWritable: { true }, failed: { _ in })
        #expect(failed == .init(sent: 0, dropped: 0, skipped: 2), "each refused by the kernel itself: skipped, one by one")
    }
}

@Suite("emit-syslog: the TCP and TLS stream queue")
struct StreamQueueTests {
    /// Writes everything `queue` holds, `chunk` bytes per call at most; returns the bytes and the
    /// messages written whole.
    static func drain(_ queue: inout StreamQueue, chunk: Int = .max) -> (String, Int) {
        var out: [UInt8] = []
        let n = queue.write { bytes in
            let taken = min(chunk, bytes.count)
            out += bytes.prefix(taken)
            return taken
        }
        return (String(decoding: out, as: UTF8.self), n)
    }

    @Test("newline framing: a newline after each message")
    func newline() {
        var q = StreamQueue(capacity: 1 << 20, framing: .newline)
        let taken = q.put(["hello", "", "world"])
        #expect(taken == [true, true, true])
        #expect(q.count == 3 && q.pendingBytes == 13)
        #expect(Self.drain(&q) == ("hello\n\nworld\n", 3))
        #expect(q.isEmpty && q.count == 0 && q.bytes.isEmpty)
    }

    @Test("octet counting (RFC 6587): the length in decimal and a space before each message")
    func octetCounted() {
        var q = StreamQueue(capacity: 1 << 20, framing: .octetCounted)
        var expected = ""
        for length in [0, 1, 9, 10, 11, 99, 100, 101, 999, 1000, 12345] {
            let message = String(repeating: "x", count: length)
            let taken = q.put([message])
            #expect(taken == [true])
            expected += "\(length) \(message)"
        }
        #expect(Self.drain(&q) == (expected, 11))
    }

    @Test("partial writes: a message counts as written once its last byte is")
    func partialWrites() {
        var q = StreamQueue(capacity: 1 << 20, framing: .newline)
        let queued = q.put(["abc", "defgh", "ij"])
        #expect(queued == [true, true, true])
        // The connection takes 5 bytes, then is full.
        var taken = 0
        var n = q.write { bytes in
            let k = min(5 - taken, bytes.count)
            taken += k
            return k
        }
        #expect(n == 1 && q.count == 2 && q.pendingBytes == 8 && q.head == 5, "abc\\n and d of defgh\\n")
        n = q.write { _ in 0 }
        #expect(n == 0 && q.count == 2)
        #expect(Self.drain(&q, chunk: 3) == ("efgh\nij\n", 2))
        #expect(q.isEmpty && q.head == 0)
        // A message queued after a partial write is counted once its own bytes go.
        let more = q.put(["kl"])
        var first = true
        n = q.write { _ in
            defer { first = false }
            return first ? 1 : 0
        }
        #expect(more == [true] && n == 0 && q.count == 1)
        #expect(Self.drain(&q) == ("l\n", 1))
    }

    @Test("the bound counts each message's bookkeeping: one that would overflow it is refused whole; written bytes make room")
    func bound() {
        #expect(StreamQueue.overhead == 8)
        var q = StreamQueue(capacity: 28, framing: .newline)
        let taken = q.put(["12345", "abcde", ""])
        #expect(taken == [true, true, false], "6 + 8 bytes each; even an empty message takes its newline and its 8")
        #expect(q.count == 2 && q.pendingBytes == 12 && q.heldBytes == 28)
        var probe = StreamQueue(capacity: 100, framing: .newline)
        #expect(probe.append(Array("12345".utf8), room: 14) == .taken(cost: 14, pending: 6))
        #expect(probe.append(Array("".utf8), room: 8) == .noRoom(cost: 9), "the total's room is checked too")
        #expect(probe.append([UInt8](repeating: 65, count: 80), room: .max) == .full)
        var once = true
        _ = q.write { _ in
            defer { once = false }
            return once ? 6 : 0
        }
        #expect(q.pendingBytes == 6 && q.heldBytes == 14)
        let more = q.put(["vwxyz", "!"])
        #expect(more == [true, false])
        #expect(Self.drain(&q) == ("abcde\nvwxyz\n", 2))
        var octets = StreamQueue(capacity: 16, framing: .octetCounted)
        let counted = octets.put(["123456", ""])
        #expect(counted == [true, false], "6 SP 123456: 8 bytes and 8; 0 SP: 2 more and 8")
        var long = StreamQueue(capacity: 1 << 20, framing: .octetCounted)
        #expect(long.append([UInt8](repeating: 65, count: 12345), room: .max) == .taken(cost: 12345 + 6 + 8, pending: 12345 + 6))
    }

    @Test("dropping the oldest messages: whole ones, never one partly written; the rest is written as it was")
    func dropOldest() {
        var q = StreamQueue(capacity: 1 << 20, framing: .newline)
        _ = q.put(["aaaa", "bbbb", "cccc", "dddd", "eeee"])  // 5 + 8 each
        #expect(q.dropOldest(atLeast: 1) == (1, 13), "one message frees its bytes and its bookkeeping")
        #expect(q.count == 4 && q.heldBytes == 52)
        // The connection takes 2 bytes of bbbb: it stays, cccc and dddd go.
        var first = true
        _ = q.write { _ in
            defer { first = false }
            return first ? 2 : 0
        }
        #expect(q.dropOldest(atLeast: 20) == (2, 26))
        #expect(q.count == 2 && q.pendingBytes == 8)
        _ = q.put(["ffff"])
        #expect(Self.drain(&q) == ("bb\neeee\nffff\n", 3))
        #expect(q.isEmpty && q.dropOldest(atLeast: 1) == (0, 0))
        // More than there is: everything not started goes.
        _ = q.put(["x", "y"])
        #expect(q.dropOldest(atLeast: 1000) == (2, 20) && q.isEmpty && q.heldBytes == 0)
        _ = q.put(["z"])
        #expect(Self.drain(&q) == ("z\n", 1))
    }

    @Test("TLS: the messages starting within the protected stretch after the first unwritten byte stay")
    func dropOldestProtected() {
        var q = StreamQueue(capacity: 1 << 20, framing: .newline, protecting: 10)
        _ = q.put(["aaaa", "bbbb", "cccc", "dddd"])  // 5 bytes framed each
        // aaaa starts at 0 and bbbb at 5, within 10 bytes of the head: kept; cccc goes.
        #expect(q.dropOldest(atLeast: 1) == (1, 13))
        #expect(Self.drain(&q, chunk: 3) == ("aaaa\nbbbb\ndddd\n", 3))
        var small = StreamQueue(capacity: 1 << 20, framing: .newline, protecting: 100)
        _ = small.put(["aaaa", "bbbb"])
        #expect(small.dropOldest(atLeast: 1) == (0, 0), "all within the stretch")
    }

    @Test("a drained backlog gives its storage back beyond what is retained")
    func memoryReturns() {
        var q = StreamQueue(capacity: 64 << 20, framing: .newline)
        let message = [UInt8](repeating: 65, count: 999)
        for _ in 0..<8000 { _ = q.append(message) }
        #expect(q.bytes.capacity >= 8_000_000)
        // Dropped from the front to a tenth: the storage shrinks with it.
        _ = q.dropOldest(atLeast: 7200 * 1008)
        #expect(q.count == 800 && q.bytes.capacity < 4 << 20, "\(q.bytes.capacity)")
        _ = Self.drain(&q)
        #expect(q.isEmpty && q.bytes.capacity <= StreamQueue.retained)
    }

    @Test("long streams are compacted at the front without losing the count")
    func compaction() {
        var q = StreamQueue(capacity: 64 << 20, framing: .newline)
        let message = [UInt8](repeating: 65, count: 999)  // 1000 bytes framed
        let taken = (0..<3000).map { _ in q.append(message) }
        #expect(!taken.contains(false))
        // 2.5 MB written: more than 1 MiB and more than half: the front is dropped.
        var left = 2_500_500
        let n = q.write { bytes in
            let k = min(left, bytes.count, 64 * 1024)
            left -= k
            return k
        }
        #expect(n == 2500 && q.count == 500 && q.head == 0 && q.bytes.count == 500_000 - 500)
        let more = q.append(message)
        #expect(more && q.count == 501)
        var written = 0
        let rest = q.write { bytes in
            written += bytes.count
            return bytes.count
        }
        #expect(rest == 501 && written == 500_500 && q.isEmpty)
    }
}
