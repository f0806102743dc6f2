// A container's json-file logs on disk: `<dir>/<id>/<id>-json.log` (the one the engine writes), and with
// `--log-opt max-file=N` the older generations `….log.1` (the newest of them) … `….log.N-1`, each `….gz`
// once compressed (`compress=true`). Only those names, directly under the container's folder, are opened;
// symbolic links are refused, and anything but a regular file.

import Syscall

/// One generation of a container's log: 0 is `<id>-json.log`, n is `<id>-json.log.n` (or `.n.gz`).
public struct LogFileGeneration: Equatable, Hashable, Sendable, Comparable {
    public var number: Int
    public var compressed: Bool

    public init(_ number: Int, compressed: Bool = false) {
        self.number = number
        self.compressed = compressed
    }

    /// Older first: higher numbers are older.
    public static func < (a: LogFileGeneration, b: LogFileGeneration) -> Bool {
        a.number != b.number ? a.number > b.number : (a.compressed && !b.compressed)
    }

    /// Its file name for container `id`.
    public func name(_ id: String) -> String {
        number == 0 ? "\(id)-json.log" : "\(id)-json.log.\(number)" + (compressed ? ".gz" : "")
    }

    /// The generation a file name stands for, for container `id`; nil for any other name.
    public init?(name: String, id: String) {
        let base = "\(id)-json.log"
        guard name.hasPrefix(base) else { return nil }
        var rest = Substring(name.utf8.dropFirst(base.utf8.count))
        if rest.isEmpty {
            self.init(0)
            return
        }
        guard rest.first == "." else { return nil }
        rest = rest.dropFirst()
        var compressed = false
        if rest.hasSuffix(".gz") {
            compressed = true
            rest = rest.dropLast(3)
        }
        // Digits only, no sign, no leading zero.
        guard !rest.isEmpty, rest.count <= 6, rest.first != "0", rest.utf8.allSatisfy({ $0 >= 48 && $0 <= 57 }),
              let n = Int(rest) else { return nil }
        self.init(n, compressed: compressed)
    }
}

/// Where a restarted reader takes up a container's log again.
public enum LogFileResume: Equatable, Sendable {
    /// The cursor's file is there (found by identity): read it from `offset`, then the newer generations,
    /// oldest first. `truncated`: it is shorter than the offset now, so it is read from 0 and what was
    /// written past the offset before the truncation may be lost.
    case at(LogFileGeneration, offset: Int64, truncated: Bool, then: [LogFileGeneration])
    /// The cursor's file has no plain name any more: compressed (a new identity) or deleted. Read these
    /// generations, oldest first, letting the timestamp cursor drop what was delivered before. `mayHaveLost`:
    /// no compressed generation is left that could hold the cursor, so generations were deleted and what
    /// the oldest one left starts after a gap (say how far, once the first entry's time is known).
    case byTime([LogFileGeneration], mayHaveLost: Bool)
}

public enum LogFileGenerations {
    /// The generations present among `names` (a listing of the container's folder), oldest first.
    public static func present(_ names: [String], id: String) -> [LogFileGeneration] {
        names.compactMap { LogFileGeneration(name: $0, id: id) }.sorted()
    }

    /// Where to resume: `files` are the generations present with what `lstat` said of each.
    public static func resume(_ cursor: LogFileCursor, files: [(LogFileGeneration, FileStatus)]) -> LogFileResume {
        let ordered = files.filter { $0.1.isRegular }.sorted { $0.0 < $1.0 }
        if let i = ordered.firstIndex(where: { !$0.0.compressed && $0.1.device == cursor.device && $0.1.inode == cursor.inode }) {
            let (generation, status) = ordered[i]
            let newer = ordered[(i + 1)...].map(\.0).filter { $0.number < generation.number }
            let truncated = status.size < cursor.offset
            return .at(generation, offset: truncated ? 0 : cursor.offset, truncated: truncated, then: dedupe(newer))
        }
        let all = dedupe(ordered.map(\.0))
        return .byTime(all, mayHaveLost: !all.contains { $0.compressed })
    }

    /// While the engine compresses `….n` into `….n.gz`, both exist: the plain one is read (it is complete).
    public static func dedupe(_ generations: [LogFileGeneration]) -> [LogFileGeneration] {
        let plain = Set(generations.filter { !$0.compressed }.map(\.number))
        return generations.filter { !$0.compressed || !plain.contains($0.number) }
    }
}

/// Why a log file was not opened.
public struct LogFileOpenError: Error, Equatable, Sendable, CustomStringConvertible {
    public var message: String
    public var errno: Errno?
    public init(_ message: String, errno: Errno? = nil) {
        self.message = message
        self.errno = errno
    }
    public var description: String { message }
}

/// Opens a container's log files read-only, only as `<dir>/<id>/<generation name>`: the id must be a
/// container id (hexadecimal), neither the folder nor the file may be a symbolic link, and the file must be
/// a regular file (`fstat` of the descriptor opened, so nothing can be swapped in between).
public enum LogFileOpener {
    /// Whether `id` can name a container's folder: 12 to 64 lowercase hexadecimal digits.
    public static func isContainerID(_ id: String) -> Bool {
        (12...64).contains(id.utf8.count) && id.utf8.allSatisfy { ($0 >= 48 && $0 <= 57) || ($0 >= 97 && $0 <= 102) }
    }

    /// Opens the container's folder (`O_DIRECTORY | O_NOFOLLOW`), to open its files from.
    public static func openFolder(_ dir: String, id: String) throws(LogFileOpenError) -> Int32 {
        guard isContainerID(id) else { throw LogFileOpenError("'\(id)' is not a container id") }
        let path = dir + "/" + id
        do { return try Sys.openDirectoryNoFollow(path) } catch {
            // O_DIRECTORY is checked first: a symbolic link fails with ENOTDIR.
            let why = error.errno == .symbolicLink || error.errno == .notDirectory
                ? "not a folder (a symbolic link is not followed)" : error.errno.description
            throw LogFileOpenError("cannot open the folder \(path): \(why)", errno: error.errno)
        }
    }

    /// Opens one generation's file in the folder opened by `openFolder`; returns its descriptor and status.
    public static func open(folder: Int32, id: String, _ generation: LogFileGeneration) throws(LogFileOpenError) -> (fd: Int32, status: FileStatus) {
        guard isContainerID(id) else { throw LogFileOpenError("'\(id)' is not a container id") }
        let name = generation.name(id)
        let fd: Int32
        do { fd = try Sys.openReadOnlyNoFollow(name, in: folder) } catch {
            let why = error.errno == .symbolicLink ? "a symbolic link, not followed" : error.errno.description
            throw LogFileOpenError("cannot open \(id)/\(name): \(why)", errno: error.errno)
        }
        let status: FileStatus
        do { status = try Sys.status(fd) } catch {
            Sys.close(fd)
            throw LogFileOpenError("cannot read what \(id)/\(name) is: \(error)", errno: error.errno)
        }
        guard status.isRegular else {
            Sys.close(fd)
            throw LogFileOpenError("\(id)/\(name) is not a regular file; not read")
        }
        return (fd, status)
    }
}
