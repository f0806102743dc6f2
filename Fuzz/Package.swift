// swift-tools-version:6.0
import PackageDescription

// The fuzz targets: one libFuzzer executable per parser, built apart from the product because libFuzzer
// brings its own `main` and every module must be built with `-sanitize=fuzzer,address`. Build and run them
// with scripts/fuzz.sh; `swift build` at the root never sees this package.
let parsers: Target.Dependency = .product(name: "LogspoutParsers", package: "logspout")

/// A fuzz target: Sources/NAME/Fuzz.swift defines `fuzz(_:_:)` (libFuzzer's `LLVMFuzzerTestOneInput`) and its
/// `main`, which hands it to libFuzzer's driver (FuzzSupport's `runFuzzer`, over CFuzzer).
func fuzzTarget(_ name: String) -> Target {
    .executableTarget(name: name, dependencies: [parsers, "FuzzSupport"], path: "Sources/\(name)")
}

let package = Package(
    name: "logspout-fuzz",
    dependencies: [.package(name: "logspout", path: "..")],
    targets: [
        .target(name: "CFuzzer"),
        .target(name: "FuzzSupport", dependencies: ["CFuzzer"]),
        fuzzTarget("http-request"),
        fuzzTarget("http-response"),
        fuzzTarget("websocket"),
        fuzzTarget("docker-logstream"),
        fuzzTarget("json"),
        fuzzTarget("record"),
        fuzzTarget("route-uri"),
        fuzzTarget("route-json"),
        fuzzTarget("go-time-layout"),
        fuzzTarget("pattern"),
        fuzzTarget("json-file-entry"),
    ],
    swiftLanguageModes: [.v6]
)
