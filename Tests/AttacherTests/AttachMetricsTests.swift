import Docker
import Metrics
import Testing
@testable import Attacher

@Suite("attach's metrics")
struct AttachMetricsTests {
    static let a = "0123456789ab" + String(repeating: "0", count: 52)
    static let b = "fedcba987654" + String(repeating: "1", count: 52)
    static let c = "c0ffee000000" + String(repeating: "2", count: 52)

    static func render(_ table: ContainerTable, partial: Int = 0, files: AttachMetrics.FileCounts = .init(), writes: Int = 0) -> String {
        var text = MetricsText()
        AttachMetrics.render(&text, table: table, partialRecords: partial, files: files, outputWrites: writes)
        return String(decoding: text.bytes, as: UTF8.self)
    }

    /// The samples of one family.
    static func samples(_ text: String, _ name: String) -> [String] {
        text.split(separator: "\n").filter { $0.hasPrefix(name + "{") || $0.hasPrefix(name + " ") }.map(String.init)
    }

    static func options(limit: Int) -> AttachOptions {
        var options = AttachOptions(endpoint: .unix("/x"))
        options.maxLabelValues = limit
        return options
    }

    @Test("the text for a small state, exactly")
    func smallState() {
        var engine = FakeEngine()
        engine.add(info(Self.b, name: "web"))
        engine.add(info(Self.a, name: "db"))
        engine.add(info(Self.c, name: "quiet", env: ["LOGSPOUT=ignore"]))
        var (table, _) = engine.start()
        let db = table.containers[Self.a]!.output
        db.stdoutRecords = 3
        db.stderrRecords = 1
        db.lagSeconds = 0.25
        db.fromFile = true
        table.containers[Self.b]!.output.stdoutRecords = 2
        _ = engine.run(&table, table.engineLost(nil))
        _ = engine.run(&table, table.reconnectTimerFired())
        #expect(Self.render(table, partial: 5, files: .init(corruptLines: 7, truncations: 1, skipped: 2, gaps: 3, eventOverflows: 4), writes: 9) == """
            # HELP logspout_attach_records_read_total Records read from containers' logs and written (repeats after a reopen skipped), by container and stream.
            # TYPE logspout_attach_records_read_total counter
            logspout_attach_records_read_total{container_id="0123456789ab",container_name="db",stream="stdout"} 3
            logspout_attach_records_read_total{container_id="0123456789ab",container_name="db",stream="stderr"} 1
            logspout_attach_records_read_total{container_id="fedcba987654",container_name="web",stream="stdout"} 2
            logspout_attach_records_read_total{container_id="fedcba987654",container_name="web",stream="stderr"} 0
            # HELP logspout_attach_lag_seconds When a container's records were last read: that time minus the latest record's timestamp.
            # TYPE logspout_attach_lag_seconds gauge
            logspout_attach_lag_seconds{container_id="0123456789ab",container_name="db"} 0.25
            # HELP logspout_attach_records_partial_total Records that are a piece of a longer line, marked partial (over MAX_LINE_SIZE, or escapes over a record's bound).
            # TYPE logspout_attach_records_partial_total counter
            logspout_attach_records_partial_total 5
            # HELP logspout_attach_containers_followed Containers whose logs stream is open.
            # TYPE logspout_attach_containers_followed gauge
            logspout_attach_containers_followed 2
            # HELP logspout_attach_containers_followed_by_source Containers whose logs are read, by where from: their json-file log on disk (file) or the engine's logs endpoint (api).
            # TYPE logspout_attach_containers_followed_by_source gauge
            logspout_attach_containers_followed_by_source{source="file"} 1
            logspout_attach_containers_followed_by_source{source="api"} 1
            # HELP logspout_attach_containers_skipped_total Containers not followed because their log file cannot be read (--log-source files).
            # TYPE logspout_attach_containers_skipped_total counter
            logspout_attach_containers_skipped_total 2
            # HELP logspout_attach_file_corrupt_lines_total Lines of containers' log files that are not entries (corrupt, cut short, too long): skipped.
            # TYPE logspout_attach_file_corrupt_lines_total counter
            logspout_attach_file_corrupt_lines_total 7
            # HELP logspout_attach_file_truncations_total Times a container's log file was found shorter than what was read (truncated in place): read again from its start.
            # TYPE logspout_attach_file_truncations_total counter
            logspout_attach_file_truncations_total 1
            # HELP logspout_attach_file_gaps_total Times a restarted attach found the log files after a container's cursor deleted by the engine (max-file): their lines skipped.
            # TYPE logspout_attach_file_gaps_total counter
            logspout_attach_file_gaps_total 3
            # HELP logspout_attach_file_event_overflows_total Times the kernel's inotify queue overflowed (fs.inotify.max_queued_events): every followed log file looked at again.
            # TYPE logspout_attach_file_event_overflows_total counter
            logspout_attach_file_event_overflows_total 4
            # HELP logspout_attach_engine_up 1 while attach follows the engine's events, else 0.
            # TYPE logspout_attach_engine_up gauge
            logspout_attach_engine_up 1
            # HELP logspout_attach_engine_reconnects_total Times attach connected to the engine again after losing it.
            # TYPE logspout_attach_engine_reconnects_total counter
            logspout_attach_engine_reconnects_total 1
            # HELP logspout_attach_engine_failures_total Engine connections that failed or were lost (each followed by a reconnection attempt).
            # TYPE logspout_attach_engine_failures_total counter
            logspout_attach_engine_failures_total 1
            # HELP logspout_attach_metrics_folded_total Containers whose labels were folded into container_id="_other" (over METRICS_MAX_LABEL_VALUES).
            # TYPE logspout_attach_metrics_folded_total counter
            logspout_attach_metrics_folded_total 0
            # HELP logspout_attach_output_writes_total Writes of attach's output, each a batch of records (lines that trickle in are written once per linger, LOG_LINGER_MS).
            # TYPE logspout_attach_output_writes_total counter
            logspout_attach_output_writes_total 9

            """)
    }

    @Test("containers beyond the limit share container_id=\"_other\"; a forgotten container's series go and free its label")
    func foldingAndRelease() {
        var engine = FakeEngine()
        engine.add(info(Self.a, name: "db"))
        engine.add(info(Self.b, name: "web"))
        var (table, _) = engine.start(Self.options(limit: 1))
        // The listing is sorted: "db" took the one label, "web" is folded.
        table.containers[Self.a]!.output.stdoutRecords = 3
        table.containers[Self.b]!.output.stdoutRecords = 4
        table.containers[Self.b]!.output.lagSeconds = 2
        var text = Self.render(table)
        #expect(Self.samples(text, "logspout_attach_records_read_total") == [
            #"logspout_attach_records_read_total{container_id="0123456789ab",container_name="db",stream="stdout"} 3"#,
            #"logspout_attach_records_read_total{container_id="0123456789ab",container_name="db",stream="stderr"} 0"#,
            #"logspout_attach_records_read_total{container_id="_other",container_name="_other",stream="stdout"} 4"#,
            #"logspout_attach_records_read_total{container_id="_other",container_name="_other",stream="stderr"} 0"#,
        ])
        #expect(Self.samples(text, "logspout_attach_lag_seconds") == [#"logspout_attach_lag_seconds{container_id="_other",container_name="_other"} 2"#])
        #expect(Self.samples(text, "logspout_attach_metrics_folded_total") == ["logspout_attach_metrics_folded_total 1"])

        // Both are removed: their streams end and the engine no longer knows them.
        engine.containers = [:]
        for id in [Self.a, Self.b] { _ = engine.run(&table, table.streamEnded(id, failure: nil, at: engine.now + 5_000_000_000)) }
        #expect(table.containers.isEmpty)
        #expect(table.labels.count == 0)
        text = Self.render(table)
        // What the folded one counted stays in "_other"; "db"'s series is gone.
        #expect(Self.samples(text, "logspout_attach_records_read_total") == [
            #"logspout_attach_records_read_total{container_id="_other",container_name="_other",stream="stdout"} 4"#,
            #"logspout_attach_records_read_total{container_id="_other",container_name="_other",stream="stderr"} 0"#,
        ])
        #expect(Self.samples(text, "logspout_attach_lag_seconds").isEmpty)
        #expect(Self.samples(text, "logspout_attach_containers_followed") == ["logspout_attach_containers_followed 0"])

        // A new container takes the freed label.
        engine.add(info(Self.c, name: "new"))
        _ = engine.run(&table, table.engineEvent(.start(Self.c)))
        text = Self.render(table)
        #expect(Self.samples(text, "logspout_attach_records_read_total").first
            == #"logspout_attach_records_read_total{container_id="c0ffee000000",container_name="new",stream="stdout"} 0"#)
        #expect(Self.samples(text, "logspout_attach_metrics_folded_total") == ["logspout_attach_metrics_folded_total 1"])
    }

    @Test("a destroyed container's label is given back; an ignored one never takes one")
    func destroyAndIgnored() {
        var engine = FakeEngine()
        engine.add(info(Self.a, name: "db"))
        engine.add(info(Self.c, name: "quiet", env: ["LOGSPOUT=ignore"]))
        var (table, _) = engine.start(Self.options(limit: 1))
        #expect(table.labels.count == 1)
        #expect(table.labels.folded == 0)
        engine.containers[Self.a] = info(Self.a, name: "db", running: false)
        _ = engine.run(&table, table.streamEnded(Self.a, failure: nil, at: engine.now + 5_000_000_000))
        #expect(table.containers[Self.a] != nil)  // stopped, still known: its series stay
        _ = engine.run(&table, table.engineEvent(.destroy(Self.a)))
        #expect(table.labels.count == 0)
        #expect(Self.samples(Self.render(table), "logspout_attach_records_read_total").isEmpty)
    }

    @Test("engine failures and reconnects are counted")
    func engineCounters() {
        var engine = FakeEngine()
        var (table, _) = engine.start()
        engine.reachable = false
        _ = engine.run(&table, table.engineLost("Connection reset by peer"))
        _ = engine.run(&table, table.reconnectTimerFired())
        _ = engine.run(&table, table.reconnectTimerFired())
        #expect(table.engineFailures == 3)
        #expect(table.reconnects == 0)
        #expect(Self.samples(Self.render(table), "logspout_attach_engine_up") == ["logspout_attach_engine_up 0"])
        engine.reachable = true
        _ = engine.run(&table, table.reconnectTimerFired())
        #expect(table.reconnects == 1)
        #expect(table.engineFailures == 3)
    }
}

@Suite("METRICS_MAX_LABEL_VALUES")
struct LabelLimitSettingTests {
    @Test(arguments: [(nil, 500), ("", 500), ("0", 0), ("7", 7), ("100000", 100000)] as [(String?, Int)])
    func accepted(text: String?, limit: Int) {
        #expect(LabelBudget.limit(setting: text) == limit)
    }

    @Test(arguments: ["-1", "100001", "x", "1.5", " 5"])
    func refused(text: String) {
        #expect(LabelBudget.limit(setting: text) == nil)
        #expect(LabelBudget.limitError(text) == "METRICS_MAX_LABEL_VALUES '\(text)' must be a whole number from 0 to 100000")
    }
}
