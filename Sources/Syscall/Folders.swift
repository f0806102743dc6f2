#if canImport(Glibc)
import Glibc
#endif

extension Sys {
    /// Creates the folder at `path` and its parents where missing (`mkdir -p`).
    public static func makeDirectories(_ path: String) throws(SyscallError) {
        var current = path.hasPrefix("/") ? "" : "."
        for part in path.split(separator: "/") {
            current += "/" + part
            if mkdir(current, 0o755) != 0, errno != EEXIST { throw SyscallError("create folder", current, .current) }
        }
    }
}

extension Sys {
    /// Grows the pipe behind `fd` to `bytes` (`fcntl(F_SETPIPE_SZ)`), so a writer blocks less often;
    /// ignored when `fd` is not a pipe or the system's limit is lower.
    public static func growPipe(_ fd: Int32, to bytes: Int32 = 1 << 20) {
        let F_SETPIPE_SZ: Int32 = 1031  // <fcntl.h>, a GNU extension Swift's Glibc module leaves out
        _ = fcntl(fd, F_SETPIPE_SZ, bytes)
    }
}
