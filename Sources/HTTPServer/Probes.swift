#if canImport(Glibc)
import Glibc
#endif
import JSON
import Metrics
import Syscall

// `/metrics`, `/ready` and `/health`'s stage check (docs/http.md): httpd's own counters, and the snapshot
// files the stages publish in `LOGSPOUT_METRICS_DIR` (docs/bus.md, "Metrics and health files"), read per
// request. Pure but for reading the files: unit-tested without a socket.

/// httpd's own counters, for `/metrics`.
struct HTTPDStats {
    /// Responses by status class: 1xx (a WebSocket's 101), 2xx … 5xx.
    var responses: [UInt64] = [0, 0, 0, 0, 0]
    /// Live streams refused with 503 because `HTTPD_MAX_STREAMS` were open.
    var streamsRefused: UInt64 = 0
    /// Records live-stream clients missed because they fell behind the shared buffer.
    var streamRecordsMissed: UInt64 = 0
    /// Records route's bus dropped from httpd's subscription (httpd read too slowly).
    var busRecordsMissed: UInt64 = 0
    /// Snapshot files over `MetricsPublisher.maxFileBytes`, served cut.
    var filesCut: UInt64 = 0

    mutating func responded(_ status: Int) {
        let i = status / 100 - 1
        if i >= 0 && i < responses.count { responses[i] &+= 1 }
    }

    /// The gauges of the moment.
    struct Now {
        var connections = 0
        var streams = 0
        var bufferedBytes = 0
    }

    /// httpd's families, `logspout_build_info` first; `files` says which snapshot files were there.
    func render(into text: inout MetricsText, now: Now, files: [(name: String, present: Bool)]) {
        text.family("logspout_build_info", .gauge, "logspout's version and the Swift compiler that built it; always 1.")
        text.sample("logspout_build_info", ["version": BuildInfo.version, "swift": BuildInfo.swift], 1)
        text.family("logspout_httpd_requests_total", .counter, "HTTP responses httpd sent, by status class.")
        for (i, count) in responses.enumerated() {
            text.sample("logspout_httpd_requests_total", ["code": "\(i + 1)xx"], count)
        }
        text.family("logspout_httpd_connections", .gauge, "HTTP connections open.")
        text.sample("logspout_httpd_connections", now.connections)
        text.family("logspout_httpd_streams", .gauge, "Live streams (/logs) being served.")
        text.sample("logspout_httpd_streams", now.streams)
        text.family("logspout_httpd_streams_refused_total", .counter, "Live streams answered 503 because HTTPD_MAX_STREAMS were open.")
        text.sample("logspout_httpd_streams_refused_total", streamsRefused)
        text.family("logspout_httpd_stream_buffer_bytes", .gauge, "Bytes held by the live streams' shared buffer (bounded by HTTPD_CLIENT_BUFFER).")
        text.sample("logspout_httpd_stream_buffer_bytes", now.bufferedBytes)
        text.family("logspout_httpd_stream_records_missed_total", .counter, "Records live-stream clients missed because they fell behind.")
        text.sample("logspout_httpd_stream_records_missed_total", streamRecordsMissed)
        text.family("logspout_httpd_bus_records_missed_total", .counter, "Records route's bus dropped from httpd's subscription.")
        text.sample("logspout_httpd_bus_records_missed_total", busRecordsMissed)
        text.family("logspout_httpd_metrics_file_present", .gauge, "Whether a stage's snapshot file was found in LOGSPOUT_METRICS_DIR.")
        for file in files {
            text.sample("logspout_httpd_metrics_file_present", ["file": file.name], file.present ? 1 : 0)
        }
        text.family("logspout_httpd_metrics_files_cut_total", .counter, "Snapshot files over 1 MiB, served cut at their last whole line.")
        text.sample("logspout_httpd_metrics_files_cut_total", filesCut)
    }
}

/// The stages' snapshot files in `LOGSPOUT_METRICS_DIR` (docs/bus.md): read per request, each with a
/// bound; a missing file (or no folder) is nil.
struct StageFiles {
    /// The `.prom` files `/metrics` serves after httpd's own metrics, in this order.
    static let metrics = ["supervisor.prom", "attach.prom", "route.prom", "emit-syslog.prom"]
    /// emit-syslog's receivers' health, one JSON object per line.
    static let health = "emit-syslog.health"
    static let supervisor = "supervisor.prom"

    /// The folder; nil when httpd runs without one (alone, not under the supervisor).
    let directory: String?

    init(directory: String?) {
        self.directory = directory.flatMap { $0.isEmpty ? nil : $0 }
    }

    /// The file `name` of the folder: at most `maxBytes`, a longer one cut after its last whole line
    /// within them (`cut`), and ending with a newline; nil when there is no such file.
    func read(_ name: String, maxBytes: Int = MetricsPublisher.maxFileBytes) -> (bytes: [UInt8], cut: Bool)? {
        guard let directory else { return nil }
        return Self.read(path: directory + "/" + name, maxBytes: maxBytes)
    }

