#if canImport(Glibc)
import Glibc
#endif

/// What an inotify watch reports (the `IN_*` bits of `inotify(7)`).
public struct InotifyMask: OptionSet, Sendable, Hashable {
    public var rawValue: UInt32
    public init(rawValue: UInt32) { self.rawValue = rawValue }

    /// A file was written to.
    public static let modify = InotifyMask(rawValue: UInt32(IN_MODIFY))
    /// Metadata changed (also: a file's link count fell, as when it is deleted while open).
    public static let attrib = InotifyMask(rawValue: UInt32(IN_ATTRIB))
    public static let closeWrite = InotifyMask(rawValue: UInt32(IN_CLOSE_WRITE))
    /// In a watched folder: a name moved away (rotation renames `…-json.log` to `….1`).
    public static let movedFrom = InotifyMask(rawValue: UInt32(IN_MOVED_FROM))
    /// In a watched folder: a name moved in.
    public static let movedTo = InotifyMask(rawValue: UInt32(IN_MOVED_TO))
    /// In a watched folder: a name was created.
    public static let create = InotifyMask(rawValue: UInt32(IN_CREATE))
    /// In a watched folder: a name was deleted.
    public static let delete = InotifyMask(rawValue: UInt32(IN_DELETE))
    /// The watched file or folder itself was deleted.
    public static let deleteSelf = InotifyMask(rawValue: UInt32(IN_DELETE_SELF))
    /// The watched file or folder itself was moved.
    public static let moveSelf = InotifyMask(rawValue: UInt32(IN_MOVE_SELF))

    /// Reported, never asked for: the watch is gone (removed, or its file or folder deleted).
    public static let ignored = InotifyMask(rawValue: UInt32(IN_IGNORED))
    /// Reported, never asked for: the kernel's queue overflowed and events were lost (the watch is -1).
    public static let queueOverflow = InotifyMask(rawValue: UInt32(IN_Q_OVERFLOW))
    /// Reported, never asked for: the file system holding the watch was unmounted.
    public static let unmounted = InotifyMask(rawValue: UInt32(IN_UNMOUNT))
    /// Reported, never asked for: the name in the event is a folder.
    public static let isDirectory = InotifyMask(rawValue: UInt32(IN_ISDIR))

    /// Asked for: watch the path only if it is a folder.
    public static let onlyDirectory = InotifyMask(rawValue: UInt32(IN_ONLYDIR))
    /// Asked for: do not follow the path if it is a symbolic link.
    public static let dontFollow = InotifyMask(rawValue: UInt32(IN_DONT_FOLLOW))
}

/// One event as the kernel reported it. `name` is only valid during the callback.
public struct InotifyEvent {
    /// The watch it concerns (-1 for a queue overflow).
    public var watch: Int32
    public var mask: InotifyMask
    /// Pairs a `movedFrom` with its `movedTo`.
    public var cookie: UInt32
    /// For an event in a watched folder: the name of the entry, without the kernel's NUL padding; else empty.
    public var name: UnsafeRawBufferPointer

    public var nameString: String { String(decoding: name, as: UTF8.self) }
}

/// An inotify descriptor (non-blocking, close-on-exec), to register with the `EventLoop`, and a reusable
/// buffer its events are read into. Not thread-safe; one owner, on the loop's thread.
public final class Inotify {
    public let fd: Int32
    private var buffer: [UInt8]

    /// `inotify_init1(IN_NONBLOCK | IN_CLOEXEC)`.
    public init(bufferBytes: Int = 64 * 1024) throws(SyscallError) {
        fd = try Sys.retrying("inotify_init1", "") { inotify_init1(Int32(IN_NONBLOCK | IN_CLOEXEC)) }
        // Room for at least one event with the longest name (NAME_MAX) whatever the caller asks.
        buffer = [UInt8](repeating: 0, count: max(bufferBytes, MemoryLayout<inotify_event>.size + Int(NAME_MAX) + 1))
    }

    deinit { Sys.close(fd) }

    /// `inotify_add_watch`: returns the watch. Watching a path watched already gives its watch again, with
    /// `mask` replacing what it reported.
    @discardableResult
    public func addWatch(_ path: String, _ mask: InotifyMask) throws(SyscallError) -> Int32 {
        try Sys.retrying("inotify_add_watch", path) { inotify_add_watch(fd, path, mask.rawValue) }
    }

    /// `inotify_rm_watch`; the kernel then reports `ignored` for it. A watch the kernel removed already
    /// (its file deleted) throws EINVAL.
    public func removeWatch(_ watch: Int32) throws(SyscallError) {
        _ = try Sys.retrying("inotify_rm_watch", String(watch)) { inotify_rm_watch(fd, watch) }
    }

    /// Reads every event waiting, calling `handle` for each, until the kernel has no more; returns how many.
    /// At most `maxReads` reads, so a busy folder cannot hold the loop (the descriptor stays readable).
    @discardableResult
    public func readEvents(maxReads: Int = 16, _ handle: (InotifyEvent) -> Void) throws(SyscallError) -> Int {
        var count = 0
        for _ in 0..<maxReads {
            let n: Int
            do {
                n = try Sys.read(fd, into: &buffer)
            } catch {
                if error.errno == .wouldBlock { break }
                throw error
            }
            if n == 0 { break }
            count += buffer.withUnsafeBytes { Inotify.parse(UnsafeRawBufferPointer(rebasing: $0[0..<n]), handle) }
        }
        return count
    }

    /// Splits what one `read` returned into events (`struct inotify_event`: wd, mask, cookie, len, then `len`
    /// bytes of name padded with NULs). A record cut short, which the kernel never returns, ends the parse.
    /// Returns how many events were handled.
    @discardableResult
    public static func parse(_ bytes: UnsafeRawBufferPointer, _ handle: (InotifyEvent) -> Void) -> Int {
        let header = 16
        var i = 0
        var count = 0
        while i + header <= bytes.count {
            let watch = bytes.loadUnaligned(fromByteOffset: i, as: Int32.self)
            let mask = bytes.loadUnaligned(fromByteOffset: i + 4, as: UInt32.self)
            let cookie = bytes.loadUnaligned(fromByteOffset: i + 8, as: UInt32.self)
            let len = Int(bytes.loadUnaligned(fromByteOffset: i + 12, as: UInt32.self))
            guard len <= bytes.count - i - header else { break }
            let nameStart = i + header
            // The name ends at its first NUL (the kernel pads it to a multiple of 16).
            var nameEnd = nameStart + len
            if len > 0, let base = bytes.baseAddress, let nul = memchr(base + nameStart, 0, len) {
                nameEnd = nameStart + (UnsafeRawPointer(nul) - (base + nameStart))
            }
            handle(InotifyEvent(watch: watch, mask: InotifyMask(rawValue: mask), cookie: cookie,
                                name: UnsafeRawBufferPointer(rebasing: bytes[nameStart..<nameEnd])))
            count += 1
            i = nameStart + len
        }
        return count
    }
}
