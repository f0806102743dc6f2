/// How long attach lets lines gather after a turn of its loop that read log data, before it reads again:
/// a state machine with no I/O. Each read turn says how many bytes it read; what comes out is how long to
/// wait before the next read (attach writes what it read first, so the wait is the latency it adds).
///
/// The linger grows as the rate falls: a turn that read less than a quarter of `batchBytes` doubles it
/// (up to the maximum, `LOG_LINGER_MS`), one that read `batchBytes` or more — or `streamBatchRecords`
/// lines or more from one container — halves it (down to `minimumNanos`). The second bound is for the
/// logs streams: what waits in a socket is bounded by the engine's socket buffer, which counts each
/// small write it made at about 700 bytes, so a few hundred lines fill it whatever their size, and the
/// engine then waits for attach. Keeping a stream's batch under `streamBatchRecords`, doubled, keeps the
/// linger from becoming the rate's limit. Lines that trickle in are then read, written and passed on in batches of the maximum's
/// worth — one wake-up of each stage per linger, not one per line — while at full speed, where every read
/// is a batch already, the wait stays near the minimum. A turn that read nothing waits for nothing: once
/// the lines stop, attach sleeps in the event loop until one comes, and reads that one at once.
struct ReadLinger: Equatable, Sendable {
    /// The shortest wait after a read turn (what keeps a read at full speed from taking a line or two).
    static let minimumNanos: UInt64 = 1_000_000
    /// A read turn of this many bytes is a batch worth a wake-up of every stage.
    static let batchBytes = 64 * 1024
    /// So is a turn that read this many records from one container.
    static let streamBatchRecords = 64
    /// The longest wait (`LOG_LINGER_MS`); 0: no wait at all.
    let maximumNanos: UInt64
    /// The wait after the next turn that reads something.
    private(set) var nanos: UInt64

    init(maximumMs: Int) {
        maximumNanos = UInt64(max(0, maximumMs)) * 1_000_000
        nanos = min(Self.minimumNanos, maximumNanos)
    }

    /// A turn of the loop is over, having read `bytes` of log data, and at most `streamRecords` records from
    /// any one container: how long to wait before the next read (0: go on at once).
    mutating func turnRead(bytes: Int, streamRecords: Int = 0) -> UInt64 {
        guard bytes > 0, maximumNanos > 0 else { return 0 }
        if bytes >= Self.batchBytes || streamRecords >= Self.streamBatchRecords {
            nanos = max(min(Self.minimumNanos, maximumNanos), nanos / 2)
        } else if bytes < Self.batchBytes / 4 {
            nanos = min(maximumNanos, nanos &* 2)
        }
        return nanos
    }
}
