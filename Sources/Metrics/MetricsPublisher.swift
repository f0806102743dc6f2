import Syscall

/// Publishes a stage's metrics for httpd to serve: when the values changed, the stage's render closure
/// writes them into `<directory>/<stage>.prom`, replacing the file atomically (readers see the old text
/// or the new one), at most every `interval` (half a second), on a wake-up the stage has anyway or at the
/// latest `slack` after that, so what httpd serves is at most about a second old. Nothing changes,
/// nothing is written: idle stages cost nothing.
///
/// The directory is `LOGSPOUT_METRICS_DIR` (the supervisor sets it to a folder of its run); without it
/// the publisher is off and `changed()` costs one branch. See docs/bus.md ("Metrics and health files").
public final class MetricsPublisher {
    /// The environment variable naming the folder of the snapshot files.
    public static let directoryVariable = "LOGSPOUT_METRICS_DIR"
    /// The most a snapshot file may hold; a larger render is cut at its last whole line before this, and
    /// httpd reads no more than this of a file.
    public static let maxFileBytes = 1 << 20
    /// The least time between two writes of a file, in nanoseconds.
    public static let interval: UInt64 = 500_000_000
    /// How much later than `interval` a write may come: it is made on a wake-up the stage has anyway (a
    /// batch at a trickle) when one comes within this, so publishing adds no wake-up of its own.
    public static let slack: UInt64 = 250_000_000

    public let path: String?
    private let loop: EventLoop
    private let render: (inout MetricsText) -> Void
    private var timer: EventLoop.Timer?
    private var pending = false
    private var lastWrite: UInt64 = 0
    private var failed = false

    /// A publisher writing `<directory>/<file>` (the directory from `LOGSPOUT_METRICS_DIR` when nil);
    /// off when there is no directory. It writes a first snapshot at once.
    public init(loop: EventLoop, file: String, directory: String? = nil, render: @escaping (inout MetricsText) -> Void) {
        let folder = directory ?? Sys.environment(Self.directoryVariable)
        if let folder, !folder.isEmpty {
            path = folder + "/" + file
        } else {
            path = nil
        }
        self.loop = loop
        self.render = render
        if path != nil {
            timer = loop.makeTimer { [unowned self] in self.write() }
            write()
        }
    }

    /// Notes that values changed: a snapshot is written within `interval`. Cheap enough to call per batch.
    @inline(__always)
    public func changed() {
        if pending || path == nil { return }
        schedule()
    }

    /// Writes a snapshot now if anything changed since the last one (at exit, so the last values stay).
    public func flush() {
        if pending { write() }
    }

    private func schedule() {
        pending = true
        guard let timer else { return }
        loop.arm(timer, at: max(Sys.monotonicNanos(), lastWrite &+ Self.interval), slack: Self.slack)
    }

    private func write() {
        guard let path else { return }
        pending = false
        if let timer { loop.disarm(timer) }
        lastWrite = Sys.monotonicNanos()
        var text = MetricsText()
        render(&text)
        var bytes = text.bytes
        if bytes.count > Self.maxFileBytes {
            let cut = bytes[..<Self.maxFileBytes].lastIndex(of: 10).map { $0 + 1 } ?? 0
            bytes.removeSubrange(cut...)
        }
        do {
            try Sys.writeFileAtomically(path, bytes, durable: false)
            if failed {
                failed = false
                Sys.diagnostic("metrics: writing \(path) works again")
            }
        } catch {
            if !failed {
                failed = true
                Sys.diagnostic("metrics: cannot write \(path): \(error)")
            }
        }
    }
}
