import Contract
import Records
import Testing
@testable import Emitter

@Suite("multiline: joining the lines of a message")
struct MultilineTests {
    static func record(_ data: String, container: String = "c1", source: Source = .stdout, time: String = "t") -> Record {
        Record(time: time, source: source, data: data, container: Container(id: container, name: "web"))
    }

    /// Feeds `lines` (one millisecond apart) and returns the messages, those still waiting last.
    static func join(_ lines: [String], _ spec: MultilineSpec) throws -> [String] {
        let spec = try MultilineMatcher(spec)
        var joiner = MultilineJoiner()
        var out: [String] = []
        for (i, line) in lines.enumerated() {
            joiner.feed(record(line), route: "r", spec: spec, now: UInt64(i) * 1_000_000) { out.append($0.data) }
        }
        joiner.expire(now: nil) { out.append($0.data) }
        return out
    }

    @Test("nonfirst (the default, ^\\s): indented lines continue the one before")
    func nonfirst() throws {
        let trace = ["Exception in thread \"main\" java.lang.IllegalStateException: boom", "\tat a.B.c(B.java:12)",
                     "\tat a.B.main(B.java:5)", "next message", "  continued", "last"]
        #expect(try Self.join(trace, MultilineSpec()) == [
            "Exception in thread \"main\" java.lang.IllegalStateException: boom\n\tat a.B.c(B.java:12)\n\tat a.B.main(B.java:5)",
            "next message\n  continued", "last",
        ])
    }

    @Test("first: a line that matches starts a message")
    func first() throws {
        let spec = try MultilineSpec(pattern: #"^\d{4}-\d\d-\d\d "#, match: .first)
        #expect(try Self.join(["2026-11-25 one", "detail", "more", "2026-11-25 two", "2026-11-25 three", "x"], spec)
                == ["2026-11-25 one\ndetail\nmore", "2026-11-25 two", "2026-11-25 three\nx"])
    }

    @Test("last and nonlast: a line that matches ends a message, or continues it")
    func last() throws {
        #expect(try Self.join(["a", "b", "end;", "c", "end;"], MultilineSpec(pattern: ";$", match: .last))
                == ["a\nb\nend;", "c\nend;"])
        #expect(try Self.join(["a \\", "b \\", "c", "d"], MultilineSpec(pattern: #"\\$"#, match: .nonlast, separator: " "))
                == ["a \\ b \\ c", "d"])
    }

    @Test("containers and streams are joined apart; a message keeps its first line's time")
    func keys() throws {
        var joiner = MultilineJoiner()
        var out: [Record] = []
        let spec = try MultilineMatcher(MultilineSpec())
        for r in [Self.record("A1", time: "t1"), Self.record("B1", container: "c2"), Self.record(" A2", time: "t2"),
                  Self.record(" E", source: .stderr), Self.record(" B2", container: "c2")] {
            joiner.feed(r, route: "r", spec: spec, now: 0) { out.append($0) }
        }
        joiner.expire(now: nil) { out.append($0) }
        #expect(Set(out.map(\.data)) == ["A1\n A2", "B1\n B2", " E"])
        #expect(out.first { $0.data == "A1\n A2" }?.time == "t1")
    }

    @Test("a message waits at most flush_after for more lines")
    func flushAfter() throws {
        var joiner = MultilineJoiner()
        var out: [String] = []
        let spec = try MultilineMatcher(MultilineSpec(flushAfterMs: 100))
        joiner.feed(Self.record("one"), route: "r", spec: spec, now: 0) { out.append($0.data) }
        joiner.feed(Self.record(" two"), route: "r", spec: spec, now: 50_000_000) { out.append($0.data) }
        #expect(joiner.nextDeadline == 150_000_000)
        joiner.expire(now: 149_000_000) { out.append($0.data) }
        #expect(out.isEmpty)
        joiner.expire(now: 150_000_000) { out.append($0.data) }
        #expect(out == ["one\n two"] && joiner.nextDeadline == nil)
    }

    @Test("a message stops growing at its size limit")
    func limit() throws {
        var joiner = MultilineJoiner(maxBytes: 10)
        var out: [String] = []
        let spec = try MultilineMatcher(MultilineSpec())
        for line in ["12345", " 678", " 9abc", " d"] {
            joiner.feed(Self.record(line), route: "r", spec: spec, now: 0) { out.append($0.data) }
        }
        joiner.expire(now: nil) { out.append($0.data) }
        #expect(out == ["12345\n 678", " 9abc\n d"])
    }
}
