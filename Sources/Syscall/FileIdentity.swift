import CSyscall
#if canImport(Glibc)
import Glibc
#endif

/// What `fstat`/`lstat` say of a file that matters to a reader following it: which file it is (device and
/// inode, which a rename keeps), how long it is, and whether it is a regular file.
public struct FileStatus: Equatable, Sendable {
    public var device: UInt64
    public var inode: UInt64
    public var size: Int64
    public var isRegular: Bool
    /// How many names the file has; 0 once it was deleted while open.
    public var links: UInt64

    public init(device: UInt64, inode: UInt64, size: Int64, isRegular: Bool, links: UInt64 = 1) {
        self.device = device
        self.inode = inode
        self.size = size
        self.isRegular = isRegular
        self.links = links
    }

    init(_ st: stat) {
        self.init(device: UInt64(st.st_dev), inode: UInt64(st.st_ino), size: Int64(st.st_size),
                  isRegular: st.st_mode & S_IFMT == S_IFREG, links: UInt64(st.st_nlink))
    }
}

extension Errno {
    /// ELOOP: what opening a symbolic link with `O_NOFOLLOW` fails with.
    public static let symbolicLink = Errno(ELOOP)
    /// ENOTDIR: not a folder (also what opening a symbolic link with `O_DIRECTORY | O_NOFOLLOW` fails with).
    public static let notDirectory = Errno(ENOTDIR)
}

extension Sys {
    /// Opens `path` to read only: never through a symbolic link (`O_NOFOLLOW`: ELOOP), never blocking on a
    /// FIFO (`O_NONBLOCK`), close-on-exec. The caller checks with `status` that it is the regular file it expects.
    public static func openReadOnlyNoFollow(_ path: String) throws(SyscallError) -> Int32 {
        try retrying("open", path) { Glibc.open(path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC) }
    }

    /// Opens the folder `path` (`O_DIRECTORY`), not through a symbolic link (`O_NOFOLLOW`), to open files in it.
    public static func openDirectoryNoFollow(_ path: String) throws(SyscallError) -> Int32 {
        try retrying("open", path) { Glibc.open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC) }
    }

    /// `openReadOnlyNoFollow` of `name` in the folder `folder` (`openat(2)`). Also `O_NOATIME` where it is
    /// allowed (the caller owns the file or has CAP_FOWNER): on a writable mount, each read of a file that
    /// was written since its last read would otherwise update its access time, a write of its inode.
    public static func openReadOnlyNoFollow(_ name: String, in folder: Int32) throws(SyscallError) -> Int32 {
        let flags = O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC
        let fd = name.withCString { openat(folder, $0, flags | logspout_o_noatime) }
        if fd >= 0 { return fd }
        return try retrying("open", name) { openat(folder, name, flags) }
    }

    /// `fstat(2)`.
    public static func status(_ fd: Int32) throws(SyscallError) -> FileStatus {
        var st = stat()
        _ = try retrying("fstat", String(fd)) { fstat(fd, &st) }
        return FileStatus(st)
    }

    /// `lstat(2)`: of a symbolic link itself, not what it points to.
    public static func linkStatus(_ path: String) throws(SyscallError) -> FileStatus {
        var st = stat()
        _ = try retrying("lstat", path) { lstat(path, &st) }
        return FileStatus(st)
    }

    /// `pread(2)` into `buffer[0...]`; returns the byte count, 0 at end of file.
    public static func read(_ fd: Int32, into buffer: inout [UInt8], at offset: Int64) throws(SyscallError) -> Int {
        try retrying("pread", String(fd)) { buffer.withUnsafeMutableBytes { pread(fd, $0.baseAddress, $0.count, off_t(offset)) } }
    }
}
