#if canImport(Glibc)
import Glibc
#endif
import Syscall
import Testing

/// A fresh temporary folder.
func makeTempFolder() -> String {
    var template = Array("/tmp/logspout-inotify-XXXXXX".utf8CString)
    return template.withUnsafeMutableBufferPointer { String(cString: mkdtemp($0.baseAddress!)!) }
}

/// An event copied out of the callback.
struct Seen: Equatable, CustomStringConvertible {
    var watch: Int32
    var mask: InotifyMask
    var cookie: UInt32
    var name: String
    var description: String { "watch \(watch) mask 0x\(String(mask.rawValue, radix: 16)) cookie \(cookie) \(name.debugDescription)" }
}

/// Every event waiting now.
func drain(_ inotify: Inotify) throws -> [Seen] {
    var seen: [Seen] = []
    try inotify.readEvents { seen.append(Seen(watch: $0.watch, mask: $0.mask, cookie: $0.cookie, name: $0.nameString)) }
    return seen
}

func append(_ path: String, _ text: String) throws {
    let fd = try Sys.open(path, O_WRONLY | O_APPEND | O_CREAT)
    defer { Sys.close(fd) }
    try Sys.writeAll(fd, Array(text.utf8))
}

@Suite("inotify: watches, events, the kernel's records")
struct InotifyTests {
    @Test("the kernel's records are split into events, names without their NUL padding")
    func parseRecords() {
        func record(_ wd: Int32, _ mask: UInt32, _ cookie: UInt32, _ name: [UInt8]) -> [UInt8] {
            var bytes: [UInt8] = []
            withUnsafeBytes(of: wd) { bytes += $0 }
            withUnsafeBytes(of: mask) { bytes += $0 }
            withUnsafeBytes(of: cookie) { bytes += $0 }
            withUnsafeBytes(of: UInt32(name.count)) { bytes += $0 }
            return bytes + name
        }
        let bytes = record(3, UInt32(IN_CREATE), 0, Array("abc-json.log".utf8) + [0, 0, 0, 0])
            + record(4, UInt32(IN_MODIFY), 0, [])
            + record(3, UInt32(IN_MOVED_TO), 77, Array("x.1".utf8) + [0])
            + record(5, UInt32(IN_MODIFY), 0, [1, 2])  // cut short: its name runs past the end
        var seen: [Seen] = []
        let count = bytes.withUnsafeBytes { raw in
            Inotify.parse(UnsafeRawBufferPointer(rebasing: raw[0..<(raw.count - 1)])) {
                seen.append(Seen(watch: $0.watch, mask: $0.mask, cookie: $0.cookie, name: $0.nameString))
            }
        }
        #expect(count == 3)
        #expect(seen == [Seen(watch: 3, mask: .create, cookie: 0, name: "abc-json.log"),
                         Seen(watch: 4, mask: .modify, cookie: 0, name: ""),
                         Seen(watch: 3, mask: .movedTo, cookie: 77, name: "x.1")])
    }

    @Test("a folder's watch sees a log file created, written, renamed as rotation does, and a new one created")
    func rotation() throws {
        let folder = makeTempFolder()
        defer { _ = system("rm -rf \(folder)") }
        let inotify = try Inotify()
        let watch = try inotify.addWatch(folder, [.create, .modify, .movedFrom, .movedTo, .delete, .deleteSelf, .onlyDirectory, .dontFollow])
        #expect(try drain(inotify).isEmpty)
        try append(folder + "/c-json.log", "one\n")
        try append(folder + "/c-json.log", "two\n")
        var seen = try drain(inotify)
        #expect(seen.first == Seen(watch: watch, mask: .create, cookie: 0, name: "c-json.log"))
        #expect(seen.dropFirst().allSatisfy { $0 == Seen(watch: watch, mask: .modify, cookie: 0, name: "c-json.log") })
        #expect(seen.count >= 2)

        try Sys.rename(folder + "/c-json.log", to: folder + "/c-json.log.1")
        try append(folder + "/c-json.log", "three\n")
        seen = try drain(inotify)
        #expect(seen.count >= 3)
        let from = try #require(seen.first)
        #expect(from.mask == .movedFrom && from.name == "c-json.log")
        #expect(seen[1] == Seen(watch: watch, mask: .movedTo, cookie: from.cookie, name: "c-json.log.1"))
        #expect(from.cookie != 0)
        #expect(seen[2] == Seen(watch: watch, mask: .create, cookie: 0, name: "c-json.log"))

        try Sys.unlink(folder + "/c-json.log.1")
        #expect(try drain(inotify) == [Seen(watch: watch, mask: .delete, cookie: 0, name: "c-json.log.1")])
    }

    @Test("a file's watch reports writes; deleting the folder ends the folder's watch with ignored")
    func fileAndFolderGone() throws {
        let folder = makeTempFolder()
        let inotify = try Inotify()
        try append(folder + "/c-json.log", "")
        let folderWatch = try inotify.addWatch(folder, [.create, .delete, .deleteSelf])
        let fileWatch = try inotify.addWatch(folder + "/c-json.log", [.modify, .attrib, .deleteSelf])
        #expect(fileWatch != folderWatch)
        try append(folder + "/c-json.log", "x\n")
        #expect(try drain(inotify) == [Seen(watch: fileWatch, mask: .modify, cookie: 0, name: "")])

        _ = system("rm -rf \(folder)")
        let seen = try drain(inotify)
        // The file: its last name gone (attrib), deleted, its watch ended; the folder: the name deleted, itself deleted, ended.
        #expect(seen.contains(Seen(watch: fileWatch, mask: .deleteSelf, cookie: 0, name: "")))
        #expect(seen.contains(Seen(watch: fileWatch, mask: .ignored, cookie: 0, name: "")))
        #expect(seen.contains(Seen(watch: folderWatch, mask: .delete, cookie: 0, name: "c-json.log")))
        #expect(seen.contains(Seen(watch: folderWatch, mask: .deleteSelf, cookie: 0, name: "")))
        #expect(seen.last == Seen(watch: folderWatch, mask: .ignored, cookie: 0, name: ""))
    }

    @Test("removing a watch reports ignored; a missing path is an error naming it; nothing waiting reads nothing")
    func removeAndErrors() throws {
        let folder = makeTempFolder()
        defer { _ = system("rm -rf \(folder)") }
        let inotify = try Inotify()
        let watch = try inotify.addWatch(folder, [.create])
        try inotify.removeWatch(watch)
        #expect(try drain(inotify) == [Seen(watch: watch, mask: .ignored, cookie: 0, name: "")])
        #expect(try drain(inotify).isEmpty)
        #expect { try inotify.addWatch(folder + "/none", [.create]) } throws: { error in
            guard let e = error as? SyscallError else { return false }
            return e.errno == .noEntry && e.description.contains(folder + "/none")
        }
        try append(folder + "/f", "")
        #expect { try inotify.addWatch(folder + "/f", [.create, .onlyDirectory]) } throws: { error in
            (error as? SyscallError)?.errno == Errno(ENOTDIR)
        }
    }

    @Test("the descriptor wakes the event loop when a watched file grows, and only then")
    func eventLoop() throws {
        let folder = makeTempFolder()
        defer { _ = system("rm -rf \(folder)") }
        try append(folder + "/c-json.log", "")
        let inotify = try Inotify()
        try inotify.addWatch(folder + "/c-json.log", [.modify])
        let loop = try EventLoop()
        var events = 0
        try loop.register(inotify.fd) { _ in events += (try? inotify.readEvents { _ in }) ?? 0 }
        try loop.turn(timeout: 0)
        #expect(events == 0)
        try append(folder + "/c-json.log", "line\n")
        try turn(loop) { events > 0 }
        #expect(events == 1)
    }

    @Test("a log file opened read-only without following links: its identity and size; a link is refused")
    func openNoFollow() throws {
        let folder = makeTempFolder()
        defer { _ = system("rm -rf \(folder)") }
        try append(folder + "/c-json.log", "0123456789")
        let fd = try Sys.openReadOnlyNoFollow(folder + "/c-json.log")
        defer { Sys.close(fd) }
        let status = try Sys.status(fd)
        #expect(status.isRegular && status.size == 10 && status.links == 1)
        #expect(try Sys.linkStatus(folder + "/c-json.log") == status)
        var buffer = [UInt8](repeating: 0, count: 4)
        #expect(try Sys.read(fd, into: &buffer, at: 6) == 4)
        #expect(buffer == Array("6789".utf8))
        #expect(try Sys.read(fd, into: &buffer, at: 10) == 0)
        try Sys.rename(folder + "/c-json.log", to: folder + "/c-json.log.1")
        #expect(try Sys.linkStatus(folder + "/c-json.log.1").inode == status.inode)

        #expect(symlink(folder + "/c-json.log.1", folder + "/link-json.log") == 0)
        #expect { try Sys.openReadOnlyNoFollow(folder + "/link-json.log") } throws: { ($0 as? SyscallError)?.errno == Errno(ELOOP) }
        #expect(try !Sys.linkStatus(folder + "/link-json.log").isRegular)
        #expect(mkfifo(folder + "/fifo", 0o600) == 0)
        let fifo = try Sys.openReadOnlyNoFollow(folder + "/fifo")  // does not block
        defer { Sys.close(fifo) }
        #expect(try !Sys.status(fifo).isRegular)
    }
}
