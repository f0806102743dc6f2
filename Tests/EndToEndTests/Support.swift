// Test support: run the built executables and the docker client for real, and read what they wrote.
// Children write to files rather than pipes, so a test never deadlocks on a full pipe and can look at
// the output while the child runs.
//
// Tests wait for facts, never for time: a stage's readiness (--ready-fd), the data they expect, or, to
// show that something did not happen, a later fact that could only come after it. Every wait has a
// deadline; polling (`eventually`) is how a deadline is kept, not a guess at how long something takes.

#if canImport(Glibc)
import Glibc
#endif
import JSON
import Records
import Synchronization
import Syscall
import Testing

struct TestFailure: Error, CustomStringConvertible {
    var description: String
    init(_ d: String) { description = d }
}

enum Env {
    /// Where the built executables are: LOGSPOUT_BIN, else the folder of the test binary itself.
    static let binDir: String = {
        if let dir = Sys.environment("LOGSPOUT_BIN"), !dir.isEmpty { return dir }
        var buf = [CChar](repeating: 0, count: 4096)
        let n = readlink("/proc/self/exe", &buf, buf.count - 1)
        let path = n > 0 ? String(decoding: buf[0..<n].map { UInt8(bitPattern: $0) }, as: UTF8.self) : "."
        return String(path[..<(path.lastIndex(of: "/") ?? path.endIndex)])
    }()

    /// The private engine the test script started (scripts/engine.sh). Tests fail, never skip, without it.
    static func dockerHost() throws -> String {
        guard let host = Sys.environment("DOCKER_HOST"), !host.isEmpty else {
            throw TestFailure("DOCKER_HOST is not set: run the suite with scripts/test.sh, which starts the private engine")
        }
        return host
    }

    /// The repository, found from this source file.
    static let repoRoot: String = {
        let file = #filePath
        var parts = file.split(separator: "/", omittingEmptySubsequences: false)
        parts.removeLast(3)  // Tests/EndToEndTests/Support.swift
        return parts.joined(separator: "/")
    }()

    static let image = Sys.environment("LOGSPOUT_TEST_IMAGE") ?? "logspout-test:latest"

    /// A fresh temporary folder.
    static func tempDir() -> String {
        var template = Array("/tmp/logspout-test-XXXXXX".utf8CString)
        let p = template.withUnsafeMutableBufferPointer { mkdtemp($0.baseAddress!) }
        return p.map { String(cString: $0) } ?? "/tmp"
    }

    /// A port for a listener of ours: chosen at random below the kernel's ephemeral range (32768 and up,
    /// where the client side of every connection takes its port, so a port from there can be taken between
    /// choosing and binding), free for TCP and UDP on every address right now, never handed out twice in
    /// one run.
    static func freePort() -> UInt16 {
        while true {
            let port = UInt16.random(in: 10000...32000)
            guard usedPorts.withLock({ $0.insert(port).inserted }) else { continue }
            if canBind(port, SOCK_STREAM) && canBind(port, SOCK_DGRAM) { return port }
        }
    }

    private static let usedPorts = Mutex<Set<UInt16>>([])

    private static func canBind(_ port: UInt16, _ type: __socket_type) -> Bool {
        let fd = socket(AF_INET, Int32(type.rawValue), 0)
        guard fd >= 0 else { return false }
        defer { close(fd) }
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_port = port.bigEndian
        addr.sin_addr.s_addr = 0
        return withUnsafePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        } == 0
    }

    /// A name no other test uses.
    static func unique(_ prefix: String) -> String {
        "\(prefix)-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
    }
}

func readFile(_ path: String) -> [UInt8] {
    let fd = open(path, O_RDONLY)
    guard fd >= 0 else { return [] }
    defer { close(fd) }
    var result: [UInt8] = []
    var buf = [UInt8](repeating: 0, count: 1 << 16)
    while true {
        let n = buf.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
        if n <= 0 { break }
        result.append(contentsOf: buf[0..<n])
    }
    return result
}

/// The pause between two looks of a polling loop (never a wait for something to happen by itself).
private func pollPause(_ ms: Int) { usleep(useconds_t(ms * 1000)) }

/// The clock of a scenario that is itself set in time (a receiver away for 30 s while messages keep
/// coming): paces what the test does, never stands in for waiting until something happened.
func pace(ms: Int) { usleep(useconds_t(ms * 1000)) }

/// A child process whose stdout and stderr go to files.
final class Child {
    let pid: pid_t
    let stdoutPath: String
    let stderrPath: String
    private(set) var status: Int32?
    /// The read end of the child's readiness descriptor, until it said it is ready (or ended).
    private var readiness: Int32 = -1

    /// The descriptor number a child announces its readiness on (its `--ready-fd`).
    static let readyFD: Int32 = 3

