// jsonfile-bench: the cost of reading json-file log lines, single-threaded: each line parsed into its entry
// (JSONFileEntryParser) and, for the second figure, assembled into a line as attach does (LogStreamParser).
//
// Parses a buffer of lines like those the engine writes many times and reports the best round's lines per
// second by CLOCK_PROCESS_CPUTIME_ID, so other load on the machine counts less.
//
//     swift build -c release --product jsonfile-bench
//     jsonfile-bench [rounds]   (default 20)

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
import Docker
import Syscall

func cpuSeconds() -> Double { Double(Sys.processCPUNanos()) / 1e9 }

let rounds = CommandLine.arguments.count > 1 ? Int(CommandLine.arguments[1]) ?? 20 : 20
let count = 200_000

/// `count` lines of the engine's form, with `text` numbered.
func file(_ text: (Int) -> String) -> [UInt8] {
    var bytes: [UInt8] = []
    for i in 0..<count {
        let nanos = String(100_000_000 + i * 37 % 899_999_999).prefix(9)
        bytes += Array(#"{"log":"\#(text(i))\n","stream":"stdout","time":"2026-11-27T21:57:46.\#(nanos)Z"}"#.utf8)
        bytes.append(10)
    }
    return bytes
}

let cases: [(String, [UInt8])] = [
    ("seq (a number)", file { String($0) }),
    ("100 B of text", file { "2024-05-01 12:00:00.123 INFO  [main] com.example.Service - request handled in \($0) ms for user 42" }),
    ("100 B, tabs and quotes", file { "level=info\\u0009msg=\\\"request \($0) handled\\\"\\u0009path=/api/v1/items\\u0009status=200 \\u003cok\\u003e" }),
]

func run(_ bytes: [UInt8], assemble: Bool) -> Double {
    var best = Double.infinity
    var entries = JSONFileEntryParser()
    var lines = LogStreamParser(multiplexed: true)
    var sink = 0
    for _ in 0..<rounds {
        let start = cpuSeconds()
        bytes.withUnsafeBytes { raw in
            var at = 0
            while at < raw.count {
                let nl = memchr(raw.baseAddress! + at, 10, raw.count - at)!
                let end = raw.baseAddress!.distance(to: UnsafeRawPointer(nl))
                let entry = try! entries.parse(UnsafeRawBufferPointer(rebasing: raw[at..<end]))
                if assemble {
                    entries.time.withUnsafeBytes { t in
                        entries.log.withUnsafeBytes { text in
                            lines.feedEntry(stream: entry.stream, time: t, text: text) { sink &+= $0.data.count }
                        }
                    }
                } else {
                    sink &+= entries.log.count
                }
                at = end + 1
            }
        }
        best = min(best, cpuSeconds() - start)
    }
    precondition(sink > 0)
    return Double(count) / best
}

print("lines per second, one core, best of \(rounds) rounds of \(count) lines")
for (name, bytes) in cases {
    let parsed = run(bytes, assemble: false)
    let assembled = run(bytes, assemble: true)
    print("\(name): \(bytes.count / count) B a line: parsed \(Int(parsed / 1000)) k/s, parsed and assembled \(Int(assembled / 1000)) k/s")
}