    static func read(path: String, maxBytes: Int) -> (bytes: [UInt8], cut: Bool)? {
        guard let fd = try? Sys.open(path, O_RDONLY | O_NONBLOCK) else { return nil }
        defer { Sys.close(fd) }
        // Read in pieces: memory in proportion to the file, one byte past the bound at most.
        var bytes: [UInt8] = []
        var piece = [UInt8](repeating: 0, count: min(64 * 1024, maxBytes + 1))
        while bytes.count <= maxBytes {
            let n: Int
            do { n = try Sys.read(fd, into: &piece) } catch { return nil }
            if n == 0 { break }
            bytes.append(contentsOf: piece[0..<min(n, maxBytes + 1 - bytes.count)])
        }
        var count = bytes.count
        var cut = false
        if count > maxBytes {
            cut = true
            count = bytes[..<maxBytes].lastIndex(of: 10).map { $0 + 1 } ?? 0
            bytes.removeSubrange(count...)
        }
        if let last = bytes.last, last != 10 { bytes.append(10) }
        return (bytes, cut)
    }

    /// The `/metrics` body: httpd's own families, then each `.prom` file present, as it is, in order.
    func metricsBody(_ stats: inout HTTPDStats, now: HTTPDStats.Now) -> [UInt8] {
        var files: [(name: String, bytes: [UInt8]?)] = []
        var size = 0
        for name in Self.metrics {
            let file = read(name)
            if file?.cut == true { stats.filesCut &+= 1 }
            files.append((name, file?.bytes))
            size += file?.bytes.count ?? 0
        }
        var text = MetricsText(capacity: 4096 + size)
        stats.render(into: &text, now: now, files: files.map { ($0.name, $0.bytes != nil) })
        for file in files {
            if let bytes = file.bytes { text.append(contentsOf: bytes) }
        }
        return text.bytes
    }

    /// The stages `supervisor.prom` says are down (`logspout_supervisor_stage_up{stage="…"} 0`), in its
    /// order; none when there is no such file.
    func stagesDown() -> [String] {
        guard let file = read(Self.supervisor) else { return [] }
        return Self.stagesDown(file.bytes)
    }

    static func stagesDown(_ text: [UInt8]) -> [String] {
        let prefix = Array(#"logspout_supervisor_stage_up{stage=""#.utf8)
        var down: [String] = []
        for line in text.split(separator: 10) where line.starts(with: prefix) {
            let rest = line.dropFirst(prefix.count)
            guard let quote = rest.firstIndex(of: 34) else { continue }
            let value = rest[quote...].drop { $0 != 32 }.dropFirst()
            if value.elementsEqual("0".utf8) { down.append(String(decoding: rest[..<quote], as: UTF8.self)) }
        }
        return down
    }

    /// What `/health` says is wrong without asking the bus: the stages that are down; nil when none is.
    func liveness() -> String? {
        let down = stagesDown()
        guard !down.isEmpty else { return nil }
        return down.joined(separator: ", ") + (down.count == 1 ? " is down" : " are down")
    }
}

/// `/ready`: each route's receiver, from the bus's route list and emit-syslog's health file
/// (docs/http.md#ready).
enum ReadyReport {
    /// One route's line of `emit-syslog.health`.
    struct Receiver: Equatable {
        var transport: String?
        var state: String
        var error: String?
    }

    /// The health file's lines by route id; lines that are not such an object are skipped.
    static func receivers(_ text: [UInt8]) -> [String: Receiver] {
        var result: [String: Receiver] = [:]
        for line in text.split(separator: 10) {
            guard let value = try? JSONValue.parse(Array(line)), let id = value["id"]?.string,
                  let state = value["state"]?.string else { continue }
            result[id] = Receiver(transport: value["transport"]?.string, state: state, error: value["error"]?.string)
        }
        return result
    }

    /// The answer: 200 `ready` while no route's receiver is failing and nothing else is wrong
    /// (`problem`: a stage down, the bus unreachable), else 503 `degraded`. `routes` are the bus's routes
    /// (nil when the bus could not be asked: the health file's routes are shown instead); a route the
    /// health file does not name is `unknown`. Without `detailed`, only the status word.
    static func response(routes: [JSONValue]?, health: [UInt8]?, problem: String?, detailed: Bool) -> Response {
        let known = health.map(receivers) ?? [:]
        var entries: [JSONValue] = []
        var failing = false
        func entry(_ id: String, _ addr: String?, _ receiver: Receiver?) {
            var members: [(String, JSONValue)] = [("id", .string(id))]
            if let addr { members.append(("addr", .string(addr))) }
            if let transport = receiver?.transport { members.append(("transport", .string(transport))) }
            let state = receiver?.state ?? "unknown"
            members.append(("state", .string(state)))
            if state == "failing" {
                failing = true
                members.append(("error", .string(receiver?.error ?? "failing")))
            }
            entries.append(.object(members))
        }
        if let routes {
            for route in routes {
                guard let id = route["id"]?.string else { continue }
                entry(id, route["target"]?["addr"]?.string, known[id])
            }
        } else if let health {
            for line in health.split(separator: 10) {
                guard let value = try? JSONValue.parse(Array(line)), let id = value["id"]?.string, let receiver = known[id] else { continue }
                entry(id, value["addr"]?.string, receiver)
            }
        }
        let ready = problem == nil && !failing
        var members: [(String, JSONValue)] = [("status", .string(ready ? "ready" : "degraded"))]
        if detailed {
            if let problem { members.append(("error", .string(problem))) }
            members.append(("routes", .array(entries)))
        }
        var body = JSONValue.object(members).encoded()
        body.append(10)
        return Response(ready ? 200 : 503, contentType: "application/json", body: body)
    }
}