    /// Starts `argv` (argv[0] a path) with the current environment plus `env`. With `readiness`, the
    /// child gets a pipe as descriptor `Child.readyFD`, for `waitReady()`.
    init(_ argv: [String], env: [String: String] = [:], stdin: String? = nil, readiness: Bool = false) throws {
        let dir = Env.tempDir()
        stdoutPath = dir + "/stdout"
        stderrPath = dir + "/stderr"
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, stdin ?? "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, stdoutPath, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        posix_spawn_file_actions_addopen(&actions, 2, stderrPath, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        var readEnd: Int32 = -1
        var writeEnd: Int32 = -1
        if readiness {
            var ends: [Int32] = [0, 0]
            guard pipe(&ends) == 0 else { throw TestFailure("pipe: \(Errno.current)") }
            // Both ends close-on-exec (no other child gets them) and above the child's readiness number, so
            // that dup2 always makes a new descriptor.
            readEnd = fcntl(ends[0], F_DUPFD_CLOEXEC, 10)
            writeEnd = fcntl(ends[1], F_DUPFD_CLOEXEC, 10)
            close(ends[0])
            close(ends[1])
            posix_spawn_file_actions_adddup2(&actions, writeEnd, Self.readyFD)
        }
        defer { if writeEnd >= 0 { close(writeEnd) } }
        var attr = posix_spawnattr_t()
        posix_spawnattr_init(&attr)
        defer { posix_spawnattr_destroy(&attr) }
        // The child starts with default signal handling and nothing blocked, whatever the test runner does.
        var none = sigset_t()
        sigemptyset(&none)
        posix_spawnattr_setsigmask(&attr, &none)
        var all = sigset_t()
        sigfillset(&all)
        posix_spawnattr_setsigdefault(&attr, &all)
        posix_spawnattr_setflags(&attr, Int16(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF))

        var environment: [String: String] = [:]
        var e = environ
        while let p = e.pointee {
            let s = String(cString: p)
            if let eq = s.firstIndex(of: "=") { environment[String(s[..<eq])] = String(s[s.index(after: eq)...]) }
            e += 1
        }
        for (k, v) in env { environment[k] = v }
        let envStrings = environment.map { "\($0.key)=\($0.value)" }
        var cArgs = argv.map { strdup($0) } + [nil]
        var cEnv = envStrings.map { strdup($0) } + [nil]
        defer {
            for p in cArgs { free(p) }
            for p in cEnv { free(p) }
        }
        var pid: pid_t = 0
        let r = posix_spawn(&pid, argv[0], &actions, &attr, &cArgs, &cEnv)
        guard r == 0 else {
            if readEnd >= 0 { close(readEnd) }
            throw TestFailure("cannot start \(argv[0]): \(Errno(r))")
        }
        self.pid = pid
        self.readiness = readEnd
        name = String(argv.joined(separator: " ").prefix(200))
    }

    private let name: String

    /// Waits until the child has said it is ready (a newline on its readiness descriptor). Throws when it
    /// closed the descriptor without it (it ended first) or did not say it within `timeoutMs`.
    func waitReady(timeoutMs: Int = 20_000) throws {
        guard readiness >= 0 else { throw TestFailure("\(name) was not started with a readiness descriptor") }
        defer {
            close(readiness)
            readiness = -1
        }
        let deadline = Sys.monotonicNanos() + UInt64(timeoutMs) * 1_000_000
        while true {
            let now = Sys.monotonicNanos()
            guard now < deadline else { throw TestFailure("\(name) did not say it was ready within \(timeoutMs) ms: \(stderr)") }
            guard (try? Sys.poll(readiness, events: Int16(POLLIN), timeout: Int32((deadline - now) / 1_000_000) + 1)) == true else { continue }
            var byte: UInt8 = 0
            let n = read(readiness, &byte, 1)
            if n == 1 && byte == 10 { return }
            if n == 0 { throw TestFailure("\(name) ended its readiness descriptor without saying it was ready (exit \(wait(timeoutMs: 5000).map(String.init) ?? "-")): \(stderr)") }
            if n < 0 && errno != EINTR { throw TestFailure("reading \(name)'s readiness: \(Errno.current)") }
        }
    }

    var stdout: [UInt8] { readFile(stdoutPath) }
    var stderr: String { String(decoding: readFile(stderrPath), as: UTF8.self) }

    /// The records written so far (complete lines only); a line that is not a valid record fails the test.
    func records() -> [Record] {
        var result: [Record] = []
        let bytes = stdout
        var start = 0
        while let nl = bytes[start...].firstIndex(of: 10) {
            let line = Array(bytes[start..<nl])
            start = nl + 1
            do {
                let record = try line.withUnsafeBytes { raw throws(JSONError) in try RecordCodec.decode(line: raw) }
                result.append(record)
            } catch {
                Issue.record("not a record: \(error): \(String(decoding: line.prefix(300), as: UTF8.self))")
            }
        }
        return result
    }

    func signal(_ sig: Int32) { kill(pid, sig) }

