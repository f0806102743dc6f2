// attach: follows every container's stdout and stderr and writes one NDJSON record per line.
// Options and environment here; the work is `Attacher.run` (Sources/Attacher).

import Attacher
import Docker
import Syscall

#if canImport(Glibc)
import Glibc
#endif

func fail(_ message: String, _ code: AttachExit) -> Never {
    Sys.diagnostic("attach: " + message)
    exit(code.rawValue)
}

var dockerHost = Sys.environment("DOCKER_HOST")
var backlog = ["1", "true", "yes"].contains((Sys.environment("BACKLOG") ?? "").lowercased())
var maxLine = Sys.environment("MAX_LINE_SIZE").map { Int($0) } ?? 256 * 1024

var args = CommandLine.arguments.dropFirst()
while let arg = args.popFirst() {
    switch arg {
    case "-h", "--help":
        print(AttachOptions.usage, terminator: "")
        exit(0)
    case "--backlog":
        backlog = true
    case "--max-line-size":
        guard let value = args.popFirst() else { fail("--max-line-size needs a number of bytes", .usage) }
        maxLine = Int(value)
    case "--docker-host":
        guard let value = args.popFirst() else { fail("--docker-host needs unix:///path or tcp://host:port", .usage) }
        dockerHost = value
    default:
        fail("unknown argument '\(arg)' (see attach --help)", .usage)
    }
}
guard let maxLineSize = maxLine, maxLineSize >= 1024, maxLineSize <= 64 * 1024 * 1024 else {
    fail("the maximum line size must be a number of bytes from 1024 to 67108864", .usage)
}

let endpoint: DockerEndpoint
do { endpoint = try DockerEndpoint.resolve(dockerHost: dockerHost) } catch { fail(error.description, .usage) }

var options = AttachOptions(endpoint: endpoint)
options.backlog = backlog
options.maxLineSize = maxLineSize
options.excludeLabels = AttachOptions.parseLabels(
    [Sys.environment("EXCLUDE_LABEL"), Sys.environment("EXCLUDE_LABELS")].compactMap { $0 }.joined(separator: ","))
if let dir = Sys.environment("STATE_DIR"), !dir.isEmpty { options.stateDirectory = dir }
// Inside a container Docker sets the hostname to the short container id: skip our own container.
let host = Sys.hostname()
if host.count >= 12, host.allSatisfy(\.isHexDigit) { options.selfID = host }

exit(Attacher(options: options).run().rawValue)
