/// The framed messages waiting for one TCP or TLS receiver: a byte stream with its message boundaries,
/// bounded, written as far as the connection takes it.
///
/// Each message is framed as it is queued (a newline after it, or RFC 6587's `LEN SP` before it). Writes
/// may take any part of the stream; a message counts as sent once its last byte is written. What would
/// overflow the bound (`SYSLOG_BUFFER_SIZE`) is refused whole. Nothing is allocated per message once the
/// buffers have grown to a burst's size.
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
    /// The stream position of `bytes[0]` (what compaction took off the front).
    private var base = 0
    /// The most bytes kept unwritten.
    let capacity: Int
    let framing: Framing

    init(capacity: Int, framing: Framing, reserving: Int = 0) {
        self.capacity = capacity
        self.framing = framing
        bytes.reserveCapacity(reserving)
    }

    /// Bytes not written yet.
    var pendingBytes: Int { bytes.count - head }
    var isEmpty: Bool { pendingBytes == 0 }
    /// Messages not written whole (one cut by a partial write among them).
    var count: Int { ends.count - firstEnd }

    /// Frames and queues `message`; false (nothing queued) when it would overflow the bound.
    @inline(__always)
    mutating func append(_ message: [UInt8]) -> Bool {
        switch framing {
        case .newline:
            guard pendingBytes + message.count + 1 <= capacity else { return false }
            bytes.append(contentsOf: message)
            bytes.append(10)
        case .octetCounted:
            // LEN SP MSG, the length in decimal.
            var power = 1
            var digits = 1
            while power <= message.count / 10 {
                power *= 10
                digits += 1
            }
            guard pendingBytes + digits + 1 + message.count <= capacity else { return false }
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
        return true
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
        firstEnd = end
        compact()
        return completed
    }

    /// Forgets what was written at the front once it is all or a good part of the queue.
    mutating func compact() {
        if head == bytes.count {
            base += head
            bytes.removeAll(keepingCapacity: bytes.capacity <= 4 << 20)
            head = 0
        } else if head > 1 << 20 && head * 2 > bytes.count {
            base += head
            bytes.removeFirst(head)
            head = 0
        }
        if firstEnd == ends.count {
            ends.removeAll(keepingCapacity: true)
            firstEnd = 0
        } else if firstEnd > 1 << 16 && firstEnd * 2 > ends.count {
            ends.removeFirst(firstEnd)
            firstEnd = 0
        }
    }
}
