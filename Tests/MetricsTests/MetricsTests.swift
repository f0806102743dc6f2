import Glibc
import Metrics
import Syscall
import Testing

@Suite struct MetricsTextTests {
    @Test func familiesAndSamples() {
        var t = MetricsText()
        t.family("logspout_route_records_total", .counter, "Records routed, by route.")
        t.sample("logspout_route_records_total", ["route": "a"], 3)
        t.sample("logspout_route_records_total", ["route": "b", "x": "y"], UInt64(12))
        t.family("logspout_attach_lag_seconds", .gauge, "Lag.")
        t.sample("logspout_attach_lag_seconds", 0.25)
        t.sample("logspout_attach_lag_seconds", ["c": "n"], 2.0)
        t.sample("g", .infinity)
        t.sample("g", -.infinity)
        t.sample("g", .nan)
        #expect(String(decoding: t.bytes, as: UTF8.self) == """
            # HELP logspout_route_records_total Records routed, by route.
            # TYPE logspout_route_records_total counter
            logspout_route_records_total{route="a"} 3
            logspout_route_records_total{route="b",x="y"} 12
            # HELP logspout_attach_lag_seconds Lag.
            # TYPE logspout_attach_lag_seconds gauge
            logspout_attach_lag_seconds 0.25
            logspout_attach_lag_seconds{c="n"} 2
            g +Inf
            g -Inf
            g NaN

            """)
    }

    @Test func escaping() {
        var t = MetricsText()
        t.family("m", .untyped, "a \\ b\nc \"q\"")
        t.sample("m", ["l": "x\\y\"z\nw"], 1)
        #expect(String(decoding: t.bytes, as: UTF8.self) == """
            # HELP m a \\\\ b\\nc "q"
            # TYPE m untyped
            m{l="x\\\\y\\"z\\nw"} 1

            """)
    }
}

@Suite struct LabelBudgetTests {
    @Test func foldsBeyondTheLimitAndReleases() {
        var b = LabelBudget(limit: 2)
        #expect(b.take("a") == "a")
        #expect(b.take("b") == "b")
        #expect(b.take("a") == "a")
        #expect(b.take("c") == LabelBudget.other)
        #expect(b.folded == 1)
        #expect(b.take(LabelBudget.other) == LabelBudget.other)
        b.release("b")
        #expect(b.take("c") == "c")
        b.release("a")
        #expect(b.take("d") == LabelBudget.other)  // "a" is still taken once
        b.release("a")
        #expect(b.take("d") == "d")
        #expect(b.count == 2)
        #expect(b.folded == 3)
    }
}

@Suite struct MetricsPublisherTests {
    @Test func writesAtStartAndAfterChangesOnly() throws {
        var template = Array("/tmp/logspout-metrics-XXXXXX".utf8CString)
        let dir = String(cString: template.withUnsafeMutableBufferPointer { mkdtemp($0.baseAddress!) }!)
        defer {
            unlink(dir + "/test.prom")
            rmdir(dir)
        }
        let loop = try EventLoop()
        var value = 1
        var renders = 0
        let publisher = MetricsPublisher(loop: loop, file: "test.prom", directory: dir) { text in
            renders += 1
            text.family("logspout_test_value", .gauge, "A value.")
            text.sample("logspout_test_value", value)
        }
        #expect(renders == 1)
        #expect(try Sys.readFile(dir + "/test.prom") == Array("# HELP logspout_test_value A value.\n# TYPE logspout_test_value gauge\nlogspout_test_value 1\n".utf8))
        value = 2
        publisher.changed()
        publisher.changed()
        while renders < 2 { try loop.turn(timeout: 1000) }
        #expect(try Sys.readFile(dir + "/test.prom").suffix(22) == Array("logspout_test_value 2\n".utf8))
        // Nothing changed: no timer left, nothing written.
        #expect(loop.nextDeadline == nil)
        publisher.flush()
        #expect(renders == 2)
    }

    @Test func offWithoutADirectory() throws {
        let loop = try EventLoop()
        var renders = 0
        let publisher = MetricsPublisher(loop: loop, file: "x.prom", directory: "") { _ in renders += 1 }
        publisher.changed()
        publisher.flush()
        #expect(publisher.path == nil)
        #expect(renders == 0)
        #expect(loop.nextDeadline == nil)
    }
}
