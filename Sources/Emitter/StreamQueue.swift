/// The framed messages waiting for one TCP or TLS receiver: a byte stream with its message boundaries,
/// bounded, written as far as the connection takes it.
///
/// Each message is framed as it is queued (a newline after it, or RFC 6587's `LEN SP` before it). Writes
/// may take any part of the stream; a message counts as sent once its last byte is written. What would
/// overflow the bound (`SYSLOG_BUFFER_SIZE`) is refused whole; the bound counts each message's bookkeeping
/// (`overhead`) with its bytes. The oldest messages not started can be dropped to make room for other
/// receivers (`dropOldest`). Nothing is allocated per message once the buffers have grown to a burst's
/// size, and storage beyond `retained` is given back once the backlog has drained.
struct StreamQueue {
    typealias Framing = EmitterOptions.Framing

    /// The framed messages; those before `head` are written.
    private(set) var bytes: [UInt8] = []
    /// The first byte not written yet.
    private(set) var head = 0
    /// Where each message not yet written whole ends, as a position in the stream (`bytes[0]` is at
    /// `base`), oldest first from `firstEnd`.
    private var ends: [Int] = []
    private var firstEnd = 0
    /// Where the message at `firstEnd` starts (before `base + head` when part of it is written).
    private var firstStart = 0
    /// The stream position of `bytes[0]` (what compaction took off the front).
    private var base = 0
    /// The most bytes kept unwritten.
    let capacity: Int
    let framing: Framing
    /// What `dropOldest` keeps after the first unwritten byte: a TLS record being written, which must not
    /// change under OpenSSL (16 KiB at most); nothing for TCP.
    let protecting: Int

    init(capacity: Int, framing: Framing, protecting: Int = 0, reserving: Int = 0) {
        self.capacity = capacity
        self.framing = framing
        self.protecting = protecting
        bytes.reserveCapacity(reserving)
    }

    /// Bytes not written yet.
    var pendingBytes: Int { bytes.count - head }
    var isEmpty: Bool { pendingBytes == 0 }
    /// Messages not written whole (one cut by a partial write among them).
    var count: Int { ends.count - firstEnd }

    /// The bookkeeping of one message (where it ends), counted with its bytes.
    static let overhead = MemoryLayout<Int>.stride
    /// Storage kept once the queue is empty; beyond it, it is given back.
    static let retained = 1 << 20
    /// What the queue holds against its bound and the total: bytes not written and each message's
    /// bookkeeping.
    var heldBytes: Int { pendingBytes + count * Self.overhead }

    /// What `append` did.
    enum Appended: Equatable {
        /// Queued: it costs `cost` (`heldBytes` grew by it); `pending` bytes wait now.
        case taken(cost: Int, pending: Int)
        /// Not queued: it would overflow the bound.
        case full
        /// Not queued: its `cost` is more than the `room` given.
        case noRoom(cost: Int)
    }

    /// Frames and queues `message` if it fits both in the bound and in `room` (what the buffers' total
    /// has left).
    @inline(__always)
    mutating func append(_ message: [UInt8], room: Int) -> Appended {
        // LEN SP MSG for octet counting, the length in decimal.
        var power = 1
        var digits = 0
        if framing == .octetCounted {
            digits = 1
            while power <= message.count / 10 {
                power *= 10
                digits += 1
            }
        }
        let framed = framing == .newline ? message.count + 1 : digits + 1 + message.count
        let cost = framed + Self.overhead
        guard heldBytes + cost <= capacity else { return .full }
        guard cost <= room else { return .noRoom(cost: cost) }
        if bytes.count + framed > bytes.capacity { reuseFront() }
        switch framing {
        case .newline:
            bytes.append(contentsOf: message)
            bytes.append(10)
        case .octetCounted:
            var rest = message.count
            while power > 0 {
                bytes.append(UInt8(truncatingIfNeeded: 48 + rest / power))
                rest %= power
                power /= 10
            }
            bytes.append(32)
            bytes.append(contentsOf: message)
        }
        ends.append(base + bytes.count)
        return .taken(cost: cost, pending: bytes.count - head)
    }

    /// Whether `message` would fit were the queue empty (a larger one can never be queued).
    func fitsEmpty(_ message: [UInt8]) -> Bool {
        let framed = framing == .newline ? message.count + 1 : String(message.count).utf8.count + 1 + message.count
        return framed + Self.overhead <= capacity
    }

