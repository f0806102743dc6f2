import Contract
import Metrics
import Records
import Testing
@testable import Routing

@Suite("route's metrics")
struct RouteMetricsTests {
    static func spec(_ id: String, glob: String? = nil) -> RouteSpec {
        RouteSpec(id: id, source: RouteSource(glob: glob), target: try! RouteTarget(addr: "127.0.0.1:514"))
    }

    static func render(_ metrics: RouteMetrics, _ table: RouteTable, _ router: inout RecordRouter,
                       subscribers: Int = 0, missed: Int = 0) -> String {
        var text = MetricsText()
        metrics.render(&text, table: table, router: &router, refused: router.malformedCount,
                       subscribers: subscribers, missed: missed)
        return String(decoding: text.bytes, as: UTF8.self)
    }

    /// The samples of the text (the lines not starting with `#`).
    static func samples(_ text: String) -> [String] {
        text.split(separator: "\n").filter { !$0.hasPrefix("#") }.map(String.init)
    }

    @Test("the text for a small state, exactly")
    func smallState() {
        let metrics = RouteMetrics(limit: 500)
        var router = RecordRouter()
        // No route yet: the record is read and matches nothing.
        _ = routeText(line("stdout", "early", web) + "\n", .empty, router: &router)
        let table = RouteTable([Self.spec("all"), Self.spec("db", glob: "*_db")], generation: 1)
        let input = [line("stdout", "a", web), line("stderr", "b", db), "not json", line("stdout", "c", web)]
        _ = routeText(input.joined(separator: "\n") + "\n", table, router: &router)
        #expect(Self.render(metrics, table, &router, subscribers: 2, missed: 7) == """
            # HELP logspout_route_records_read_total Records read on standard input (lines that are records).
            # TYPE logspout_route_records_read_total counter
            logspout_route_records_read_total 4
            # HELP logspout_route_lines_refused_total Input lines refused: not a record, or longer than the line bound (each said on standard error).
            # TYPE logspout_route_lines_refused_total counter
            logspout_route_lines_refused_total 1
            # HELP logspout_route_records_unmatched_total Records no route took, dropped.
            # TYPE logspout_route_records_unmatched_total counter
            logspout_route_records_unmatched_total 1
            # HELP logspout_route_routes Routes in force.
            # TYPE logspout_route_routes gauge
            logspout_route_routes 2
            # HELP logspout_route_records_routed_total Routed records written, by route (one per record and route taking it).
            # TYPE logspout_route_records_routed_total counter
            logspout_route_records_routed_total{route="all"} 3
            logspout_route_records_routed_total{route="db"} 1
            # HELP logspout_route_invalid_route_files_total Route files of ROUTESPATH found invalid, each renamed <name>.invalid.
            # TYPE logspout_route_invalid_route_files_total counter
            logspout_route_invalid_route_files_total 0
            # HELP logspout_route_bus_subscribers Live subscribers on the bus (httpd's streams).
            # TYPE logspout_route_bus_subscribers gauge
            logspout_route_bus_subscribers 2
            # HELP logspout_route_bus_missed_records_total Records dropped from slow subscribers' queues (each told {"missed":N}).
            # TYPE logspout_route_bus_missed_records_total counter
            logspout_route_bus_missed_records_total 7
            # HELP logspout_route_metrics_folded_total Routes whose label was folded into route="_other" (over METRICS_MAX_LABEL_VALUES).
            # TYPE logspout_route_metrics_folded_total counter
            logspout_route_metrics_folded_total 0

            """)
    }

    @Test("routes beyond the limit share route=\"_other\"; a deleted route's series goes and frees its label")
    func foldingAndRelease() {
        let metrics = RouteMetrics(limit: 2)
        var router = RecordRouter()
        let three = RouteTable([Self.spec("a"), Self.spec("b"), Self.spec("c")], generation: 1)
        _ = routeText(line("stdout", "1", web) + "\n" + line("stdout", "2", web) + "\n", three, router: &router)
        var text = Self.render(metrics, three, &router)
        #expect(Self.samples(text).filter { $0.contains("routed") || $0.contains("folded") } == [
            #"logspout_route_records_routed_total{route="_other"} 2"#,
            #"logspout_route_records_routed_total{route="a"} 2"#,
            #"logspout_route_records_routed_total{route="b"} 2"#,
            "logspout_route_metrics_folded_total 1",
        ])
        // "a" deleted: its series goes, and a new route "d" takes its label. "c", deleted too, leaves
        // what it counted in "_other", which never goes back.
        let next = RouteTable([Self.spec("b"), Self.spec("d")], generation: 2)
        _ = routeText(line("stdout", "3", web) + "\n", next, router: &router)
        text = Self.render(metrics, next, &router)
        #expect(Self.samples(text).filter { $0.contains("routed") || $0.contains("folded") } == [
            #"logspout_route_records_routed_total{route="_other"} 2"#,
            #"logspout_route_records_routed_total{route="b"} 3"#,
            #"logspout_route_records_routed_total{route="d"} 1"#,
            "logspout_route_metrics_folded_total 1",
        ])
        #expect(metrics.budget.count == 2)
        // "a" comes back: the two labels are held, so it is folded, and starts from 0.
        let again = RouteTable([Self.spec("b"), Self.spec("d"), Self.spec("a")], generation: 3)
        text = Self.render(metrics, again, &router)
        #expect(Self.samples(text).filter { $0.contains("routed") || $0.contains("folded") } == [
            #"logspout_route_records_routed_total{route="_other"} 2"#,
            #"logspout_route_records_routed_total{route="b"} 3"#,
            #"logspout_route_records_routed_total{route="d"} 1"#,
            "logspout_route_metrics_folded_total 2",
        ])
    }

    @Test("a route replaced in place keeps counting; the counts survive the cache being emptied")
    func countsAcrossTables() {
        var router = RecordRouter()
        var input = ""
        for i in 0..<(MatchCache.capacity + 10) { input += line("stdout", "x", #"{"id":"c\#(i)","name":"n\#(i)"}"#) + "\n" }
        let first = RouteTable([Self.spec("r")], generation: 1)
        _ = routeText(input, first, router: &router)
        let replaced = RouteTable([Self.spec("r", glob: "n1*")], generation: 2)
        _ = routeText(line("stdout", "y", #"{"id":"c1","name":"n1"}"#) + "\n" + line("stdout", "z", web) + "\n", replaced, router: &router)
        let counts = router.counts()
        #expect(counts.records == MatchCache.capacity + 12)
        #expect(counts.routed == ["r": MatchCache.capacity + 11])
        #expect(counts.unmatched == 1)
        #expect(counts.records == router.routedCount + counts.unmatched)
    }
}

@Suite("the bus's missed count")
struct BusMissedCountTests {
    @Test("every record dropped from a subscriber's queue is counted, also after its notice was sent")
    func dropped() {
        var queue = SubscriberQueue(capacity: 100)
        let record = [UInt8](repeating: 0x61, count: 39)
        for _ in 0..<5 { record.withUnsafeBytes { queue.push($0) } }
        #expect(queue.dropped == 3)
        var out: [UInt8] = []
        queue.drain(into: &out, limit: 1 << 20)
        #expect(queue.missed == 0)
        #expect(queue.dropped == 3)
    }
}
