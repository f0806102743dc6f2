import Docker
import Time

/// Where a container's output was last delivered, so a reopened stream resumes there: no gap (reopen with
/// an inclusive `since` of the cursor's time) and no duplicate (skip as many lines stamped exactly that
/// time as were already delivered, and anything older).
public struct ResumeCursor: Sendable, Equatable {
    /// The latest timestamp delivered.
    public private(set) var time: Timestamp?
    /// How many records stamped exactly `time` were delivered.
    public private(set) var countAtTime = 0
    /// While replaying after a reopen: how many records stamped `time` remain to be skipped.
    private var skipping: Int?

    public init(time: Timestamp? = nil, countAtTime: Int = 0) {
        self.time = time
        self.countAtTime = time == nil ? 0 : countAtTime
    }

    /// Call when a stream is (re)opened with `since` = `time`: the replayed lines start being filtered.
    public mutating func reopened() {
        skipping = time == nil ? nil : countAtTime
    }

    /// Call instead of `reopened` when reading goes on right after what was delivered (the same log file,
    /// from the byte after the last line read): nothing is replayed, so nothing is skipped.
    public mutating func continued() {
        skipping = nil
    }

    /// Decides whether a line stamped `t` is new, and if so records it as delivered.
    public mutating func admit(_ t: Timestamp) -> Bool {
        if let left = skipping, let cursor = time {
            if t < cursor { return false }
            if t == cursor && left > 0 {
                skipping = left - 1
                return false
            }
            skipping = nil
        }
        if let cursor = time {
            if t == cursor {
                countAtTime += 1
            } else if cursor < t {
                time = t
                countAtTime = 1
            }
        } else {
            time = t
            countAtTime = 1
        }
        return true
    }
}
