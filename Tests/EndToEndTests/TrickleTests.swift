// Lines that trickle in: attach lets them gather (LOG_LINGER_MS, a linger that grows as the rate falls)
// and writes them on in batches, reading log files and logs streams alike. Counted, not timed: the writes
// of attach's output against the lines it wrote.

import Testing

@Suite("attach at a trickle: lines written in batches", .serialized)
struct TrickleTests {
    @Test("5 containers printing a line every 20 ms: far fewer writes than lines, from the files and from the endpoint", arguments: ["files", "api"])
    func batches(source: String) throws {
        let metricsDir = Env.tempDir()
        let attach = try startFileAttach(source, env: ["LOGSPOUT_METRICS_DIR": metricsDir])
        let count = 5, lines = 150
        let containers = (0..<count).map { _ in TestContainer("trickle-\(source)") }
        for c in containers {
            try c.run("i=0; while [ $i -lt \(lines) ]; do i=$((i+1)); echo $i; usleep 20000; done; sleep 600")
        }
        #expect(eventually(timeoutMs: 60_000) { containers.allSatisfy { attach.records().of($0.name).count == lines } })
        let total = count * lines
        // The metrics are written within half a second of the last records.
        var writes = 0.0
        #expect(eventually {
            writes = metricSamples(metricsDir + "/attach.prom")["logspout_attach_output_writes_total"] ?? 0
            let recorded = metricSamples(metricsDir + "/attach.prom").filter { $0.key.hasPrefix("logspout_attach_records_read_total{") }
            return Int(recorded.values.reduce(0, +)) >= total && writes > 0
        })
        // Each line on its own (a write every 4 ms on average) would be about `total` writes; lines that
        // gather for the linger are a few per write.
        #expect(writes * 4 < Double(total), "\(Int(writes)) writes for \(total) lines")
        // Nothing flows: nothing is written.
        pace(ms: 600)
        #expect(metricSamples(metricsDir + "/attach.prom")["logspout_attach_output_writes_total"] == writes)
        attach.stop()
        #expect(attach.status == 0)
        #expect(attach.stderr == "")
    }
}
