// records-bench: single-threaded throughput of the record codec.
//
// Generates N typical records in memory (about 350 bytes each as NDJSON), then
// measures decode, encode and the producers' `append` fast path. Each measure
// runs several rounds over all records and reports the best round, by wall
// clock (CLOCK_MONOTONIC) and by this process's CPU time
// (CLOCK_PROCESS_CPUTIME_ID).
//
//     swift build -c release --product records-bench
//     records-bench [records] [rounds] [decode|decoder|encode|append]   (defaults: 100000 10, all three)

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif
import JSON
import Records

func now(_ clock: clockid_t) -> Double {
    var ts = timespec()
    clock_gettime(clock, &ts)
    return Double(ts.tv_sec) + Double(ts.tv_nsec) / 1e9
}

func format(_ v: Double, _ decimals: Int) -> String {
    var scale = 1.0
    for _ in 0..<decimals { scale *= 10 }
    var s = String((v * scale).rounded() / scale)
    if decimals == 0, s.hasSuffix(".0") { s.removeLast(2) }
    return s
}

/// A small deterministic generator (xorshift64*), so runs are comparable.
struct Random {
    var state: UInt64 = 0x9E37_79B9_7F4A_7C15
    mutating func next() -> UInt64 {
        state ^= state >> 12
        state ^= state << 25
        state ^= state >> 27
        return state &* 0x2545_F491_4F6C_DD1D
    }
    mutating func below(_ n: Int) -> Int { Int(next() % UInt64(n)) }

    mutating func hex(_ n: Int) -> String {
        let digits = Array("0123456789abcdef".utf8)
        var bytes: [UInt8] = []
        for _ in 0..<n { bytes.append(digits[below(16)]) }
        return String(decoding: bytes, as: UTF8.self)
    }
}

/// Typical records: nginx access and error lines and JSON application logs
/// from a few containers with labels.
struct Workload {
    var records: [Record] = []
    var containers: [Container] = []

    init(count: Int) {
        var random = Random()
        containers = [
            Container(id: random.hex(64), name: "web", image: "nginx:1.27", hostname: random.hex(12), pid: 18441,
                      labels: ["team": "frontend"]),
            Container(id: random.hex(64), name: "db", image: "postgres:17", hostname: random.hex(12), pid: 2210,
                      labels: ["team": "db"]),
            Container(id: random.hex(64), name: "api-gateway", image: "registry.example.com/api-gateway:3.4.1",
                      hostname: random.hex(12), pid: 30117, labels: [:]),
            Container(id: random.hex(64), name: "worker-1", image: "python:3.13-slim", hostname: random.hex(12),
                      pid: 912, labels: ["team": "data"]),
        ]
        let paths = ["/", "/index.html", "/api/v1/users/8812/orders", "/static/app.3f9c1d.js", "/healthz"]
        let agents = ["Firefox/133.0", "curl/8.11.0", "kube-probe/1.31", "Go-http-client/1.1"]
        records.reserveCapacity(count)
        for i in 0..<count {
            let data: String
            switch random.below(4) {
            case 0:
                data = "2026/11/24 20:42:17 [error] 29#29: *\(i) open() \"/usr/share/nginx/html/favicon.ico\" failed (2: No such file)"
            case 1:
                data = #"{"level":"info","msg":"request done","status":200,"bytes":\#(random.below(90000))}"#
            default:
                data = "172.18.0.\(random.below(250)) - - [24/Nov/2026:20:42:17 +0000] \"GET \(paths[random.below(paths.count)]) HTTP/1.1\" 200 \(random.below(20000)) \"-\" \"\(agents[random.below(agents.count)])\""
            }
            let time = "2026-11-24T20:42:17.\(100_000_000 + i % 900_000_000)Z"
            records.append(Record(time: time, source: random.below(5) == 0 ? .stderr : .stdout, data: data,
                                  container: containers[i % containers.count]))
        }
    }
}

final class Bench {
    let count: Int
    let rounds: Int
    let records: [Record]
    var corpus: [UInt8] = []
    var lineStarts: [Int] = []
    let containerJSONs: [[UInt8]]
    let rawTimes: [[UInt8]]
    let rawData: [[UInt8]]
    var out: [UInt8] = []
    var sink = 0

