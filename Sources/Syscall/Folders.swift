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