    /// Frames and queues `message`; false (nothing queued) when it would overflow the bound.
    mutating func append(_ message: [UInt8]) -> Bool {
        if case .taken = append(message, room: .max) { return true }
        return false
    }

    /// Hands what is not written to `write`, again and again until it takes nothing (it returns how many
    /// bytes it took; 0 when the connection is full or failed) or all is written. Returns how many
    /// messages were written whole.
    mutating func write(_ write: (UnsafeRawBufferPointer) -> Int) -> Int {
        var written = head
        bytes.withUnsafeBytes { raw in
            while written < raw.count {
                let n = write(UnsafeRawBufferPointer(rebasing: raw[written...]))
                if n <= 0 { break }
                written += n
            }
        }
        head = written
        let position = base + head
        var end = firstEnd
        while end < ends.count, ends[end] <= position { end += 1 }
        let completed = end - firstEnd
        if completed > 0 { firstStart = ends[end - 1] }
        firstEnd = end
        compact()
        return completed
    }

    /// Drops the oldest messages until at least `wanted` bytes (as `heldBytes` counts them) are freed or
    /// none is left to drop. A message partly written is kept, and so is every message that starts within
    /// `protecting` bytes of the first unwritten byte; the kept bytes move up to close the gap. Returns how many messages and bytes went.
    mutating func dropOldest(atLeast wanted: Int) -> (messages: Int, bytes: Int) {
        let headPosition = base + head
        // The messages kept: those started, or starting within the protected stretch.
        var first = firstEnd
        var keptEnd = firstStart
        while first < ends.count, keptEnd < headPosition + protecting {
            keptEnd = ends[first]
            first += 1
        }
        var last = first
        var freed = 0
        var end = keptEnd
        while last < ends.count, freed < wanted {
            freed += ends[last] - end + Self.overhead
            end = ends[last]
            last += 1
        }
        let dropped = last - first
        guard dropped > 0 else { return (0, 0) }
        let gap = end - keptEnd
        let kept = keptEnd - headPosition
        let newHead = end - base - kept
        if kept > 0 {
            bytes.withUnsafeMutableBytes { raw in
                (raw.baseAddress! + newHead).copyMemory(from: raw.baseAddress! + head, byteCount: kept)
            }
        }
        // The kept messages' ends move by the gap, to just before the first message not dropped.
        var i = first - 1
        while i >= firstEnd {
            ends[i + dropped] = ends[i] + gap
            i -= 1
        }
        if first > firstEnd { firstStart += gap } else { firstStart = end }
        firstEnd += dropped
        head = newHead
        compact()
        return (dropped, freed)
    }

    /// The storage is full: when a good part of it is written or dropped at the front, that part is
    /// reused rather than the storage grown (a receiver that gives way for others would otherwise grow
    /// storage it no longer holds).
    private mutating func reuseFront() {
        guard head >= 64 << 10, head >= bytes.capacity / 8 else { return }
        base += head
        bytes.removeFirst(head)
        head = 0
    }

    /// Forgets what was written (or dropped) at the front once it is all or a good part of the queue,
    /// and gives back storage far beyond what is held: a backlog's memory returns once it drains.
    mutating func compact() {
        if head == bytes.count {
            base += head
            bytes.removeAll(keepingCapacity: bytes.capacity <= Self.retained)
            head = 0
        } else if head >= 64 << 10 && head * 2 > bytes.count {
            base += head
            if bytes.capacity > Self.retained && bytes.capacity > 4 * (bytes.count - head) {
                var smaller: [UInt8] = []
                smaller.reserveCapacity(max(Self.retained, 2 * (bytes.count - head)))
                smaller.append(contentsOf: bytes[head...])
                bytes = smaller
            } else {
                bytes.removeFirst(head)
            }
            head = 0
        }
        if firstEnd == ends.count {
            ends.removeAll(keepingCapacity: ends.capacity <= Self.retained / Self.overhead)
            firstEnd = 0
        } else if firstEnd > 1 << 13 && firstEnd * 2 > ends.count {
            ends.removeFirst(firstEnd)
            firstEnd = 0
        }
    }
}