    init(count: Int, rounds: Int) {
        self.count = count
        self.rounds = rounds
        let workload = Workload(count: count)
        records = workload.records
        // The producers' view: raw bytes of each line and a precomputed container object.
        containerJSONs = workload.containers.map { $0.encodedJSON() }
        rawTimes = records.map { Array($0.time.utf8) }
        rawData = records.map { Array($0.data.utf8) }
        for r in records {
            lineStarts.append(corpus.count)
            RecordCodec.encode(r, into: &corpus)
        }
        lineStarts.append(corpus.count)
        out.reserveCapacity(corpus.count + 4096)
    }

    var bytesPerRecord: Double { Double(corpus.count) / Double(count) }

    /// Decodes every line back and compares it with the record it came from.
    func checkRoundTrip() -> Bool {
        corpus.withUnsafeBytes { p in
            for i in 0..<count {
                let line = UnsafeRawBufferPointer(rebasing: p[lineStarts[i]..<(lineStarts[i + 1] - 1)])
                guard let r = try? RecordCodec.decode(line: line), r == records[i] else { return false }
            }
            return true
        }
    }

    func decodeAll() -> Int {
        var total = 0
        corpus.withUnsafeBytes { p in
            for i in 0..<count {
                let line = UnsafeRawBufferPointer(rebasing: p[lineStarts[i]..<(lineStarts[i + 1] - 1)])
                if let r = try? RecordCodec.decode(line: line) {
                    total &+= r.data.utf8.count
                }
            }
        }
        return total
    }

    /// Decodes with a `RecordDecoder`, as a stage reading a stream does.
    func decodeStreamAll() -> Int {
        var total = 0
        var decoder = RecordDecoder()
        corpus.withUnsafeBytes { p in
            for i in 0..<count {
                let line = UnsafeRawBufferPointer(rebasing: p[lineStarts[i]..<(lineStarts[i + 1] - 1)])
                if let r = try? decoder.decode(line: line) {
                    total &+= r.data.utf8.count
                }
            }
        }
        return total
    }

    func encodeAll() -> Int {
        out.removeAll(keepingCapacity: true)
        let records = self.records  // a local array lends its elements without copying them
        for i in 0..<count {
            RecordCodec.encode(records[i], into: &out)
        }
        return out.count
    }

    func appendAll() -> Int {
        out.removeAll(keepingCapacity: true)
        for i in 0..<count {
            rawTimes[i].withUnsafeBytes { time in
                rawData[i].withUnsafeBytes { data in
                    RecordCodec.append(time: time, source: records[i].source, data: data, partial: false,
                                       containerJSON: containerJSONs[i % containerJSONs.count], into: &out)
                }
            }
        }
        return out.count
    }

    func measure(_ name: String, _ body: (Bench) -> Int) {
        var bestWall = Double.infinity
        var bestCPU = Double.infinity
        for _ in 0..<rounds {
            let w0 = now(CLOCK_MONOTONIC)
            let c0 = now(CLOCK_PROCESS_CPUTIME_ID)
            sink &+= body(self)
            let c1 = now(CLOCK_PROCESS_CPUTIME_ID)
            let w1 = now(CLOCK_MONOTONIC)
            bestWall = min(bestWall, w1 - w0)
            bestCPU = min(bestCPU, c1 - c0)
        }
        let wall = format(Double(count) / bestWall / 1e6, 2)
        let cpu = format(Double(count) / bestCPU / 1e6, 2)
        let mbps = format(Double(count) * bytesPerRecord / bestWall / 1e6, 0)
        let ns = format(bestWall / Double(count) * 1e9, 0)
        print("\(name): \(wall) M records/s wall, \(cpu) M records/s cpu, \(ns) ns/record, \(mbps) MB/s (\(count) records of \(format(bytesPerRecord, 0)) B, best of \(rounds) rounds)")
    }
}

let arguments = CommandLine.arguments
let count = arguments.count > 1 ? Int(arguments[1]) ?? 100_000 : 100_000
let rounds = arguments.count > 2 ? Int(arguments[2]) ?? 10 : 10
let bench = Bench(count: max(1, count), rounds: max(1, rounds))
guard bench.checkRoundTrip() else {
    print("records-bench: a record did not survive encode then decode")
    exit(1)
}
let only = arguments.count > 3 ? arguments[3] : nil
if only == nil || only == "decode" { bench.measure("decode") { $0.decodeAll() } }
if only == nil || only == "decoder" { bench.measure("decode with RecordDecoder") { $0.decodeStreamAll() } }
if only == nil || only == "encode" { bench.measure("encode") { $0.encodeAll() } }
if only == nil || only == "append" { bench.measure("append") { $0.appendAll() } }
if bench.sink == 42 { print("") }  // keeps the work observable
