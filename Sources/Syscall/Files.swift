import CSyscall
#if canImport(Glibc)
import Glibc
#endif

// Files and folders: reading a small file whole, listing a folder, and replacing a file atomically
// (temporary file in the same folder, fsync, rename, fsync the folder).

extension Sys {
    /// Whether `path` is a folder (following symbolic links).
    public static func isDirectory(_ path: String) -> Bool {
        var st = stat()
        guard stat(path, &st) == 0 else { return false }
        return st.st_mode & S_IFMT == S_IFDIR
    }

    /// `open(2)` with close-on-exec added to `flags`.
    public static func open(_ path: String, _ flags: Int32, mode: mode_t = 0o644) throws(SyscallError) -> Int32 {
        try retrying("open", path) { Glibc.open(path, flags | O_CLOEXEC, mode) }
    }

    /// Opens (creating it when missing) the file at `path` for reading and writing in place.
    public static func openForUpdate(_ path: String, mode: mode_t = 0o644) throws(SyscallError) -> Int32 {
        try open(path, O_RDWR | O_CREAT, mode: mode)
    }

    /// The whole content of the file at `path`; a file over `maxBytes` is an error (EFBIG).
    public static func readFile(_ path: String, maxBytes: Int = 1 << 20) throws(SyscallError) -> [UInt8] {
        let fd = try open(path, O_RDONLY)
        defer { close(fd) }
        var result: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 64 * 1024)
        while true {
            let n: Int
            do { n = try read(fd, into: &buffer) } catch { throw SyscallError("read", path, error.errno) }
            if n == 0 { return result }
            result.append(contentsOf: buffer[0..<n])
            if result.count > maxBytes { throw SyscallError("read", path, Errno(EFBIG)) }
        }
    }

    /// The names in the folder at `path`, without `.` and `..`, in the order the file system gives.
    public static func listDirectory(_ path: String) throws(SyscallError) -> [String] {
        guard let dir = opendir(path) else { throw SyscallError("open folder", path, .current) }
        defer { closedir(dir) }
        var names: [String] = []
        while let entry = readdir(dir) {
            let name = withUnsafeBytes(of: &entry.pointee.d_name) { raw in
                String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self)
            }
            if name != "." && name != ".." { names.append(name) }
        }
        return names
    }

    /// `fsync(2)`.
    public static func fsync(_ fd: Int32, _ context: String = "") throws(SyscallError) {
        _ = try retrying("fsync", context) { Glibc.fsync(fd) }
    }

    /// Writes all of `bytes` at `offset` of the file `fd` (`pwrite(2)`, repeated until done), then cuts the
    /// file to end right after them when `truncate` (`ftruncate(2)`).
    public static func overwrite(_ fd: Int32, _ bytes: [UInt8], at offset: Int = 0, truncate: Bool,
                                 _ context: String = "") throws(SyscallError) {
        try withRawBytes(bytes, 0..<bytes.count) { (raw) throws(SyscallError) in
            try overwrite(fd, raw, at: offset, truncate: truncate, context)
        }
    }

    /// `overwrite` of the bytes at a pointer.
    public static func overwrite(_ fd: Int32, _ bytes: UnsafeRawBufferPointer, at offset: Int = 0, truncate: Bool,
                                 _ context: String = "") throws(SyscallError) {
        var done = 0
        while done < bytes.count {
            let n = try retrying("write", context) {
                Glibc.pwrite(fd, bytes.baseAddress! + done, bytes.count - done, off_t(offset + done))
            }
            if n == 0 { throw SyscallError("write", context, Errno(EIO)) }
            done += n
        }
        if truncate { _ = try retrying("truncate", context) { Glibc.ftruncate(fd, off_t(offset + bytes.count)) } }
    }

    /// `fdatasync(2)`: the file's data (and the size) made durable.
    public static func fdatasync(_ fd: Int32, _ context: String = "") throws(SyscallError) {
        _ = try retrying("fdatasync", context) { Glibc.fdatasync(fd) }
    }

    /// `rename(2)`.
    public static func rename(_ from: String, to: String) throws(SyscallError) {
        _ = try retrying("rename", "\(from) to \(to)") { Glibc.rename(from, to) }
    }

    /// `unlink(2)`.
    public static func unlink(_ path: String) throws(SyscallError) {
        _ = try retrying("remove", path) { Glibc.unlink(path) }
    }

    /// Makes the entries of the folder at `path` durable (`fsync` on the folder itself).
    public static func syncDirectory(_ path: String) throws(SyscallError) {
        let fd = try open(path, O_RDONLY | O_DIRECTORY)
        defer { close(fd) }
        try fsync(fd, path)
    }

    /// Replaces the file at `path` with `bytes` so that a reader, or a crash, sees the old content or the
    /// new one, never a mix: writes `.<name>.tmp` in the same folder, fsyncs it, renames it over `path`,
    /// then fsyncs the folder. With `durable: false` it skips both fsyncs: readers still see the old content
    /// or the new one, but a crash of the host may leave either (for snapshots rewritten every second).
    public static func writeFileAtomically(_ path: String, _ bytes: [UInt8], mode: mode_t = 0o644, durable: Bool = true) throws(SyscallError) {
        let slash = path.lastIndex(of: "/")
        let folder = slash.map { $0 == path.startIndex ? "/" : String(path[..<$0]) } ?? "."
        let name = slash.map { String(path[path.index(after: $0)...]) } ?? path
        let temp = (folder == "/" ? "" : folder) + "/." + name + ".tmp"
        let fd = try open(temp, O_WRONLY | O_CREAT | O_TRUNC, mode: mode)
        do throws(SyscallError) {
            try writeAll(fd, bytes)
            if durable { try fsync(fd, temp) }
        } catch {
            close(fd)
            _ = Glibc.unlink(temp)
            throw SyscallError("write", temp, error.errno)
        }
        close(fd)
        do throws(SyscallError) {
            try rename(temp, to: path)
        } catch {
            _ = Glibc.unlink(temp)
            throw error
        }
        if durable { try syncDirectory(folder) }
    }
}
