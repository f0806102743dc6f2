import Docker
import Metrics
import Records
import Syscall

/// `attach`'s command line: options and environment, then `Attacher.run`. Returns the exit status.
public enum AttachCommand {
    /// A bad command line (64) or a bad environment value (78), in one line.
    struct OptionError: Error {
        var message: String
        var exit: ExitCode
    }

    public static func main(_ argv: [String]) -> ExitCode {
        Sys.raiseDescriptorLimit()  // soft to hard: a descriptor per client, container or receiver
        guard let arguments = Readiness.arguments(argv, stage: "attach") else { return .usage }
        let options: AttachOptions
        do {
            guard let parsed = try Self.options([argv.first ?? "attach"] + arguments) else {
                print(AttachOptions.usage, terminator: "")
                return .ok
            }
            options = parsed
        } catch {
            Sys.diagnostic("attach: " + error.message)
            return error.exit
        }
        let attacher: Attacher
        do { attacher = try Attacher(options: options) } catch {
            Sys.diagnostic("attach: \(error)")
            return .software
        }
        return attacher.run()
    }

    /// The options from `argv` and the environment; nil for `--help`.
    static func options(_ argv: [String]) throws(OptionError) -> AttachOptions? {
        var dockerHost = Sys.environment("DOCKER_HOST")
        var backlog = ["1", "true", "yes"].contains((Sys.environment("BACKLOG") ?? "").lowercased())
        var maxLine = Sys.environment("MAX_LINE_SIZE").map { Int($0) } ?? 256 * 1024
        // Which of the two a bad value came from: an argument (bad usage) or the environment (bad configuration).
        var maxLineGiven = ExitCode.config
        var dockerHostGiven = ExitCode.config
        var logSourceText = Sys.environment("LOG_SOURCE") ?? ""
        var logSourceGiven = ExitCode.config
        var args = argv.dropFirst()
        while let arg = args.popFirst() {
            switch arg {
            case "-h", "--help":
                return nil
            case "--backlog":
                backlog = true
            case "--max-line-size":
                guard let value = args.popFirst() else { throw OptionError(message: "--max-line-size needs a number of bytes", exit: .usage) }
                maxLine = Int(value)
                maxLineGiven = .usage
            case "--log-source":
                guard let value = args.popFirst() else { throw OptionError(message: "--log-source needs auto, files or api", exit: .usage) }
                logSourceText = value
                logSourceGiven = .usage
            case "--docker-host":
                guard let value = args.popFirst() else { throw OptionError(message: "--docker-host needs unix:///path or tcp://host:port", exit: .usage) }
                dockerHost = value
                dockerHostGiven = .usage
            default:
                throw OptionError(message: "unknown argument '\(arg)' (see attach --help)", exit: .usage)
            }
        }
        guard let maxLineSize = maxLine, maxLineSize >= 1024 else {
            throw OptionError(message: "the maximum line size must be a number of bytes from 1024", exit: maxLineGiven)
        }
        let labelsText = Sys.environment("MAX_LABELS_SIZE") ?? ""
        let maxLabels = labelsText.isEmpty ? RecordBounds.defaultLabelsBytes : Int(labelsText)
        guard let maxLabelsSize = maxLabels, maxLabelsSize >= RecordBounds.minimumLabelsBytes else {
            throw OptionError(message: "MAX_LABELS_SIZE '\(labelsText)' must be a number of bytes from \(RecordBounds.minimumLabelsBytes)", exit: .config)
        }
        // Every record must fit in what route reads, whatever its data and its container's metadata.
        let room = RecordBounds.dataRoom(labelsBytes: maxLabelsSize)
        guard maxLineSize <= room else {
            throw OptionError(message: "a maximum line size of \(maxLineSize) bytes with a labels budget of \(maxLabelsSize) (MAX_LABELS_SIZE) "
                                  + "makes records over \(RecordBounds.maxRecordBytes) bytes: together they can be at most "
                                  + "\(room + maxLabelsSize)", exit: maxLineGiven)
        }
        let endpoint: DockerEndpoint
        do { endpoint = try DockerEndpoint.resolve(dockerHost: dockerHost) } catch {
            throw OptionError(message: error.description, exit: dockerHostGiven)
        }
        guard let logSource = logSourceText.isEmpty && logSourceGiven == .config ? .auto : LogSource(rawValue: logSourceText) else {
            let name = logSourceGiven == .usage ? "--log-source" : "LOG_SOURCE"
            throw OptionError(message: "\(name) '\(logSourceText)' must be auto, files or api", exit: logSourceGiven)
        }
        var options = AttachOptions(endpoint: endpoint)
        options.logSource = logSource
        if let dir = Sys.environment("DOCKER_CONTAINERS_DIR"), !dir.isEmpty {
            guard dir.hasPrefix("/") else {
                throw OptionError(message: "DOCKER_CONTAINERS_DIR '\(dir)' must be an absolute path", exit: .config)
            }
            options.containersDirectory = dir.count > 1 && dir.hasSuffix("/") ? String(dir.dropLast()) : dir
        }
        if let text = Sys.environment("LOG_LINGER_MS"), !text.isEmpty {
            guard let ms = Int(text), (0...AttachOptions.maxLingerMs).contains(ms) else {
                throw OptionError(message: "LOG_LINGER_MS '\(text)' must be a whole number of milliseconds from 0 to \(AttachOptions.maxLingerMs)",
                                  exit: .config)
            }
            options.lingerMs = ms
        }
        options.backlog = backlog
        options.maxLineSize = maxLineSize
        options.maxLabelsSize = maxLabelsSize
        options.excludeLabels = AttachOptions.parseLabels(
            [Sys.environment("EXCLUDE_LABEL"), Sys.environment("EXCLUDE_LABELS")].compactMap { $0 }.joined(separator: ","))
        if let dir = Sys.environment("STATE_DIR"), !dir.isEmpty { options.stateDirectory = dir }
        let labelText = Sys.environment(LabelBudget.limitVariable)
        guard let maxLabelValues = LabelBudget.limit(setting: labelText) else {
            throw OptionError(message: LabelBudget.limitError(labelText ?? ""), exit: .config)
        }
        options.maxLabelValues = maxLabelValues
        options.selfID = ownContainerID(mountinfo: (try? Sys.readFile("/proc/self/mountinfo")) ?? [], hostname: Sys.hostname())
        return options
    }
}

/// The id of the container attach runs in, to skip it: Docker bind-mounts `/etc/hostname`, `/etc/hosts`
/// and `/etc/resolv.conf` from `…/containers/<64 hex>/`, which `/proc/self/mountinfo` shows whatever the
/// network mode; else the hostname, which Docker sets to the short id (but not with `--network host`).
/// Empty when attach is not in a container.
public func ownContainerID(mountinfo: [UInt8], hostname: String) -> String {
    let marker = Array("/containers/".utf8)
    var i = 0
    while i + marker.count + 64 <= mountinfo.count {
        if mountinfo[i] == marker[0], Array(mountinfo[i..<i + marker.count]) == marker {
            let id = mountinfo[(i + marker.count)..<(i + marker.count + 64)]
            let end = i + marker.count + 64
            if id.allSatisfy({ ($0 >= 48 && $0 <= 57) || ($0 >= 97 && $0 <= 102) }), end == mountinfo.count || mountinfo[end] == UInt8(ascii: "/") {
                return String(decoding: id, as: UTF8.self)
            }
        }
        i += 1
    }
    if hostname.count >= 12, hostname.allSatisfy(\.isHexDigit) { return hostname }
    return ""
}