    /// Waits for the child to exit (up to `timeoutMs`); returns its exit status, or 128+signal.
    @discardableResult
    /// With 0, only looks whether it has exited.
    func wait(timeoutMs: Int = 10_000) -> Int32? {
        if let status { return status }
        let deadline = Sys.monotonicNanos() + UInt64(timeoutMs) * 1_000_000
        while true {
            var st: Int32 = 0
            let r = waitpid(pid, &st, WNOHANG)
            if r == pid {
                let code = st & 0x7f == 0 ? (st >> 8) & 0xff : 128 + (st & 0x7f)
                status = code
                return code
            }
            if Sys.monotonicNanos() >= deadline { return nil }
            pollPause(20)
        }
    }

    /// Stops the child (TERM, then KILL) if it still runs.
    func stop() {
        guard status == nil else { return }
        signal(SIGTERM)
        if wait(timeoutMs: 5000) == nil {
            signal(SIGKILL)
            wait()
        }
    }

    deinit {
        stop()
        if readiness >= 0 { close(readiness) }
    }
}

/// Runs a command to completion; returns its status and output.
@discardableResult
func run(_ argv: [String], env: [String: String] = [:], timeoutMs: Int = 120_000) throws -> (status: Int32, stdout: String, stderr: String) {
    let child = try Child(argv, env: env)
    guard let status = child.wait(timeoutMs: timeoutMs) else {
        child.signal(SIGKILL)
        throw TestFailure("\(argv.joined(separator: " ")) did not finish in \(timeoutMs) ms")
    }
    return (status, String(decoding: child.stdout, as: UTF8.self), child.stderr)
}

/// Runs the docker client against the private engine; throws with its stderr when it fails.
@discardableResult
func docker(_ args: String...) throws -> String {
    try dockerArgs(args)
}

@discardableResult
func dockerArgs(_ args: [String]) throws -> String {
    let host = try Env.dockerHost()
    let r = try run(["/usr/bin/docker"] + args, env: ["DOCKER_HOST": host])
    guard r.status == 0 else { throw TestFailure("docker \(args.joined(separator: " ")) failed (\(r.status)): \(r.stderr)") }
    var out = r.stdout
    while out.last == "\n" { out.removeLast() }
    return out
}

/// Starts `attach` against the private engine and waits until it is ready: subscribed to the engine's
/// events, every running container followed. A container started from then on is read from its first line.
func startAttach(_ args: [String] = [], env: [String: String] = [:]) throws -> Child {
    let host = try Env.dockerHost()
    var e = env
    if e["DOCKER_HOST"] == nil { e["DOCKER_HOST"] = host }
    let attach = try Child([Env.binDir + "/attach", "--ready-fd", String(Child.readyFD)] + args, env: e, readiness: true)
    try attach.waitReady()
    return attach
}

/// Polls `condition` every 50 ms until it holds or `timeoutMs` passes.
func eventually(timeoutMs: Int = 20_000, _ condition: () throws -> Bool) rethrows -> Bool {
    let deadline = Sys.monotonicNanos() + UInt64(timeoutMs) * 1_000_000
    while Sys.monotonicNanos() < deadline {
        if try condition() { return true }
        pollPause(50)
    }
    return try condition()
}

/// A running test container; removed at the end of the test.
final class TestContainer {
    let name: String
    var id = ""

    init(_ prefix: String) { name = Env.unique(prefix) }

    /// `docker run -d --network none [extra] IMAGE sh -c script`.
    @discardableResult
    func run(_ script: String, extra: [String] = []) throws -> String {
        id = try dockerArgs(["run", "-d", "--network", "none", "--name", name] + extra + [Env.image, "sh", "-c", script])
        return id
    }

    /// A piece of a container's script that waits until the test says `go()`.
    static let waitForGo = "until [ -e /go ]; do sleep 0.05; done"

    /// Lets a container waiting at `waitForGo` go on.
    func go() throws {
        try docker("exec", name, "touch", "/go")
    }

    deinit {
        _ = try? dockerArgs(["rm", "-fv", name])  // with its anonymous volumes (the image declares two)
    }
}

extension Array where Element == Record {
    func of(_ containerName: String) -> [Record] { filter { $0.container.name == containerName } }
    func of(id: String) -> [Record] { filter { $0.container.id == id } }
}

/// A process below `root` (a child, grandchild…) whose program is named `name`.
func descendant(of root: pid_t, named name: String) -> pid_t? {
    var parents: [pid_t: pid_t] = [:]
    var names: [pid_t: String] = [:]
    guard let dir = opendir("/proc") else { return nil }
    while let entry = readdir(dir) {
        let text = withUnsafeBytes(of: entry.pointee.d_name) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
        guard let pid = pid_t(text) else { continue }
        let stat = String(decoding: readFile("/proc/\(pid)/stat"), as: UTF8.self)
        guard let fields = stat.split(separator: ")").last?.split(separator: " "), fields.count > 2, let ppid = pid_t(fields[1]) else { continue }
        parents[pid] = ppid
        names[pid] = String(decoding: readFile("/proc/\(pid)/cmdline").split(separator: 0).first ?? [], as: UTF8.self)
    }
    closedir(dir)
    for (pid, program) in names where program.hasSuffix("/" + name) || program == name {
        var p = pid
        while let parent = parents[p], parent > 1 {
            if parent == root { return pid }
            p = parent
        }
    }
    return nil
}
