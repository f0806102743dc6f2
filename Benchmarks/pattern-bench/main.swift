// pattern-bench: the cost of one multiline pattern match against one line, single-threaded.
//
// For each pattern, matches it against lines of about 100 bytes (and a long line) many times and reports
// the best round's nanoseconds per line by CLOCK_PROCESS_CPUTIME_ID, so other load on the machine counts
// less.
//
//     swift build -c release --product pattern-bench
//     pattern-bench [iterations]   (default 1000000)

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
import Pattern
import Syscall

func cpuSeconds() -> Double { Double(Sys.processCPUNanos()) / 1e9 }

func pad(_ s: String, _ width: Int) -> String { s + String(repeating: " ", count: max(0, width - s.count)) }

let iterations = CommandLine.arguments.count > 1 ? Int(CommandLine.arguments[1]) ?? 1_000_000 : 1_000_000
let line = "2024-05-01 12:00:00.123 INFO  [main] com.example.Service - request handled in 12 ms for user 42;"
let continuation = "    at com.example.Service.handle(Service.java:120) while handling the request for id 42"
let long = String(repeating: "abcdefghij ", count: 10_000)
let cases: [(String, String, String)] = [
    (#"^\s"#, line, "100 B, no match"),
    (#"^\s"#, continuation, "100 B, match"),
    (#"^[0-9]{4}-"#, line, "100 B, match"),
    (#"^[0-9]{4}-"#, continuation, "100 B, no match"),
    (#";$"#, line, "100 B, match at the end"),
    (#"\\$"#, line, "100 B, no match"),
    (#"Exception|Error"#, line, "100 B, no match"),
    (#"(?i)error"#, line, "100 B, no match"),
    (#"^\d{4}-\d\d-\d\d \d\d:\d\d"#, line, "100 B, match"),
    (#"^(a+)+$"#, String(repeating: "a", count: 24) + "!", "25 B, no match"),
    (#"\\$"#, long, "110 kB, no match"),
    (#"[^a-z ]x"#, long, "110 kB, no match"),
]
for (source, text, what) in cases {
    let pattern = try! Pattern(source)
    let n = text.utf8.count > 1000 ? max(1, iterations / 1000) : iterations
    var best = Double.infinity
    var hits = 0
    for _ in 0..<5 {
        let t0 = cpuSeconds()
        for _ in 0..<n where pattern.matches(text) { hits += 1 }
        best = min(best, (cpuSeconds() - t0) / Double(n))
    }
    let ns = (best * 1e9 * 10).rounded() / 10
    print("\(pad(source, 30)) \(pad(what, 26)) \(ns) ns/line  (\(hits > 0 ? "matched" : "no match"))")
}
