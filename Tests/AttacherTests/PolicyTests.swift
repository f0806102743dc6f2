import Docker
import Records
import Time
import Testing
@testable import Attacher

@Suite("Reconnect backoff")
struct BackoffTests {
    @Test("doubles from 100 ms and stays at 2 s; a success starts over")
    func sequence() {
        var b = Backoff()
        #expect((0..<8).map { _ in b.nextDelayMs() } == [100, 200, 400, 800, 1600, 2000, 2000, 2000])
        b.reset()
        #expect(b.nextDelayMs() == 100)
    }

    @Test("never overflows, however long the engine is away")
    func long() {
        var b = Backoff()
        for _ in 0..<10_000 { #expect(b.nextDelayMs() <= 2000) }
    }
}

@Suite("Resume cursor: no gap, no duplicate")
struct CursorTests {
    func t(_ s: Int64, _ n: Int32 = 0) -> Timestamp { Timestamp(seconds: s, nanoseconds: n) }

    @Test("first run admits everything and remembers the latest time and its count")
    func firstRun() {
        var c = ResumeCursor()
        c.reopened()
        #expect([t(1), t(2), t(2), t(3), t(3), t(3)].map { c.admit($0) } == [true, true, true, true, true, true])
        #expect(c.time == t(3) && c.countAtTime == 3)
    }

    @Test("a reopened stream skips the replayed lines at the cursor's time, then admits the rest")
    func resume() {
        var c = ResumeCursor()
        for x in [t(1), t(2), t(2)] { _ = c.admit(x) }
        c.reopened()
        // Docker's since is inclusive: it replays both lines stamped t(2), then new ones.
        #expect([t(2), t(2), t(2), t(3)].map { c.admit($0) } == [false, false, true, true])
        #expect(c.time == t(3) && c.countAtTime == 1)
    }

    @Test("anything older than the cursor is dropped while replaying")
    func older() {
        var c = ResumeCursor(time: t(5), countAtTime: 1)
        c.reopened()
        #expect(c.admit(t(4)) == false)
        #expect(c.admit(t(5)) == false)
        #expect(c.admit(t(5)) == true)
    }

    @Test("a reopen that replays nothing new admits the next line")
    func nothingNew() {
        var c = ResumeCursor(time: t(5), countAtTime: 2)
        c.reopened()
        #expect(c.admit(t(6)) == true)
        #expect(c.admit(t(5)) == true)  // out of order after replay ends: still delivered
        #expect(c.time == t(6))
    }
}

@Suite("Which containers are skipped")
struct IgnoreTests {
    func info(env: [String] = [], labels: Labels = [:], id: String = "0123456789abcdef") -> ContainerInfo {
        ContainerInfo(id: id, name: "c", image: "i", hostname: "h", pid: 1, labels: labels, env: env, tty: false, running: true)
    }

    @Test("LOGSPOUT=ignore, excluded labels by key or key:value, and our own container")
    func rules() {
        var o = AttachOptions(endpoint: .unix("/x"))
        o.excludeLabels = AttachOptions.parseLabels("skip, tier:db,env=prod")
        #expect(o.ignores(info(env: ["LOGSPOUT=ignore"])))
        #expect(!o.ignores(info(env: ["LOGSPOUT=yes"])))
        #expect(o.ignores(info(labels: ["skip": "anything"])))
        #expect(o.ignores(info(labels: ["tier": "db"])))
        #expect(!o.ignores(info(labels: ["tier": "web"])))
        #expect(o.ignores(info(labels: ["env": "prod"])))
        #expect(!o.ignores(info()))
        o.selfID = "0123456789ab"
        #expect(o.ignores(info()))
        #expect(!o.ignores(info(id: "ffff56789abcdef")))
    }
}

@Suite("attach's own container")
struct SelfTests {
    let id = String(repeating: "3f", count: 32)

    @Test("found in mountinfo (any network mode), else from a hex hostname, else none")
    func selfID() {
        let mountinfo = "1234 1000 254:0 /var/lib/docker/containers/\(id)/resolv.conf /etc/resolv.conf rw,relatime - ext4 /dev/vda rw\n"
        #expect(ownContainerID(mountinfo: Array(mountinfo.utf8), hostname: "vm") == id)
        #expect(ownContainerID(mountinfo: [], hostname: "3f3f3f3f3f3f") == "3f3f3f3f3f3f")
        #expect(ownContainerID(mountinfo: Array("25 1 0:23 / / rw - ext4 /dev/vda rw\n".utf8), hostname: "vm") == "")
        #expect(ownContainerID(mountinfo: Array("/containers/xyz/hostname".utf8), hostname: "laptop") == "")
    }
}
