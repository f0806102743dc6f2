// swift-tools-version:6.0
import PackageDescription

// No package dependencies: the Swift toolchain and system C libraries only.
let package = Package(
    name: "logspout",
    products: [
        .executable(name: "attach", targets: ["attach"]),
    ],
    targets: [
        // The one place that calls libc for I/O: sockets, read/write, epoll; errors carry errno.
        .target(name: "CSyscall"),
        .target(name: "Syscall", dependencies: ["CSyscall"]),
        // A byte-level JSON scanner and writer (generic values, string escaping).
        .target(name: "JSON"),
        // The record: the NDJSON contract between stages, with a hot-path codec.
        .target(name: "Records", dependencies: ["JSON"]),
        // Timestamps: RFC 3339 with nanoseconds, civil calendar arithmetic.
        .target(name: "Time"),
        // HTTP/1.1 message parsing and a client over Unix or TCP sockets.
        .target(name: "HTTP", dependencies: ["Syscall"]),
        // The Docker Engine API: client, log stream framing, line assembly.
        .target(name: "Docker", dependencies: ["Syscall", "HTTP", "JSON", "Time"]),
        // attach's engine: the container table, the event loop, resume cursors.
        .target(name: "Attacher", dependencies: ["Syscall", "HTTP", "JSON", "Records", "Docker", "Time"]),
        .executableTarget(name: "attach", dependencies: ["Attacher", "Syscall"]),
        .executableTarget(name: "records-bench", dependencies: ["Records", "JSON"], path: "Benchmarks/records-bench"),

        .testTarget(name: "JSONTests", dependencies: ["JSON"]),
        .testTarget(name: "RecordsTests", dependencies: ["Records", "JSON"], exclude: ["Corpus"]),
        .testTarget(name: "HTTPTests", dependencies: ["HTTP"]),
        .testTarget(name: "TimeTests", dependencies: ["Time"]),
        .testTarget(name: "DockerTests", dependencies: ["Docker", "JSON"]),
        .testTarget(name: "AttacherTests", dependencies: ["Attacher", "Docker", "Time"]),
        .testTarget(name: "EndToEndTests", dependencies: ["JSON", "Records", "Syscall"]),
    ],
    swiftLanguageModes: [.v6]
)
