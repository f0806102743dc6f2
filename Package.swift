// swift-tools-version:6.0
import PackageDescription

// No package dependencies: the Swift toolchain and system C libraries only.
let package = Package(
    name: "logspout",
    products: [
        .executable(name: "attach", targets: ["attach"]),
        .executable(name: "route", targets: ["route"]),
        .executable(name: "emit-syslog", targets: ["emit-syslog"]),
        .executable(name: "httpd", targets: ["httpd"]),
        .executable(name: "logspout", targets: ["logspout"]),
        // The parsing libraries, for the fuzz targets (Fuzz/Package.swift, a package of its own built with
        // libFuzzer: scripts/fuzz.sh); nothing else uses this product.
        .library(name: "LogspoutParsers", targets: ["HTTP", "Docker", "JSON", "Records", "Time", "Contract", "Syslog", "Routing", "Pattern"]),
    ],
    targets: [
        // Linux headers Glibc's module lacks, and a libresolv helper for DNS SRV (libresolv's parsing is macros).
        .target(name: "CSyscall", linkerSettings: [.linkedLibrary("resolv")]),
        // Client-side TLS over OpenSSL (libssl), for syslog over TLS; its macros and error queue stay in C.
        // OpenSSL is loaded with dlopen on first use (the static image links it instead: scripts/image.sh).
        .target(name: "CTLS"),
        // The system's zlib (libz): inflateInit2 is a macro, so it stays in C.
        .target(name: "CZlib", linkerSettings: [.linkedLibrary("z")]),
        // Streaming gzip decompression, for the engine's compressed log generations (`….log.N.gz`).
        .target(name: "Gzip", dependencies: ["CZlib"]),
        // The one place that calls the system: sockets, files, clocks, signals; errors carry errno. The event
        // loop every stage runs on (epoll, signalfd, deadlines), and the exit codes they share.
        .target(name: "Syscall", dependencies: ["CSyscall"]),
        // Metrics in the Prometheus text format: the writer, bounded user-set labels, and the snapshot file
        // each stage publishes for httpd's /metrics.
        .target(name: "Metrics", dependencies: ["Syscall"]),
        // Byte-level text rules shared by the parsers: hex digits, percent-decoding, UTF-8 well-formedness.
        .target(name: "Text"),
        // Regular expressions in Go's syntax, matched in time linear in the text (a Thompson NFA, no backtracking).
        .target(name: "Pattern", dependencies: ["Text"]),
        // A byte-level JSON scanner and writer (generic values, string escaping).
        .target(name: "JSON", dependencies: ["Text"]),
        // The record: the NDJSON contract between stages, with a hot-path codec.
        .target(name: "Records", dependencies: ["JSON"]),
        // Timestamps: RFC 3339 with nanoseconds, civil calendar arithmetic.
        .target(name: "Time"),
        // HTTP/1.1: request and response parsers, a client, WebSocket, Server-Sent Events.
        .target(name: "HTTP", dependencies: ["Syscall", "Text"]),
        // The Docker Engine API: client, log stream framing, line assembly.
        .target(name: "Docker", dependencies: ["Syscall", "HTTP", "JSON", "Records", "Time"]),
        // attach's engine: the container table and stream lifecycle (state machines), their driver, resume cursors
        // (compressed log generations read through Gzip).
        .target(name: "Attacher", dependencies: ["Metrics", "Syscall", "HTTP", "JSON", "Records", "Docker", "Time", "Gzip"]),
        .executableTarget(name: "attach", dependencies: ["Attacher", "Syscall"]),
        // The contracts between stages: a routed record's target (one parser and checker, for route and
        // emit-syslog) and the bus's requests and replies (for route and httpd), with the route-id rule.
        .target(name: "Contract", dependencies: ["JSON", "Records", "Syslog", "Pattern"]),
        // route's engine: the route table (arguments, ROUTESPATH, etcd discovery), matching, the store.
        .target(name: "Routing", dependencies: ["Metrics", "Contract", "Syscall", "Text", "HTTP", "JSON", "Records", "Time"]),
        .executableTarget(name: "route", dependencies: ["Routing", "Syscall"]),
        // Syslog messages: RFC 5424, RFC 3164 and Deis formats; Go time layouts.
        .target(name: "Syslog", dependencies: ["Records", "JSON", "Time", "Syscall"]),
        // emit-syslog's engine: UDP, TCP and TLS transports, DNS (A/AAAA and SRV), line joining.
        .target(name: "Emitter", dependencies: ["Metrics", "Contract", "Syscall", "CTLS", "Syslog", "Records", "JSON", "Time"]),
        .executableTarget(name: "emit-syslog", dependencies: ["Emitter", "Syscall"]),
        // httpd's engine: live streams (text, JSON, SSE, WebSocket), the /routes API, the page; all from the bus.
        .target(name: "HTTPServer", dependencies: ["Metrics", "Contract", "Syscall", "HTTP", "JSON", "Records"]),
        .executableTarget(name: "httpd", dependencies: ["HTTPServer", "Syscall"]),
        // All four stages in one executable, for the container image (shared code pages).
        .executableTarget(name: "logspout", dependencies: ["Attacher", "Routing", "Emitter", "HTTPServer", "Syscall"]),
        .executableTarget(name: "records-bench", dependencies: ["Records", "JSON"], path: "Benchmarks/records-bench"),
        .executableTarget(name: "pattern-bench", dependencies: ["Pattern", "Syscall"], path: "Benchmarks/pattern-bench"),
        .executableTarget(name: "jsonfile-bench", dependencies: ["Docker", "Syscall"], path: "Benchmarks/jsonfile-bench"),
        .executableTarget(name: "udp-ceiling", dependencies: ["Syscall"], path: "Benchmarks/udp-ceiling"),
        .executableTarget(name: "udp-sink", dependencies: ["Syscall"], path: "Benchmarks/udp-sink"),

        .testTarget(name: "SyscallTests", dependencies: ["Syscall"]),
        .testTarget(name: "GzipTests", dependencies: ["Gzip", "Syscall"]),
        .testTarget(name: "TextTests", dependencies: ["Text"]),
        .testTarget(name: "MetricsTests", dependencies: ["Metrics", "Syscall"]),
        .testTarget(name: "JSONTests", dependencies: ["JSON"]),
        .testTarget(name: "PatternTests", dependencies: ["Pattern"]),
        .testTarget(name: "RecordsTests", dependencies: ["Records", "JSON"], exclude: ["Corpus"]),
        .testTarget(name: "HTTPTests", dependencies: ["HTTP"]),
        .testTarget(name: "TimeTests", dependencies: ["Time"]),
        .testTarget(name: "DockerTests", dependencies: ["Docker", "JSON", "Records"]),
        .testTarget(name: "AttacherTests", dependencies: ["Attacher", "Docker", "JSON", "Records", "Syscall", "Time"]),
        .testTarget(name: "SyslogTests", dependencies: ["Syslog", "Records", "Time"]),
        .testTarget(name: "ContractTests", dependencies: ["Contract", "Syslog", "Records", "JSON"]),
        .testTarget(name: "RoutingTests", dependencies: ["Routing", "Contract", "Records", "JSON"]),
        .testTarget(name: "HTTPServerTests", dependencies: ["HTTPServer", "HTTP", "Contract", "JSON", "Records"]),
        .testTarget(name: "EmitterTests", dependencies: ["Emitter", "Contract", "Syslog", "Records", "Syscall"]),
        .testTarget(name: "EndToEndTests", dependencies: ["JSON", "Records", "Syscall", "Docker", "HTTP"]),
    ],
    swiftLanguageModes: [.v6]
)

// The stages use no Swift concurrency (their background jobs are plain threads: Sources/Syscall/Threads.swift):
// without the implicit import of _Concurrency, neither its runtime nor libdispatch is loaded and relocated
// in every stage (docs/performance.md). Tests and benchmarks keep it (Swift Testing is built on it; a
// benchmark's top-level globals belong to the main actor).
//
// Release builds of the stages leave out the run-time checks of exclusive access (each access to a class's
// stored property, a global or an escaping closure's variable otherwise calls into the runtime: about 8 %
// of attach's CPU at a trickle, docs/performance.md). The compiler still proves what it can statically,
// and debug builds — the whole test suite — keep the run-time checks, so an overlapping access traps there.
for target in package.targets where target.type != .test && target.type != .system && !(target.path ?? "").hasPrefix("Benchmarks") {
    target.swiftSettings = (target.swiftSettings ?? []) + [.unsafeFlags(["-Xfrontend", "-disable-implicit-concurrency-module-import"])]
    target.swiftSettings! += [.unsafeFlags(["-enforce-exclusivity=unchecked"], .when(configuration: .release))]
}
