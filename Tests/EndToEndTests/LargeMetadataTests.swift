// A container with more than 1 MiB of labels: its records stay within the record bound (labels cut, with
// a marker), route takes them, and its restart (an engine event over 1 MiB) is seen.

import Records
import Syscall
import Testing

@Suite("Large metadata: labels cut to a budget, events of any size", .serialized)
struct LargeMetadataEndToEndTests {
    @Test("12 labels of 100 KB: lines arrive through attach and route, records within the bound, a restart is seen")
    func bigLabels() throws {
        let attach = try startAttach()
        defer { attach.stop() }
        let c = TestContainer("labels")
        var extra: [String] = []
        for k in 0..<12 { extra += ["--label", "big\(k)=" + String(repeating: "x", count: 100_000)] }
        extra += ["--label", "team=db"]
        // Each run prints its number; the first also prints a line of 300,000 control characters (written
        // as \u0001, six bytes each, so that its 256 KiB piece would make a record of 1.5 MB).
        let script = """
            trap 'exit 0' TERM; n=$(cat /n 2>/dev/null || echo 0); n=$((n+1)); echo $n > /n; echo "run $n"
            if [ $n = 1 ]; then head -c 300000 /dev/zero | tr '\\000' '\\001'; echo; echo "after control"; fi
            while true; do sleep 0.1; done
            """
        try c.run(script, extra: extra)
        #expect(eventually { attach.records().of(c.name).contains { $0.data == "after control" } }, "\(attach.stderr)")
        try docker("restart", "-t", "5", c.name)
        #expect(eventually { attach.records().of(c.name).contains { $0.data == "run 2" } }, "the restart was missed: \(attach.stderr)")

        let records = attach.records().of(c.name)
        #expect(records.first?.data == "run 1")
        for record in records {
            #expect(record.container.labels[RecordBounds.truncationKey] == "12 labels omitted")
            #expect(record.container.labels["team"] == "db")
            #expect(record.container.labels.count == 2)
        }
        // The control line, in pieces that join up to it.
        let pieces = records.drop { $0.data != String(repeating: "\u{1}", count: $0.data.count) || $0.data.isEmpty }
            .prefix { $0.data != "after control" }
        #expect(pieces.map(\.data).joined() == String(repeating: "\u{1}", count: 300_000))
        #expect(pieces.dropLast().allSatisfy(\.partial) && pieces.last?.partial == false)
        // Every line attach wrote is within the bound.
        let output = attach.stdout
        let longest = output.split(separator: 10).map(\.count).max() ?? 0
        #expect(longest <= RecordBounds.maxRecordBytes, "a record of \(longest) bytes")
        #expect(!attach.stderr.contains("dropped") && !attach.stderr.contains("unreadable"), "\(attach.stderr)")

        // route takes every one of them.
        let lines = output.split(separator: 10).filter { String(decoding: $0, as: UTF8.self).contains(c.id) }
        let input = Env.tempDir() + "/records.ndjson"
        routeWriteFile(input, lines.map { String(decoding: $0, as: UTF8.self) + "\n" }.joined())
        let route = try Child([routeBinary, "syslog://127.0.0.1:9"], env: ["ROUTESPATH": "/nonexistent/routes"], stdin: input)
        #expect(route.wait(timeoutMs: 20_000) == 0)
        #expect(route.stderr.isEmpty, "\(route.stderr.prefix(300))")
        #expect(route.records().count == lines.count)
    }

    @Test("a line size and a labels budget that cannot fit in a record together are refused at start")
    func settingsTogether() throws {
        let env = ["DOCKER_HOST": "unix:///nonexistent/docker.sock"]
        let both = try run([Env.binDir + "/attach"], env: env.merging(["MAX_LINE_SIZE": "900000", "MAX_LABELS_SIZE": "100000"]) { $1 })
        #expect(both.status == 78)
        #expect(both.stderr.contains("MAX_LABELS_SIZE") && both.stderr.contains("966144"), "\(both.stderr)")
        let argument = try run([Env.binDir + "/attach", "--max-line-size", "970000"], env: env)
        #expect(argument.status == 64, "\(argument.stderr)")
        let bad = try run([Env.binDir + "/attach"], env: env.merging(["MAX_LABELS_SIZE": "100"]) { $1 })
        #expect(bad.status == 78, "\(bad.stderr)")
        // Within the bound: they pass (and attach goes on to find no engine: 69).
        let fits = try run([Env.binDir + "/attach"], env: env.merging(["MAX_LINE_SIZE": "900000", "MAX_LABELS_SIZE": "66144"]) { $1 })
        #expect(fits.status == 69, "\(fits.stderr)")
    }
}
