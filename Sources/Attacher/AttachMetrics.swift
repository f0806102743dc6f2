import Metrics

/// attach's metrics (docs/attach.md, "Metrics"), published as `attach.prom`: records per container and
/// stream, each container's lag, the containers followed, the engine connection.
///
/// A container's series are labelled by its short id and its name; they appear when it is followed and
/// go when it is forgotten (removed, or gone when its stream ended). Beyond `METRICS_MAX_LABEL_VALUES`
/// containers known at once, the others share the series `container_id="_other"`: their records summed
/// (and kept after they are forgotten, so it never goes back), their lag the largest of theirs.
enum AttachMetrics {
    /// What attach counts of the log files it reads.
    struct FileCounts {
        var corruptLines = 0
        var truncations = 0
        var skipped = 0
        var gaps = 0
        var eventOverflows = 0
    }

    static func render(_ text: inout MetricsText, table: ContainerTable, partialRecords: Int, files: FileCounts = FileCounts(),
                       outputWrites: Int = 0) {
        var own: [(label: String, name: String, output: ContainerOutput)] = []
        var folded = false
        var otherRecords = table.forgottenOther
        var otherLag: Double?
        var followed = 0
        var fromFiles = 0
        for entry in table.containers.values {
            if entry.stream.isOpen {
                followed += 1
                if entry.output.fromFile { fromFiles += 1 }
            }
            guard let label = entry.output.label else { continue }
            if label == LabelBudget.other {
                folded = true
                otherRecords.stdout &+= entry.output.stdoutRecords
                otherRecords.stderr &+= entry.output.stderrRecords
                if let lag = entry.output.lagSeconds { otherLag = max(otherLag ?? lag, lag) }
            } else {
                own.append((label, entry.info.name, entry.output))
            }
        }
        own.sort { ($0.label, $0.name) < ($1.label, $1.name) }
        if otherRecords != (0, 0) { folded = true }
        let other = LabelBudget.other

        text.family("logspout_attach_records_read_total", .counter,
                    "Records read from containers' logs and written (repeats after a reopen skipped), by container and stream.")
        for c in own {
            text.sample("logspout_attach_records_read_total", ["container_id": c.label, "container_name": c.name, "stream": "stdout"], c.output.stdoutRecords)
            text.sample("logspout_attach_records_read_total", ["container_id": c.label, "container_name": c.name, "stream": "stderr"], c.output.stderrRecords)
        }
        if folded {
            text.sample("logspout_attach_records_read_total", ["container_id": other, "container_name": other, "stream": "stdout"], otherRecords.stdout)
            text.sample("logspout_attach_records_read_total", ["container_id": other, "container_name": other, "stream": "stderr"], otherRecords.stderr)
        }
        text.family("logspout_attach_lag_seconds", .gauge,
                    "When a container's records were last read: that time minus the latest record's timestamp.")
        for c in own {
            if let lag = c.output.lagSeconds {
                text.sample("logspout_attach_lag_seconds", ["container_id": c.label, "container_name": c.name], lag)
            }
        }
        if let otherLag {
            text.sample("logspout_attach_lag_seconds", ["container_id": other, "container_name": other], otherLag)
        }
        text.family("logspout_attach_records_partial_total", .counter,
                    "Records that are a piece of a longer line, marked partial (over MAX_LINE_SIZE, or escapes over a record's bound).")
        text.sample("logspout_attach_records_partial_total", partialRecords)
        text.family("logspout_attach_containers_followed", .gauge, "Containers whose logs stream is open.")
        text.sample("logspout_attach_containers_followed", followed)
        text.family("logspout_attach_containers_followed_by_source", .gauge,
                    "Containers whose logs are read, by where from: their json-file log on disk (file) or the engine's logs endpoint (api).")
        text.sample("logspout_attach_containers_followed_by_source", ["source": "file"], fromFiles)
        text.sample("logspout_attach_containers_followed_by_source", ["source": "api"], followed - fromFiles)
        let fileCounters = [
            ("logspout_attach_containers_skipped_total",
             "Containers not followed because their log file cannot be read (--log-source files).", files.skipped),
            ("logspout_attach_file_corrupt_lines_total",
             "Lines of containers' log files that are not entries (corrupt, cut short, too long): skipped.", files.corruptLines),
            ("logspout_attach_file_truncations_total",
             "Times a container's log file was found shorter than what was read (truncated in place): read again from its start.", files.truncations),
            ("logspout_attach_file_gaps_total",
             "Times a restarted attach found the log files after a container's cursor deleted by the engine (max-file): their lines skipped.", files.gaps),
            ("logspout_attach_file_event_overflows_total",
             "Times the kernel's inotify queue overflowed (fs.inotify.max_queued_events): every followed log file looked at again.", files.eventOverflows),
        ]
        for (name, help, value) in fileCounters {
            text.family(name, .counter, help)
            text.sample(name, value)
        }
        text.family("logspout_attach_engine_up", .gauge, "1 while attach follows the engine's events, else 0.")
        text.sample("logspout_attach_engine_up", table.engineUp ? 1 : 0)
        text.family("logspout_attach_engine_reconnects_total", .counter,
                    "Times attach connected to the engine again after losing it.")
        text.sample("logspout_attach_engine_reconnects_total", table.reconnects)
        text.family("logspout_attach_engine_failures_total", .counter,
                    "Engine connections that failed or were lost (each followed by a reconnection attempt).")
        text.sample("logspout_attach_engine_failures_total", table.engineFailures)
        text.family("logspout_attach_metrics_folded_total", .counter,
                    "Containers whose labels were folded into container_id=\"_other\" (over METRICS_MAX_LABEL_VALUES).")
        text.sample("logspout_attach_metrics_folded_total", table.labels.folded)
        text.family("logspout_attach_output_writes_total", .counter,
                    "Writes of attach's output, each a batch of records (lines that trickle in are written once per linger, LOG_LINGER_MS).")
        text.sample("logspout_attach_output_writes_total", outputWrites)
    }
}
