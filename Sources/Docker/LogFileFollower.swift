// Following one container's json-file log through rotation, truncation, its end and its removal: the
// decisions only. The driver does the reading (from `readOffset` of the current descriptor to its end),
// the opening (`LogFileOpener`) and the watching (inotify), and tells the follower what happened:
//
//   grew(size)            the current file's size now (a write was seen, or a read stopped at its end)
//   newFile(identity)     a new `<id>-json.log` appeared (the engine renamed the old one to `….1`)
//   bytesRead(bytes)      what a read at `readOffset` returned; complete lines are handed on, the rest held
//   reachedEnd()          a read returned 0: the current descriptor holds nothing more for now
//   containerDied()       the container stopped: its last line without "\n" is complete
//   folderDeleted()       `docker rm`: read what the descriptor still holds, then forget the container
//
// Rotation without loss or repeat: when a new file appears, the old one (renamed, and possibly deleted
// once compressed) is read through the descriptor held until its end before the new one is read from 0.

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
import Time

/// Which file (device and inode: a rename keeps them) and where in it.
public struct LogFileCursor: Equatable, Sendable {
    public var device: UInt64
    public var inode: UInt64
    /// The byte after the last complete line handed on (always at the start of a line).
    public var offset: Int64
    /// The time of the last entry handed on, as the caller read it (the timestamp cursor).
    public var time: Timestamp?

    public init(device: UInt64, inode: UInt64, offset: Int64, time: Timestamp? = nil) {
        self.device = device
        self.inode = inode
        self.offset = offset
        self.time = time
    }

    public func isFile(_ identity: FileIdentity) -> Bool { device == identity.device && inode == identity.inode }
}

/// A file's identity: device and inode.
public struct FileIdentity: Equatable, Hashable, Sendable {
    public var device: UInt64
    public var inode: UInt64

    public init(device: UInt64, inode: UInt64) {
        self.device = device
        self.inode = inode
    }
}

public struct LogFileFollower {
    /// What the driver does next.
    public enum Action: Equatable, Sendable {
        /// Read the current descriptor from `readOffset` until a read returns 0, then call `reachedEnd`.
        case read
        /// The old file was read to its end: close it; the descriptor opened for the new file is the current
        /// one now, read from 0 (a `read` follows).
        case switchToNewFile(FileIdentity)
        /// The file shrank below what was read: it was truncated in place, and what was written to it between
        /// the last read and the truncation may be lost. Reading starts again at 0 (a `read` follows).
        /// `first` is true for the first truncation of this follower (the one to report; all are counted).
        case truncated(lostAfter: Int64, first: Bool)
        /// A file ended in the middle of a line (a rotated file, or one whose folder was deleted): those
        /// bytes are not an entry; skipped and counted.
        case incompleteLineSkipped(at: Int64, bytes: Int)
        /// The container stopped: emit its last line still held without "\n" (the line assembler's `finish`).
        case emitHeldLine
        /// The folder is gone and its descriptor read to the end: close it and forget the container.
        case forget
    }

    /// One complete line of the file, or a line over the limit (skipped, counted, reported at its offset).
    public enum Line {
        case line(UnsafeRawBufferPointer, at: Int64)
        case tooLong(at: Int64)
    }

    public private(set) var cursor: LogFileCursor
    /// Where the next read starts: after the bytes held.
    public var readOffset: Int64 { cursor.offset + Int64(held.count) }
    /// Bytes of a line whose "\n" has not been written yet.
    public private(set) var held: [UInt8] = []
    /// A line longer than this is skipped up to its "\n" (a corrupt file; the engine's lines are 16 KiB of
    /// text, at most six bytes of JSON each, plus the attributes).
    public let maxLineBytes: Int
    /// The new file, waiting for the old one to be read to its end.
    public private(set) var next: FileIdentity?
    /// Skipping the rest of a line over the limit.
    private var skippingLongLine = false
    private var truncations = 0
    private var containerStopped = false
    private var folderGone = false
    /// A read is wanted (set by every event that may have made bytes readable; cleared at the end).
    public private(set) var reading = false

