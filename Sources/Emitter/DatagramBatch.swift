import Syscall

/// The datagrams waiting for one UDP receiver, in one buffer, sent together with `sendmmsg`.
///
/// Messages are appended one after the other; `ranges` delimits them. Appending copies the message into
/// the buffer and allocates nothing once the buffer has grown to a burst's size.
struct DatagramBatch {
    /// The messages, back to back.
    private(set) var bytes: [UInt8] = []
    /// Where each message lies in `bytes`.
    private(set) var ranges: [Range<Int>] = []
    /// The most bytes kept (`SYSLOG_BUFFER_SIZE`); a message beyond it is refused.
    let capacity: Int

    init(capacity: Int, reserving: Int = 0) {
        self.capacity = capacity
        bytes.reserveCapacity(reserving)
    }

    var count: Int { ranges.count }
    var isEmpty: Bool { ranges.isEmpty }

    /// Queues `message` as one datagram; false (nothing queued) when it would overflow the buffer.
    @inline(__always)
    mutating func append(_ message: [UInt8]) -> Bool {
        guard bytes.count + message.count <= capacity else { return false }
        let start = bytes.count
        bytes.append(contentsOf: message)
        ranges.append(start..<bytes.count)
        return true
    }

    /// What a flush did: datagrams the kernel took (and their bytes), and those given up on.
    struct Outcome: Equatable {
        var sent = 0
        var bytes = 0
        /// Given up on: the socket stayed full (`bufferFull`), or after too many errors (`refused` when
        /// the last was ECONNREFUSED, else `sendFailed`).
        var dropped = 0
        var droppedReason = DropReason.bufferFull
        /// Skipped: the kernel refused the datagram itself.
        var skipped = 0
    }

    /// Hands every queued datagram to `send` (`sendmmsg`: it takes the buffer and the ranges left, and
    /// returns how many it sent), then empties the batch.
    ///
    /// A full socket buffer (EAGAIN) waits for room (`waitWritable`) up to three times, then what is left
    /// is dropped. Another error is passed to `failed` and the datagram it was about is skipped — but
    /// ECONNREFUSED (an ICMP refusal of an earlier datagram) is about none of these, which are tried
    /// again; after eight errors the rest is dropped.
    mutating func flush(send: (UnsafeRawBufferPointer, ArraySlice<Range<Int>>) throws(SyscallError) -> Int,
                        waitWritable: () -> Bool, failed: (SyscallError) -> Void) -> Outcome {
        var outcome = Outcome()
        var done = 0
        var attempts = 0
        bytes.withUnsafeBytes { raw in
            while done < ranges.count {
                do throws(SyscallError) {
                    let n = try send(raw, ranges[done...])
                    if n > 0 { outcome.bytes += ranges[done + n - 1].upperBound - ranges[done].lowerBound }
                    done += n
                    outcome.sent += n
                } catch {
                    if error.errno == .wouldBlock {
                        // The socket buffer is full: give the kernel a moment, then drop what is left.
                        attempts += 1
                        if attempts > 3 || !waitWritable() { break }
                        continue
                    }
                    // ECONNREFUSED (an ICMP refusal of an earlier datagram) and the like: count, go on.
                    failed(error)
                    let refused = error.errno == .connectionRefused
                    if !refused {
                        done += 1
                        outcome.skipped += 1
                    }
                    attempts += 1
                    if attempts > 8 {
                        outcome.droppedReason = refused ? .refused : .sendFailed
                        break
                    }
                }
            }
        }
        if done < ranges.count { outcome.dropped = ranges.count - done }
        ranges.removeAll(keepingCapacity: true)
        bytes.removeAll(keepingCapacity: bytes.capacity <= 4 << 20)
        return outcome
    }
}
