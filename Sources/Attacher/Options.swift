import Docker
import Metrics
import Records

/// How attach reads a container's logs (`--log-source`, `LOG_SOURCE`).
public enum LogSource: String, Sendable, CaseIterable {
    /// From the container's json-file log on disk when it can be read, else from the engine's logs endpoint.
    case auto
    /// From the json-file log only: a container whose file cannot be read is skipped.
    case files
    /// From the engine's logs endpoint only.
    case api
}

/// attach's settings, from its arguments and environment.
public struct AttachOptions: Sendable {
    public var endpoint: DockerEndpoint
    /// Replay the earlier output of containers already running at start (`BACKLOG=true`).
    public var backlog = false
    /// The longest line emitted as one record; longer lines come in `partial` pieces.
    public var maxLineSize = 256 * 1024
    /// The most a container's labels take in each record (`MAX_LABELS_SIZE`); beyond it, labels are left
    /// out and a `logspout.truncated` label says how many (`Container.bounded`).
    public var maxLabelsSize = RecordBounds.defaultLabelsBytes
    /// Containers carrying one of these labels (`key`, or `key` with `value`) are skipped.
    public var excludeLabels: [(key: String, value: String?)] = []
    /// This process's own container id (or its prefix), skipped; empty when not in a container.
    public var selfID = ""
    /// Where to keep each container's cursor across restarts of attach (`STATE_DIR`); nil: nowhere.
    public var stateDirectory: String?
    /// `METRICS_MAX_LABEL_VALUES`: containers with metrics series of their own.
    public var maxLabelValues = LabelBudget.defaultLimit
    /// How containers' logs are read.
    public var logSource = LogSource.auto
    /// Where the engine keeps its containers' folders, as this process sees it (`DOCKER_CONTAINERS_DIR`):
    /// a container's json-file log is `<dir>/<id>/<id>-json.log`.
    public var containersDirectory = AttachOptions.defaultContainersDirectory
    public static let defaultContainersDirectory = "/var/lib/docker/containers"
    /// The longest attach lets lines gather after a read before it reads again (`LOG_LINGER_MS`), files
    /// and logs streams alike: the wait grows as the rate falls (`ReadLinger`), so lines that trickle in
    /// are read, and written on, in batches. 0: read at once, each wake-up.
    public var lingerMs = 80
    public static let maxLingerMs = 100

    /// Whether containers' log files may be read at all: not with `--log-source api`, nor from a remote
    /// engine (its files are on another host).
    public var readsFiles: Bool {
        guard logSource != .api else { return false }
        if case .tcp = endpoint { return logSource == .files }
        return true
    }

    public init(endpoint: DockerEndpoint) {
        self.endpoint = endpoint
    }

    /// The usage text of `attach --help`.
    public static let usage = """
        usage: attach [--backlog] [--max-line-size BYTES] [--docker-host URL] [--log-source auto|files|api]
                      [--ready-fd N]

        Follows the stdout and stderr of every container on a Docker host and writes one JSON record per
        log line to standard output (see docs/records.md). Containers running at start are read from now
        (all their earlier output with --backlog); containers that start later are read from their first
        line. Diagnostics go to standard error.

        options:
          --backlog              also replay the earlier output of containers already running (BACKLOG=true)
          --max-line-size BYTES  longest line sent as one record; longer lines are cut into pieces marked
                                 "partial":true (MAX_LINE_SIZE, default 262144, from 1024; with
                                 MAX_LABELS_SIZE at most 966144 together, so that records fit in 983040 bytes)
          --docker-host URL      unix:///path or tcp://host:port (DOCKER_HOST; default /tmp/docker.sock
                                 when it exists, else /var/run/docker.sock)
          --log-source SOURCE    auto: read a json-file container's log file from disk when it can be
                                 opened, else the engine's logs endpoint; files: log files only (a
                                 container whose file cannot be read is skipped); api: the endpoint only
                                 (LOG_SOURCE, default auto; a tcp:// engine is read through the endpoint)
          --ready-fd N           once following the engine (subscribed to its events, every running
                                 container's logs opened), write a newline to descriptor N and close it
          -h, --help             print this help and exit

        environment:
          EXCLUDE_LABEL, EXCLUDE_LABELS  comma-separated labels, `key` or `key:value`; containers carrying
                                         one are skipped (so are those with LOGSPOUT=ignore in their env)
          MAX_LABELS_SIZE                the most a container's labels take in a record, in bytes (default
                                         65536, from 1024); labels beyond it are left out, and a last label
                                         "logspout.truncated" says how many
          ALLOW_TTY                      accepted for compatibility; TTY containers are always followed
          DOCKER_CONTAINERS_DIR          where the engine's containers/ folder is seen (default
                                         /var/lib/docker/containers, mounted read-only in the image)
          LOG_LINGER_MS                  the longest lines gather after a read before attach reads again,
                                         growing as the rate falls (default 80, 0…100; 0 reads at once)
          STATE_DIR                      keep each container's position in STATE_DIR/cursors.*, so a restarted
                                         attach resumes every container where it stopped
          LOGSPOUT_METRICS_DIR           write the metrics into LOGSPOUT_METRICS_DIR/attach.prom
          METRICS_MAX_LABEL_VALUES       containers with metrics series of their own (default 500,
                                         0…100000); the others share container_id="_other"

        exit status: 0 on SIGTERM/SIGINT or when standard output is closed, 64 on bad usage,
        69 when the engine cannot be reached or is too old at start, 70 on an internal error,
        74 when standard output fails, 78 on a bad environment value (or a STATE_DIR that cannot be made).

        """

    /// Parses `EXCLUDE_LABEL(S)` values: comma-separated `key` or `key:value` (also `key=value`).
    public static func parseLabels(_ text: String) -> [(key: String, value: String?)] {
        text.split(separator: ",").compactMap { item in
            let trimmed = item.trimmingCharacters(in: " \t")
            guard !trimmed.isEmpty else { return nil }
            if let sep = trimmed.firstIndex(where: { $0 == ":" || $0 == "=" }) {
                return (String(trimmed[..<sep]), String(trimmed[trimmed.index(after: sep)...]))
            }
            return (trimmed, nil)
        }
    }

    /// Whether a container with this environment and these labels is to be skipped.
    public func ignores(_ info: ContainerInfo) -> Bool {
        if !selfID.isEmpty, info.id.hasPrefix(selfID) { return true }
        if info.env.contains("LOGSPOUT=ignore") { return true }
        for (key, value) in excludeLabels {
            if let found = info.labels[key], value == nil || value == found { return true }
        }
        return false
    }
}

extension StringProtocol {
    func trimmingCharacters(in set: String) -> String {
        let chars = Set(set)
        var s = Substring(self)
        while let f = s.first, chars.contains(f) { s.removeFirst() }
        while let l = s.last, chars.contains(l) { s.removeLast() }
        return String(s)
    }
}
