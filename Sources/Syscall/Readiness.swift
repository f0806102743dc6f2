#if canImport(Glibc)
import Glibc
#endif
import Synchronization

/// Readiness notification, the s6 way: a stage started with `--ready-fd N` writes one newline to
/// descriptor N, and closes it, once it is ready to do its work (each stage's doc says when that is). A
/// stage that ends before it is ready closes N without writing: whoever waits reads the end of file.
public enum Readiness {
    /// The descriptor to announce on; -1 when none was given, or once announced.
    private static let descriptor = Atomic<Int32>(-1)

    /// A bad `--ready-fd`: a one-line message for the stage to print (then it exits 64).
    public struct UsageError: Error, Sendable, CustomStringConvertible {
        public var description: String
    }

    /// Takes `--ready-fd N` out of `arguments` (the program name excluded) and keeps N for `announce()`.
    /// N must be an open descriptor from 3 up (0, 1 and 2 are the stage's standard streams); it is made
    /// close-on-exec.
    public static func take(from arguments: [String]) throws(UsageError) -> [String] {
        var rest: [String] = []
        var i = 0
        while i < arguments.count {
            guard arguments[i] == "--ready-fd" else {
                rest.append(arguments[i])
                i += 1
                continue
            }
            guard i + 1 < arguments.count, let fd = Int32(arguments[i + 1]), fd >= 3 else {
                throw UsageError(description: "--ready-fd needs a descriptor number from 3 up")
            }
            guard fcntl(fd, F_SETFD, FD_CLOEXEC) == 0 else {
                let e = Errno.current
                throw UsageError(description: e.rawValue == EBADF ? "--ready-fd \(fd): no such open descriptor"
                                                                  : "--ready-fd \(fd): \(SyscallError("fcntl", "F_SETFD", e))")
            }
            descriptor.store(fd, ordering: .relaxed)
            i += 2
        }
        return rest
    }

    /// `take(from:)` for a stage's `main`: the arguments after the program name without `--ready-fd N`, or
    /// nil once the problem was said on stderr as `STAGE: …` (the stage then exits 64).
    public static func arguments(_ argv: [String], stage: String) -> [String]? {
        do { return try take(from: Array(argv.dropFirst())) } catch {
            Sys.diagnostic("\(stage): \(error)")
            return nil
        }
    }

    /// Says the stage is ready: one newline on the descriptor, which is then closed. Only the first call
    /// does anything; without `--ready-fd`, nothing. A reader that went away is not an error.
    public static func announce() {
        let fd = descriptor.exchange(-1, ordering: .relaxed)
        guard fd >= 0 else { return }
        var newline: UInt8 = 10
        _ = Glibc.write(fd, &newline, 1)
        Sys.close(fd)
    }
}
