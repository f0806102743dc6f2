import JSON
import Records
import Syslog
import Testing
@testable import Emitter

@Suite("multiline: joining the lines of a message")
struct MultilineTests {
    static func record(_ data: String, container: String = "c1", source: Source = .stdout, time: String = "t") -> Record {
        Record(time: time, source: source, data: data, container: Container(id: container, name: "web"))
    }

    /// Feeds `lines` (one millisecond apart) and returns the messages, those still waiting last.
    static func join(_ lines: [String], _ spec: MultilineSpec) -> [String] {
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
        #expect(Self.join(trace, try MultilineSpec()) == [
            "Exception in thread \"main\" java.lang.IllegalStateException: boom\n\tat a.B.c(B.java:12)\n\tat a.B.main(B.java:5)",
            "next message\n  continued", "last",
        ])
    }

    @Test("first: a line that matches starts a message")
    func first() throws {
        let spec = try MultilineSpec(pattern: #"^\d{4}-\d\d-\d\d "#, match: .first)
        #expect(Self.join(["2026-11-25 one", "detail", "more", "2026-11-25 two", "2026-11-25 three", "x"], spec)
                == ["2026-11-25 one\ndetail\nmore", "2026-11-25 two", "2026-11-25 three\nx"])
    }

    @Test("last and nonlast: a line that matches ends a message, or continues it")
    func last() throws {
        #expect(Self.join(["a", "b", "end;", "c", "end;"], try MultilineSpec(pattern: ";$", match: .last))
                == ["a\nb\nend;", "c\nend;"])
        #expect(Self.join(["a \\", "b \\", "c", "d"], try MultilineSpec(pattern: #"\\$"#, match: .nonlast, separator: " "))
                == ["a \\ b \\ c", "d"])
    }

    @Test("containers and streams are joined apart; a message keeps its first line's time")
    func keys() throws {
        var joiner = MultilineJoiner()
        var out: [Record] = []
        let spec = try MultilineSpec()
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
        let spec = try MultilineSpec(flushAfterMs: 100)
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
        for line in ["12345", " 678", " 9abc", " d"] {
            joiner.feed(Self.record(line), route: "r", spec: try MultilineSpec(), now: 0) { out.append($0.data) }
        }
        joiner.expire(now: nil) { out.append($0.data) }
        #expect(out == ["12345\n 678", " 9abc\n d"])
    }

    @Test("route options, and MULTILINE_* as their defaults")
    func options() throws {
        #expect(try MultilineSpec.of(target: ["addr": "h:1"], env: { _ in nil }) == nil)
        #expect(try MultilineSpec.of(target: ["multiline": "false"], env: { _ in nil }) == nil)
        #expect(try MultilineSpec.of(target: ["multiline": "true"], env: { _ in nil }) == MultilineSpec())
        let env = ["MULTILINE_PATTERN": "^x", "MULTILINE_MATCH": "last", "MULTILINE_FLUSH_AFTER": "20", "MULTILINE_SEPARATOR": "|"]
        #expect(try MultilineSpec.of(target: ["multiline": .bool(true)], env: { env[$0] })
                == MultilineSpec(pattern: "^x", match: .last, flushAfterMs: 20, separator: "|"))
        #expect(try MultilineSpec.of(target: ["multiline.match": "first"], env: { env[$0] })
                == MultilineSpec(pattern: "^x", match: .first, flushAfterMs: 20, separator: "|"))
        for (target, message): (JSONValue, String) in [
            (["multiline.pattern": "(unclosed"], "multiline pattern '(unclosed' is not a regular expression"),
            (["multiline.match": "middle"], "multiline match 'middle' is not one of first, last, nonfirst, nonlast"),
            (["multiline.flush_after": "soon"], "multiline flush_after 'soon' must be a whole number of milliseconds from 1 to 3600000"),
            (["multiline.size": "9"], "unknown option multiline.size (pattern, match, flush_after, separator)"),
            (["multiline": "yes"], "multiline must be true or false"),
        ] {
            #expect(throws: MultilineError(message)) { try MultilineSpec.of(target: target, env: { _ in nil }) }
        }
    }
}
