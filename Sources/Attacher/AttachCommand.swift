import Docker
import Syscall

/// `attach`'s command line: options and environment, then `Attacher.run`. Returns the exit status.
public enum AttachCommand {
    struct UsageError: Error {
        var message: String
    }

    public static func main(_ argv: [String]) -> Int32 {
        do {
            guard let options = try options(argv) else {
                print(AttachOptions.usage, terminator: "")
                return AttachExit.ok.rawValue
            }
            return Attacher(options: options).run().rawValue
        } catch {
            Sys.diagnostic("attach: " + error.message)
            return AttachExit.usage.rawValue
        }
    }

    /// The options from `argv` and the environment; nil for `--help`.
    static func options(_ argv: [String]) throws(UsageError) -> AttachOptions? {
        var dockerHost = Sys.environment("DOCKER_HOST")
        var backlog = ["1", "true", "yes"].contains((Sys.environment("BACKLOG") ?? "").lowercased())
        var maxLine = Sys.environment("MAX_LINE_SIZE").map { Int($0) } ?? 256 * 1024
        var args = argv.dropFirst()
        while let arg = args.popFirst() {
            switch arg {
            case "-h", "--help":
                return nil
            case "--backlog":
                backlog = true
            case "--max-line-size":
                guard let value = args.popFirst() else { throw UsageError(message: "--max-line-size needs a number of bytes") }
                maxLine = Int(value)
            case "--docker-host":
                guard let value = args.popFirst() else { throw UsageError(message: "--docker-host needs unix:///path or tcp://host:port") }
                dockerHost = value
            default:
                throw UsageError(message: "unknown argument '\(arg)' (see attach --help)")
            }
        }
        guard let maxLineSize = maxLine, maxLineSize >= 1024, maxLineSize <= 64 * 1024 * 1024 else {
            throw UsageError(message: "the maximum line size must be a number of bytes from 1024 to 67108864")
        }
        let endpoint: DockerEndpoint
        do { endpoint = try DockerEndpoint.resolve(dockerHost: dockerHost) } catch { throw UsageError(message: error.description) }
        var options = AttachOptions(endpoint: endpoint)
        options.backlog = backlog
        options.maxLineSize = maxLineSize
        options.excludeLabels = AttachOptions.parseLabels(
            [Sys.environment("EXCLUDE_LABEL"), Sys.environment("EXCLUDE_LABELS")].compactMap { $0 }.joined(separator: ","))
        if let dir = Sys.environment("STATE_DIR"), !dir.isEmpty { options.stateDirectory = dir }
        // Inside a container Docker sets the hostname to the short container id: skip our own container.
        let host = Sys.hostname()
        if host.count >= 12, host.allSatisfy(\.isHexDigit) { options.selfID = host }
        return options
    }
}