    public init(file: FileIdentity, offset: Int64 = 0, time: Timestamp? = nil, maxLineBytes: Int = 1 << 20) {
        cursor = LogFileCursor(device: file.device, inode: file.inode, offset: offset, time: time)
        self.maxLineBytes = maxLineBytes
    }

    /// The current file's size now.
    public mutating func grew(size: Int64) -> [Action] {
        if size < readOffset {
            truncations += 1
            let lost = readOffset
            held.removeAll()
            skippingLongLine = false
            cursor.offset = 0
            reading = true
            return [.truncated(lostAfter: lost, first: truncations == 1), .read]
        }
        if size > readOffset { return startReading() }
        return []
    }

    /// A new `<id>-json.log` appeared and was opened: the current file was rotated away.
    public mutating func newFile(_ identity: FileIdentity) -> [Action] {
        guard !cursor.isFile(identity) else { return [] }
        next = identity
        return startReading()
    }

    public mutating func containerDied() -> [Action] {
        containerStopped = true
        return startReading()
    }

    public mutating func folderDeleted() -> [Action] {
        folderGone = true
        return startReading()
    }

    /// Splits bytes read at `readOffset` into lines; `line` returns the entry's time when it was one.
    public mutating func bytesRead(_ bytes: UnsafeRawBufferPointer, _ line: (Line) -> Timestamp?) {
        var start = 0
        while start < bytes.count {
            let rest = UnsafeRawBufferPointer(rebasing: bytes[start...])
            guard let found = memchr(rest.baseAddress!, 10, rest.count) else {
                if skippingLongLine {
                    cursor.offset += Int64(rest.count)
                } else if held.count + rest.count > maxLineBytes {
                    _ = line(.tooLong(at: cursor.offset))
                    cursor.offset += Int64(held.count + rest.count)
                    held.removeAll()
                    skippingLongLine = true
                } else {
                    held.append(contentsOf: rest)
                }
                return
            }
            let nl = rest.baseAddress!.distance(to: UnsafeRawPointer(found))
            let lineEnd = cursor.offset + Int64(held.count + nl + 1)
            if skippingLongLine {
                skippingLongLine = false
            } else if held.isEmpty {
                if nl > maxLineBytes {
                    _ = line(.tooLong(at: cursor.offset))
                } else if let t = line(.line(UnsafeRawBufferPointer(rebasing: rest[0..<nl]), at: cursor.offset)) {
                    cursor.time = t
                }
            } else {
                held.append(contentsOf: rest[0..<nl])
                let at = cursor.offset
                if held.count > maxLineBytes {
                    _ = line(.tooLong(at: at))
                } else if let t = held.withUnsafeBytes({ line(.line($0, at: at)) }) {
                    cursor.time = t
                }
                held.removeAll(keepingCapacity: held.capacity <= 64 * 1024)
            }
            cursor.offset = lineEnd
            start += nl + 1
        }
    }

    /// A read at `readOffset` returned 0.
    public mutating func reachedEnd() -> [Action] {
        reading = false
        var actions: [Action] = []
        if let new = next {
            // The engine closed the old file before it created the new one: nothing more comes to it.
            actions += dropIncompleteLine()
            next = nil
            cursor = LogFileCursor(device: new.device, inode: new.inode, offset: 0, time: cursor.time)
            reading = true
            actions += [.switchToNewFile(new), .read]
            return actions
        }
        if folderGone {
            actions += dropIncompleteLine()
            actions.append(.forget)
            return actions
        }
        if containerStopped {
            containerStopped = false
            actions.append(.emitHeldLine)
        }
        return actions
    }

    private mutating func startReading() -> [Action] {
        if reading { return [] }
        reading = true
        return [.read]
    }

    private mutating func dropIncompleteLine() -> [Action] {
        guard !held.isEmpty || skippingLongLine else { return [] }
        let at = cursor.offset
        let bytes = held.count
        cursor.offset += Int64(bytes)
        held.removeAll()
        skippingLongLine = false
        return bytes > 0 ? [.incompleteLineSkipped(at: at, bytes: bytes)] : []
    }
}
